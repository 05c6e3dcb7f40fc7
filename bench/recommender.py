"""Our recommender against the usual baselines on MovieLens ml-latest-small (issue 10, Measure).

    python -m bench.recommender [--movielens ../shared/data/ml-latest-small] [--seed 0]
                                [--short-fraction 0.2] [--short-keep 5] [--models NAME ...]

Every rating is an interaction; each viewer's latest 20% by time is the test slice and the 10%
before it the validation slice (``training.recommender_data.temporal_split``). Each contender —
popularity, ``implicit`` ALS, BPR and item-kNN (cosine), EASE, recency-weighted EASE, and ours
(``sequence_ease``) — is tuned on the validation slice over its ``search_space``
(``training.train_recommender.tune``), refitted on train + validation (the timed fit) and scored
on the same test users: nDCG@10 with its standard error, Recall@20, catalog coverage@10.

Context (hour of day): ours + the context re-ranker (``models.recommenders.context``; MovieLens
has no device, so hour only, UTC), its settings tuned on the validation slice over ours fitted on
train (``training.train_recommender.train_context``), fitted on train + validation. Both ours and
ours + context are scored on the test slice grouped by (viewer, hour of the test interaction):
each group is the page the viewer would have opened at that hour, nDCG@10 against that group's
items, averaged per viewer, then over the same test viewers (standard error over viewers), with
the paired difference. Tuning keeps the re-ranker on only when its validation gain is at least 2
standard errors (``context_eval.MIN_Z``); the top validation setting forced on is reported too,
to show what the learnt lifts do on the test slice either way. Skipped when ``movies.csv`` (the
genres) is absent.

Viewers with little history: a seeded random ``--short-fraction`` of the viewers keep only their
latest ``--short-keep`` train + validation interactions (their earlier ones are dropped from the
data every model is refitted on, with its tuned settings); their nDCG@10 is on their unchanged
test slice. Skips with a message (exit 0) when the MovieLens folder is absent.

Targets (issue 10): our nDCG@10 ≥ 1.10 × the best baseline's, our coverage@10 ≥ EASE's, our
timed fit < 60 s (this machine's cores). Writes ``bench/results/recommender.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report import Target, write_result
from models.recommenders import Interactions, Recommender
from models.recommenders.metrics import RankingReport, evaluate
from training.recommender_data import TemporalSplit, load_movielens, temporal_split
from training.train_recommender import (
    DEFAULT_MOVIELENS,
    ContextResult,
    Tuning,
    fit_timed,
    train_context,
    tune,
)

LOG = logging.getLogger("bench.recommender")
OURS = "sequence_ease"
BASELINES = ("popularity", "als", "bpr", "item_knn", "ease", "recency_ease")


@dataclass(frozen=True)
class Outcome:
    """One contender's tuning, timed refit and test reports (all viewers, short histories)."""

    name: str
    tuning: Tuning
    tune_seconds: float
    fit_seconds: float
    test: RankingReport
    short: RankingReport

    def metrics(self) -> dict:
        return {**_rounded(self.test.as_dict()), "fit_s": round(self.fit_seconds, 3),
                "tune_s": round(self.tune_seconds, 1), "tuned": self.tuning.best,
                "short_history": _rounded(self.short.as_dict())}  # fmt: skip


def short_history(
    split: TemporalSplit, fraction: float, keep: int, seed: int
) -> tuple[Interactions, np.ndarray]:
    """Train + validation with a random ``fraction`` of the viewers cut to their latest ``keep``
    interactions, and those viewers."""
    history = split.train_and_validation()
    rng = np.random.default_rng(seed)
    n_short = max(1, round(fraction * history.n_users))
    users = np.sort(rng.choice(history.n_users, size=n_short, replace=False))
    is_short = np.zeros(history.n_users, dtype=bool)
    is_short[users] = True
    kept = ~is_short[history.users] | (history.ages() < keep)
    return history.subset(kept), users


