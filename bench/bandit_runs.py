"""The bandit benchmark's runs: each contender through the simulator's own loop, one ``Run`` per
contender and seed, timed per decision, and the statistics over seeds."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import stats
from tqdm import tqdm

from artwork.demo.world import WorldSpec
from artwork.features import FeatureBuilder
from artwork.simulate import SimulationConfig, SimWorld, run_simulation
from bench.bandit_adapters import PEERS, make_peer
from bench.worlds import cached_world
from models.bandits import Choice, Policy, make_policy

LOG = logging.getLogger("bench.bandit")
WORK = Path(".cache/bench/bandit")
WORLD = WorldSpec(seed=7)
LAST_ROUNDS = 10_000
Stats = tuple[float, float, float]  # see seed_stats


class DecisionTimer:
    """Stands in for ``policy`` (attributes pass through) and times each ``choose`` call."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.seconds: list[float] = []

    def __getattr__(self, name: str):
        return getattr(self.policy, name)

    def choose(self, *args, **kwargs) -> Choice:
        tick = time.perf_counter()
        choice = self.policy.choose(*args, **kwargs)
        self.seconds.append(time.perf_counter() - tick)
        return choice


@dataclass(frozen=True)
class Run:
    """One contender on one seed: its numbers and its per-round expected quality-play rates."""

    metrics: dict[str, float]
    chosen: np.ndarray
    oracle: np.ndarray


def load_sim_world(folder: Path | None) -> SimWorld:
    """The demo world in ``folder``; by default WORLD's, built into WORK on first use."""
    return SimWorld.from_demo(cached_world(folder, WORK, WORLD))


def make_contender(name: str, features: FeatureBuilder, seed: int) -> Policy:
    """Our policy ``name`` with its defaults, or the peer ``name`` seeded with ``seed``."""
    if name in PEERS:
        return make_peer(name, features.d_ctx, features.d_arm, seed)
    return make_policy(name, features.d_ctx, features.d_arm)


def last_rounds(rounds: int) -> int:
    """How many final rounds the "last" share covers: 10,000, or 20% of a shorter run."""
    return min(LAST_ROUNDS, max(1, rounds // 5))


def run_contender(
    world: SimWorld, features: FeatureBuilder, name: str, config: SimulationConfig
) -> Run:
    """Simulate contender ``name`` for ``config``'s rounds and seed."""
    timer = DecisionTimer(make_contender(name, features, config.seed))
    # duck-typed: the simulator reads the policy's dims and name and calls choose and update
    result = run_simulation(world, config, features=features, policy=timer)  # type: ignore
    s, trace = result.summary, result.trace
    last = slice(-last_rounds(s.rounds), None)
    metrics = {
        "share": s.expected_rate / s.oracle_rate,
        "share_last": trace.chosen[last].sum() / trace.oracle[last].sum(),
        "vs_uniform": s.expected_rate / s.uniform_rate,
        "quality_play_rate": s.quality_play_rate,
        "expected_rate": s.expected_rate,
        "ctr": s.ctr,
        "regret": s.regret,
        "decisions_per_s": s.decisions_per_s,
        "rounds_per_s": s.rounds_per_s,
        "p50_ms": 1e3 * float(np.percentile(timer.seconds, 50)),
        "p99_ms": 1e3 * float(np.percentile(timer.seconds, 99)),
    }
    return Run(metrics, trace.chosen, trace.oracle)


def run_all(
    world: SimWorld,
    names: list[str],
    config: SimulationConfig,
    seeds: int,
    desc: str = "bench.bandit",
) -> dict[str, list[Run]]:
    """Every contender on seeds 0..seeds−1 (seed-major, so load drifts hit all alike)."""
    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    runs: dict[str, list[Run]] = {name: [] for name in names}
    with tqdm(total=len(names) * seeds, desc=desc, unit="run") as bar:
        for seed in range(seeds):
            reference = None  # the first contender's oracle trace: every other must equal it
            for name in names:
                bar.set_postfix_str(f"{name}, seed {seed}")
                run = run_contender(world, features, name, replace(config, seed=seed))
                reference = run.oracle if reference is None else reference
                if not np.array_equal(run.oracle, reference):
                    raise RuntimeError(f"{name} met other rounds than {names[0]} on seed {seed}")
                runs[name].append(run)
                bar.update()
    return runs


def seed_stats(values: list[float]) -> Stats:
    """(mean, standard deviation, half-width of the 95% t-interval of the mean) over seeds."""
    n = len(values)
    if n < 2:
        return float(values[0]), math.nan, math.nan
    std = float(np.std(values, ddof=1))
    return float(np.mean(values)), std, float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)


def summarise_runs(runs: dict[str, list[Run]]) -> dict[str, dict[str, Stats]]:
    """contender → metric → ``seed_stats``."""
    return {
        name: {key: seed_stats([r.metrics[key] for r in seeded]) for key in seeded[0].metrics}
        for name, seeded in runs.items()
    }


def stats_metrics(summary: dict[str, dict[str, Stats]], prefix: str = "") -> dict[str, float]:
    """``PREFIXNAME.KEY`` (mean) and ``PREFIXNAME.KEY_std`` for the result file; NaNs (no spread
    over one seed) left out."""
    metrics: dict[str, float] = {}
    for name, row in summary.items():
        for key, (mean, std, _) in row.items():
            metrics.update({f"{prefix}{name}.{key}": mean, f"{prefix}{name}.{key}_std": std})
    return {k: v for k, v in metrics.items() if not math.isnan(v)}
