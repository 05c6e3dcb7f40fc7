"""Train a recommender on viewing history with a temporal split, and save it with its metrics.

    python -m training.train_recommender --data demo|movielens [--world DIR] [--movielens DIR]
        --model NAME --out FOLDER [--seed 0] [--test-fraction 0.2]
        [--validation-fraction 0.1] [--no-tune]

Reads the demo world's ``interactions.csv`` or MovieLens ``ratings.csv`` (every rating an
interaction), holds out each viewer's latest 20% by time as test and the 10% before it as
validation (``training.recommender_data.temporal_split``), tries every combination of the model's
``search_space`` on the validation slice (fit on train, nDCG@10 on validation; settings that only
change scoring reuse one fit), refits the best on train + validation, scores it on the test
slice (nDCG@10 with its standard error, Recall@20, coverage@10) and saves it to ``--out`` as one
atomic folder whose card holds the data (file, hash, sizes), the split, every trial, the test
metrics, the training time and the user and item ids behind the model's indices. A bad ratings
row, a missing file or a bad setting exits with code 2 and ``error: ...`` naming it.
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
from models.recommenders import (
    Interactions,
    Recommender,
    available_recommenders,
    make_recommender,
    recommender_class,
)
from models.recommenders.base import CARD_FILE
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

    def __post_init__(self) -> None:
        if self.data not in ("demo", "movielens"):
            raise TrainingError(f"--data {self.data!r}: expected demo or movielens")


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
class TrainResult:
    """The model refitted on train + validation, its tuning, test report and fit time."""

    model: Recommender
    tuning: Tuning
    report: RankingReport
    fit_seconds: float
    card_fields: dict[str, Any]


def tune(name: str, train: Interactions, validation: Interactions, seed: int = 0) -> Tuning:
    """Grid search over the model's ``search_space``: fit on ``train``, nDCG@10 on
    ``validation``; settings in ``query_params`` reuse the fit (the first best wins ties)."""
    cls = recommender_class(name)
    space = cls.search_space
    fit_keys = [k for k in space if k not in cls.query_params]
    query_keys = [k for k in space if k in cls.query_params]
    trials: list[tuple[dict[str, Any], float]] = []
    for fit_values in itertools.product(*(space[k] for k in fit_keys)):
        fitted = make_recommender(name, seed=seed, **dict(zip(fit_keys, fit_values, strict=True)))
        fitted.fit(train)
        for query_values in itertools.product(*(space[k] for k in query_keys)):
            params = dict(zip(fit_keys + query_keys, fit_values + query_values, strict=True))
            model = fitted.reconfigured(**dict(zip(query_keys, query_values, strict=True)))
            trials.append((params, evaluate(model, validation).ndcg_at_10))
            log.info("%s %s: validation nDCG@10 %.4f", name, params, trials[-1][1])
    best = max(trials, key=lambda t: t[1])[0] if trials else {}
    return Tuning(best, tuple(trials))


def fit_timed(name: str, params: dict[str, Any], history: Interactions, seed: int = 0
              ) -> tuple[Recommender, float]:  # fmt: skip
    """A fresh ``name`` with ``params`` fitted on ``history``, and the seconds the fit took."""
    model = make_recommender(name, seed=seed, **params)
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


def train(config: TrainConfig) -> TrainResult:
    """Load, split, tune on validation, refit on train + validation, test, save."""
    if config.out.exists() and not (config.out / CARD_FILE).is_file():
        raise TrainingError(f"--out {config.out}: exists and holds no saved recommender to replace")
    recommender_class(config.model)  # an unknown name fails before any work
    data = load_data(config)
    split = temporal_split(data.interactions, config.test_fraction, config.validation_fraction)
    if not len(split.validation) and config.tune:
        raise TrainingError("the validation slice is empty: too little history to tune on")
    tuning = tune(config.model, split.train, split.validation, config.seed) if config.tune \
        else Tuning({}, ())  # fmt: skip
    model, seconds = fit_timed(config.model, tuning.best, split.train_and_validation(), config.seed)
    report = evaluate(model, split.test)
    card_fields = {
        "data": data.describe(),
        "split": _split_card(split),
        "tuning": tuning.as_dict(),
        "metrics": {"test": report.as_dict(), "fit_seconds": round(seconds, 3)},
        "user_ids": list(data.user_ids),
        "item_ids": list(data.item_ids),
    }
    write_folder_atomically(config.out, lambda tmp: model.save(tmp, card_fields=card_fields))
    return TrainResult(model, tuning, report, seconds, card_fields)


def _split_card(split: TemporalSplit) -> dict[str, Any]:
    return {"kind": "temporal, per viewer", "test_fraction": split.test_fraction,
            "validation_fraction": split.validation_fraction,
            "train": len(split.train), "validation": len(split.validation),
            "test": len(split.test), "fit_on": "train+validation"}  # fmt: skip


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
    return p


if __name__ == "__main__":
    sys.exit(main())
