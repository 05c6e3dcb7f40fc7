"""Many decisions' candidates in one array: a ragged batch, and the per-decision reductions over it.

A home page asks for a hundred decisions of a few candidates each. Scoring them one decision at
a time costs a dozen small numpy calls per decision; stacking every candidate row of the page
into one (N, ...) array and reducing per decision with ``ufunc.reduceat`` costs the same dozen
calls for the whole page. Decision i owns rows ``starts[i] : starts[i] + counts[i]``.

A single decision is reduced with plain ``sum``/``max``: ``ufunc.reduceat`` gives up the GIL on
every call, whatever the size, and in a server where a commit thread waits for the GIL each
such call hands it over (measured: ``/v1/artwork`` lost ~8 % of its throughput to them).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from models.bandits.errors import PolicyError

TIE_TOLERANCE = 1e-9  # scores this close to a decision's best tie with it (see ``best``)


class Segments:
    """The layout of n decisions' candidates stacked in N rows (every decision has ≥ 1)."""

    def __init__(self, counts: Sequence[int] | np.ndarray) -> None:
        counts = np.asarray(counts, dtype=np.intp)
        if counts.ndim != 1 or not counts.size or counts.min() < 1:
            raise PolicyError(f"candidate counts {counts.tolist()}: need ≥ 1 decision, each ≥ 1")
        self.counts = counts
        self.stops = np.cumsum(counts)
        self.starts = self.stops - counts
        self.owner = np.repeat(np.arange(counts.size), counts)  # (N,) each row's decision
        for array in (self.counts, self.stops, self.starts, self.owner):
            array.flags.writeable = False  # a layout may be shared (``of``)

    @staticmethod
    def of(counts: Sequence[int]) -> Segments:
        """``Segments(counts)``; a single decision's layout is made once per K and shared."""
        single = len(counts) == 1 and isinstance(counts[0], int | np.integer)
        return _single(int(counts[0])) if single else Segments(counts)

    def __len__(self) -> int:
        return self.counts.size

    @property
    def rows(self) -> int:
        """N, the stacked candidate rows."""
        return self.owner.size

    def slices(self) -> list[slice]:
        """Each decision's rows."""
        return [slice(a, b) for a, b in zip(self.starts.tolist(), self.stops.tolist(), strict=True)]

    def expand(self, values: np.ndarray) -> np.ndarray:
        """Per-decision ``values`` (n, ...) repeated for each of the decision's rows: (N, ...);
        for a single decision ``values`` itself, which broadcasts against its K rows."""
        return values if self.counts.size == 1 else values[self.owner]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Each decision's sum of ``values`` (N, ...) → (n, ...)."""
        if self.counts.size == 1:
            return values.sum(axis=0, keepdims=True)
        return np.add.reduceat(values, self.starts)

    def max(self, values: np.ndarray) -> np.ndarray:
        """Each decision's largest of ``values`` (N,) → (n,)."""
        if self.counts.size == 1:
            return values.max(axis=0, keepdims=True)
        return np.maximum.reduceat(values, self.starts)

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """``values`` (N, ...) cut into the n decisions' parts."""
        return [values[rows] for rows in self.slices()]

    def best(self, scores: np.ndarray) -> np.ndarray:
        """Per decision, which rows hold its highest score: (N,) booleans. Scores within
        ``TIE_TOLERANCE`` (relative, absolute below 1) of the highest tie with it: equal
        candidates score the same up to rounding, and BLAS rounds differently in batches of
        different sizes and on different CPUs, so exact ties would be broken by noise."""
        top = self.expand(self.max(scores))
        return scores >= top - TIE_TOLERANCE * np.maximum(1.0, np.abs(top))

    def argmax_distribution(self, scores: np.ndarray) -> np.ndarray:
        """Per decision, all mass on its highest score, split evenly between ties (``best``)."""
        best = self.best(scores).astype(np.float64)
        return best / self.expand(self.sum(best))

    def apply_floor(self, base: np.ndarray, floor: float) -> np.ndarray:
        """``base.apply_floor`` per decision: f + (1 − K·f)·p with f = min(floor, 1/K): (N,)."""
        if self.counts.size == 1:  # scalar arithmetic: a few µs less per single decision
            k = int(self.counts[0])
            f = min(floor, 1.0 / k)
            return f + max(0.0, 1.0 - k * f) * base
        f = np.minimum(floor, 1.0 / self.counts)
        scale = np.maximum(0.0, 1.0 - self.counts * f)
        return self.expand(f) + self.expand(scale) * base


@functools.lru_cache(maxsize=64)
def _single(k: int) -> Segments:
    return Segments([k])
