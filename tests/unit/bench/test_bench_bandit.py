"""The bandit benchmark's peers behind our interface, and its loop on a tiny planned world."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, plan_world
from artwork.features import FeatureBuilder
from artwork.simulate import SimulationConfig, SimWorld, run_simulation
from bench.bandit import bench_targets, best_policy, plot_curves, run_all, summarise_runs
from bench.bandit_adapters import PEERS, make_peer, peer_library
from bench.bandit_recoding import (
    CODINGS,
    print_recoding_table,
    recoded_contenders,
    recoding_target,
    run_recodings,
    summarise_recodings,
)
from models.bandits import Choice, FeedbackBatch, PolicyError

ROUNDS = 300


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return SimWorld.from_plan(plan_world(WorldSpec(seed=3, titles=30, viewers=100)))


class ChoiceLog:
    """Stands in for a policy and keeps every ``Choice`` it makes."""

    def __init__(self, policy) -> None:
        self.policy, self.choices = policy, []

    def __getattr__(self, name: str):
        return getattr(self.policy, name)

    def choose(self, *args, **kwargs) -> Choice:
        self.choices.append(self.policy.choose(*args, **kwargs))
        return self.choices[-1]


@pytest.mark.parametrize("name", PEERS)
def test_peers_give_valid_distributions_and_learn_every_row(world: SimWorld, name: str) -> None:
    pytest.importorskip(peer_library(name))
    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    log = ChoiceLog(make_peer(name, features.d_ctx, features.d_arm, seed=1))
    config = SimulationConfig(rounds=ROUNDS, seed=2, batch_size=25)
    result = run_simulation(world, config, features=features, policy=log)
    assert len(log.choices) == ROUNDS
    for choice in log.choices:
        p = choice.probabilities
        assert 4 <= p.size <= 8  # the world's titles have 4–8 stills, all candidates
        assert (p >= 0).all() and abs(p.sum() - 1.0) <= 1e-9
        assert 0 < choice.propensity == p[choice.index]
    assert log.policy.n_updates == ROUNDS
    assert result.summary.expected_rate > 0


def test_vowpal_wabbit_refuses_feedback_out_of_order() -> None:
    pytest.importorskip("vowpalwabbit")
    policy = make_peer("vw_squarecb", 2, 3, seed=0)
    rng = np.random.default_rng(0)
    contexts, candidates = rng.random((2, 2)), rng.random((2, 4, 3))
    chosen = [policy.choose(contexts[i], candidates[i], seed=i) for i in range(2)]
    arms = np.stack([candidates[i][c.index] for i, c in enumerate(chosen)])
    batch = FeedbackBatch(contexts[::-1], arms[::-1], np.zeros(2), np.full(2, 0.5))
    with pytest.raises(PolicyError, match="order"):
        policy.update(batch)


def test_every_contender_meets_the_same_rounds(world: SimWorld, tmp_path: Path) -> None:
    names = ["uniform", "linucb", *(p for p in ("vw_squarecb", "mabwiser_linucb") if _has(p))]
    runs = run_all(world, names, SimulationConfig(rounds=ROUNDS, batch_size=25), seeds=2)
    for seed in range(2):
        for name in names:
            np.testing.assert_array_equal(runs[name][seed].oracle, runs["uniform"][seed].oracle)
    summary = summarise_runs(runs)
    assert summary["uniform"]["share"][0] < 1.0
    targets = bench_targets(summary, runs)
    assert best_policy(summary) == "linucb" and all(t.name.startswith("linucb_") for t in targets)
    assert plot_curves(runs, tmp_path / "curves.png", window=50).stat().st_size > 0


def test_recoding_scores_every_coding_by_quality_plays(world: SimWorld, capsys) -> None:
    names = recoded_contenders("linucb", [peer for peer in PEERS if _has(peer)])
    config = SimulationConfig(rounds=ROUNDS, batch_size=25)
    summary = summarise_recodings(run_recodings(world, names, config, seeds=2))
    for name in names:
        shares = [summary[name][f"{coding}.share"][0] for coding in CODINGS]
        assert min(shares) > 0 and max(shares) < 1
        assert summary[name]["spread"][0] == pytest.approx(100 * (max(shares) - min(shares)))
        assert summary[name]["worst_seed_spread"][0] >= summary[name]["spread"][0]
    assert recoding_target(summary, "linucb").name == "linucb_recoding_spread_points"
    print_recoding_table(summary, ROUNDS, 2)
    assert "quality_play_pm" in capsys.readouterr().out


def _has(peer: str) -> bool:
    return importlib.util.find_spec(peer_library(peer)) is not None


def test_the_full_information_ceilings_are_shares_of_the_oracle(world: SimWorld, capsys) -> None:
    from bench.bandit_ceiling import ceilings, print_ceilings

    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    found = ceilings(world, features, fit=600, score=300)
    assert list(found) == ["features", "features+artwork", "features+artwork+viewer_tags"]
    assert all(0.0 < share <= 1.0 + 1e-12 for share in found.values())
    # the richer models fit the same truth at least about as well on the rounds they score
    assert found["features+artwork"] >= found["features"] - 0.05
    print_ceilings(found)
    assert "features+artwork" in capsys.readouterr().out
