"""Train a recommender on viewing history with a temporal split, and save it with its metrics.

    python -m training.train_recommender --data demo|movielens [--world DIR] [--movielens DIR]
        --model NAME --out FOLDER [--seed 0] [--test-fraction 0.2]
        [--validation-fraction 0.1] [--no-tune] [--no-context] [--refit-all] [--device auto]

Reads the demo world's ``interactions.csv`` or MovieLens ``ratings.csv`` (every rating an
interaction), holds out each viewer's latest 20% by time as test and the 10% before it as
validation (``training.recommender_data.temporal_split``), tries every combination of the model's
``search_space`` on the validation slice (fit on train, nDCG@10 on validation; settings that only
change scoring reuse one fit), refits the best on train + validation, scores it on the test
slice (nDCG@10 with its standard error, Recall@20, coverage@10) and saves it to ``--out`` as one
atomic folder whose card holds the data (file, hash, sizes), the split, every trial, the test
metrics, the training time and the user and item ids behind the model's indices.

The context re-ranker (hour of day and device, ``models.recommenders.context``; skipped with
``--no-context`` or without genres) is tuned on the validation slice over the model fitted on
train, fitted on train + validation, scored on the test slice grouped by hour (with and without
it) and saved in the same folder. ``--refit-all`` then refits the model and the re-ranker, with
the tuned settings, on all of the history (train + validation + test) before saving, for
serving; the card's test metrics stay those of the train + validation fit. ``--device``
(auto, cpu, cuda) is where EASE and its variants invert their Gram matrix (torch on a GPU,
float64); the other models fit on the CPU and refuse cuda. A bad ratings row, a
missing file or a bad setting exits with code 2 and ``error: ...`` naming it.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artwork.errors import ArtworkError
from models.artifacts import write_folder_atomically
from models.errors import ModelError
from models.precision import DEVICES
from models.recommenders import (
    Interactions,
    Recommender,
    available_recommenders,
    make_recommender,
    recommender_class,
)
from models.recommenders.base import CARD_FILE
from models.recommenders.context import ContextInputs, ContextReranker
from models.recommenders.context_eval import (
    ContextScore,
    ContextTuning,
    context_scores,
    tune_context,
)
from models.recommenders.metrics import RankingReport, evaluate
from training.recommender_data import (
    TemporalSplit,
    ViewingData,
    load_demo,
    load_movielens,
    temporal_split,
)

log = logging.getLogger("train_recommender")

DEFAULT_WORLD = Path(".cache/demo-world")
DEFAULT_MOVIELENS = Path("../shared/data/ml-latest-small")


class TrainingError(Exception):
    """The settings cannot support training; the message says which."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run (see the module docstring)."""

    data: str
    model: str
    out: Path
    world: Path = DEFAULT_WORLD
    movielens: Path = DEFAULT_MOVIELENS
    seed: int = 0
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    tune: bool = True
    context: bool = True  # tune, fit and save the context re-ranker (when genres are known)
    refit_all: bool = False  # refit on all of the history after testing, for serving
    device: str = "auto"  # where a model that can fits on a GPU (EASE's inverse): auto|cpu|cuda

    def __post_init__(self) -> None:
        if self.data not in ("demo", "movielens"):
            raise TrainingError(f"--data {self.data!r}: expected demo or movielens")
        if self.device not in DEVICES:
            raise TrainingError(f"--device {self.device!r}: expected auto, cpu or cuda")


@dataclass(frozen=True)
class Tuning:
    """Every setting tried on the validation slice with its nDCG@10, and the best one."""

    best: dict[str, Any]
    trials: tuple[tuple[dict[str, Any], float], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"best": self.best,
                "trials": [{"params": p, "validation_ndcg@10": round(v, 5)}
                           for p, v in self.trials]}  # fmt: skip


@dataclass(frozen=True)
class ContextResult:
    """The context re-ranker's tuning, fitted on train + validation, and the test slice's
    hour-grouped nDCG@10 without it, with it, and with the best validation setting switched on
    whether or not tuning kept it (a diagnostic: what the learnt lifts do on unseen data)."""

    tuning: ContextTuning
    reranker: ContextReranker
    without: ContextScore
    with_context: ContextScore
    top_forced: ContextScore

    def card(self) -> dict[str, Any]:
        return {"tuning": self.tuning.as_dict(),
                "metrics": {"test_by_hour": {"without": self.without.as_dict(),
                                             "with": self.with_context.as_dict(),
                                             "top_setting_forced_on":
                                             self.top_forced.as_dict()}}}  # fmt: skip


