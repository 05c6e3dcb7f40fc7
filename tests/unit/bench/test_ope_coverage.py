"""The interval-coverage benchmark (``bench.ope_coverage``) on tiny settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, plan_world
from artwork.features import FeatureBuilder
from artwork.simulate import SimulationConfig, SimWorld, draw_rounds
from bench import ope_coverage
from models.bandits import make_policy
from training.evaluate import Rounds, cross_fitted_reward_hat


@pytest.fixture(scope="module")
def logged() -> tuple[Rounds, np.ndarray]:
    """A uniform policy's log of 4,000 rounds, and its exact expected reward in each."""
    world = SimWorld.from_plan(plan_world(WorldSpec(seed=3, titles=30, viewers=100)))
    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    rounds = draw_rounds(world, SimulationConfig(rounds=4000, seed=1), features=features)
    uniform = make_policy("uniform", features.d_ctx, features.d_arm)
    greedy = make_policy("epsilon_greedy", features.d_ctx, features.d_arm, epsilon=0.5)
    logging_p = rounds.distribution(uniform)
    log = ope_coverage.logged_rounds(
        rounds, logging_p, rounds.distribution(greedy), np.random.default_rng(0)
    )
    return log, ope_coverage.expected_reward(rounds, logging_p)


def test_the_log_draws_actions_and_rewards_from_the_truth(logged) -> None:
    log, expected = logged
    n = len(log.rewards)
    assert log.mask[np.arange(n), log.action_index].all()
    # uniform logging: E[1/μ(a|x)] is the mean number of candidates
    assert np.mean(1 / log.logged_propensity) == pytest.approx(log.mask.sum(axis=1).mean())
    assert set(np.unique(log.rewards)) <= {0.0, 1.0}
    se = np.sqrt(expected.mean() / n)
    assert abs(log.rewards.mean() - expected.mean()) < 4 * se


def test_the_refittable_model_equals_evaluates_on_the_whole_log(logged) -> None:
    log, _ = logged
    model = ope_coverage.CrossFittedRidge(log, seed=5)
    everything = np.arange(len(log.rewards))
    np.testing.assert_allclose(model(everything), cross_fitted_reward_hat(log, 5), atol=1e-12)
    resample = np.random.default_rng(0).integers(0, len(everything), len(everything))
    refitted = model(resample)
    assert refitted.shape == log.mask.shape and (refitted[~log.mask[resample]] == 0).all()


def test_a_tiny_run_writes_the_result_and_the_plot(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("bench.report.RESULTS", tmp_path)
    sizes = {"repeats": 3, "rounds": 500, "truth-rounds": 2000, "n-bootstrap": 50,
             "refit-bootstrap": 5, "logger-rounds": 200, "target-rounds": 300}  # fmt: skip
    argv = [word for name, value in sizes.items() for word in (f"--{name}", str(value))]
    assert ope_coverage.main(argv) == 0
    doc = json.loads((tmp_path / "ope_coverage.json").read_text())
    assert doc["bench"] == "ope_coverage" and doc["command"].endswith(" ".join(argv))
    for name in ("ips", "snips", "dr", "sndr", "dm", "dm_refit"):
        assert 0.0 <= doc["metrics"][f"{name}_coverage"] <= 1.0
        assert doc["metrics"][f"{name}_mean_width"] > 0
    names = [t["name"] for t in doc["targets"]]
    assert names == ["ips_coverage", "snips_coverage", "dr_coverage", "truth_se_over_half_width"]
    assert (tmp_path / "ope_coverage.png").stat().st_size > 0
    assert "dm_refit" in capsys.readouterr().out


def test_wilson_interval_of_a_coverage() -> None:
    assert ope_coverage.wilson_interval(44, 50) == pytest.approx((0.7619, 0.9438), abs=1e-4)
    low, high = ope_coverage.wilson_interval(50, 50)
    assert high == pytest.approx(1.0) and 0.9 < low < 1.0
