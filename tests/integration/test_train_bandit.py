"""``python -m training.train_bandit --from-log`` end to end: importance-weighted training on the
earlier decisions, off-policy estimates on the later ones, a saved policy, named errors."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from artwork.event_store import EventStore
from artwork.features import SCHEMA, FeatureSchema
from artwork.logged_features import SCHEMA_KEY, logged_rows, world_features
from artwork.records import new_decision_id
from artwork.rewards import RewardPolicy, join_rewards
from models.bandits import joint_features, load_policy
from models.bandits.base import read_card
from tests.integration.conftest import N_DECISIONS, UniformLog
from training.train_bandit import TrainConfig, main, parse_duration, train

N_TRAIN = N_DECISIONS - N_DECISIONS // 5  # the default test fraction is 0.2


def argv(log: UniformLog, out: Path, *extra: str, db: Path | None = None) -> list[str]:
    return ["--from-log", str(db or log.db), "--world", str(log.world), "--policy", "linucb",
            "--out", str(out), "--now", str(log.now), "--bootstrap", "200", *extra]  # fmt: skip


def config(log: UniformLog, out: Path, **overrides) -> TrainConfig:
    settings = {"db": log.db, "world": log.world, "policy": "linucb", "out": out,
                "now": log.now, "bootstrap": 200, **overrides}  # fmt: skip
    return TrainConfig(**settings)


def test_cli_prints_the_estimates_and_bait_and_saves_a_described_policy(
    uniform_log: UniformLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "policy"
    assert main(argv(uniform_log, out)) == 0
    printed = capsys.readouterr().out
    for name in ("IPS", "SNIPS", "DR", "logging", "gate", "bait", f"saved linucb to {out}"):
        assert name in printed
    card = read_card(out)[0]
    training = card["training"]
    assert (training["train_decisions"], training["test_decisions"]) == (N_TRAIN, N_DECISIONS // 5)
    assert training["importance_weighted"]
    assert training["logging_policies"] == {"uniform/1": N_TRAIN}
    assert training["first_decision_at"] < training["split_at"] <= training["last_decision_at"]
    assert FeatureSchema.from_dict(card["feature_schema"]) == SCHEMA
    metrics = card["metrics"]
    assert {"IPS", "SNIPS", "DR"} <= set(metrics["off_policy"]["estimators"])
    assert metrics["off_policy"]["rounds"] == N_DECISIONS // 5
    bait = metrics["bait_index"]
    assert bait and all(0.0 <= row["bait_index"] <= 1.0 for row in bait)
    assert sum(row["clicks"] for row in bait) > sum(row["quality_plays"] for row in bait)
    assert not list(tmp_path.glob(".policy*"))  # the atomic folder write left nothing behind


def test_the_saved_policy_predicts_identically_after_reload(
    uniform_log: UniformLog, tmp_path: Path
) -> None:
    result = train(config(uniform_log, tmp_path / "policy"))
    loaded = load_policy(tmp_path / "policy")
    rng = np.random.default_rng(0)
    for _ in range(20):
        context = rng.normal(size=SCHEMA.d_ctx)
        arms = rng.normal(size=(int(rng.integers(2, 8)), SCHEMA.d_arm))
        np.testing.assert_array_equal(
            loaded.distribution(context, arms), result.policy.distribution(context, arms)
        )
    assert loaded.n_updates == N_TRAIN


def test_importance_weights_match_a_hand_computation(
    uniform_log: UniformLog, tmp_path: Path
) -> None:
    weighted = train(config(uniform_log, tmp_path / "w", max_weight=5.0)).policy
    plain = train(config(uniform_log, tmp_path / "u", importance_weighted=False)).policy
    # By hand: the earlier N_TRAIN decisions, each weighted min(1 / propensity, 5).
    features, defaults = world_features(uniform_log.world)
    with EventStore(uniform_log.db) as store:
        decisions, events = store.decisions(), store.events()
    joined = join_rewards(decisions, events, RewardPolicy(), uniform_log.now)
    rows, errors = logged_rows({d.decision_id: d for d in decisions}, joined, features, defaults)
    assert not errors
    rows = rows[:N_TRAIN]
    x = np.stack([joint_features(r.context, r.arm) for r in rows])
    w = np.minimum([1.0 / r.decision.propensity for r in rows], 5.0)
    assert len(set(w.tolist())) > 1  # uniform over 4 to 8 candidates: the cap binds on some
    y = np.array([r.reward.reward for r in rows])
    np.testing.assert_allclose(weighted.model.precision, np.eye(x.shape[1]) + (x.T * w) @ x)
    np.testing.assert_allclose(weighted.model.moment, (x.T * w) @ y, atol=1e-12)
    np.testing.assert_allclose(plain.model.precision, np.eye(x.shape[1]) + x.T @ x)
    assert not np.allclose(plain.model.theta, weighted.model.theta)


def test_decisions_no_policy_chose_are_not_learnt_from(
    uniform_log: UniformLog, tmp_path: Path
) -> None:
    """Images shown again to engaged viewers (``sticky``) stay in the estimate, not in training."""
    db = tmp_path / "events.db"
    shutil.copy(uniform_log.db, db)
    with EventStore(db) as store:
        early = store.decisions()[:6]
        store.record_decisions([
            dataclasses.replace(d, decision_id=new_decision_id(), candidates=(d.artwork_id,),
                                propensity=1.0, policy="sticky", created_at=d.created_at + 0.5)
            for d in early
        ])  # fmt: skip
    result = train(config(uniform_log, tmp_path / "policy", db=db))
    training = result.card_fields["training"]
    total = N_DECISIONS + len(early)
    split = total - math.ceil(total * 0.2)
    assert training["forced_decisions"] == len(early)
    assert training["train_decisions"] == split - len(early) == result.policy.n_updates
    assert training["logging_policies"] == {"uniform/1": split - len(early)}


def test_the_window_is_a_duration() -> None:
    assert [parse_duration(t) for t in ("90", "90s", "15m", "24h", "2d")] == [
        90.0, 90.0, 900.0, 86_400.0, 172_800.0,
    ]  # fmt: skip


def first_decision(db: Path) -> str:
    with EventStore(db) as store:
        return store.decisions()[0].decision_id


@pytest.mark.parametrize(
    ("sql", "field"),
    [
        ("UPDATE decisions SET propensity = 0 WHERE decision_id = :id", "propensity"),
        ("UPDATE decisions SET propensity = 1.5 WHERE decision_id = :id", "propensity"),
        ("UPDATE decisions SET propensity = '' WHERE decision_id = :id", "propensity"),
        ("UPDATE events SET value = 'NaN' WHERE decision_id = :id", "value"),
        (
            "UPDATE decisions SET candidates = json_insert(candidates, '$[#]', 'zz_unknown') "
            "WHERE decision_id = :id",
            "candidates",
        ),
        (
            "UPDATE decisions SET context = json_set(context, '$.feature_schema', "
            "'artwork_selector/v0') WHERE decision_id = :id",
            f"context.{SCHEMA_KEY}",
        ),
    ],
    ids=[
        "zero-propensity",
        "propensity-over-1",
        "missing-propensity",
        "nan-reward",
        "unknown-candidate",
        "other-schema",
    ],  # fmt: skip
)
def test_a_bad_row_exits_2_naming_the_decision_and_field(
    uniform_log: UniformLog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sql: str,
    field: str,
) -> None:
    db = tmp_path / "events.db"
    shutil.copy(uniform_log.db, db)
    decision_id = first_decision(db)
    with sqlite3.connect(db) as connection:
        assert connection.execute(sql, {"id": decision_id}).rowcount >= 1
    connection.close()
    out = tmp_path / "policy"
    assert main(argv(uniform_log, out, db=db)) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert decision_id in error and f".{field}:" in error, error
    assert not out.exists()


def test_a_missing_or_empty_log_exits_2(
    uniform_log: UniformLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.db"
    assert main(argv(uniform_log, tmp_path / "p", db=missing)) == 2
    assert "no such event store" in capsys.readouterr().err
    assert not missing.exists()

    EventStore(tmp_path / "empty.db").close()
    assert main(argv(uniform_log, tmp_path / "p", db=tmp_path / "empty.db")) == 2
    assert "holds no decisions" in capsys.readouterr().err

    early = ["--now", str(uniform_log.now - 10 * 86_400.0)]  # no window has closed
    assert main(argv(uniform_log, tmp_path / "p", *early)) == 2
    assert "complete reward" in capsys.readouterr().err
    assert main(argv(uniform_log, tmp_path / "p", "--test-fraction", "1.5")) == 2
    assert "--test-fraction" in capsys.readouterr().err
    (tmp_path / "mine").mkdir()
    assert main(argv(uniform_log, tmp_path / "mine")) == 2  # never replaced: not a policy
    assert "holds no saved policy" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_the_card_is_plain_json_without_pickles(uniform_log: UniformLog, tmp_path: Path) -> None:
    train(config(uniform_log, tmp_path / "policy"))
    files = sorted(p.name for p in (tmp_path / "policy").iterdir())
    assert files == ["policy.json", "policy.safetensors"]
    json.loads((tmp_path / "policy" / "policy.json").read_text())


def test_a_network_policy_takes_the_device_and_precision(
    uniform_log: UniformLog, tmp_path: Path
) -> None:
    out = tmp_path / "neural"
    args = argv(uniform_log, out, "--device", "cpu", "--precision", "bf16")
    args[args.index("linucb")] = "neural_linear"
    assert main(args) == 0
    policy = load_policy(out)
    assert (policy.config.device, policy.config.precision) == ("cpu", "bf16")
    assert policy.retrains >= 1  # trained under bf16 autocast
    bad = argv(uniform_log, tmp_path / "x", "--precision", "fp8")
    with pytest.raises(SystemExit):
        main(bad)
