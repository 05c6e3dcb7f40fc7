"""Top-k ranking metrics for held-out interactions: nDCG@10, Recall@20, catalog coverage@10.

For a user with held-out items R and a ranked list L (seen items left out):

    nDCG@k   = Σ_{r<k} [L_r ∈ R] / log2(r + 2)  ÷  Σ_{r < min(k, |R|)} 1 / log2(r + 2)
    Recall@k = |L_{<k} ∩ R| / min(k, |R|)
    coverage@k = |∪_users L_{<k}| / n_items

nDCG@10 is averaged over users with its standard error s / √n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.recommenders.base import Recommender
from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions

BATCH = 256  # users scored at a time


@dataclass(frozen=True)
class RankingReport:
    """Metrics over ``users`` users, with nDCG@10 per user kept for grouping and errors."""

    users: int
    ndcg_at_10: float
    ndcg_at_10_se: float
    recall_at_20: float
    coverage_at_10: float
    per_user_ndcg: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {"users": self.users, "ndcg@10": self.ndcg_at_10, "ndcg@10_se": self.ndcg_at_10_se,
                "recall@20": self.recall_at_20, "coverage@10": self.coverage_at_10}  # fmt: skip


def ndcg_at_k(top: np.ndarray, relevant: list[np.ndarray], k: int) -> np.ndarray:
    """nDCG@k of each row of ranked items ``top`` (n, ≥k) against its relevant items: (n,)."""
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    hits = _hits(top[:, :k], relevant)  # fewer than k columns when the catalog is smaller
    ideal = np.cumsum(discounts)[np.minimum([len(r) for r in relevant], k) - 1]
    return (hits * discounts[: hits.shape[1]]).sum(axis=1) / ideal


def recall_at_k(top: np.ndarray, relevant: list[np.ndarray], k: int) -> np.ndarray:
    """Recall@k of each row: hits in the first k over min(k, |relevant|): (n,)."""
    hits = _hits(top[:, :k], relevant).sum(axis=1)
    return hits / np.minimum([len(r) for r in relevant], k)


def _hits(top: np.ndarray, relevant: list[np.ndarray]) -> np.ndarray:
    """1.0 where ``top[u, r]`` is among ``relevant[u]``: (n, columns of top)."""
    if len(top) != len(relevant):
        raise ValueError(f"{len(top)} ranked lists for {len(relevant)} relevant sets")
    rows = np.repeat(np.arange(len(relevant)), [len(r) for r in relevant])
    items = np.concatenate([np.asarray(r, dtype=np.int64) for r in relevant] or [[]])
    width = int(max(top.max(initial=-1), items.max(initial=-1))) + 1
    relevant_mask = np.zeros((len(relevant), width), dtype=bool)
    relevant_mask[rows, items.astype(np.int64)] = True
    return np.take_along_axis(relevant_mask, top.astype(np.int64), axis=1).astype(float)


def ranking_report(top: np.ndarray, relevant: list[np.ndarray], n_items: int) -> RankingReport:
    """The metrics of ranked lists ``top`` (n, min(20, n_items)) against each row's relevant
    items."""
    if top.shape[1] < min(20, n_items) or len(top) != len(relevant) or not len(top):
        raise ValueError(f"expected (n ≥ 1, ≥ 20) ranked items for n users, got {top.shape}")
    if any(len(r) == 0 for r in relevant):
        raise ValueError("every user needs at least one relevant item")
    ndcg = ndcg_at_k(top, relevant, 10)
    se = float(ndcg.std(ddof=1) / np.sqrt(len(ndcg))) if len(ndcg) > 1 else 0.0
    return RankingReport(
        users=len(top),
        ndcg_at_10=float(ndcg.mean()),
        ndcg_at_10_se=se,
        recall_at_20=float(recall_at_k(top, relevant, 20).mean()),
        coverage_at_10=float(np.unique(top[:, :10]).size / n_items),
        per_user_ndcg=ndcg,
    )


def evaluate(
    model: Recommender, heldout: Interactions, users: np.ndarray | None = None
) -> RankingReport:
    """Rank every item for each user with held-out items (or for ``users``), seen ones left out,
    and score the lists against the held-out items."""
    counts = heldout.counts()
    users = np.flatnonzero(counts) if users is None else np.asarray(users)
    users = users[counts[users] > 0]
    if not len(users):
        raise RecommenderError("no user has held-out items to evaluate on")
    top = np.concatenate(
        [model.top_k(users[i : i + BATCH], 20) for i in range(0, len(users), BATCH)]
    )
    return ranking_report(top, [heldout.of(u) for u in users], heldout.n_items)
