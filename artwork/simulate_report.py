"""How a simulation is reported: its trace, its summary numbers, the table and the curve PNG.

A share of the oracle is Σ expected quality-play rate of the chosen images / Σ the oracle's, over
the rounds in question; regret is Σ (oracle − chosen) of the same expected rates; the bait index
of an artwork is 1 − quality plays / clicks over its realised draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.artifacts import write_atomically

BAIT_ROWS = 5  # most-clicked artworks reported with their bait index


@dataclass(frozen=True)
class BaitRow:
    """Realised clicks and quality plays of one artwork during a simulation."""

    artwork_id: str
    title_id: str
    clicks: int
    quality_plays: int

    @property
    def bait_index(self) -> float:
        """1 − quality plays / clicks: the share of clicks that did not become viewing."""
        return 1.0 - self.quality_plays / self.clicks if self.clicks else 0.0


@dataclass(frozen=True)
class SimulationSummary:
    """The numbers a simulation reports. Rates are per round; ``expected_rate``, ``oracle_rate``
    and ``uniform_rate`` are expected quality-play rates P(click)·P(play | click) of the chosen
    image, the best candidate and the candidates' mean (uniform random)."""

    policy: str
    rounds: int
    seed: int
    reward: str
    feature_schema: str
    ctr: float
    quality_play_rate: float
    expected_rate: float
    oracle_rate: float
    uniform_rate: float
    regret: float
    regret_per_round: float
    share_of_oracle_first: float  # first 20% of rounds
    share_of_oracle_last: float  # last 20% of rounds
    uniform_share_of_oracle: float
    decisions_per_s: float  # policy choose + update only
    rounds_per_s: float  # the whole loop: features, response, draws
    bait: tuple[BaitRow, ...]


@dataclass(frozen=True)
class SimulationTrace:
    """Per round (rounds,): expected quality-play rates and the realised draws."""

    chosen: np.ndarray
    oracle: np.ndarray
    uniform: np.ndarray
    clicks: np.ndarray  # bool
    quality_plays: np.ndarray  # bool


@dataclass(frozen=True)
class SimulationResult:
    """What ``run_simulation`` returns: the summary and the per-round trace behind it."""

    summary: SimulationSummary
    trace: SimulationTrace


