"""Our home rows against popularity pages, in the demo world's quality plays (issue 10, Measure).

    python -m bench.rows_demo [--world DIR] [--viewers 300] [--seed 0]
                              [--rankers recency_ease sequence_ease]

The world is ``--world`` (a folder from ``artwork demo build``) or, by default, the world
``artwork demo build`` makes (seed 7, 200 titles, 1,000 viewers), built once into
``.cache/bench/rows_demo``. Each ranker (``TitleRanker``) is fitted on the world's whole history;
for a seeded sample of ``--viewers`` viewers each contender builds a page of 4 rows × 10 titles:

- ``personal_rows`` with each ranker (ours; the service's default is ``recency_ease``);
- ``home_rows``, the popularity page ("Popular now", then genre rows ranked by popularity);
- the 40 most popular titles (``popular_40``), with the same rules (no finished title, only
  titles with artwork);
- a ceiling: the 40 titles with the highest true value for the viewer (hidden truth).

A title's value for a viewer is the response model's P(quality play) at the viewer's usual
device and hour, averaged over the title's candidates (artwork chosen uniformly, so that only
the rows differ). A page's value is Σ w(rank)·value over its titles, rank = 0, 1, … in reading
order (rows top to bottom, each left to right) and w(rank) = 1 / log2(2 + rank): nDCG's
discount, since a title further down or to the right is less often seen; the undiscounted sum
is reported too. Each contender gets its mean ± standard error over viewers, its ratio to the
popularity page and the paired difference with its standard error.

Target: our page (the default ranker, discounted) ≥ 1.0 × the popularity page.
Writes ``bench/results/rows_demo.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artwork.demo.world import DemoWorld, WorldSpec
from artwork.personal_rows import DEFAULT_RECOMMENDER, TitleRanker, personal_rows
from artwork.rows import FINISHED_MIN_WATCHED, home_rows, titles_by_popularity
from bench.report import Target, write_result
from bench.worlds import cached_world

LOG = logging.getLogger("bench.rows_demo")
WORK = Path(".cache/bench/rows_demo")
WORLD = WorldSpec(seed=7)  # ``artwork demo build``'s defaults
N_ROWS, PER_ROW = 4, 10
BASELINE = "popularity_page"
RANKERS = (DEFAULT_RECOMMENDER, "sequence_ease")

Page = Callable[[str], list[str]]  # viewer id → title ids in reading order


@dataclass(frozen=True)
class PageScores:
    """One contender's page value per viewer: discounted, undiscounted, and the page's size."""

    discounted: np.ndarray
    total: np.ndarray
    size: np.ndarray


def discount(n: int) -> np.ndarray:
    """w(rank) = 1 / log2(2 + rank) for rank = 0 … n − 1 (1 for the first title)."""
    return 1.0 / np.log2(2.0 + np.arange(n))


def title_values(world: DemoWorld, viewer_id: str) -> dict[str, float]:
    """Each title's P(quality play) for the viewer at their usual device and hour, averaged over
    its artwork candidates."""
    response = world.response
    quality = response.respond(viewer_id, response.artwork_ids).quality_play
    n_titles = len(response.title_ids)
    sums = np.bincount(response.artwork_title, weights=quality, minlength=n_titles)
    counts = np.bincount(response.artwork_title, minlength=n_titles)
    return dict(zip(response.title_ids, (sums / np.maximum(counts, 1)).tolist(), strict=True))


def pages(world: DemoWorld, rankers: dict[str, TitleRanker | None]) -> dict[str, Page]:
    """Every contender's page builder: ours per ranker, the popularity pages, the ceiling."""
    catalog, history = world.catalog, world.history
    by_popularity = titles_by_popularity(catalog, history)

    def open_titles(viewer_id: str, ranked: Sequence[str]) -> list[str]:
        done = {i.title_id for i in history.of(viewer_id) if i.watched >= FINISHED_MIN_WATCHED}
        return [t for t in ranked if t not in done][: N_ROWS * PER_ROW]

    def flat(rows) -> list[str]:
        return [t for row in rows for t in row.title_ids]

    def ceiling(viewer_id: str) -> list[str]:
        value = title_values(world, viewer_id)
        return open_titles(viewer_id, sorted(by_popularity, key=lambda t: -value[t]))

    out: dict[str, Page] = {
        f"ours_{name}": (lambda v, r=ranker: flat(personal_rows(catalog, history, r, v,
                                                                 N_ROWS, PER_ROW)))
        for name, ranker in rankers.items()
    }  # fmt: skip
    out[BASELINE] = lambda v: flat(home_rows(catalog, history, v, N_ROWS, PER_ROW))
    out["popular_40"] = lambda v: open_titles(v, by_popularity)
    out["ceiling"] = ceiling
    return out


