"""Coverage of the off-policy estimators' 95% intervals on the simulator (issue 5, part (a)).

    python -m bench.ope_coverage [--world DIR] [--repeats 50] [--rounds 10000]
        [--truth-rounds 200000] [--n-bootstrap 1000] [--refit-bootstrap 100] [--seed 0]

The world is the demo world: ``--world`` (a folder from ``artwork demo build``) or, by default,
the world ``make world`` builds (seed 7), planned in memory without its pixels. Two fixed
policies, each trained online on simulator rounds of its own and then frozen:

- logging μ: ``epsilon_greedy`` (ε = 0.2, floor 0.01) after 1,000 rounds, a production
  policy that explores a little; every one of the K candidates keeps μ ≥ ε/K;
- target π: ``linucb`` (α = 0.5, floor 0.01) after 10,000 rounds, the candidate to judge.

Estimand: π's value over the simulator's distribution of rounds (viewer, device, hour, title,
candidates), V(π) = E_x Σ_k π(k|x) q(x, k), with q the response model's exact expected quality
play P(click)·P(play | click). Σ_k π q is exact in each round; V(π) averages it over
``--truth-rounds`` independent rounds, and its standard error is checked to be under 5% of
the narrowest mean half-width, so that the truth's own error cannot move coverage.

Each of ``--repeats`` repeats (its own seed) draws ``--rounds`` fresh rounds, the logged action
a ~ μ(·|x) and the reward r ~ Bernoulli(q(x, a)) (a quality play), fits the reward model q̂ for
DM, DR and SNDR as ``training.evaluate`` does (ridge on the joint features, cross-fitted in two
folds) and takes each estimator's 95% bootstrap interval (``models.ope``: BCa, and for IPS, SNIPS
and DR also the plain percentile interval from the same replicates, rows ``*_percentile``).
Reported per estimator: coverage of V(π), mean width, mean bias (estimate − V(π)) and RMSE;
target: coverage ≥ 0.90 for IPS, SNIPS and DR (their BCa intervals, the default). The
bootstrap holds q̂ fixed, which for DR costs nothing to first order (its correction cancels
q̂'s error in expectation). DM is not expected to cover: its
fixed-model interval leaves out q̂'s fitting error, and a linear q̂ of a logistic response is
biased besides. ``dm_refit`` refits q̂ on each of ``--refit-bootstrap`` resamples
(``interval(refit=...)``, the same model with each round kept in its fold) to show how much of
DM's miss is the missing fitting error rather than the bias. BLAS runs on one thread: the
model's matrices are small, and on a shared machine BLAS threads only contend.

Writes ``bench/results/ope_coverage.json`` and ``ope_coverage.png``: per estimator, the
repeats' intervals sorted by estimate against V(π).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits  # scikit-learn's dependency
from tqdm import tqdm

from artwork.demo.world import WorldSpec, load_world, plan_world
from artwork.features import FeatureBuilder
from artwork.simulate import (
    SimulatedRounds,
    SimulationConfig,
    SimWorld,
    draw_rounds,
    run_simulation,
)
from bench import report
from bench.report import Target, write_result
from models.bandits import Policy, joint_features, make_policy
from models.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    Interval,
    OffPolicyEstimator,
    SelfNormalizedDR,
)
from training.evaluate import ALPHA, Rounds, logged_bandit, ridge_fit

LOG = logging.getLogger("bench.ope_coverage")
ESTIMATORS: dict[str, OffPolicyEstimator] = {
    "ips": IPS(),
    "snips": SNIPS(),
    "dr": DoublyRobust(),
    "sndr": SelfNormalizedDR(),
    "dm": DirectMethod(),
}
REFITTED = ("dm",)  # also run with q̂ refitted on every resample, as "<name>_refit"
MUST_COVER = ("ips", "snips", "dr")
COVERAGE_TARGET = 0.90
TRUTH_SE_SHARE = 0.05  # the truth's s.e. as a share of the narrowest mean half-width, at most
TRUTH_CHUNK = 25_000  # rounds drawn at once for the truth
LOGGER = ("epsilon_greedy", {"epsilon": 0.2})
TARGET = ("linucb", {"alpha": 0.5})


@dataclass(frozen=True)
class CoverageConfig:
    """Sizes and seed of one run (see the module docstring)."""

    repeats: int = 50
    rounds: int = 10_000
    truth_rounds: int = 200_000
    n_bootstrap: int = 1000
    refit_bootstrap: int = 100  # 0: no refitted intervals
    logger_rounds: int = 1_000
    target_rounds: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            least = 0 if spec.name in ("refit_bootstrap", "seed") else 2
            if getattr(self, spec.name) < least:
                raise ValueError(
                    f"{spec.name}: expected at least {least}, got {getattr(self, spec.name)}"
                )


@dataclass(frozen=True)
class Truth:
    """The policies' values over the rounds' distribution, each ± its standard error."""

    target: float
    target_se: float
    logger: float
    logger_se: float


def simulator_seeds(seed: int, stream: str, count: int) -> list[int]:
    """``count`` independent simulator seeds for one use (``stream``) of the run's ``seed``."""
    entropy = [seed, *stream.encode()]
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(count)]


