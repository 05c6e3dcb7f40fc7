"""Implicit feedback as arrays: who interacted with which item, in what order.

Users and items are integer indices (0..n_users-1, 0..n_items-1); the caller keeps the mapping
to ids. ``Interactions.build`` sorts each user's interactions by (time, item) and keeps only the
latest interaction of a repeated (user, item) pair, so every model sees one ordered sequence
of distinct items per user.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.recommenders.errors import RecommenderError


@dataclass(frozen=True, eq=False)
class Interactions:
    """Per-user sequences of distinct items, grouped by user and ordered by time within each.

    ``users``, ``items`` (int32) and ``times`` (int64) are parallel arrays; ``indptr`` (n_users + 1)
    marks where each user's run starts, so user u's items are ``items[indptr[u]:indptr[u+1]]``,
    oldest first. Build it with ``Interactions.build``.
    """

    n_users: int
    n_items: int
    users: np.ndarray
    items: np.ndarray
    times: np.ndarray
    indptr: np.ndarray

    @classmethod
    def build(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        times: np.ndarray | None = None,
        *,
        n_users: int | None = None,
        n_items: int | None = None,
    ) -> Interactions:
        """Check, order and deduplicate parallel arrays (``times`` default: the given order)."""
        users = np.asarray(users)
        items = np.asarray(items)
        times = np.arange(len(users)) if times is None else np.asarray(times)
        if not (users.ndim == items.ndim == times.ndim == 1):
            raise RecommenderError("users, items and times must be 1-d arrays")
        if not (len(users) == len(items) == len(times)):
            raise RecommenderError(
                f"users, items and times differ in length: {len(users)}, {len(items)}, {len(times)}"
            )
        for label, array in (("users", users), ("items", items), ("times", times)):
            if len(array) and not np.issubdtype(array.dtype, np.integer):
                raise RecommenderError(f"{label} must hold integers, got {array.dtype}")
        n_users = int(users.max()) + 1 if n_users is None and len(users) else int(n_users or 0)
        n_items = int(items.max()) + 1 if n_items is None and len(items) else int(n_items or 0)
        for label, array, n in (("users", users, n_users), ("items", items, n_items)):
            if len(array) and (array.min() < 0 or array.max() >= n):
                raise RecommenderError(
                    f"{label} must lie in [0, {n}), found {array.min()}..{array.max()}"
                )
        order = np.lexsort((items, times, users))
        users, items, times = users[order], items[order], times[order]
        # A repeated (user, item) keeps its latest interaction: drop every earlier duplicate.
        latest = np.lexsort((-np.arange(len(users)), items, users))
        first_seen = np.ones(len(latest), dtype=bool)
        first_seen[1:] = (np.diff(users[latest]) != 0) | (np.diff(items[latest]) != 0)
        keep = np.sort(latest[first_seen])
        users, items, times = users[keep], items[keep], times[keep]
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
        return cls(
            n_users, n_items, users.astype(np.int32), items.astype(np.int32),
            times.astype(np.int64), indptr,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.items)

    def of(self, user: int) -> np.ndarray:
        """User ``user``'s items, oldest first."""
        return self.items[self.indptr[user] : self.indptr[user + 1]]

    def counts(self) -> np.ndarray:
        """How many items each user has: (n_users,)."""
        return np.diff(self.indptr)

    def ages(self) -> np.ndarray:
        """Each interaction's position counted back from its user's latest (which has age 0)."""
        ends = np.repeat(self.indptr[1:], self.counts())
        return ends - 1 - np.arange(len(self.items))

    def matrix(self, values: np.ndarray | None = None, dtype: type = np.float64) -> sp.csr_matrix:
        """The (n_users, n_items) CSR matrix of ``values`` per interaction (default 1)."""
        data = np.ones(len(self.items), dtype=dtype) if values is None else values.astype(dtype)
        return sp.csr_matrix(
            (data, self.items, self.indptr), shape=(self.n_users, self.n_items), copy=True
        )

    def recency_matrix(self, tau: float | None) -> sp.csr_matrix:
        """The history matrix with each entry weighted exp(−age/τ) (τ = None: all weights 1)."""
        if tau is None:
            return self.matrix()
        return self.matrix(np.exp(-self.ages() / float(tau)))

    def subset(self, keep: np.ndarray) -> Interactions:
        """The interactions where the boolean mask ``keep`` is true (same users and items)."""
        return Interactions.build(
            self.users[keep], self.items[keep], self.times[keep],
            n_users=self.n_users, n_items=self.n_items,
        )  # fmt: skip

    def concat(self, other: Interactions) -> Interactions:
        """These interactions and ``other``'s together (the same users and items)."""
        if (other.n_users, other.n_items) != (self.n_users, self.n_items):
            raise RecommenderError(
                f"cannot join interactions of shape {(other.n_users, other.n_items)} "
                f"to {(self.n_users, self.n_items)}"
            )
        return Interactions.build(
            np.concatenate([self.users, other.users]), np.concatenate([self.items, other.items]),
            np.concatenate([self.times, other.times]), n_users=self.n_users, n_items=self.n_items,
        )  # fmt: skip
