"""Ours: recency-weighted EASE blended with a next-item regression learnt from viewing order.

The split that matters is by time: what a viewer watches next follows what they watched last.
The sequence part is a ridge regression from a decayed window of the items just watched to the
items watched next (a closed form, like EASE, over the items seen at least ``min_count`` times):

    x_p = Σ_{g=1..W} d^(g−1) e(item at p−g)        (the W items before position p)
    y_p = Σ_{g=0..H−1} h^g e(item at p+g)          (the H items from position p on)
    S   = argmin ‖Y − XS‖² + μ‖S‖² = (XᵀX + μI)⁻¹ XᵀY

A viewer's sequence scores are x·S with x built as for the position after their latest item.
Final score, each part scaled per viewer by its largest magnitude:

    score = e / max|e| + β · s / max|s|,   e = recency-weighted EASE, s = x·S
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from models.recommenders.ease import RecencyEASE, RecencyEaseConfig, require_memory
from models.recommenders.interactions import Interactions
from models.recommenders.registry import register_recommender


@dataclasses.dataclass(frozen=True, kw_only=True)
class SequenceEaseConfig(RecencyEaseConfig):
    seq_lam: float = 300.0  # μ, the sequence regression's L2 penalty
    window: int = 50  # W: past items feeding the regression
    decay: float = 0.95  # d: weight of the item g steps back is d^(g−1)
    horizon: int = 10  # H: future items the regression predicts
    horizon_decay: float = 0.8  # h
    min_count: int = 3  # items seen fewer times stay out of the sequence part
    blend: float = 1.0  # β, the sequence part's weight against EASE's

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("seq_lam", self.seq_lam > 0, "must be positive")
        for name in ("window", "horizon", "min_count"):
            self.require(name, getattr(self, name) >= 1, "must be at least 1")
        for name in ("decay", "horizon_decay"):
            self.require(name, 0 < getattr(self, name) <= 1, "must be in (0, 1]")
        self.require("blend", self.blend >= 0, "must be ≥ 0")


@register_recommender("sequence_ease")
class SequenceEASE(RecencyEASE):
    """Recency-weighted EASE plus a next-item regression over viewing order (module docstring)."""

    Config = SequenceEaseConfig
    search_space = {
        "lam": (200.0, 500.0),
        "seq_lam": (100.0, 300.0, 1000.0),
        "tau": (5.0, 10.0),
        "blend": (0.5, 1.0, 2.0),
    }
    query_params = frozenset({"tau", "blend"})

    def _fit(self, history: Interactions) -> None:
        super()._fit(history)
        c = self.config
        counts = np.bincount(history.items, minlength=history.n_items)
        self.seq_items = np.flatnonzero(counts >= c.min_count)
        if not len(self.seq_items):
            self.seq_weights = np.zeros((0, 0), dtype=np.float32)
            return
        k = len(self.seq_items)
        require_memory(8 * 3 * k * k, f"sequence EASE on {k:,} items (a dense {k:,}² solve)")
        x = self._sequence_inputs(history, c.window, c.decay, ahead=False)
        y = self._sequence_inputs(history, c.horizon, c.horizon_decay, ahead=True)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += c.seq_lam
        cross = (x.T @ y).toarray()
        self.seq_weights = scipy.linalg.solve(
            gram, cross, assume_a="pos", overwrite_a=True, overwrite_b=True, check_finite=False
        ).astype(np.float32)

    def _sequence_inputs(
        self, history: Interactions, length: int, decay: float, ahead: bool
    ) -> sp.csr_matrix:
        """Row p = Σ_{g<length} decay^g e(item at p+g) when ``ahead``, else e(item at p−1−g),
        over the same user's items in ``seq_items``: (len(history), len(seq_items)), float32."""
        column = np.full(history.n_items, -1)
        column[self.seq_items] = np.arange(len(self.seq_items))
        n, users, items = len(history), history.users, history.items
        rows, cols, vals = [], [], []
        for g in range(length):
            step = -g if ahead else g + 1  # row p reads the item at p − step
            p = np.arange(max(step, 0), n + min(step, 0))
            source = p - step
            same = (users[p] == users[source]) & (column[items[source]] >= 0)
            rows.append(p[same])
            cols.append(column[items[source[same]]])
            vals.append(np.full(int(same.sum()), decay**g, dtype=np.float32))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n, len(self.seq_items)),
        )

    def _sequence_query(self, users: np.ndarray) -> sp.csr_matrix:
        """Each user's input for the position after their latest item: (len(users), k)."""
        history, c = self.fitted_history, self.config
        ages = history.ages()
        weights = np.where(ages < c.window, c.decay ** ages.astype(np.float64), 0.0)
        keep = np.zeros(history.n_items, dtype=bool)
        keep[self.seq_items] = True
        weights[~keep[history.items]] = 0.0
        return history.matrix(weights)[users][:, self.seq_items]

    def _sequence_scores(self, users: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(users), self.fitted_history.n_items))
        scores[:, self.seq_items] = self._sequence_query(users) @ self.seq_weights
        return scores

    def _score(self, users: np.ndarray) -> np.ndarray:
        return _scaled(super()._score(users)) + self.config.blend * _scaled(
            self._sequence_scores(users)
        )

    def item_similarity(self, items: np.ndarray | list[int]) -> np.ndarray:
        """EASE's rows plus β × the sequence rows ("viewers who watched X went on to watch")."""
        items = self._check_items(items)
        following = np.zeros((len(items), self.fitted_history.n_items))
        position = np.searchsorted(self.seq_items, items)
        known = np.isin(items, self.seq_items)
        following[np.ix_(known, self.seq_items)] = self.seq_weights[position[known]]
        return _scaled(super().item_similarity(items)) + self.config.blend * _scaled(following)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        ease = {f"ease.{k}": v for k, v in super()._state_arrays().items()}
        return ease | {"seq_items": self.seq_items, "seq_weights": self.seq_weights}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore({k[5:]: v for k, v in arrays.items() if k.startswith("ease.")})
        self.seq_items = np.asarray(arrays["seq_items"], dtype=np.int64)
        self.seq_weights = np.asarray(arrays["seq_weights"], dtype=np.float32)


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its largest magnitude (rows of zeros stay zero)."""
    top = np.abs(scores).max(axis=1, keepdims=True)
    return scores / np.where(top > 0, top, 1.0)
