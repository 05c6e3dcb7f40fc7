"""Cutting each viewer's history by time: train, then validation, then test.

Each viewer's interactions are ordered by (time, item); the last round(test_fraction·n) are held
out as test, the round(validation_fraction·n) before them as validation, the rest train (counts
rounded half up; a viewer always keeps at least one training interaction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions


@dataclass(frozen=True, eq=False)
class TemporalSplit:
    """Each viewer's history cut by time: train, then validation, then test."""

    train: Interactions
    validation: Interactions
    test: Interactions
    test_fraction: float
    validation_fraction: float

    def train_and_validation(self) -> Interactions:
        return self.train.concat(self.validation)


def temporal_split(
    interactions: Interactions, test_fraction: float = 0.2, validation_fraction: float = 0.1
) -> TemporalSplit:
    """Hold out each viewer's latest ``test_fraction`` as test and the ``validation_fraction``
    before it as validation (module docstring); ``RecommenderError`` names a bad fraction."""
    if not (0 < test_fraction < 1 and 0 <= validation_fraction < 1):
        raise RecommenderError(
            f"test_fraction, validation_fraction = {test_fraction}, {validation_fraction}: "
            "fractions must lie in (0, 1)"
        )
    if test_fraction + validation_fraction >= 1:
        raise RecommenderError(
            "validation_fraction: test and validation fractions must leave some training data"
        )
    counts = interactions.counts()
    n_test = np.floor(test_fraction * counts + 0.5).astype(np.int64)
    n_val = np.floor(validation_fraction * counts + 0.5).astype(np.int64)
    n_test = np.minimum(n_test, np.maximum(counts - 1, 0))
    n_val = np.minimum(n_val, np.maximum(counts - 1 - n_test, 0))
    # Interactions are grouped by user and ordered by time: age 0 is each viewer's latest.
    per_row = np.repeat(np.arange(interactions.n_users), counts)
    ages = interactions.ages()
    test = ages < n_test[per_row]
    validation = ~test & (ages < (n_test + n_val)[per_row])
    return TemporalSplit(
        train=interactions.subset(~test & ~validation),
        validation=interactions.subset(validation),
        test=interactions.subset(test),
        test_fraction=test_fraction,
        validation_fraction=validation_fraction,
    )
