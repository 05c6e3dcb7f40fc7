"""Our bandit policies against Vowpal Wabbit and MABWiser on the simulator (issue 5, Measure).

    python -m bench.bandit [--rounds 50000] [--seeds 5] [--policies NAME ...] [--quick]
                           [--recoding-rounds N] [--recoding-seeds N]

Contenders: every registered policy with its defaults, VW ``cb_explore_adf`` with ``--squarecb``,
``--epsilon 0.05`` and ``--cover 4``, and MABWiser LinUCB and LinTS (``bench/bandit_adapters.py``
says how the peers are wired). All run through the simulator's own loop (``run_simulation``) in
the demo world of seed 7 (built once into ``.cache/bench/bandit``), with one ``FeatureBuilder``
and, for seed s, the same viewers, titles, 4–8 candidates and response draws (the simulator's
separate streams; the oracle trace is checked equal across contenders), and feedback in batches
of 50. BLAS and torch are held to one thread: speeds are for one core.

Per contender, mean ± 95% t-interval over seeds: the share of the oracle, Σ chosen / Σ oracle of
the expected quality-play rates, over all rounds and over the last 10,000 (the last 20% of a
shorter run); the expected rate over uniform random's; the realised quality-play rate and CTR;
regret Σ (oracle − chosen); decisions+updates per second of policy time and rounds per second
of the whole loop; the 99th percentile of one decision's latency. Then the reward recoding
(``bench/bandit_recoding.py``): our best policy and VW SquareCB rerun the same seeds (by default
the main run's rounds and seeds) learning from 0/1, −1/0 and minutes-watched rewards, each scored
by its share of the oracle's quality plays. Writes ``bench/results/bandit.json`` and the
seed-averaged learning curves ``bandit_curves.png``.

Targets, for our best policy by mean share of the oracle (issue 5): at least the best VW's and
every peer's share on the mean, and no more than 1 point of share behind any peer on any seed;
≥ 95% of the oracle over the last 10,000 rounds; faster than MABWiser; ≥ 5,000
decisions+updates/s; decision p99 < 0.5 ms; recoding the reward moves its share by ≤ 1 point.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from artwork.features import FeatureBuilder
from artwork.simulate import SimulationConfig
from artwork.simulate_report import moving_average
from bench.bandit_adapters import MABWISER_POLICIES, PEERS, VW_EXPLORATION, peer_library
from bench.bandit_ceiling import ceilings, print_ceilings
from bench.bandit_recoding import (
    print_recoding_table,
    recoded_contenders,
    recoding_target,
    run_recodings,
    summarise_recodings,
)
from bench.bandit_runs import (
    LOG,
    Run,
    Stats,
    last_rounds,
    load_sim_world,
    run_all,
    stats_metrics,
    summarise_runs,
)
from bench.report import RESULTS, Target, write_result
from models.artifacts import write_atomically
from models.bandits import available_policies

ROUNDS, SEEDS, BATCH_SIZE = 50_000, 5, 50
QUICK_ROUNDS, QUICK_SEEDS = 3_000, 2
LABEL = 22  # the table's first column
CURVES = RESULTS / "bandit_curves.png"
# metric: (column title, format); the table shows them in this order
COLUMNS = {
    "share": ("% oracle ±95%", "{:6.1%}"),
    "share_last": ("last", "{:6.1%}"),
    "vs_uniform": ("×unif", "{:5.3f}"),
    "quality_play_rate": ("QP rate", "{:.4f}"),
    "ctr": ("CTR", "{:.4f}"),
    "regret": ("regret", "{:8.0f}"),
    "decisions_per_s": ("dec/s", "{:7.0f}"),
    "rounds_per_s": ("rounds/s", "{:7.0f}"),
    "p99_ms": ("p99 ms", "{:6.3f}"),
}


def print_table(summary: dict[str, dict[str, Stats]], last: int) -> None:
    """One row per contender, best share of the oracle first; our policies unmarked."""
    titles = {**{k: title for k, (title, _) in COLUMNS.items()}, "share_last": f"last {last:,}"}
    print(f"{'contender':<{LABEL}} " + " ".join(f"{titles[k]:>{_width(k)}}" for k in COLUMNS))
    for name in sorted(summary, key=lambda n: -summary[n]["share"][0]):
        row = summary[name]
        cells = [COLUMNS[k][1].format(row[k][0]).rjust(_width(k)) for k in COLUMNS]
        cells[0] = f"{row['share'][0]:6.1%} ±{row['share'][2]:5.1%}".rjust(_width("share"))
        label = f"{name} (peer)" if name in PEERS else name
        print(f"{label:<{LABEL}} " + " ".join(cells))


def _width(key: str) -> int:
    return max(len(COLUMNS[key][0]), len(COLUMNS[key][1].format(0.0)), 13 if key == "share" else 0)


def best_policy(summary: dict[str, dict[str, Stats]]) -> str | None:
    """Our policy with the highest mean share of the oracle; None when none of ours ran."""
    ours = [n for n in summary if n not in PEERS]
    return max(ours, key=lambda n: summary[n]["share"][0]) if ours else None


def bench_targets(summary: dict[str, dict[str, Stats]], runs: dict[str, list[Run]]) -> list[Target]:
    """Issue 5's targets for our best policy against the peers that ran (see the module doc)."""
    best = best_policy(summary)
    if best is None:
        return []
    peers = [n for n in summary if n in PEERS]

    def mean(name: str, key: str = "share") -> float:
        return summary[name][key][0]

    last = last_rounds(runs[best][0].chosen.size)
    found = [
        Target(f"{best}_share_of_oracle_last_{last}", mean(best, "share_last"), ">=", 0.95),
        Target(f"{best}_decisions_per_s", mean(best, "decisions_per_s"), ">=", 5000.0),
        Target(f"{best}_decision_p99_ms", mean(best, "p99_ms"), "<", 0.5),
    ]
    # against the best VW and the best peer of all (often the same one: compared once)
    best_peers = {
        max(group, key=mean)
        for group in ([n for n in peers if n in VW_EXPLORATION], peers)
        if group
    }
    for rival in sorted(best_peers):
        found.append(Target(f"{best}_share_vs_{rival}", mean(best) / mean(rival), ">=", 1.0))
    if peers:
        margins = [
            100 * (mine.metrics["share"] - theirs.metrics["share"])
            for peer in peers
            for mine, theirs in zip(runs[best], runs[peer], strict=True)
        ]
        found.append(Target(f"{best}_worst_seed_margin_points", min(margins), ">=", -1.0))
    mabwiser = [n for n in peers if n in MABWISER_POLICIES]
    if mabwiser:
        fastest = max(mabwiser, key=lambda n: mean(n, "decisions_per_s"))
        ratio = mean(best, "decisions_per_s") / mean(fastest, "decisions_per_s")
        found.append(Target(f"{best}_speed_vs_{fastest}", ratio, ">", 1.0))
    return found


