"""The simulator: replays the demo world's viewers against a bandit policy and the hidden truth.

Each round, from a world stream seeded by ``seed``: a viewer drawn uniformly; their usual device
(another one with probability ``other_device``) and usual hour ± ``hour_jitter``; a title drawn
as a home page would show it, P(title) ∝ exp(genre_match / ``title_temperature``); and a random
subset of ``candidates_min``–``candidates_max`` of its images (all of them when it has fewer).
The policy chooses from the features (``artwork.features``) with a per-round seed from a second
stream; a third stream draws two uniforms per round, which the world's ``ResponseModel`` turns
into the click ~ Bernoulli(P(click)), after a click the quality play ~ Bernoulli(P(quality play
| click)), and the minutes watched (``Response.outcome``). Every ``batch_size`` rounds the policy
learns from a ``FeedbackBatch`` of the rows since its last update (late, as in production), the
reward coded by ``reward``: ``quality_play`` (1 for a quality play, else 0; the default),
``quality_play_pm`` (0 for a quality play, else −1), ``watch_minutes`` (minutes watched scaled to
[0, 1]) or ``click``. Only what the policy learns from depends on the coding: each round's
uniforms, and what is reported (quality plays, CTR, expected quality-play rates), do not.

Because the three streams are separate, every policy run with one seed meets the same viewers,
titles and candidates, which makes policies comparable on few rounds. Per round the trace keeps
the expected quality-play rate P(click)·P(play | click) of the chosen image, of the best
candidate (the oracle) and the mean over candidates (uniform random): expectations, so curves
and regret carry no coin-flip noise.

A second mode (``artwork.simulate_movielens``) replaces the demo viewers by MovieLens users,
their genre tastes taken from their ratings, in the same catalog and under the same response
model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from artwork.catalog import ArtworkCandidate, Catalog, Title
from artwork.demo.response import DEVICES, Outcome, ResponseModel
from artwork.demo.world import DemoWorld, WorldPlan, load_world
from artwork.errors import InputError
from artwork.features import FeatureBuilder, quality_from_table, tags_from_table, tags_from_truth
from artwork.interactions import ViewingHistory
from artwork.simulate_report import (
    SimulationResult,
    SimulationSummary,
    SimulationTrace,
    bait_rows,
    summarise,
)
from models.bandits import FeedbackBatch, Policy, make_policy

# reward coding → (the reward a policy learns from an outcome, the FeedbackBatch reward_range)
REWARDS: dict[str, tuple[Callable[[Outcome], float], tuple[float, float]]] = {
    "quality_play": (lambda o: float(o.quality_play), (0.0, 1.0)),
    "quality_play_pm": (lambda o: float(o.quality_play) - 1.0, (-1.0, 0.0)),
    "watch_minutes": (lambda o: o.watched, (0.0, 1.0)),
    "click": (lambda o: float(o.clicked), (0.0, 1.0)),
}
SEED_BITS = 63


@dataclass(frozen=True)
class SimWorld:
    """What the simulator needs: a catalog, past viewing, the hidden response model, and each
    artwork's truth tags (0/1 over ``image_tags()``) for features when no tag store is given."""

    catalog: Catalog
    history: ViewingHistory
    response: ResponseModel
    truth_tags: Mapping[str, np.ndarray]

    @classmethod
    def from_demo(cls, world: DemoWorld) -> SimWorld:
        """A world loaded from its folder (``load_world``)."""
        return cls(world.catalog, world.history, world.response, tags_from_truth(world.truth))

    @classmethod
    def from_plan(cls, plan: WorldPlan) -> SimWorld:
        """A world planned in memory (``plan_world``): nothing rendered, nothing on disk."""
        ids = (a.artwork_id for a in plan.artwork)
        return cls(
            catalog_of(plan.titles, plan.artwork),
            ViewingHistory(plan.history),
            plan.response,
            tags_from_truth(dict(zip(ids, plan.plans, strict=True))),
        )


