"""Scoring and tuning the context re-ranker on held-out viewings, each at its own hour.

Held-out interactions are grouped by (viewer, UTC hour of day): each group is one page the viewer
would have opened at that hour, ranked from their fitted history (seen items left out) and, for
a re-ranker, moved by its lift for that hour and the viewer's device. nDCG@10 is taken against
the group's items, averaged over each viewer's groups, then over viewers (standard error over
viewers), so every viewer counts once, as in ``metrics.evaluate``.

Tuning picks the best setting on the validation slice, but keeps it only when its paired gain
over no re-ranking is at least ``MIN_Z`` standard errors: the best of ~60 settings gains a
little on noise alone, and a re-ranker learnt from history without a real context signal
should stay off rather than move every page by chance.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from models.recommenders.base import Recommender, top_items
from models.recommenders.context import (
    HOURS,
    REFERENCES,
    ContextConfig,
    ContextInputs,
    ContextReranker,
    hour_of_day,
    score_scale,
)
from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions
from models.recommenders.metrics import ndcg_at_k
from models.recommenders.split import temporal_split

BATCH = 256  # viewers scored at a time
MIN_Z = 2.0  # the paired validation gain, in standard errors, that switches the re-ranker on
SEARCH_SPACE: Mapping[str, tuple[Any, ...]] = {
    "bucket_hours": (1, 3, 6),
    "smoothing": (30.0, 300.0),
    "reference": REFERENCES,
    "strength": (0.0, 0.1, 0.25, 0.5, 1.0, 2.0),  # 0 first: it wins ties
}


@dataclass(frozen=True)
class ContextScore:
    """nDCG@10 over ``users`` viewers of pages grouped by hour (module docstring)."""

    users: int
    groups: int
    ndcg_at_10: float
    ndcg_at_10_se: float
    per_user_ndcg: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {"users": self.users, "hour_groups": self.groups,
                "ndcg@10": round(self.ndcg_at_10, 4),
                "ndcg@10_se": round(self.ndcg_at_10_se, 4)}  # fmt: skip


@dataclass(frozen=True)
class ContextTuning:
    """Every re-ranker setting tried on the validation slice with its nDCG@10; the best one's
    paired gain over no re-ranking (with its standard error) and what is kept: the best when
    the gain is at least ``MIN_Z`` standard errors, else the same with strength 0."""

    best: ContextConfig
    trials: tuple[tuple[dict[str, Any], float], ...]
    gain: float = 0.0
    gain_se: float = 0.0

    @property
    def top(self) -> ContextConfig:
        """The setting with the highest validation nDCG@10, whether or not it was kept."""
        return ContextConfig(**max(self.trials, key=lambda t: t[1])[0])

    def as_dict(self) -> dict[str, Any]:
        return {"best": asdict(self.best), "validation_gain": round(self.gain, 5),
                "validation_gain_se": round(self.gain_se, 5), "min_z": MIN_Z,
                "trials": [{"params": p, "validation_ndcg@10": round(v, 5)}
                           for p, v in self.trials]}  # fmt: skip


def context_scores(
    model: Recommender,
    heldout: Interactions,
    rerankers: Sequence[ContextReranker | None],
    user_devices: np.ndarray | None = None,
) -> list[ContextScore]:
    """The hour-grouped nDCG@10 of ``model`` on ``heldout`` re-ranked by each of ``rerankers``
    (None: not re-ranked), one pass over the viewers' scores; ``user_devices`` (n_users,),
    indices into the re-rankers' devices, −1 unknown."""
    keys = heldout.users.astype(np.int64) * HOURS + hour_of_day(heldout.times)
    groups, group_of = np.unique(keys, return_inverse=True)
    if not len(groups):
        raise RecommenderError("no held-out interactions to score the context re-ranker on")
    order = np.argsort(group_of, kind="stable")
    relevant = np.split(heldout.items[order], np.cumsum(np.bincount(group_of))[:-1])
    g_users, g_hours = groups // HOURS, groups % HOURS
    devices = np.full(len(groups), -1) if user_devices is None else user_devices[g_users]
    users = np.unique(g_users)
    ndcg = np.zeros((len(rerankers), len(groups)))
    for start in range(0, len(users), BATCH):
        batch = users[start : start + BATCH]
        in_batch = np.flatnonzero(np.isin(g_users, batch))
        base = model.score_unseen(batch)[np.searchsorted(batch, g_users[in_batch])]
        scale = score_scale(base)
        batch_relevant = [relevant[g] for g in in_batch]
        for r, reranker in enumerate(rerankers):
            scores = base if reranker is None else reranker.rerank(
                base, reranker.lifts(g_hours[in_batch], devices[in_batch]), scale)  # fmt: skip
            ndcg[r, in_batch] = ndcg_at_k(top_items(scores, 10), batch_relevant, 10)
    user_of_group = np.searchsorted(users, g_users)
    per_group = np.bincount(user_of_group, minlength=len(users))
    out = []
    for row in ndcg:
        per_user = np.bincount(user_of_group, weights=row, minlength=len(users)) / per_group
        se = float(per_user.std(ddof=1) / np.sqrt(len(users))) if len(users) > 1 else 0.0
        out.append(ContextScore(len(users), len(groups), float(per_user.mean()), se, per_user))
    return out


