"""Matrix factorisation from ``implicit``: ALS (Hu, Koren & Volinsky 2008) and BPR (Rendle 2009).

Both learn a vector per user and per item; a user's score for an item is their dot product.
They run on the CPU (``implicit.cpu``) with BLAS held to one thread, as ``implicit`` advises;
BPR's sampler runs on one thread so that a seed gives the same factors every time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from models.recommenders.base import Recommender, RecommenderConfig
from models.recommenders.interactions import Interactions
from models.recommenders.registry import register_recommender


@dataclasses.dataclass(frozen=True, kw_only=True)
class FactorConfig(RecommenderConfig):
    factors: int = 64
    regularization: float = 0.05
    iterations: int = 15

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("factors", self.factors >= 1, "must be at least 1")
        self.require("regularization", self.regularization >= 0, "must be ≥ 0")
        self.require("iterations", self.iterations >= 1, "must be at least 1")


class _Factorisation(Recommender):
    """Shared by ALS and BPR: fit ``implicit``'s model, keep its factors, score by dot product."""

    def _implicit_model(self) -> Any:
        raise NotImplementedError

    def _fit(self, history: Interactions) -> None:
        with threadpool_limits(1, "blas"):
            model = self._implicit_model()
            model.fit(history.matrix(dtype=np.float32), show_progress=False)
        self.user_vectors = np.asarray(model.user_factors, dtype=np.float64)
        self.item_vectors = np.asarray(model.item_factors, dtype=np.float64)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_vectors[users] @ self.item_vectors.T

    def item_similarity(self, items: np.ndarray | list[int]) -> np.ndarray:
        """Cosine similarity of the item vectors."""
        v = (
            self.item_vectors
            / np.maximum(np.linalg.norm(self.item_vectors, axis=1), 1e-12)[:, None]
        )
        return v[self._check_items(items)] @ v.T

    def viewer_factors(self) -> np.ndarray:
        return self.user_vectors.copy()

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"user_vectors": self.user_vectors, "item_vectors": self.item_vectors}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_vectors = np.asarray(arrays["user_vectors"], dtype=np.float64)
        self.item_vectors = np.asarray(arrays["item_vectors"], dtype=np.float64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlsConfig(FactorConfig):
    alpha: float = 10.0  # confidence 1 + α for an item seen

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("alpha", self.alpha > 0, "must be positive")


@register_recommender("als")
class ALS(_Factorisation):
    """Weighted matrix factorisation by alternating least squares (conjugate gradient)."""

    Config = AlsConfig
    search_space = {"factors": (64, 128), "regularization": (0.05, 0.5), "alpha": (2.0, 10.0)}

    def _implicit_model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        c = self.config
        return AlternatingLeastSquares(
            factors=c.factors, regularization=c.regularization, alpha=c.alpha,
            iterations=c.iterations, random_state=c.seed, num_threads=1,
        )  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class BprConfig(FactorConfig):
    regularization: float = 0.01
    learning_rate: float = 0.05
    iterations: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("learning_rate", self.learning_rate > 0, "must be positive")


@register_recommender("bpr")
class BPR(_Factorisation):
    """Bayesian personalised ranking: SGD on sampled (seen, unseen) pairs of each user."""

    Config = BprConfig
    search_space = {
        "factors": (64, 128),
        "learning_rate": (0.01, 0.05),
        "regularization": (0.001, 0.01),
    }

    def _implicit_model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        c = self.config
        return BayesianPersonalizedRanking(
            factors=c.factors, learning_rate=c.learning_rate, regularization=c.regularization,
            iterations=c.iterations, random_state=c.seed, num_threads=1,
        )  # fmt: skip