def run(name: str, split: TemporalSplit, short: tuple[Interactions, np.ndarray], seed: int
        ) -> tuple[Outcome, Recommender]:  # fmt: skip
    """Tune ``name`` on validation, refit on train + validation (returned), score the test
    slice."""
    start = time.perf_counter()
    tuning = tune(name, split.train, split.validation, seed)
    tune_seconds = time.perf_counter() - start
    model, fit_seconds = fit_timed(name, tuning.best, split.train_and_validation(), seed)
    test = evaluate(model, split.test)
    short_model, _ = fit_timed(name, tuning.best, short[0], seed)
    outcome = Outcome(name, tuning, tune_seconds, fit_seconds, test,
                      evaluate(short_model, split.test, short[1]))  # fmt: skip
    return outcome, model


def print_table(outcomes: list[Outcome], short_users: int, keep: int) -> None:
    print(f"\n{'model':<15}{'nDCG@10':>9}{'± se':>8}{'Recall@20':>11}{'cov@10':>8}"
          f"{'fit s':>8}{'tune s':>8}{'short nDCG@10':>15}  tuned")  # fmt: skip
    for o in outcomes:
        t, s = o.test, o.short
        tuned = ", ".join(f"{k}={v:g}" for k, v in o.tuning.best.items()) or "-"
        print(f"{o.name:<15}{t.ndcg_at_10:>9.4f}{t.ndcg_at_10_se:>8.4f}{t.recall_at_20:>11.4f}"
              f"{t.coverage_at_10:>8.3f}{o.fit_seconds:>8.2f}{o.tune_seconds:>8.1f}"
              f"{s.ndcg_at_10:>9.4f} ±{s.ndcg_at_10_se:.3f}  {tuned}")  # fmt: skip
    print(
        f"short nDCG@10: {short_users} random viewers cut to their latest {keep} train + "
        f"validation interactions, models refitted; test slice unchanged\n"
    )


def context_metrics(result: ContextResult, seconds: float) -> dict:
    """The context comparison for the result file: both scores, the paired gap, the tuning."""
    gaps = {name: _paired(score.per_user_ndcg - result.without.per_user_ndcg)
            for name, score in (("ours_context_minus_ours", result.with_context),
                                ("top_forced_minus_ours", result.top_forced))}  # fmt: skip
    return {"ours": result.without.as_dict(), "ours_context": result.with_context.as_dict(),
            "top_setting_forced_on": result.top_forced.as_dict(), **gaps,
            "top_setting": dataclasses.asdict(result.tuning.top),
            "tuned": dataclasses.asdict(result.tuning.best), "settings_tried":
            len(result.tuning.trials), "validation_gain": round(result.tuning.gain, 4),
            "validation_gain_se": round(result.tuning.gain_se, 4),
            "seconds": round(seconds, 1)}  # fmt: skip


def print_context(name: str, result: ContextResult, metrics: dict) -> None:
    a = result.without
    print(f"context (hour of day, UTC): test pages grouped by (viewer, hour), {a.groups} "
          f"groups over {a.users} viewers; vs ours: paired difference ± se")  # fmt: skip
    print(f"{'model':<24}{'nDCG@10':>9}{'± se':>8}{'vs ours':>10}{'± se':>8}  settings")
    print(f"{'ours':<24}{a.ndcg_at_10:>9.4f}{a.ndcg_at_10_se:>8.4f}{'':>18}  {name}")
    for label, score, gap, config in (
        ("ours + context", result.with_context, "ours_context_minus_ours", "tuned"),
        ("  top setting forced on", result.top_forced, "top_forced_minus_ours", "top_setting"),
    ):
        settings = ", ".join(f"{k}={v}" for k, v in metrics[config].items())
        diff, se = metrics[gap]["ndcg@10"], metrics[gap]["paired_se"]
        print(f"{label:<24}{score.ndcg_at_10:>9.4f}{score.ndcg_at_10_se:>8.4f}{diff:>+10.4f}"
              f"{se:>8.4f}  {settings}")  # fmt: skip
    print(f"validation gain of the top setting {metrics['validation_gain']:+.4f} ± "
          f"{metrics['validation_gain_se']:.4f}: kept only from 2 se\n")  # fmt: skip