def tune_context(
    model: Recommender,
    validation: Interactions,
    inputs: ContextInputs,
    space: Mapping[str, tuple[Any, ...]] = SEARCH_SPACE,
) -> ContextTuning:
    """Grid search over ``space``: re-rankers fitted on ``model``'s fitted history, scored on
    ``validation`` (``context_scores``) against strength 0 (no re-ranking, always tried); the
    best is kept only with a paired gain of ``MIN_Z`` standard errors (module docstring)."""
    fit_keys = [k for k in space if k != "strength"]
    strengths = [s for s in space.get("strength", ()) if s > 0]
    trials: list[dict[str, Any]] = [asdict(ContextConfig(strength=0.0))]
    rerankers: list[ContextReranker | None] = [None]
    for values in itertools.product(*(space[k] for k in fit_keys)):
        config = ContextConfig(**dict(zip(fit_keys, values, strict=True)))
        fitted = ContextReranker.fit(model.fitted_history, inputs, config)
        for strength in strengths:
            rerankers.append(fitted.with_strength(strength))
            trials.append(asdict(rerankers[-1].config))
    scores = context_scores(model, validation, rerankers, inputs.user_devices)
    results = tuple((t, s.ndcg_at_10) for t, s in zip(trials, scores, strict=True))
    top = max(range(len(results)), key=lambda n: results[n][1])
    gap = scores[top].per_user_ndcg - scores[0].per_user_ndcg
    gain = float(gap.mean())
    se = float(gap.std(ddof=1) / np.sqrt(gap.size)) if gap.size > 1 else 0.0
    best = ContextConfig(**results[top][0])
    if not (gain > 0 and gain >= MIN_Z * se):
        best = dataclasses.replace(best, strength=0.0)
    return ContextTuning(best, results, gain, se)


def learn_context(
    make_model: Callable[[], Recommender],
    history: Interactions,
    inputs: ContextInputs,
    validation_fraction: float = 0.1,
    space: Mapping[str, tuple[Any, ...]] = SEARCH_SPACE,
) -> tuple[ContextReranker, ContextTuning] | None:
    """Hold out each viewer's latest ``validation_fraction``, fit ``make_model()`` on the rest,
    tune the re-ranker there (``tune_context``) and fit the best on all of ``history``; None
    when too little history is left to validate on."""
    split = temporal_split(history, validation_fraction, 0.0)
    if not len(split.test):
        return None
    tuning = tune_context(make_model().fit(split.train), split.test, inputs, space)
    return ContextReranker.fit(history, inputs, tuning.best), tuning