def score_pages(world: DemoWorld, builders: dict[str, Page], viewers: list[str]
                ) -> dict[str, PageScores]:  # fmt: skip
    """Each contender's page value for each viewer (module docstring)."""
    rows: dict[str, list[tuple[float, float, int]]] = {name: [] for name in builders}
    weights = discount(N_ROWS * PER_ROW)
    for viewer_id in viewers:
        value = title_values(world, viewer_id)
        for name, build in builders.items():
            page = np.array([value[t] for t in build(viewer_id)])
            rows[name].append((float(weights[: page.size] @ page), float(page.sum()), page.size))
    return {name: PageScores(*map(np.array, zip(*r, strict=True))) for name, r in rows.items()}


def summarise(scores: dict[str, PageScores]) -> dict:
    """Mean ± standard error per contender, and its ratio and paired difference to the
    popularity page, for the discounted and the undiscounted page value."""
    base = scores[BASELINE]
    out = {}
    for name, s in scores.items():
        entry: dict = {"page_titles": round(float(s.size.mean()), 2)}
        for kind in ("discounted", "total"):
            x, b = getattr(s, kind), getattr(base, kind)
            gap = x - b
            entry[kind] = {"mean": _r(x.mean()), "se": _r(_se(x)), "ratio": _r(x.mean() / b.mean()),
                           "diff": _r(gap.mean()), "diff_se": _r(_se(gap))}  # fmt: skip
        out[name] = entry
    return out


def run(world: DemoWorld, viewers: int, seed: int, rankers: tuple[str, ...] = RANKERS) -> dict:
    """Fit the rankers, score every contender's page for a seeded sample of viewers; the
    metrics."""
    fitted, fit_s = {}, {}
    for name in rankers:
        start = time.perf_counter()
        fitted[name] = TitleRanker.fit(world.catalog, world.history, name)
        fit_s[name] = round(time.perf_counter() - start, 2)
        LOG.info("%s fitted in %.1f s", name, fit_s[name])
    ids = world.response.viewer_ids
    rng = np.random.default_rng(seed)
    sample = sorted(rng.choice(len(ids), size=min(viewers, len(ids)), replace=False).tolist())
    start = time.perf_counter()
    scores = score_pages(world, pages(world, fitted), [ids[i] for i in sample])
    return {"world": {"seed": world.spec.seed, "titles": world.spec.titles,
                      "viewers": world.spec.viewers},
            "viewers_sampled": len(sample), "sample_seed": seed, "rows": N_ROWS,
            "per_row": PER_ROW, "discount": "1/log2(2 + rank), rank 0 first",
            "fit_s": fit_s, "score_s": round(time.perf_counter() - start, 1),
            "pages": summarise(scores)}  # fmt: skip


def format_table(metrics: dict) -> str:
    lines = [f"{'page':<22}{'discounted':>11}{'± se':>8}{'ratio':>7}{'diff':>9}{'± se':>8}"
             f"{'sum':>9}{'± se':>8}{'ratio':>7}{'titles':>8}"]  # fmt: skip
    for name, m in metrics["pages"].items():
        d, t = m["discounted"], m["total"]
        lines.append(f"{name:<22}{d['mean']:>11.4f}{d['se']:>8.4f}{d['ratio']:>7.3f}"
                     f"{d['diff']:>+9.4f}{d['diff_se']:>8.4f}{t['mean']:>9.4f}{t['se']:>8.4f}"
                     f"{t['ratio']:>7.3f}{m['page_titles']:>8.1f}")  # fmt: skip
    lines.append(f"expected quality plays per page, {metrics['viewers_sampled']} viewers; "
                 f"ratio and paired diff against {BASELINE}")  # fmt: skip
    return "\n".join(lines)


def load_default_world(folder: Path | None) -> DemoWorld:
    """The world in ``folder``; by default WORLD's, built into WORK on first use."""
    return cached_world(folder, WORK, WORLD)


def main(argv: list[str] | None = None) -> int:
    """Build or load the world, score the pages, print the table, write the result."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    metrics = run(load_default_world(args.world), args.viewers, args.seed, tuple(args.rankers))
    print(format_table(metrics))
    ours = metrics["pages"][f"ours_{args.rankers[0]}"]["discounted"]["ratio"]
    targets = [Target(f"ours ({args.rankers[0]}) / {BASELINE}, discounted", ours, ">=", 1.0)]
    print(f"wrote {write_result('rows_demo', argv, metrics, targets)}")
    return 0


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0


def _r(x: float) -> float:
    return round(float(x), 4)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.rows_demo",
                                description=__doc__.split("\n\n")[0])  # fmt: skip
    p.add_argument("--world", type=Path, help="a demo world folder (default: seed 7, built)")
    p.add_argument("--viewers", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rankers", nargs="+", default=list(RANKERS),
                   help="recommender names; the first is ours for the target")  # fmt: skip
    return p


if __name__ == "__main__":
    sys.exit(main())