def catalog_of(titles: list[Title], artwork: list[ArtworkCandidate]) -> Catalog:
    """An in-memory catalog (its root is the current folder; images are never opened)."""
    by_title: dict[str, list[ArtworkCandidate]] = {}
    for candidate in artwork:
        by_title.setdefault(candidate.title_id, []).append(candidate)
    return Catalog(
        Path("."),
        {t.title_id: t for t in titles},
        {a.artwork_id: a for a in artwork},
        {k: tuple(v) for k, v in by_title.items()},
    )


@dataclass(frozen=True)
class SimulationConfig:
    """One simulation run (see the module docstring); checked once, here."""

    policy: str = "linucb"
    rounds: int = 20_000
    seed: int = 0
    candidates_min: int = 4
    candidates_max: int = 8
    reward: str = "quality_play"
    batch_size: int = 50
    other_device: float = 0.2
    hour_jitter: int = 2
    title_temperature: float = 1.0
    policy_config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = (
            ("rounds", self.rounds >= 1, "must be at least 1"),
            ("candidates_min", self.candidates_min >= 1, "must be at least 1"),
            ("candidates_max", self.candidates_max >= self.candidates_min,
             "must be at least candidates_min"),
            ("reward", self.reward in REWARDS, f"must be one of {tuple(REWARDS)}"),
            ("batch_size", self.batch_size >= 1, "must be at least 1"),
            ("other_device", 0.0 <= self.other_device <= 1.0, "must be in [0, 1]"),
            ("hour_jitter", 0 <= self.hour_jitter <= 12, "must be in 0..12"),
            ("title_temperature", self.title_temperature > 0, "must be > 0"),
        )  # fmt: skip
        for name, ok, rule in checks:
            if not ok:
                raise InputError(f"{rule}, got {getattr(self, name)!r}", field=name)


def run_simulation(
    world: SimWorld,
    config: SimulationConfig,
    *,
    features: FeatureBuilder | None = None,
    policy: Policy | None = None,
) -> SimulationResult:
    """Run ``config.rounds`` rounds of ``policy`` (default: a fresh ``config.policy``) in
    ``world``; features default to the world's truth tags. Deterministic for ``config.seed``."""
    features = features or FeatureBuilder(world.catalog, world.history, world.truth_tags)
    if policy is None:
        policy = make_policy(config.policy, features.d_ctx, features.d_arm, **config.policy_config)
    elif (policy.d_ctx, policy.d_arm) != (features.d_ctx, features.d_arm):
        raise InputError(
            f"policy takes ({policy.d_ctx}, {policy.d_arm}) features, the schema gives "
            f"({features.d_ctx}, {features.d_arm})",
            field="policy",
        )
    rounds = _RoundSampler(world, config)
    model = world.response
    world_rng, policy_rng, outcome_rng = _streams(config.seed)
    n = config.rounds
    chosen, oracle, uniform = np.zeros(n), np.zeros(n), np.zeros(n)
    clicks, plays = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    clicks_by_art = np.zeros(len(model.artwork_ids), dtype=np.int64)
    plays_by_art = np.zeros(len(model.artwork_ids), dtype=np.int64)
    pending: list[tuple[np.ndarray, np.ndarray, float, float, str]] = []
    coded_reward, reward_range = REWARDS[config.reward]
    policy_s = 0.0
    started = time.perf_counter()
    for r in range(n):
        viewer_id, device, hour, title_id, ids, rows = rounds.draw(world_rng)
        context = features.context(viewer_id, title_id, device, hour)
        arms = features.artwork(viewer_id, title_id, ids)
        seed = int(policy_rng.integers(1 << SEED_BITS))
        tick = time.perf_counter()
        choice = policy.choose(context, arms, seed, arm_ids=ids)
        policy_s += time.perf_counter() - tick

        response = model.respond(viewer_id, ids, device, hour)
        quality = response.quality_play
        i = choice.index
        outcome = response.outcome(i, *outcome_rng.random(2))
        clicks[r], plays[r] = outcome.clicked, outcome.quality_play
        chosen[r], oracle[r], uniform[r] = quality[i], quality.max(), quality.mean()
        clicks_by_art[rows[i]] += outcome.clicked
        plays_by_art[rows[i]] += outcome.quality_play

        reward = coded_reward(outcome)
        pending.append((context, arms[i], reward, choice.propensity, ids[i]))
        if len(pending) >= config.batch_size or r == n - 1:
            tick = time.perf_counter()
            policy.update(_batch(pending, reward_range))
            policy_s += time.perf_counter() - tick
            pending.clear()
    wall_s = time.perf_counter() - started

    trace = SimulationTrace(chosen, oracle, uniform, clicks, plays)
    titles = tuple(model.title_ids[t] for t in model.artwork_title)
    summary = summarise(
        trace,
        policy=policy.name,
        seed=config.seed,
        reward=config.reward,
        feature_schema=features.schema.key,
        bait=bait_rows(model.artwork_ids, titles, clicks_by_art, plays_by_art),
        policy_s=policy_s,
        wall_s=wall_s,
    )
    return SimulationResult(summary, trace)


