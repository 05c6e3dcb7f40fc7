"""``python -m training.evaluate`` end to end on a tiny world and a uniform log built in code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, build_world, load_world
from artwork.event_store import EventStore
from artwork.features import SCHEMA
from artwork.records import FeedbackEvent
from artwork.selection import UniformSelector
from models.bandits import make_policy
from training.evaluate import EvaluationConfig, evaluate, main

T0 = 1_767_225_600.0
DAY = 86_400.0
N_DECISIONS = 400
NOW = T0 + N_DECISIONS + 2 * DAY  # every reward window has closed


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(world folder, event store) with N uniform decisions and simulated feedback."""
    root = tmp_path_factory.mktemp("evaluate")
    world_dir = build_world(root / "world", WorldSpec(seed=3, titles=6, viewers=20), workers=1)
    world = load_world(world_dir)
    rng = np.random.default_rng(0)
    selector = UniformSelector()
    titles = [t for t in world.catalog.titles if world.catalog.candidates(t)]
    viewers = world.response.viewer_ids
    decisions, events = [], []
    for i in range(N_DECISIONS):
        user = viewers[int(rng.integers(len(viewers)))]
        title = titles[int(rng.integers(len(titles)))]
        # A quarter of the decisions log no device or hour, as the service may.
        device = None if i % 4 == 0 else ("tv", "mobile", "web", "tablet")[i % 3]
        hour = None if i % 4 == 0 else int(rng.integers(24))
        decision = selector.decide(
            user, title, world.catalog.candidates(title), {"device": device, "hour": hour}, seed=i
        )
        decision = dataclasses.replace(decision, created_at=T0 + i)
        decisions.append(decision)
        response = world.response.respond(user, [decision.artwork_id], device, hour)
        at = decision.created_at + 60.0
        kinds = [("impression", None)]
        if rng.random() < min(1.0, 4 * response.click[0]):  # boosted so a tiny log has rewards
            kinds.append(("click", None))
            if rng.random() < response.play_given_click[0]:
                kinds += [("play", None), ("watch_seconds", 900.0)]
        events += [
            FeedbackEvent(
                event_id=f"e{i}-{j}",
                decision_id=decision.decision_id,
                type=kind,
                value=value,
                time=at + j,
            )  # fmt: skip
            for j, (kind, value) in enumerate(kinds)
        ]
    store = EventStore(root / "events.db")
    store.record_decisions(decisions)
    store.record_events(events)
    store.close()
    return world_dir, root / "events.db"


def _config(logged: tuple[Path, Path], policy: str) -> EvaluationConfig:
    world, db = logged
    return EvaluationConfig(db=db, world=world, policy=policy, now=NOW, bootstrap=200)


def test_uniform_on_a_uniform_log_is_the_on_policy_value(logged: tuple[Path, Path]) -> None:
    report = evaluate(_config(logged, "uniform"))
    ips = report.result("IPS")
    assert report.rounds == N_DECISIONS
    assert ips.interval.estimate == pytest.approx(report.on_policy.estimate, abs=1e-12)
    assert ips.ess == pytest.approx(N_DECISIONS)
    assert 0 < report.on_policy.estimate < 1
    assert report.result("Replay").interval is None  # a stochastic target cannot be replayed


def test_cli_prints_every_estimator_for_a_saved_policy(
    logged: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_policy("linucb", SCHEMA.d_ctx, SCHEMA.d_arm).save(tmp_path / "linucb")
    world, db = logged
    argv = ["--db", str(db), "--world", str(world), "--policy", str(folder),
            "--now", str(NOW), "--bootstrap", "200"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    for name in ("IPS", "SNIPS", "DM", "DR", "SNDR", "Replay", "logging", "gate"):
        assert name in out
    assert main([*argv[:5], "epsilon_greedy", *argv[6:]]) == 0


def test_bad_input_exits_2_with_a_message(
    logged: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world, db = logged
    missing = tmp_path / "nothing.db"
    assert main(["--db", str(missing), "--world", str(world), "--policy", "uniform"]) == 2
    assert "no such event store" in capsys.readouterr().err
    assert not missing.exists()

    early = str(T0)  # no window has closed yet
    assert (
        main(["--db", str(db), "--world", str(world), "--policy", "uniform", "--now", early]) == 2
    )
    assert "complete reward" in capsys.readouterr().err

    folder = make_policy("linucb", 3, 4).save(tmp_path / "small")
    argv = ["--db", str(db), "--world", str(world), "--policy", str(folder), "--now", str(NOW)]
    assert main(argv) == 2
    assert "d_ctx" in capsys.readouterr().err