@dataclass(frozen=True)
class TrainResult:
    """The saved model (on train + validation, or all with ``refit_all``), its tuning, the
    test report and fit time of the train + validation fit, and the context re-ranker."""

    model: Recommender
    tuning: Tuning
    report: RankingReport
    fit_seconds: float
    card_fields: dict[str, Any]
    context: ContextResult | None = None


def fresh_recommender(
    name: str, params: dict[str, Any], seed: int = 0, device: str = "cpu"
) -> Recommender:
    """A new ``name`` with ``params`` and ``seed``, and ``device`` where the model computes on
    one (EASE and its variants); "cuda" for a model that fits on the CPU only is refused."""
    if "device" in recommender_class(name).Config.__dataclass_fields__:
        return make_recommender(name, seed=seed, device=device, **params)
    if device == "cuda":
        raise TrainingError(f"--device cuda: {name} fits on the CPU only (EASE and its variants "
                            "invert on a GPU)")  # fmt: skip
    return make_recommender(name, seed=seed, **params)


def tune(
    name: str, train: Interactions, validation: Interactions, seed: int = 0, device: str = "cpu"
) -> Tuning:
    """Grid search over the model's ``search_space``: fit on ``train``, nDCG@10 on
    ``validation``; settings in ``query_params`` reuse the fit (the first best wins ties)."""
    cls = recommender_class(name)
    space = cls.search_space
    fit_keys = [k for k in space if k not in cls.query_params]
    query_keys = [k for k in space if k in cls.query_params]
    trials: list[tuple[dict[str, Any], float]] = []
    for fit_values in itertools.product(*(space[k] for k in fit_keys)):
        fit_params = dict(zip(fit_keys, fit_values, strict=True))
        fitted = fresh_recommender(name, fit_params, seed, device)
        fitted.fit(train)
        for query_values in itertools.product(*(space[k] for k in query_keys)):
            params = dict(zip(fit_keys + query_keys, fit_values + query_values, strict=True))
            model = fitted.reconfigured(**dict(zip(query_keys, query_values, strict=True)))
            trials.append((params, evaluate(model, validation).ndcg_at_10))
            log.info("%s %s: validation nDCG@10 %.4f", name, params, trials[-1][1])
    best = max(trials, key=lambda t: t[1])[0] if trials else {}
    return Tuning(best, tuple(trials))


def fit_timed(name: str, params: dict[str, Any], history: Interactions, seed: int = 0,
              device: str = "cpu") -> tuple[Recommender, float]:  # fmt: skip
    """A fresh ``name`` with ``params`` fitted on ``history``, and the seconds the fit took."""
    model = fresh_recommender(name, params, seed, device)
    start = time.perf_counter()
    model.fit(history)
    return model, time.perf_counter() - start


def load_data(config: TrainConfig) -> ViewingData:
    """The demo world's history or MovieLens ratings, as ``config.data`` says."""
    if config.data == "demo":
        if not (config.world / "interactions.csv").is_file():
            raise TrainingError(f"--world {config.world}: no interactions.csv (build a world with "
                                "`artwork demo build`)")  # fmt: skip
        return load_demo(config.world)
    return load_movielens(config.movielens)


def train_context(
    name: str,
    params: dict[str, Any],
    split: TemporalSplit,
    inputs: ContextInputs,
    fitted: Recommender,
    seed: int = 0,
    device: str = "cpu",
) -> ContextResult:
    """Tune the context re-ranker on validation over ``name`` fitted on train, fit it on train +
    validation and score ``fitted`` (the train + validation model) on the test slice, grouped by
    hour, without and with it."""
    on_train = fresh_recommender(name, params, seed, device).fit(split.train)
    tuning = tune_context(on_train, split.validation, inputs)
    log.info("context re-ranker: best %s", tuning.best)
    history = split.train_and_validation()
    reranker = ContextReranker.fit(history, inputs, tuning.best)
    forced = ContextReranker.fit(history, inputs, tuning.top)
    scores = context_scores(fitted, split.test, [None, reranker, forced], inputs.user_devices)
    return ContextResult(tuning, reranker, *scores)


