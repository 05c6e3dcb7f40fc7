"""The simulator: replays the demo world's viewers against a bandit policy and the hidden truth.

Each round, from a world stream seeded by ``seed``: a viewer drawn uniformly; their usual device
(another one with probability ``other_device``) and usual hour ± ``hour_jitter``; a title drawn
as a home page would show it, P(title) ∝ exp(genre_match / ``title_temperature``); and a random
subset of ``candidates_min``–``candidates_max`` of its images (all of them when it has fewer).
The policy chooses from the features (``artwork.features``) with a per-round seed from a second
stream; a third stream draws the click ~ Bernoulli(P(click)) and, after a click, the quality
play ~ Bernoulli(P(quality play | click)) from the world's ``ResponseModel``. The reward is the
quality play (or the click, ``reward="click"``); the policy learns from a ``FeedbackBatch`` of
the rows since its last update every ``batch_size`` rounds, late as in production.

Because the three streams are separate, every policy run with one seed meets the same viewers,
titles and candidates, which makes policies comparable on few rounds. Per round the trace keeps
the expected quality-play rate P(click)·P(play | click) of the chosen image, of the best
candidate (the oracle) and the mean over candidates (uniform random): expectations, so curves
and regret carry no coin-flip noise.

A second mode (``movielens_viewers``) replaces the demo viewers by MovieLens users, their genre
tastes taken from their ratings, in the same catalog and under the same response model.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from artwork.catalog import ArtworkCandidate, Catalog, Title
from artwork.demo.response import DEVICES, ResponseModel
from artwork.demo.viewers import plan_viewers
from artwork.demo.world import DemoWorld, WorldPlan, load_world, simulate_history
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

REWARDS = ("quality_play", "click")
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


def movielens_viewers(world: SimWorld, folder: Path | str, seed: int = 0) -> SimWorld:
    """``world`` with its viewers replaced by the users of a MovieLens folder (``movies.csv``,
    ``ratings.csv``). User u's taste for genre g is the column-standardised score

        s_ug = Σ_{m∈g} (r_um − r̄_u) / (n_ug + 3) + ½·log((n_ug + 1) / (n_u·p_g + 1))

    (how much better than their average they rate the genre, and how much more often they rate
    it than its share p_g of all ratings), mapped onto the mean and spread of the world's own
    genre tastes. Devices, hours, tag tastes (from genre tastes plus a personal twist) and past
    viewing of the demo titles are drawn from ``seed`` as the demo world draws them; a viewer's
    cluster is their favourite genre."""
    folder, genres = Path(folder), world.response.genres
    movie: dict[str, int] = {}
    movie_genres = []
    for row in _csv_rows(folder / "movies.csv", ("movieId", "genres")):
        movie[row["movieId"]] = len(movie_genres)
        movie_genres.append([g in row["genres"].split("|") for g in genres])
    users: dict[str, int] = {}
    rows, movies, ratings = [], [], []
    for n, row in enumerate(_csv_rows(folder / "ratings.csv", ("userId", "movieId", "rating")), 2):
        try:
            movies.append(movie[row["movieId"]])
            ratings.append(float(row["rating"]))
        except (KeyError, ValueError):
            bad = "movieId" if row["movieId"] not in movie else "rating"
            message = f"bad value {row[bad]!r}"
            raise InputError(message, file="ratings.csv", line=n, field=bad) from None
        rows.append(users.setdefault(row["userId"], len(users)))
    if not users:
        raise InputError("no ratings", file=str(folder / "ratings.csv"))
    u, m, r = np.array(rows), np.array(movies), np.array(ratings)
    n_u = np.bincount(u).astype(float)
    deviation = r - (np.bincount(u, weights=r) / n_u)[u]
    in_genre = np.array(movie_genres, dtype=float)[m]  # (ratings, genres)
    sums = np.stack(
        [np.bincount(u, deviation * in_genre[:, j], len(users)) for j in range(len(genres))], 1
    )
    counts = np.stack([np.bincount(u, in_genre[:, j], len(users)) for j in range(len(genres))], 1)
    share = in_genre.mean(axis=0)
    score = sums / (counts + 3.0) + 0.5 * np.log((counts + 1.0) / (n_u[:, None] * share + 1.0))
    z = (score - score.mean(axis=0)) / np.maximum(score.std(axis=0), 1e-9)
    taste = world.response.genre_taste
    genre_taste = taste.mean() + taste.std() * z

    rng = np.random.default_rng(seed)
    profile = world.response.genre_profile
    drawn = plan_viewers(len(users), genres, profile, rng)
    from_genres = genre_taste @ (profile - profile.mean(axis=0))
    from_genres /= from_genres.std() + 1e-9
    response = replace(
        world.response,
        viewer_ids=tuple(f"ml{user}" for user in users),
        viewer_device=drawn.device,
        viewer_hour=drawn.hour,
        viewer_cluster=genre_taste.argmax(axis=1),
        genre_taste=np.round(genre_taste, 4),
        tag_taste=np.round(0.8 * from_genres + rng.normal(0.0, 0.6, from_genres.shape), 4),
    )
    history = ViewingHistory(simulate_history(response, rng))
    return SimWorld(world.catalog, history, response, world.truth_tags)


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise InputError("not found (is this a MovieLens folder?)", file=str(path))
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError(f"missing columns {missing}", file=path.name, line=1)
        yield from reader


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
            ("reward", self.reward in REWARDS, f"must be one of {REWARDS}"),
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
        u_click, u_play = outcome_rng.random(2)
        clicks[r] = clicked = u_click < response.click[i]
        plays[r] = played = clicked and u_play < response.play_given_click[i]
        chosen[r], oracle[r], uniform[r] = quality[i], quality.max(), quality.mean()
        clicks_by_art[rows[i]] += clicked
        plays_by_art[rows[i]] += played

        reward = float(played if config.reward == "quality_play" else clicked)
        pending.append((context, arms[i], reward, choice.propensity, ids[i]))
        if len(pending) >= config.batch_size or r == n - 1:
            tick = time.perf_counter()
            policy.update(_batch(pending))
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
    arm_ids = []
    for r in range(n):
        viewer_id, device, hour, title_id, ids, _ = sampler.draw(rng)
        k = len(ids)
        contexts[r] = features.context(viewer_id, title_id, device, hour)
        arms[r, :k] = features.artwork(viewer_id, title_id, ids)
        quality[r, :k] = world.response.respond(viewer_id, ids, device, hour).quality_play
        mask[r, :k] = True
        arm_ids.append(ids)
    return SimulatedRounds(contexts, arms, mask, quality, tuple(arm_ids))


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


def _batch(rows: list[tuple[np.ndarray, np.ndarray, float, float, str]]) -> FeedbackBatch:
    contexts, arms, rewards, propensities, ids = zip(*rows, strict=True)
    return FeedbackBatch(
        np.stack(contexts), np.stack(arms), np.array(rewards), np.array(propensities), ids
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
