"""LinUCB with per-artwork terms, keyed by artwork id: hybrid and disjoint (Li et al. 2010).

The hybrid model of a candidate a, shown in context c, is

    ŷ_a = zᵀβ + xᵀθ_a,    z = joint_features(c, a) (shared by all artworks, k of them),
                          x = [1, c]               (one coefficient vector θ_a per artwork id)

a ridge regression over the joint vector [z, e_a ⊗ x] with prior precision λ. Eliminating the
per-artwork blocks (A_a = λI + Σ xxᵀ, B_a = Σ xzᵀ, b_a = Σ r·x over artwork a's rows) leaves the
shared Schur complement S = λI + Σ zzᵀ − Σ_a B_aᵀA_a⁻¹B_a and b̃ = Σ r·z − Σ_a B_aᵀA_a⁻¹b_a:

    β̂ = S⁻¹b̃,   θ̂_a = A_a⁻¹(b_a − B_aβ̂),   s_a = wᵀS⁻¹w + xᵀA_a⁻¹x   with w = z − B_aᵀA_a⁻¹x

and the policy puts its mass on argmax ŷ_a + α·sqrt(s_a). S⁻¹ is the β block of the joint
inverse, so a row (z, x, r) for artwork a changes it by one Sherman–Morrison step,
S⁻¹ ← S⁻¹ − (S⁻¹w)(S⁻¹w)ᵀ / (1 + s_a): O(k² + kd) per row instead of Li et al.'s O(k³).
Every ``REFRESH_EVERY`` rows S, S⁻¹, b̃ and every A_a⁻¹ are recomputed from the exact sums.

``linucb_disjoint`` is the same model without the shared part (k = 0): one ridge model over
[1, c] per artwork (Li et al.'s Algorithm 1), blind to the candidates' features.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from models.bandits.arm_table import ArmTable
from models.bandits.base import Policy, StateReader, argmax_distribution
from models.bandits.features import joint_dim, joint_features, with_bias
from models.bandits.linear import LinUCBConfig
from models.bandits.records import FeedbackBatch
from models.bandits.registry import register_policy
from models.bandits.ridge import REFRESH_EVERY, spd_inverse


@register_policy("linucb_hybrid")
class HybridLinUCB(Policy):
    """Hybrid LinUCB; ``arm_ids`` are required (see the module docstring)."""

    needs_arm_ids = True
    Config = LinUCBConfig
    config: LinUCBConfig
    shared: ClassVar[bool] = True  # whether the model has the shared term zᵀβ

    def __init__(self, d_ctx: int, d_arm: int, config: LinUCBConfig | None = None) -> None:
        super().__init__(d_ctx, d_arm, config)
        ridge = self.config.ridge
        k = joint_dim(self.d_ctx, self.d_arm) if self.shared else 0
        d = self.d_ctx + 1
        self.gram = ridge * np.eye(k)  # λI + Σ zzᵀ
        self.target = np.zeros(k)  # Σ r·z
        self.covariance = np.eye(k) / ridge  # S⁻¹
        self.moment = np.zeros(k)  # b̃
        self.theta = np.zeros(k)  # β̂
        self.rows_since_refresh = 0
        self.arms = ArmTable(
            {
                "precision": ridge * np.eye(d),
                "covariance": np.eye(d) / ridge,
                "cross": np.zeros((d, k)),
                "moment": np.zeros(d),
            }
        )

    def _shared_features(self, contexts: np.ndarray, arms: np.ndarray) -> np.ndarray:
        if self.shared:
            return joint_features(contexts, arms)
        return np.zeros(arms.shape[:-1] + (0,))

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        rows = self.arms.lookup(arm_ids)
        z = self._shared_features(context, candidates)  # (K, k)
        x = with_bias(context)  # (d,)
        cov_arm = self.arms["covariance"][rows]  # (K, d, d)
        cross = self.arms["cross"][rows]  # (K, d, k)
        cov_x = cov_arm @ x  # (K, d)
        theta_arm = np.einsum("kij,kj->ki", cov_arm, self.arms["moment"][rows] - cross @ self.theta)
        w = z - np.einsum("kij,ki->kj", cross, cov_x)  # (K, k)
        variance = np.einsum("kj,kj->k", w @ self.covariance, w) + cov_x @ x
        mean = z @ self.theta + theta_arm @ x
        return argmax_distribution(mean + self.config.alpha * np.sqrt(np.maximum(variance, 0.0)))

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        # A row counting w times is that row scaled by √w: w·zzᵀ = (√w·z)(√w·z)ᵀ, and so on.
        root = np.sqrt(weights)[:, None]
        shared = root * self._shared_features(batch.contexts, batch.arms)
        own = root * with_bias(batch.contexts)
        scaled_rewards = root[:, 0] * batch.rewards
        for arm_id, z, x, r in zip(batch.arm_ids, shared, own, scaled_rewards, strict=True):
            self._learn_row(self.arms.row(arm_id), z, x, r)
            self.rows_since_refresh += 1
            if self.rows_since_refresh >= REFRESH_EVERY:
                self.refresh()
        self.theta = self.covariance @ self.moment

    def _learn_row(self, row: int, z: np.ndarray, x: np.ndarray, r: float) -> None:
        precision, cov = self.arms["precision"][row], self.arms["covariance"][row]  # views
        cross, moment = self.arms["cross"][row], self.arms["moment"][row]
        cov_x = cov @ x
        w = z - cross.T @ cov_x
        u = self.covariance @ w
        v = u / np.sqrt(1.0 + w @ u + x @ cov_x)  # outer(v, v) is exactly symmetric
        self.covariance -= np.outer(v, v)
        self.moment += cross.T @ (cov @ moment)  # take artwork a's old share out of b̃ ...
        precision += np.outer(x, x)
        v = cov_x / np.sqrt(1.0 + x @ cov_x)
        cov -= np.outer(v, v)
        cross += np.outer(x, z)
        moment += r * x
        self.gram += np.outer(z, z)
        self.target += r * z
        self.moment += r * z - cross.T @ (cov @ moment)  # ... and put its new share back

    def refresh(self) -> None:
        """Recompute every A_a⁻¹, S, S⁻¹, b̃ and β̂ from the exact sums."""
        cov_arms = spd_inverse(self.arms["precision"], self.config.ridge)
        self.arms["covariance"][...] = cov_arms
        cross_cov = np.swapaxes(self.arms["cross"], 1, 2) @ cov_arms  # B_aᵀA_a⁻¹: (n, k, d)
        schur = self.gram - np.einsum("nkd,ndl->kl", cross_cov, self.arms["cross"])
        self.moment = self.target - np.einsum("nkd,nd->k", cross_cov, self.arms["moment"])
        self.covariance = spd_inverse(0.5 * (schur + schur.T), self.config.ridge)
        self.theta = self.covariance @ self.moment
        self.rows_since_refresh = 0

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {
            "shared_gram": self.gram,
            "shared_target": self.target,
            "shared_covariance": self.covariance,
            "shared_moment": self.moment,
            "shared_theta": self.theta,
            "rows_since_refresh": np.array([self.rows_since_refresh], dtype=np.int64),
            **self.arms.arrays("arm_"),
        }

    def _state_card(self) -> dict[str, object]:
        return {"arm_ids": list(self.arms.ids)}

    def _restore(self, state: StateReader) -> None:
        k = len(self.theta)
        self.gram = state.take("shared_gram", (k, k))
        self.target = state.take("shared_target", (k,))
        self.covariance = state.take("shared_covariance", (k, k))
        self.moment = state.take("shared_moment", (k,))
        self.theta = state.take("shared_theta", (k,))
        self.rows_since_refresh = int(state.take("rows_since_refresh", (1,), np.int64)[0])
        self.arms.restore(state, "arm_", state.card.get("arm_ids"))


@register_policy("linucb_disjoint")
class DisjointLinUCB(HybridLinUCB):
    """Disjoint LinUCB: one ridge model over [1, context] per artwork id; ``arm_ids`` required."""

    shared = False