@dataclass(frozen=True)
class SimulatedRounds:
    """Rounds as the simulator draws them, with the truth: features and each candidate's expected
    quality-play rate P(click)·P(play | click), candidates padded to K_max (0 outside ``mask``)."""

    contexts: np.ndarray  # (n, d_ctx)
    arms: np.ndarray  # (n, K_max, d_arm)
    mask: np.ndarray  # (n, K_max) bool
    quality_play: np.ndarray  # (n, K_max)
    arm_ids: tuple[tuple[str, ...], ...]  # each round's candidates, in column order
    viewer_ids: tuple[str, ...] = ()  # each round's viewer

    def distribution(self, policy: Policy) -> np.ndarray:
        """``policy.distribution`` in every round: (n, K_max), 0 outside the mask."""
        out = np.zeros(self.mask.shape)
        for i, ids in enumerate(self.arm_ids):
            k = len(ids)
            out[i, :k] = policy.distribution(self.contexts[i], self.arms[i, :k], ids)
        return out


def draw_rounds(
    world: SimWorld, config: SimulationConfig, *, features: FeatureBuilder | None = None
) -> SimulatedRounds:
    """The ``config.rounds`` rounds that ``run_simulation(world, config)`` meets (the same
    viewers, contexts and candidates), with their features and truth; nothing is chosen."""
    features = features or FeatureBuilder(world.catalog, world.history, world.truth_tags)
    sampler, rng = _RoundSampler(world, config), _streams(config.seed)[0]
    n, k_max = config.rounds, config.candidates_max
    contexts, arms = np.zeros((n, features.d_ctx)), np.zeros((n, k_max, features.d_arm))
    mask, quality = np.zeros((n, k_max), dtype=bool), np.zeros((n, k_max))
    arm_ids, viewer_ids = [], []
    for r in range(n):
        viewer_id, device, hour, title_id, ids, _ = sampler.draw(rng)
        viewer_ids.append(viewer_id)
        k = len(ids)
        contexts[r] = features.context(viewer_id, title_id, device, hour)
        arms[r, :k] = features.artwork(viewer_id, title_id, ids)
        quality[r, :k] = world.response.respond(viewer_id, ids, device, hour).quality_play
        mask[r, :k] = True
        arm_ids.append(ids)
    return SimulatedRounds(contexts, arms, mask, quality, tuple(arm_ids), tuple(viewer_ids))