def trained_policy(
    world: SimWorld, features: FeatureBuilder, spec: tuple[str, dict], rounds: int, seed: int
) -> Policy:
    """A policy trained online on ``rounds`` simulator rounds of its own; used frozen after."""
    name, settings = spec
    policy = make_policy(name, features.d_ctx, features.d_arm, **settings)
    config = SimulationConfig(policy=name, rounds=rounds, seed=seed)
    run_simulation(world, config, features=features, policy=policy)
    return policy


def expected_reward(rounds: SimulatedRounds, distribution: np.ndarray) -> np.ndarray:
    """Σ_k p(k|x) q(x, k) in every round: the policy's exact expected quality play, (n,)."""
    return np.einsum("nk,nk->n", distribution, rounds.quality_play)


def true_values(
    world: SimWorld,
    features: FeatureBuilder,
    logger: Policy,
    target: Policy,
    config: CoverageConfig,
) -> Truth:
    """V(π) and V(μ) as means of the exact per-round values over ``truth_rounds`` rounds."""
    sizes = [TRUTH_CHUNK] * (config.truth_rounds // TRUTH_CHUNK)
    sizes += [config.truth_rounds % TRUTH_CHUNK] if config.truth_rounds % TRUTH_CHUNK else []
    values: dict[str, list[np.ndarray]] = {"target": [], "logger": []}
    for size, seed in zip(sizes, simulator_seeds(config.seed, "truth", len(sizes)), strict=True):
        rounds = draw_rounds(world, SimulationConfig(rounds=size, seed=seed), features=features)
        for name, policy in (("target", target), ("logger", logger)):
            values[name].append(expected_reward(rounds, rounds.distribution(policy)))
    stats = {}
    for name, parts in values.items():
        v = np.concatenate(parts)
        stats[name], stats[f"{name}_se"] = float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))
    return Truth(**stats)


def logged_rounds(
    rounds: SimulatedRounds, logging_p: np.ndarray, target_p: np.ndarray, rng: np.random.Generator
) -> Rounds:
    """The log μ writes: a ~ μ(·|x), r ~ Bernoulli(q(x, a)), as ``training.evaluate`` rounds."""
    n = len(logging_p)
    last = rounds.mask.sum(axis=1) - 1  # a float cdf may fall short of 1 by a rounding error
    action = np.minimum((rng.random(n)[:, None] >= logging_p.cumsum(axis=1)).sum(axis=1), last)
    rows = np.arange(n)
    return Rounds(
        rewards=(rng.random(n) < rounds.quality_play[rows, action]).astype(np.float64),
        logged_propensity=logging_p[rows, action],
        action_index=action,
        target_distribution=target_p,
        mask=rounds.mask,
        joint=joint_features(rounds.contexts[:, None, :], rounds.arms) * rounds.mask[..., None],
    )


class CrossFittedRidge:
    """``training.evaluate``'s reward model, refittable on any resample of ``rounds``: each
    round keeps its fold (as ``cross_fitted_reward_hat(rounds, seed)`` draws them), and each
    fold's q̂ is ȳ + (x − x̄)ᵀθ, fitted on the resample's rounds of the other fold."""

    def __init__(self, rounds: Rounds, seed: int) -> None:
        n = len(rounds.rewards)
        self.rounds, self.fold = rounds, np.random.default_rng(seed).permutation(n) % 2
        self.logged = rounds.joint[np.arange(n), rounds.action_index]  # (n, D)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """q̂ (len(rows), K_max) on the rounds ``rows``; 0 outside their candidates."""
        fold, x, y = self.fold[rows], self.logged[rows], self.rounds.rewards[rows]
        thetas, offsets = [], []
        for f in (0, 1):
            train = fold != f
            x_mean, y_mean = x[train].mean(axis=0), y[train].mean()
            thetas.append(ridge_fit(x[train] - x_mean, y[train] - y_mean))
            offsets.append(y_mean - x_mean @ thetas[-1])
        # Both folds' predictions on every round, then each resampled round's own fold's.
        both = self.rounds.joint @ np.stack(thetas, axis=1) + np.array(offsets)  # (n, K, 2)
        return np.where(self.rounds.mask[rows], both[rows, :, fold], 0.0)