def plot_curves(runs: dict[str, list[Run]], path: Path, window: int) -> Path:
    """Write the seed-averaged moving share of the oracle of every contender to ``path``: per
    round window, Σ_seeds Σ chosen / Σ_seeds Σ oracle. Peers dashed, the 95% target dotted."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    oracle = np.mean([r.oracle for r in next(iter(runs.values()))], axis=0)
    window = max(1, min(window, oracle.size))
    x = np.arange(window, oracle.size + 1)
    denominator = moving_average(oracle, window)
    figure = Figure(figsize=(11, 6.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ours, peers = (itertools.cycle(colormaps[m].colors) for m in ("tab10", "Dark2"))
    order = sorted(runs, key=lambda n: -np.mean([r.metrics["share"] for r in runs[n]]))
    for name in order:
        chosen = np.mean([r.chosen for r in runs[name]], axis=0)
        share = chosen.sum() / oracle.sum()
        style, colour = ("--", next(peers)) if name in PEERS else ("-", next(ours))
        ax.plot(x, moving_average(chosen, window) / denominator, style, color=colour,
                linewidth=1.4, label=f"{name} ({share:.1%})")  # fmt: skip
    ax.axhline(0.95, color="black", linestyle=":", linewidth=1.0, label="95% of the oracle")
    seeds = len(next(iter(runs.values())))
    ax.set_title(f"Share of the oracle's expected quality-play rate, {oracle.size:,} rounds, "
                 f"mean of {seeds} seed{'s' * (seeds > 1)}")  # fmt: skip
    ax.set_xlabel(f"round ({window:,}-round moving window)")
    ax.set_ylabel("share of the oracle")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              title="over all rounds", title_fontsize="small")  # fmt: skip
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: figure.savefig(tmp, format="png"))
    return path


def main(argv: list[str] | None = None) -> int:
    """Run every contender on every seed, print the table, write the result and the curves."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else ROUNDS)
    seeds = args.seeds or (QUICK_SEEDS if args.quick else SEEDS)
    known = [*available_policies(), *PEERS]
    names = args.policies or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"unknown policies {unknown}; known: {', '.join(known)}")
    for name in [n for n in names if n in PEERS]:
        library = peer_library(name)
        if importlib.util.find_spec(library) is None:
            LOG.warning("%s is not installed (pip install -e '.[bench]'): no %s", library, name)
            names = [n for n in names if n != name]

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)  # one core, as the issue measures; more threads only contend here
    config = SimulationConfig(rounds=rounds, batch_size=args.batch_size)
    world = load_sim_world(args.world)
    with threadpool_limits(limits=1):
        runs = run_all(world, names, config, seeds)
        summary = summarise_runs(runs)
        print(f"\n{rounds:,} rounds × {seeds} seeds, batches of {args.batch_size}; "
              f"means over seeds (share ± half-width of its 95% t-interval)")  # fmt: skip
        print_table(summary, last_rounds(rounds))
        metrics = {"rounds": rounds, "seeds": seeds, "batch_size": args.batch_size}
        metrics |= stats_metrics(summary)
        metrics |= {f"{name}.share_ci95": row["share"][2] for name, row in summary.items()}
        targets = bench_targets(summary, runs)
        best = best_policy(summary)
        recoding_seeds = seeds if args.recoding_seeds is None else args.recoding_seeds
        if best is not None and recoding_seeds > 0:
            recoding = replace(config, rounds=args.recoding_rounds or rounds)
            contenders = recoded_contenders(best, names)
            recodings = run_recodings(world, contenders, recoding, recoding_seeds)
            recoded = summarise_recodings(recodings)
            print_recoding_table(recoded, recoding.rounds, recoding_seeds)
            metrics |= {"recoding.rounds": recoding.rounds, "recoding.seeds": recoding_seeds}
            metrics |= stats_metrics(recoded, "recoding.")
            targets.append(recoding_target(recoded, best))
        if not args.no_ceilings:
            found = ceilings(world, FeatureBuilder(world.catalog, world.history, world.truth_tags))
            print_ceilings(found)
            metrics |= {f"ceiling.{name}": share for name, share in found.items()}
    metrics = {k: v for k, v in metrics.items() if not math.isnan(v)}  # one seed: no spread
    plot_curves(runs, CURVES, window=max(50, rounds // 50))
    write_result("bandit", argv, metrics, targets)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help=f"rounds per run ({ROUNDS:,})")
    parser.add_argument("--seeds", type=int, help=f"seeds per contender ({SEEDS})")
    parser.add_argument("--policies", nargs="+", metavar="NAME", help="contenders (all)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--world", type=Path, help="a demo world folder (default: built)")
    quick = f"{QUICK_ROUNDS:,} rounds × {QUICK_SEEDS} seeds unless given"
    parser.add_argument("--quick", action="store_true", help=quick)
    recoding = "per reward-recoding run (the main run's)"
    parser.add_argument("--recoding-rounds", type=int, help=f"rounds {recoding}")
    parser.add_argument("--recoding-seeds", type=int, help=f"seeds {recoding}; 0: no recoding")
    parser.add_argument("--no-ceilings", action="store_true", help="skip the ceilings' fits")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
