"""The bandit benchmark's reward recoding (issue 5): does the coding move what a policy earns?

Our best policy and VW SquareCB run the same seeds once per coding of the reward they learn from
(``artwork.simulate.REWARDS``): ``quality_play`` (0/1), ``quality_play_pm`` (−1/0) and
``watch_minutes`` (minutes watched scaled to [0, 1]; ``artwork.demo.response`` says how they are
drawn). Each is scored by the same metric, its share of the oracle's expected quality plays (Σ
chosen / Σ oracle), and a contender's spread is the largest difference between its codings' mean
shares, in points. Target: our best policy's spread ≤ 1 point.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from artwork.simulate import SimulationConfig, SimWorld
from bench.bandit_adapters import PEERS
from bench.bandit_runs import Run, Stats, run_all, seed_stats
from bench.report import Target

CODINGS = ("quality_play", "quality_play_pm", "watch_minutes")
PEER = "vw_squarecb"  # the peer recoded beside our best policy
SPREAD_TARGET = 1.0  # points of share of the oracle
LABEL, CELL = 22, 16  # the table's column widths


def recoded_contenders(best: str, names: list[str]) -> list[str]:
    """Our best policy, and VW SquareCB when it is among the contenders ``names``."""
    return [best, *([PEER] if PEER in names else [])]


def run_recodings(
    world: SimWorld, names: list[str], config: SimulationConfig, seeds: int
) -> dict[str, dict[str, list[Run]]]:
    """coding → contender → its runs on seeds 0..seeds−1, learning from that coding; every
    coding meets the same rounds."""
    runs = {
        coding: run_all(world, names, replace(config, reward=coding), seeds, f"recoding {coding}")
        for coding in CODINGS
    }
    reference = runs[CODINGS[0]][names[0]]  # run_all checked the other contenders against it
    for coding in CODINGS[1:]:
        for seed, run in enumerate(runs[coding][names[0]]):
            if not np.array_equal(run.oracle, reference[seed].oracle):
                raise RuntimeError(f"coding {coding} met other rounds on seed {seed}")
    return runs


def summarise_recodings(runs: dict[str, dict[str, list[Run]]]) -> dict[str, dict[str, Stats]]:
    """contender → ``seed_stats`` of each coding's share and quality-play rate, and the spreads
    (in points, as (value, nan, nan)): ``spread`` of the mean shares, ``worst_seed_spread``."""
    names = next(iter(runs.values()))
    out: dict[str, dict[str, Stats]] = {}
    for name in names:
        shares = np.array([[r.metrics["share"] for r in runs[c][name]] for c in CODINGS])
        row = {f"{c}.share": seed_stats(list(s)) for c, s in zip(CODINGS, shares, strict=True)}
        for coding in CODINGS:
            rates = [r.metrics["quality_play_rate"] for r in runs[coding][name]]
            row[f"{coding}.quality_play_rate"] = seed_stats(rates)
        means = shares.mean(axis=1)
        row["spread"] = (100 * float(means.max() - means.min()), np.nan, np.nan)
        worst = (shares.max(axis=0) - shares.min(axis=0)).max()
        row["worst_seed_spread"] = (100 * float(worst), np.nan, np.nan)
        out[name] = row
    return out


def print_recoding_table(summary: dict[str, dict[str, Stats]], rounds: int, seeds: int) -> None:
    """One row per contender: its mean share of the oracle ± 95% per coding, and its spread."""
    print(
        f"\nReward recoding, {rounds:,} rounds × {seeds} seeds: % of the oracle's quality "
        f"plays ± 95% learning from each coding; spread in points (mean, worst seed)"
    )
    spreads = ("spread pts", "worst seed pts")
    print(f"{'contender':<{LABEL}} " + " ".join(f"{t:>{CELL}}" for t in (*CODINGS, *spreads)))
    for name, row in summary.items():
        cells = [f"{row[f'{c}.share'][0]:6.1%} ±{row[f'{c}.share'][2]:5.1%}" for c in CODINGS]
        cells += [f"{row[k][0]:.2f}" for k in ("spread", "worst_seed_spread")]
        label = f"{name} (peer)" if name in PEERS else name
        print(f"{label:<{LABEL}} " + " ".join(f"{c:>{CELL}}" for c in cells))


def recoding_target(summary: dict[str, dict[str, Stats]], best: str) -> Target:
    """Issue 5: recoding the reward moves our best policy's share by ≤ 1 point."""
    return Target(f"{best}_recoding_spread_points", summary[best]["spread"][0], "<=", SPREAD_TARGET)