def _paired(gap: np.ndarray) -> dict[str, float]:
    return {"ndcg@10": round(float(gap.mean()), 4),
            "paired_se": round(float(gap.std(ddof=1) / np.sqrt(gap.size)), 4)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run every contender, print the table, write the result; 0 when MovieLens is absent."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("train_recommender").setLevel(logging.WARNING)  # one line per trial
    if not (args.movielens / "ratings.csv").is_file():
        print(f"skipped: {args.movielens}/ratings.csv not found (MovieLens ml-latest-small)")
        return 0
    data = load_movielens(args.movielens)
    split = temporal_split(data.interactions)
    short = short_history(split, args.short_fraction, args.short_keep, args.seed)
    outcomes, ours_model = [], None
    for name in args.models:
        LOG.info("%s: tuning on the validation slice", name)
        outcome, model = run(name, split, short, args.seed)
        outcomes.append(outcome)
        ours_model = model if name == OURS else ours_model
    print_table(outcomes, len(short[1]), args.short_keep)
    context = None
    if ours_model is not None and data.context is not None:
        LOG.info("%s + context: tuning the re-ranker on the validation slice", OURS)
        start = time.perf_counter()
        best = outcomes[args.models.index(OURS)].tuning.best
        result = train_context(OURS, best, split, data.context, ours_model, args.seed)
        context = context_metrics(result, time.perf_counter() - start)
        print_context(OURS, result, context)
    elif ours_model is not None:
        print(f"context: skipped, no {args.movielens}/movies.csv (the genres)\n")

    by_name = {o.name: o for o in outcomes}
    metrics = {"data": data.describe(), "split": {"train": len(split.train),
               "validation": len(split.validation), "test": len(split.test),
               "test_users": int((split.test.counts() > 0).sum()),
               "short_history_users": len(short[1]), "short_history_keep": args.short_keep},
               "models": {o.name: o.metrics() for o in outcomes}}  # fmt: skip
    if context is not None:
        metrics["context"] = context
    targets = []
    baselines = [o for o in outcomes if o.name != OURS]
    if OURS in by_name and baselines:
        ours = by_name[OURS]
        best = max(baselines, key=lambda o: o.test.ndcg_at_10)
        gap = ours.test.per_user_ndcg - best.test.per_user_ndcg
        metrics["ours_minus_best"] = {
            "baseline": best.name,
            "ndcg@10": round(gap.mean(), 4),
            "paired_se": round(gap.std(ddof=1) / np.sqrt(gap.size), 4),
        }
        ratio = ours.test.ndcg_at_10 / best.test.ndcg_at_10
        targets.append(Target(f"ndcg@10 vs best baseline ({best.name})", ratio, ">=", 1.10))
        if "ease" in by_name:
            ease = by_name["ease"].test.coverage_at_10
            targets.append(Target("coverage@10 vs EASE's", ours.test.coverage_at_10, ">=",
                                  round(ease, 4)))  # fmt: skip
        targets.append(Target("training seconds", ours.fit_seconds, "<", 60.0))
    path = write_result("recommender", argv, metrics, targets)
    print(f"wrote {path}")
    return 0


def _rounded(values: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.recommender",
                                description=__doc__.split("\n\n")[0])  # fmt: skip
    p.add_argument("--movielens", type=Path, default=DEFAULT_MOVIELENS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--short-fraction", type=float, default=0.2)
    p.add_argument("--short-keep", type=int, default=5)
    p.add_argument("--models", nargs="+", default=[*BASELINES, OURS])
    return p


if __name__ == "__main__":
    sys.exit(main())
