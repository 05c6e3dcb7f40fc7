"""Incremental weighted ridge regression, the reward model under the linear policies.

The model is y ≈ θᵀx with a Gaussian prior θ ~ N(0, λ⁻¹I). After rows (x_i, y_i, w_i):

    A = λI + Σ w_i x_i x_iᵀ      b = Σ w_i y_i x_i      θ = A⁻¹ b

A and b are kept exactly (they are sums); A⁻¹ is a cache, updated per row in O(d²) by
Sherman–Morrison, A⁻¹ ← A⁻¹ − w (A⁻¹x)(A⁻¹x)ᵀ / (1 + w xᵀA⁻¹x), which keeps it exactly
symmetric. Every ``REFRESH_EVERY`` rows, and for any batch longer than d, A⁻¹ and θ are
recomputed from A by Cholesky, so rounding never accumulates over a long stream.
"""

from __future__ import annotations

import numpy as np

from models.bandits.base import StateReader
from models.bandits.errors import PolicyError

REFRESH_EVERY = 1000


def spd_inverse(matrices: np.ndarray, ridge: float) -> np.ndarray:
    """The inverse of each symmetric positive definite matrix in ``matrices`` (..., d, d), by
    Cholesky, A⁻¹ = L⁻ᵀL⁻¹, symmetrised; ``ridge`` (their prior precision) is for the error."""
    try:
        lower_inverse = np.linalg.inv(np.linalg.cholesky(matrices))
    except np.linalg.LinAlgError as exc:
        raise PolicyError(
            f"ridge regression: a precision matrix is not positive definite "
            f"({exc}); use a larger ridge than {ridge}"
        ) from exc
    inverse = np.swapaxes(lower_inverse, -1, -2) @ lower_inverse
    return 0.5 * (inverse + np.swapaxes(inverse, -1, -2))


class RidgeRegression:
    """The sufficient statistics (A, b), the cached A⁻¹ and θ; see the module docstring."""

    def __init__(self, dim: int, ridge: float) -> None:
        self.dim, self.ridge = dim, ridge
        self.precision = ridge * np.eye(dim)  # A
        self.covariance = np.eye(dim) / ridge  # A⁻¹
        self.moment = np.zeros(dim)  # b
        self.theta = np.zeros(dim)
        self.rows_since_refresh = 0

    def add(self, features: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> None:
        """Fold in rows ``features`` (n, d) with ``targets`` (n,), row i counting weights[i]."""
        weighted = features * weights[:, None]
        self.precision += weighted.T @ features
        self.moment += weighted.T @ targets
        self.rows_since_refresh += len(features)
        if len(features) > self.dim or self.rows_since_refresh >= REFRESH_EVERY:
            self.refresh()
            return
        cov = self.covariance
        for x, w in zip(features, weights, strict=True):
            u = cov @ x
            v = u * np.sqrt(w / (1.0 + w * (x @ u)))  # outer(v, v) is exactly symmetric
            cov -= np.outer(v, v)
        self.theta = cov @ self.moment

    def refresh(self) -> None:
        """Recompute A⁻¹ and θ from A and b by Cholesky."""
        self.covariance = spd_inverse(self.precision, self.ridge)
        self.theta = self.covariance @ self.moment
        self.rows_since_refresh = 0

    def predict(self, features: np.ndarray) -> np.ndarray:
        """θᵀx for each row: (K,)."""
        return features @ self.theta

    def widths(self, features: np.ndarray) -> np.ndarray:
        """sqrt(xᵀA⁻¹x) for each row: (K,), the posterior standard deviation per unit noise."""
        return np.sqrt(np.maximum(np.einsum("kd,kd->k", features @ self.covariance, features), 0))

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {
            f"{prefix}precision": self.precision,
            f"{prefix}covariance": self.covariance,
            f"{prefix}moment": self.moment,
            f"{prefix}theta": self.theta,
            f"{prefix}rows_since_refresh": np.array([self.rows_since_refresh], dtype=np.int64),
        }

    def restore(self, state: StateReader, prefix: str = "") -> None:
        d = self.dim
        self.precision = state.take(f"{prefix}precision", (d, d))
        self.covariance = state.take(f"{prefix}covariance", (d, d))
        self.moment = state.take(f"{prefix}moment", (d,))
        self.theta = state.take(f"{prefix}theta", (d,))
        self.rows_since_refresh = int(state.take(f"{prefix}rows_since_refresh", (1,), np.int64)[0])
