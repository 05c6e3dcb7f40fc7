"""``python -m training.evaluate`` end to end on a tiny world and a uniform log built in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from artwork.features import SCHEMA
from models.bandits import make_policy
from tests.integration.conftest import N_DECISIONS, T0, UniformLog
from training.evaluate import EvaluationConfig, evaluate, main

NOW = UniformLog.now  # every reward window has closed


@pytest.fixture(scope="module")
def logged(uniform_log: UniformLog) -> tuple[Path, Path]:
    """(world folder, event store) with N uniform decisions and simulated feedback."""
    return uniform_log.world, uniform_log.db


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


def test_the_log_may_be_named_by_a_database_url(logged: tuple[Path, Path]) -> None:
    world, db = logged
    argv = ["--db", f"sqlite:///{db}", "--world", str(world), "--policy", "uniform",
            "--now", str(NOW), "--bootstrap", "50"]  # fmt: skip
    assert main(argv) == 0
