"""The simulator end to end: determinism, baselines, learning, reward codings, curves, the CLI."""

from __future__ import annotations

from dataclasses import replace
from hashlib import sha256
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.response import QUALITY_PLAY_MINUTES, WATCH_CAP_MINUTES
from artwork.demo.world import WorldSpec, build_world, plan_world
from artwork.errors import InputError
from artwork.features import FeatureBuilder
from artwork.simulate import (
    REWARDS,
    SimulationConfig,
    SimulationResult,
    SimWorld,
    run_simulation,
    simulate_command,
)
from artwork.simulate_movielens import movielens_viewers
from artwork.simulate_report import format_summary, moving_average, plot_learning_curve
from models.bandits import FeedbackBatch, PolicyError, make_policy

TIMING_FIELDS = ("decisions_per_s", "rounds_per_s")
MOVIELENS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ml-latest-small"


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return SimWorld.from_plan(plan_world(WorldSpec(seed=3, titles=40, viewers=200)))


@pytest.fixture(scope="module")
def learnt(world: SimWorld) -> SimulationResult:
    return run_simulation(world, SimulationConfig(policy="linucb", rounds=6000, seed=2))


def _without_timings(result: SimulationResult) -> dict:
    return {k: v for k, v in vars(result.summary).items() if k not in TIMING_FIELDS}


def test_the_same_seed_gives_the_same_run(world: SimWorld) -> None:
    config = SimulationConfig(policy="squarecb", rounds=400, seed=9, batch_size=25)
    first, again = run_simulation(world, config), run_simulation(world, config)
    assert _without_timings(first) == _without_timings(again)
    for name in ("chosen", "oracle", "uniform", "clicks", "quality_plays"):
        np.testing.assert_array_equal(getattr(first.trace, name), getattr(again.trace, name))
    other = run_simulation(world, replace(config, seed=10))
    assert not np.array_equal(first.trace.oracle, other.trace.oracle)


def test_every_policy_meets_the_same_viewers_for_one_seed(world: SimWorld) -> None:
    config = SimulationConfig(policy="uniform", rounds=300, seed=4)
    uniform = run_simulation(world, config)
    greedy = run_simulation(world, replace(config, policy="epsilon_greedy"))
    np.testing.assert_array_equal(uniform.trace.oracle, greedy.trace.oracle)
    np.testing.assert_array_equal(uniform.trace.uniform, greedy.trace.uniform)


def test_uniform_random_earns_the_uniform_baseline(world: SimWorld) -> None:
    s = run_simulation(world, SimulationConfig(policy="uniform", rounds=3000, seed=5)).summary
    assert abs(s.expected_rate - s.uniform_rate) < 0.01
    assert abs(s.quality_play_rate - s.expected_rate) < 0.03  # the draws follow the model
    assert s.uniform_rate < s.oracle_rate
    assert s.ctr >= s.quality_play_rate


def test_a_learning_policy_beats_uniform_and_closes_on_the_oracle(learnt) -> None:
    s = learnt.summary
    assert s.share_of_oracle_last > s.uniform_share_of_oracle + 0.08
    assert s.share_of_oracle_last > s.share_of_oracle_first + 0.05
    assert s.expected_rate > s.uniform_rate
    assert s.regret == pytest.approx((learnt.trace.oracle - learnt.trace.chosen).sum())
    assert s.decisions_per_s > 0


def test_bait_rows_are_the_most_clicked_artworks(learnt) -> None:
    bait = learnt.summary.bait
    assert bait and [b.clicks for b in bait] == sorted((b.clicks for b in bait), reverse=True)
    assert all(0 <= b.quality_plays <= b.clicks and 0 <= b.bait_index <= 1 for b in bait)
    text = format_summary(learnt.summary)
    assert "share of oracle" in text and bait[0].artwork_id in text


def test_rewarding_clicks_runs_and_counts_the_same_draws(world: SimWorld) -> None:
    s = run_simulation(world, SimulationConfig(reward="click", rounds=300, seed=1)).summary
    assert s.reward == "click" and s.ctr > 0


class FeedbackLog:
    """Stands in for a policy and keeps every ``FeedbackBatch`` it learns from."""

    def __init__(self, policy) -> None:
        self.policy, self.batches = policy, []

    def __getattr__(self, name: str):
        return getattr(self.policy, name)

    def update(self, batch: FeedbackBatch) -> None:
        self.batches.append(batch)
        self.policy.update(batch)


def _learnt_from(world: SimWorld, config: SimulationConfig) -> tuple[SimulationResult, FeedbackLog]:
    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    log = FeedbackLog(make_policy(config.policy, features.d_ctx, features.d_arm))
    return run_simulation(world, config, features=features, policy=log), log