def train(config: TrainConfig) -> TrainResult:
    """Load, split, tune on validation, refit on train + validation, test, (refit on all,) save."""
    if config.out.exists() and not (config.out / CARD_FILE).is_file():
        raise TrainingError(f"--out {config.out}: exists and holds no saved recommender to replace")
    recommender_class(config.model)  # an unknown name fails before any work
    data = load_data(config)
    split = temporal_split(data.interactions, config.test_fraction, config.validation_fraction)
    if not len(split.validation) and (config.tune or config.context):
        raise TrainingError("the validation slice is empty: too little history to tune on "
                            "(--no-tune --no-context fits the defaults)")  # fmt: skip
    run = {"seed": config.seed, "device": config.device}
    tuning = tune(config.model, split.train, split.validation, **run) if config.tune \
        else Tuning({}, ())  # fmt: skip
    model, seconds = fit_timed(config.model, tuning.best, split.train_and_validation(), **run)
    report = evaluate(model, split.test)
    context = None
    if config.context and data.context is not None:
        context = train_context(config.model, tuning.best, split, data.context, model, **run)
    reranker = context.reranker if context is not None else None
    if config.refit_all:
        model, _ = fit_timed(config.model, tuning.best, data.interactions, **run)
        if context is not None and data.context is not None:
            reranker = ContextReranker.fit(data.interactions, data.context, context.tuning.best)
    card_fields = {
        "data": data.describe(),
        "split": _split_card(split, config.refit_all),
        "tuning": tuning.as_dict(),
        "metrics": {"test": report.as_dict(), "fit_seconds": round(seconds, 3)},
        "user_ids": list(data.user_ids),
        "item_ids": list(data.item_ids),
    }
    context_card = context.card() if context is not None else {}

    def save(folder: Path) -> None:
        model.save(folder, card_fields=card_fields)
        if reranker is not None:
            reranker.save(folder, card_fields=context_card)

    write_folder_atomically(config.out, save)
    return TrainResult(model, tuning, report, seconds, card_fields, context)


def _split_card(split: TemporalSplit, refit_all: bool) -> dict[str, Any]:
    fit_on = "train+validation+test" if refit_all else "train+validation"
    return {"kind": "temporal, per viewer", "test_fraction": split.test_fraction,
            "validation_fraction": split.validation_fraction,
            "train": len(split.train), "validation": len(split.validation),
            "test": len(split.test), "fit_on": fit_on,
            "metrics_fit_on": "train+validation"}  # fmt: skip


def format_result(result: TrainResult) -> str:
    """The tuned settings and the test metrics, as a few lines of text."""
    r = result.report
    best = ", ".join(f"{k}={v}" for k, v in result.tuning.best.items()) or "defaults"
    lines = [
        f"{result.model.name}: tuned on validation over {len(result.tuning.trials)} settings: "
        f"{best}",
        f"{'users':>7}{'nDCG@10':>10}{'± se':>8}{'Recall@20':>11}{'cov@10':>8}{'fit s':>8}",
        f"{r.users:>7d}{r.ndcg_at_10:>10.4f}{r.ndcg_at_10_se:>8.4f}{r.recall_at_20:>11.4f}"
        f"{r.coverage_at_10:>8.3f}{result.fit_seconds:>8.2f}",
    ]
    if result.context is not None:
        c, a, b = result.context.tuning.best, result.context.without, result.context.with_context
        t = result.context.tuning
        lines.append(
            f"context re-ranker: strength {c.strength:g}, {c.bucket_hours} h buckets, "
            f"reference {c.reference} (validation gain {t.gain:+.4f} ± {t.gain_se:.4f}); "
            f"test nDCG@10 by hour {a.ndcg_at_10:.4f} ± {a.ndcg_at_10_se:.4f} without, "
            f"{b.ndcg_at_10:.4f} ± {b.ndcg_at_10_se:.4f} with"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Train, print the test metrics, save; exit 2 with a message on bad input."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = TrainConfig(**{f.name: getattr(args, f.name)
                                for f in dataclasses.fields(TrainConfig)})  # fmt: skip
        result = train(config)
    except (TrainingError, ArtworkError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_result(result))
    print(f"saved {result.model.name} to {config.out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.train_recommender",
                                description=__doc__.split("\n\n")[0])  # fmt: skip
    p.add_argument("--data", required=True, choices=("demo", "movielens"))
    p.add_argument("--world", type=Path, default=DEFAULT_WORLD, help="demo world folder")
    p.add_argument("--movielens", type=Path, default=DEFAULT_MOVIELENS,
                   help="folder with MovieLens ratings.csv")  # fmt: skip
    p.add_argument("--model", required=True, choices=available_recommenders())
    p.add_argument("--out", type=Path, required=True, help="folder for the saved model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--validation-fraction", type=float, default=0.1)
    p.add_argument("--no-tune", dest="tune", action="store_false",
                   help="fit the model's defaults instead of tuning on validation")  # fmt: skip
    p.add_argument("--no-context", dest="context", action="store_false",
                   help="leave out the context (hour, device) re-ranker")  # fmt: skip
    p.add_argument("--refit-all", action="store_true",
                   help="after testing, refit on all of the history (for serving)")  # fmt: skip
    p.add_argument("--device", default="auto", choices=DEVICES,
                   help="where EASE's inverse runs (auto: a GPU when torch sees one)")  # fmt: skip
    return p


if __name__ == "__main__":
    sys.exit(main())
