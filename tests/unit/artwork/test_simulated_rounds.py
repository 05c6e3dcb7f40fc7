"""The simulator's rounds with their truth (``draw_rounds``), for off-policy evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, plan_world
from artwork.features import FeatureBuilder
from artwork.simulate import (
    SimulatedRounds,
    SimulationConfig,
    SimWorld,
    draw_rounds,
    run_simulation,
)
from models.bandits import make_policy

CONFIG = SimulationConfig(policy="uniform", rounds=300, seed=4, candidates_min=2, candidates_max=5)


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return SimWorld.from_plan(plan_world(WorldSpec(seed=3, titles=30, viewers=100)))


@pytest.fixture(scope="module")
def rounds(world: SimWorld) -> SimulatedRounds:
    return draw_rounds(world, CONFIG)


def test_the_rounds_are_those_the_simulation_meets(world: SimWorld, rounds: SimulatedRounds):
    trace = run_simulation(world, CONFIG).trace
    quality = np.where(rounds.mask, rounds.quality_play, np.nan)
    np.testing.assert_allclose(np.nanmax(quality, axis=1), trace.oracle, rtol=1e-12)
    np.testing.assert_allclose(np.nanmean(quality, axis=1), trace.uniform, rtol=1e-12)


def test_features_and_truth_are_padded_per_round(world: SimWorld, rounds: SimulatedRounds):
    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    assert rounds.contexts.shape == (300, features.d_ctx)
    assert rounds.arms.shape == (300, 5, features.d_arm)
    counts = rounds.mask.sum(axis=1)
    np.testing.assert_array_equal(counts, [len(ids) for ids in rounds.arm_ids])
    assert counts.min() >= 1 and counts.max() <= 5
    assert (rounds.arms[~rounds.mask] == 0).all() and (rounds.quality_play[~rounds.mask] == 0).all()
    q = rounds.quality_play[rounds.mask]
    assert ((q > 0) & (q < 1)).all()
    ids = rounds.arm_ids[0]
    title = world.catalog.artwork[ids[0]].title_id
    assert all(world.catalog.artwork[a].title_id == title for a in ids)


def test_the_same_seed_draws_the_same_rounds(world: SimWorld, rounds: SimulatedRounds) -> None:
    again = draw_rounds(world, CONFIG)
    np.testing.assert_array_equal(again.arms, rounds.arms)
    assert again.arm_ids == rounds.arm_ids
    other = draw_rounds(world, SimulationConfig(rounds=300, seed=5, candidates_max=5))
    assert other.arm_ids != rounds.arm_ids


def test_distribution_is_the_policys_in_every_round(rounds: SimulatedRounds) -> None:
    d_ctx, d_arm = rounds.contexts.shape[1], rounds.arms.shape[2]
    policy = make_policy("epsilon_greedy", d_ctx, d_arm, epsilon=0.3)
    p = rounds.distribution(policy)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (p[~rounds.mask] == 0).all()
    k = len(rounds.arm_ids[7])
    np.testing.assert_array_equal(
        p[7, :k], policy.distribution(rounds.contexts[7], rounds.arms[7, :k])
    )