def test_reward_codings_change_only_what_the_policy_learns(world: SimWorld) -> None:
    config = SimulationConfig(policy="uniform", rounds=600, seed=5, batch_size=40)
    runs = {reward: _learnt_from(world, replace(config, reward=reward)) for reward in REWARDS}
    base = runs["quality_play"][0].trace
    for result, _ in runs.values():  # the uniform policy learns nothing: the same choices
        for name in ("chosen", "clicks", "quality_plays"):
            np.testing.assert_array_equal(getattr(result.trace, name), getattr(base, name))
    rewards = {k: np.concatenate([b.rewards for b in log.batches]) for k, (_, log) in runs.items()}
    ranges = {k: {b.reward_range for b in log.batches} for k, (_, log) in runs.items()}
    plays, clicks = base.quality_plays, base.clicks
    np.testing.assert_array_equal(rewards["quality_play"], plays)
    np.testing.assert_array_equal(rewards["quality_play_pm"], plays - 1.0)
    np.testing.assert_array_equal(rewards["click"], clicks)
    assert ranges["quality_play_pm"] == {(-1.0, 0.0)} and ranges["watch_minutes"] == {(0.0, 1.0)}
    watched, bar = rewards["watch_minutes"], QUALITY_PLAY_MINUTES / WATCH_CAP_MINUTES
    assert (watched[~clicks] == 0).all() and (watched[plays] > bar).all()
    assert (watched[clicks & ~plays] < bar).all() and watched.max() <= 1.0
    again = _learnt_from(world, replace(config, reward="watch_minutes"))[1]
    np.testing.assert_array_equal(np.concatenate([b.rewards for b in again.batches]), watched)


def test_the_draws_are_those_before_watch_time_existed(world: SimWorld) -> None:
    # clicks and quality plays of this run as the simulator drew them before it drew watch time
    # (pinned again when choices moved to ``models.sampling``: the policy draws changed, the
    # outcome stream did not)
    trace = run_simulation(world, SimulationConfig(policy="uniform", rounds=2000, seed=9)).trace
    digest = {k: sha256(np.packbits(getattr(trace, k)).tobytes()).hexdigest()[:16]
              for k in ("clicks", "quality_plays")}  # fmt: skip
    assert (trace.clicks.sum(), trace.quality_plays.sum()) == (440, 293)
    assert digest == {"clicks": "f7cd4adf0c168cb8", "quality_plays": "4995bd25e947a8c5"}


def test_a_policy_for_rewards_in_0_1_refuses_the_minus_one_coding(world: SimWorld) -> None:
    config = SimulationConfig(policy="beta_ts", rounds=100, seed=1, reward="quality_play_pm")
    with pytest.raises(PolicyError, match="reward_range"):
        run_simulation(world, config)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"rounds": 0}, "rounds"), ({"candidates_max": 2}, "candidates_max"),
     ({"reward": "minutes"}, "reward"), ({"other_device": 1.5}, "other_device")],
)  # fmt: skip
def test_bad_settings_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(InputError) as caught:
        SimulationConfig(**change)
    assert caught.value.field == field


def test_the_learning_curve_is_a_png(learnt, tmp_path: Path) -> None:
    path = plot_learning_curve(learnt, tmp_path / "plots" / "curve.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_allclose(moving_average(np.arange(5.0), 2), [0.5, 1.5, 2.5, 3.5])


def test_the_command_runs_on_a_world_folder(tmp_path: Path) -> None:
    folder = build_world(tmp_path / "world", WorldSpec(seed=2, titles=4, viewers=30), workers=1)
    out = tmp_path / "curve.png"
    summary = simulate_command(folder, "epsilon_greedy", 200, seed=1, out=out)
    assert summary.rounds == 200 and summary.policy == "epsilon_greedy"
    assert out.is_file()


def _movielens_folder(root: Path) -> Path:
    """Three users: one loves Sci-Fi and dislikes Drama, one the opposite, one likes Comedy."""
    root.mkdir()
    (root / "movies.csv").write_text(
        "movieId,title,genres\n1,A,Sci-Fi\n2,B,Sci-Fi|Action\n3,C,Drama\n"
        "4,D,Drama|Romance\n5,E,Comedy\n6,F,(no genres listed)\n"
    )
    ratings = {1: (5, 5, 1, 1, 3, 3), 2: (1, 1, 5, 5, 3, 3), 3: (3, 3, 3, 3, 5, 3)}
    lines = [f"{u},{m + 1},{r},0" for u, rs in ratings.items() for m, r in enumerate(rs)]
    (root / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(lines))
    return root


def test_movielens_users_bring_their_genre_tastes(world: SimWorld, tmp_path: Path) -> None:
    ml = movielens_viewers(world, _movielens_folder(tmp_path / "ml"), seed=1)
    model = ml.response
    assert model.viewer_ids == ("ml1", "ml2", "ml3")
    sci_fi, drama = model.genres.index("Sci-Fi"), model.genres.index("Drama")
    taste = model.genre_taste
    assert taste[0, sci_fi] > taste[1, sci_fi] and taste[1, drama] > taste[0, drama]
    assert set(ml.history.viewers) == set(model.viewer_ids)
    s = run_simulation(ml, SimulationConfig(policy="linucb", rounds=200, seed=1)).summary
    assert 0 < s.expected_rate <= s.oracle_rate


def test_a_bad_movielens_file_is_named(world: SimWorld, tmp_path: Path) -> None:
    folder = _movielens_folder(tmp_path / "ml")
    (folder / "ratings.csv").write_text("userId,movieId,rating\n1,99,4\n")
    with pytest.raises(InputError, match="ratings.csv:2: movieId"):
        movielens_viewers(world, folder)
    with pytest.raises(InputError, match="not found"):
        movielens_viewers(world, tmp_path)


@pytest.mark.data
@pytest.mark.skipif(not MOVIELENS.is_dir(), reason="needs ../shared/data/ml-latest-small")
def test_the_movielens_mode_runs_on_ml_latest_small(world: SimWorld) -> None:
    ml = movielens_viewers(world, MOVIELENS, seed=0)
    assert len(ml.response.viewer_ids) == 610
    s = run_simulation(ml, SimulationConfig(policy="uniform", rounds=300, seed=0)).summary
    assert abs(s.expected_rate - s.uniform_rate) < 0.03
