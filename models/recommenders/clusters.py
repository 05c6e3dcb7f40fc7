"""Viewer clusters for "Viewers like you": k-means on a recommender's viewer factors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.recommenders.base import Recommender, top_items
from models.recommenders.errors import RecommenderError


@dataclass(frozen=True, eq=False)
class ViewerClusters:
    """Each viewer's cluster (``labels``, (n_users,)) and how often each cluster viewed each
    item (``counts``, (n_clusters, n_items))."""

    labels: np.ndarray
    counts: np.ndarray

    def favourites(self, user: int, k: int, seen: np.ndarray | None = None) -> np.ndarray:
        """The k items most viewed in ``user``'s cluster, most first, ``seen`` ones left out;
        items no one in the cluster viewed are not returned."""
        counts = self.counts[self.labels[user]].astype(np.float64)
        if seen is not None:
            counts[np.asarray(seen, dtype=np.int64)] = -np.inf
        best = top_items(counts[None, :], k)[0]
        return best[counts[best] > 0]


def cluster_viewers(model: Recommender, n_clusters: int, seed: int = 0) -> ViewerClusters:
    """k-means (scikit-learn, ``seed``) on ``model.viewer_factors()``, L2-normalised so that
    clusters group tastes rather than amounts of viewing."""
    from sklearn.cluster import KMeans

    history = model.fitted_history
    if not 1 <= n_clusters <= history.n_users:
        raise RecommenderError(f"n_clusters = {n_clusters}: must be in [1, {history.n_users}]")
    factors = model.viewer_factors()
    factors = factors / np.maximum(np.linalg.norm(factors, axis=1, keepdims=True), 1e-12)
    labels = KMeans(n_clusters, n_init=4, random_state=seed).fit_predict(factors)
    counts = np.zeros((n_clusters, history.n_items), dtype=np.int64)
    np.add.at(counts, (labels[history.users], history.items), 1)
    return ViewerClusters(labels.astype(np.int64), counts)