def summarise(
    trace: SimulationTrace,
    *,
    policy: str,
    seed: int,
    reward: str,
    feature_schema: str,
    bait: tuple[BaitRow, ...],
    policy_s: float,
    wall_s: float,
) -> SimulationSummary:
    """The summary numbers of a trace; ``policy_s`` is the time spent in the policy, ``wall_s``
    the whole run's."""
    n = trace.chosen.size
    fifth = max(1, n // 5)
    first, last = slice(0, fifth), slice(n - fifth, n)
    regret = float((trace.oracle - trace.chosen).sum())
    return SimulationSummary(
        policy=policy,
        rounds=n,
        seed=seed,
        reward=reward,
        feature_schema=feature_schema,
        ctr=float(trace.clicks.mean()),
        quality_play_rate=float(trace.quality_plays.mean()),
        expected_rate=float(trace.chosen.mean()),
        oracle_rate=float(trace.oracle.mean()),
        uniform_rate=float(trace.uniform.mean()),
        regret=regret,
        regret_per_round=regret / n,
        share_of_oracle_first=_share(trace.chosen[first], trace.oracle[first]),
        share_of_oracle_last=_share(trace.chosen[last], trace.oracle[last]),
        uniform_share_of_oracle=_share(trace.uniform[last], trace.oracle[last]),
        decisions_per_s=n / policy_s if policy_s > 0 else float("inf"),
        rounds_per_s=n / wall_s if wall_s > 0 else float("inf"),
        bait=bait,
    )


def bait_rows(
    artwork_ids: tuple[str, ...],
    title_ids: tuple[str, ...],
    clicks: np.ndarray,
    quality_plays: np.ndarray,
    top: int = BAIT_ROWS,
) -> tuple[BaitRow, ...]:
    """The ``top`` most-clicked artworks (ties in id order) with their realised counts."""
    order = np.lexsort((np.arange(clicks.size), -clicks))[:top]
    return tuple(
        BaitRow(artwork_ids[a], title_ids[a], int(clicks[a]), int(quality_plays[a]))
        for a in order
        if clicks[a] > 0
    )


def _share(chosen: np.ndarray, oracle: np.ndarray) -> float:
    return float(chosen.sum() / oracle.sum()) if oracle.sum() > 0 else 0.0


def format_summary(summary: SimulationSummary) -> str:
    """The table ``artwork simulate`` prints."""
    s = summary
    lines = [
        f"policy {s.policy}: {s.rounds:,} rounds, seed {s.seed}, reward {s.reward}, "
        f"features {s.feature_schema}",
        f"  CTR                    {s.ctr:.4f}",
        f"  quality-play rate      {s.quality_play_rate:.4f} realised, "
        f"{s.expected_rate:.4f} expected",
        f"  oracle / uniform       {s.oracle_rate:.4f} / {s.uniform_rate:.4f}",
        f"  regret vs oracle       {s.regret:.1f} total, {s.regret_per_round:.4f} per round",
        f"  share of oracle        first 20% {s.share_of_oracle_first:.1%}, last 20% "
        f"{s.share_of_oracle_last:.1%} (uniform {s.uniform_share_of_oracle:.1%})",
        f"  speed                  {s.decisions_per_s:,.0f} decisions/s (policy), "
        f"{s.rounds_per_s:,.0f} rounds/s (simulation)",
    ]
    if s.bait:
        lines.append("  most clicked artworks  (bait index = 1 − quality plays / clicks)")
        lines += [
            f"    {b.artwork_id:<16} clicks {b.clicks:>5}  quality plays {b.quality_plays:>5}  "
            f"bait {b.bait_index:.2f}"
            for b in s.bait
        ]
    return "\n".join(lines)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values: (n − window + 1,)."""
    return _moving_sum(values, window) / max(1, min(window, values.size))


def _moving_sum(values: np.ndarray, window: int) -> np.ndarray:
    window = max(1, min(window, values.size))
    sums = np.cumsum(np.concatenate(([0.0], values)))
    return sums[window:] - sums[:-window]


def plot_learning_curve(
    result: SimulationResult, path: Path | str, window: int | None = None
) -> Path:
    """Write a PNG to ``path`` (atomically): above, the moving-average expected quality-play
    rate of the policy, the oracle and uniform random; below, the policy's and uniform's share
    of the oracle, Σ chosen / Σ oracle over the same window. ``window`` defaults to 2% of the
    rounds (at least 50)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    s, trace = result.summary, result.trace
    window = max(1, min(window or max(50, s.rounds // 50), s.rounds))
    x = np.arange(window, s.rounds + 1)
    figure = Figure(figsize=(8, 6.5), dpi=100)
    FigureCanvasAgg(figure)
    rates, shares = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    oracle = _moving_sum(trace.oracle, window)
    for label, values, style in (
        ("oracle (best candidate)", trace.oracle, {"color": "black", "linestyle": "--"}),
        (s.policy, trace.chosen, {"color": "tab:blue"}),
        ("uniform random", trace.uniform, {"color": "tab:grey", "linestyle": ":"}),
    ):
        rates.plot(x, moving_average(values, window), label=label, linewidth=1.4, **style)
        if values is not trace.oracle:
            shares.plot(x, _moving_sum(values, window) / oracle, linewidth=1.4, **style)
    rates.set_ylabel("expected quality-play rate")
    rates.set_title(
        f"{s.policy}: {s.share_of_oracle_last:.1%} of the oracle over the last 20% of "
        f"{s.rounds:,} rounds (uniform {s.uniform_share_of_oracle:.1%})"
    )
    rates.set_ylim(bottom=0.0)
    rates.legend(loc="lower right", ncol=3, fontsize="small")
    shares.set_ylabel("share of the oracle")
    shares.set_xlabel(f"round ({window}-round moving window)")
    shares.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    for ax in (rates, shares):
        ax.grid(alpha=0.3)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: figure.savefig(tmp, format="png"))
    return path