def repeat_intervals(
    rounds: Rounds, config: CoverageConfig, seed: int
) -> tuple[dict[str, Interval], float]:
    """Every estimator's 95% interval on one log (q̂ cross-fitted with ``seed``), and its ESS."""
    data = logged_bandit(rounds, seed)
    found = {
        name: estimator.interval(data, ALPHA, config.n_bootstrap, seed)
        for name, estimator in ESTIMATORS.items()
    }
    for name in MUST_COVER:  # the plain percentile interval beside BCa, same replicates
        found[f"{name}_percentile"] = ESTIMATORS[name].interval(
            data, ALPHA, config.n_bootstrap, seed, method="percentile"
        )
    if config.refit_bootstrap:
        refit = CrossFittedRidge(rounds, seed)
        for name in REFITTED:
            found[f"{name}_refit"] = ESTIMATORS[name].interval(
                data, ALPHA, config.refit_bootstrap, seed, refit
            )
    return found, IPS().effective_sample_size(data)


def wilson_interval(hits: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's score interval of hits/m: (p̂ + z²/2m ± z·√(p̂(1 − p̂)/m + z²/4m²)) / (1 + z²/m)."""
    p, shrink = hits / trials, 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / shrink
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / shrink
    return float(centre - half), float(centre + half)


def summarise(repeats: list[dict[str, Interval]], truth: float) -> dict[str, dict[str, float]]:
    """Per estimator over the repeats: coverage of ``truth`` with its 95% Wilson interval (how
    far 50 repeats pin it down), mean width, mean bias and RMSE."""
    summary = {}
    for name in repeats[0]:
        low, high, estimate = (np.array([getattr(r[name], f) for r in repeats]) for f in
                               ("low", "high", "estimate"))  # fmt: skip
        error, hits = estimate - truth, int(np.sum((low <= truth) & (truth <= high)))
        coverage_low, coverage_high = wilson_interval(hits, len(repeats))
        summary[name] = {
            "coverage": hits / len(repeats),
            "coverage_low": coverage_low,
            "coverage_high": coverage_high,
            "mean_width": float(np.mean(high - low)),
            "mean_bias": float(error.mean()),
            "rmse": float(np.sqrt(np.mean(error**2))),
        }
    return summary


def plot_intervals(repeats: list[dict[str, Interval]], truth: float, path: Path) -> Path:
    """One panel per estimator: each repeat's interval, sorted by estimate, against ``truth``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(repeats[0])
    columns = 3
    figure = Figure(figsize=(4.2 * columns, 3.6 * -(-len(names) // columns)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(-(-len(names) // columns), columns, sharex=True, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        intervals = sorted((r[name] for r in repeats), key=lambda i: i.estimate)
        covered = np.array([i.low <= truth <= i.high for i in intervals])
        rank = np.arange(len(intervals))
        colour = np.where(covered, "tab:blue", "tab:red")
        ax.hlines(rank, [i.low for i in intervals], [i.high for i in intervals], colors=colour)
        ax.scatter([i.estimate for i in intervals], rank, s=6, c=colour, zorder=3)
        ax.axvline(truth, color="black", linewidth=1)
        ax.set_title(f"{name.upper().replace('_', ' ')}: {covered.mean():.0%} cover V(π)")
        ax.set_yticks([])
    for ax in axes[::columns]:
        ax.set_ylabel("logs, sorted by estimate")
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    for ax in axes[-columns:]:
        ax.set_xlabel("estimated value of π (quality plays per round)")
    figure.suptitle(f"95% intervals on {len(repeats)} logs (blue: covers, red: misses); "
                    f"black line: true value {truth:.4f}")  # fmt: skip
    figure.savefig(path, format="png", dpi=110)
    return path


@dataclass(frozen=True)
class CoverageRun:
    """What a run measured: flat metrics, targets, and every repeat's intervals."""

    metrics: dict[str, float]
    targets: list[Target]
    repeats: list[dict[str, Interval]]
    truth: Truth


def run(config: CoverageConfig, world: SimWorld) -> CoverageRun:
    """Train both policies, compute the truth, run the repeats, and measure coverage."""
    features = FeatureBuilder(world.catalog, world.history, world.truth_tags)
    logger_seed, target_seed = simulator_seeds(config.seed, "policies", 2)
    logger = trained_policy(world, features, LOGGER, config.logger_rounds, logger_seed)
    target = trained_policy(world, features, TARGET, config.target_rounds, target_seed)
    LOG.info("policies trained; the true values from %s rounds", f"{config.truth_rounds:,}")
    truth = true_values(world, features, logger, target, config)
    repeats, ess = [], []
    seeds = simulator_seeds(config.seed, "repeats", config.repeats)
    for repeat, seed in enumerate(tqdm(seeds, desc="ope_coverage", unit="log", disable=None)):
        rounds = draw_rounds(
            world, SimulationConfig(rounds=config.rounds, seed=seed), features=features
        )
        rng = np.random.default_rng([config.seed, repeat])
        log = logged_rounds(rounds, rounds.distribution(logger), rounds.distribution(target), rng)
        found, log_ess = repeat_intervals(log, config, seed)
        repeats.append(found)
        ess.append(log_ess)
    summary = summarise(repeats, truth.target)
    narrowest = min(summary[name]["mean_width"] for name in MUST_COVER) / 2
    metrics = {f"true_value_{k}": v for k, v in dataclasses.asdict(truth).items()}
    metrics |= {"mean_ess": float(np.mean(ess)), **dataclasses.asdict(config)}
    metrics |= {f"{name}_{k}": v for name, row in summary.items() for k, v in row.items()}
    targets = [Target(f"{name}_coverage", summary[name]["coverage"], ">=", COVERAGE_TARGET)
               for name in MUST_COVER]  # fmt: skip
    targets.append(Target("truth_se_over_half_width", truth.target_se / narrowest, "<=",
                          TRUTH_SE_SHARE))  # fmt: skip
    return CoverageRun(metrics, targets, repeats, truth)


def format_table(metrics: dict) -> str:
    """The printed table: the truth, then one line per estimator."""
    m = metrics
    names = [k.removesuffix("_coverage") for k in m if k.endswith("_coverage")]
    width = max(10, *(len(name) + 2 for name in names))
    lines = [
        f"V(π) = {m['true_value_target']:.5f} ± {m['true_value_target_se']:.5f} (s.e., "
        f"{m['truth_rounds']:,} rounds); V(μ) = {m['true_value_logger']:.5f}; "
        f"{m['repeats']} logs of {m['rounds']:,} rounds, mean ESS {m['mean_ess']:,.0f}",
        f"{'estimator':<{width}}{'coverage':>9}{'(95% CI)':>14}{'mean width':>12}"
        f"{'mean bias':>11}"
        f"{'RMSE':>9}",
    ]
    for name in names:
        ci = f"[{m[f'{name}_coverage_low']:.2f}, {m[f'{name}_coverage_high']:.2f}]"
        lines.append(f"{name:<{width}}{m[f'{name}_coverage']:>9.2f}{ci:>14}"
                     f"{m[f'{name}_mean_width']:>12.5f}{m[f'{name}_mean_bias']:>+11.5f}"
                     f"{m[f'{name}_rmse']:>9.5f}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run part (a), print the table, write the result and the PNG."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    fields = {f.name for f in dataclasses.fields(CoverageConfig)}
    config = CoverageConfig(**{k: v for k, v in vars(args).items() if k in fields})
    if args.world is None:
        world = SimWorld.from_plan(plan_world(WorldSpec(seed=7)))
    else:
        world = SimWorld.from_demo(load_world(args.world))
    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        result = run(config, world)
    result.metrics["wall_s"] = round(time.perf_counter() - started, 1)
    print(format_table(result.metrics))
    write_result("ope_coverage", argv, result.metrics, result.targets)
    plot_intervals(result.repeats, result.truth.target, report.RESULTS / "ope_coverage.png")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="a demo world folder (default: seed 7, planned)")
    for spec in dataclasses.fields(CoverageConfig):
        parser.add_argument(f"--{spec.name.replace('_', '-')}", type=int, default=spec.default)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
