"""The simple baselines: most-viewed titles for everyone, and item-kNN on cosine similarity."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from models.recommenders.base import Recommender, RecommenderConfig
from models.recommenders.interactions import Interactions
from models.recommenders.registry import register_recommender


@register_recommender("popularity")
class Popularity(Recommender):
    """Every user gets the items with the most viewers in the fitted history."""

    def _fit(self, history: Interactions) -> None:
        self.counts = np.bincount(history.items, minlength=history.n_items).astype(np.float64)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(users), self.counts.size)).copy()

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.counts = np.asarray(arrays["counts"], dtype=np.float64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ItemKnnConfig(RecommenderConfig):
    neighbours: int = 100  # each item keeps its K most similar items

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("neighbours", self.neighbours >= 1, "must be at least 1")


@register_recommender("item_knn")
class ItemKNN(Recommender):
    """Item-kNN (``implicit``'s CosineRecommender): score_j = Σ_{i seen} cos(i, j), over each
    item's K nearest neighbours by cosine similarity of their viewer columns."""

    Config = ItemKnnConfig
    search_space = {"neighbours": (20, 50, 100, 200, 400)}

    def _fit(self, history: Interactions) -> None:
        from implicit.nearest_neighbours import ItemItemRecommender, normalize

        # CosineRecommender's own fit, given the CSR input that implicit asks for.
        knn = ItemItemRecommender(K=self.config.neighbours, num_threads=1)
        columns = normalize(history.matrix(dtype=np.float32).T).T.tocsr()
        with threadpool_limits(1, "blas"):
            knn.fit(columns, show_progress=False)
        self.similarity = sp.csr_matrix(knn.similarity, dtype=np.float64)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return (self.fitted_history.matrix()[users] @ self.similarity).toarray()

    def item_similarity(self, items: np.ndarray | list[int]) -> np.ndarray:
        return self.similarity[self._check_items(items)].toarray()

    def _state_arrays(self) -> dict[str, np.ndarray]:
        s = self.similarity
        return {"data": s.data, "indices": s.indices, "indptr": s.indptr}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        n = self.fitted_history.n_items
        parts = (arrays["data"], arrays["indices"], arrays["indptr"])
        self.similarity = sp.csr_matrix(parts, shape=(n, n))