def _streams(seed: int) -> list[np.random.Generator]:
    """The world, policy and outcome streams of a simulation seed (see the module docstring)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]


class _RoundSampler:
    """Draws each round's viewer, device, hour, title and candidates from the world stream."""

    def __init__(self, world: SimWorld, config: SimulationConfig) -> None:
        self.config, model = config, world.response
        self.model = model
        title_rows, candidates = [], []
        known = set(model.artwork_ids)
        for t, title_id in enumerate(model.title_ids):
            ids = tuple(
                a.artwork_id for a in world.catalog.candidates(title_id) if a.artwork_id in known
            )
            if ids:
                title_rows.append(t)
                candidates.append(ids)
        if not title_rows:
            raise InputError("no title has artwork known to the response model", field="world")
        self.title_rows = np.array(title_rows)
        self.candidates = candidates
        self.candidate_rows = [model.artwork_index(ids) for ids in candidates]
        g = model.title_genres[self.title_rows]
        match = (model.genre_taste @ g.T) / np.maximum(g.sum(axis=1), 1.0)  # (V, titles)
        weights = np.exp((match - match.max(axis=1, keepdims=True)) / config.title_temperature)
        self.title_cdf = np.cumsum(weights, axis=1)
        self.devices = {d: tuple(o for o in DEVICES if o != d) for d in DEVICES}

    def draw(
        self, rng: np.random.Generator
    ) -> tuple[str, str, int, str, tuple[str, ...], np.ndarray]:
        """(viewer_id, device, hour, title_id, candidate artwork ids, their response rows)."""
        model, config = self.model, self.config
        v = int(rng.integers(len(model.viewer_ids)))
        device = model.viewer_device[v]
        if rng.random() < config.other_device:
            others = self.devices[device]
            device = others[int(rng.integers(len(others)))]
        jitter = int(rng.integers(-config.hour_jitter, config.hour_jitter + 1))
        hour = (int(model.viewer_hour[v]) + jitter) % 24
        cdf = self.title_cdf[v]
        t = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), cdf.size - 1)
        ids, rows = self.candidates[t], self.candidate_rows[t]
        k = int(rng.integers(config.candidates_min, config.candidates_max + 1))
        if len(ids) > k:
            keep = np.sort(rng.choice(len(ids), size=k, replace=False))
            ids, rows = tuple(ids[j] for j in keep), rows[keep]
        return model.viewer_ids[v], device, hour, model.title_ids[self.title_rows[t]], ids, rows


def _batch(
    rows: list[tuple[np.ndarray, np.ndarray, float, float, str]],
    reward_range: tuple[float, float],
) -> FeedbackBatch:
    contexts, arms, rewards, propensities, ids = zip(*rows, strict=True)
    return FeedbackBatch(
        np.stack(contexts),
        np.stack(arms),
        np.array(rewards),
        np.array(propensities),
        ids,
        reward_range=reward_range,
    )


def simulate_command(
    world: Path | str,
    policy: str,
    rounds: int,
    *,
    tags: Path | str | None = None,
    movielens: Path | str | None = None,
    out: Path | str | None = None,
    **settings: Any,
) -> SimulationSummary:
    """``artwork simulate``: load a world folder, run ``policy`` for ``rounds`` rounds with any
    other ``SimulationConfig`` fields in ``settings`` (seed, candidates_min, candidates_max,
    reward, batch_size, policy_config, ...), with features from the tag store ``tags`` when
    given (else the world's truth tags), with MovieLens users as viewers when ``movielens`` names
    a ml-latest-small folder; write the learning curve to ``out`` when given."""
    from artwork.simulate_movielens import movielens_viewers
    from artwork.tag_store import read_tags

    sim_world = SimWorld.from_demo(load_world(world))
    config = SimulationConfig(policy=policy, rounds=rounds, **settings)
    if movielens is not None:
        sim_world = movielens_viewers(sim_world, movielens, seed=config.seed)
    features = None
    if tags is not None:
        table = read_tags(tags)
        features = FeatureBuilder(
            sim_world.catalog,
            sim_world.history,
            tags_from_table(table),
            quality=quality_from_table(table),
        )
    result = run_simulation(sim_world, config, features=features)
    if out is not None:
        from artwork.simulate_report import plot_learning_curve

        plot_learning_curve(result, out)
    return result.summary
