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

``linucb_artwork`` keeps the shared part and gives each artwork only an intercept (x = [1]): what
the features do not say about an image — how much it catches the eye, how honestly it shows its
title — is learnt per image, as a bias shrunk towards the shared model by its own prior precision
``artwork_ridge``. With d = 1 per artwork it needs far fewer rows per image than x = [1, c], so
it pays off on a catalog where each image is shown tens of times, not thousands.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from models.arrays import row_dots, take_rows
from models.bandits.arm_table import ArmTable
from models.bandits.base import Policy, StateReader
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
    artwork_context: ClassVar[bool] = True  # per-artwork terms over [1, c] (else over [1]:
    # a subclass with an intercept only gives its own decision and update)

    def __init__(self, d_ctx: int, d_arm: int, config: LinUCBConfig | None = None) -> None:
        super().__init__(d_ctx, d_arm, config)
        ridge, own_ridge = self.config.ridge, self._artwork_ridge()
        k = joint_dim(self.d_ctx, self.d_arm) if self.shared else 0
        d = self.d_ctx + 1 if self.artwork_context else 1
        self.gram = ridge * np.eye(k)  # λI + Σ zzᵀ
        self.target = np.zeros(k)  # Σ r·z
        self.covariance = np.eye(k) / ridge  # S⁻¹
        self.moment = np.zeros(k)  # b̃
        self.theta = np.zeros(k)  # β̂
        self.rows_since_refresh = 0
        self.arms = ArmTable(
            {
                "precision": own_ridge * np.eye(d),
                "covariance": np.eye(d) / own_ridge,
                "cross": np.zeros((d, k)),
                "moment": np.zeros(d),
            }
        )

    def _shared_features(self, contexts: np.ndarray, arms: np.ndarray) -> np.ndarray:
        if self.shared:
            return joint_features(contexts, arms)
        return np.zeros(arms.shape[:-1] + (0,))

    def _artwork_ridge(self) -> float:
        """The prior precision of the per-artwork terms."""
        return self.config.ridge

    def _base_distributions(self, contexts, candidates, segments, arm_ids) -> np.ndarray:
        rows = self.arms.lookup(arm_ids)  # N candidate rows, each with its decision's context
        z = self._shared_features(segments.expand(contexts), candidates)  # (N, k)
        x = with_bias(contexts)[segments.owner]  # (N, d)
        cov_arm = self.arms["covariance"][rows]  # (N, d, d)
        cross = self.arms["cross"][rows]  # (N, d, k)
        cov_x = np.einsum("nij,nj->ni", cov_arm, x)  # (N, d)
        theta_arm = np.einsum("nij,nj->ni", cov_arm, self.arms["moment"][rows] - cross @ self.theta)
        w = z - np.einsum("nij,ni->nj", cross, cov_x)  # (N, k)
        variance = np.einsum("nj,nj->n", w @ self.covariance, w) + np.einsum("ni,ni->n", cov_x, x)
        mean = z @ self.theta + np.einsum("ni,ni->n", theta_arm, x)
        score = mean + self.config.alpha * np.sqrt(np.maximum(variance, 0.0))
        return segments.argmax_distribution(score)

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
        cov_arms = spd_inverse(self.arms["precision"], self._artwork_ridge())
        self.arms["covariance"][...] = cov_arms
        cross_cov = np.swapaxes(self.arms["cross"], 1, 2) @ cov_arms  # B_aᵀA_a⁻¹: (n, k, d)
        schur = self.gram - np.einsum("nkd,ndl->kl", cross_cov, self.arms["cross"])
        self.moment = self.target - np.einsum("nkd,nd->k", cross_cov, self.arms["moment"])
        self.covariance = spd_inverse(0.5 * (schur + schur.T), self.config.ridge)
        self.theta = self.covariance @ self.moment
        self.rows_since_refresh = 0
        self._refreshed(schur)

    def _refreshed(self, schur: np.ndarray) -> None:
        """Called by ``refresh`` with the recomputed S (a subclass that keeps S stores it)."""

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


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArtworkLinUCBConfig(LinUCBConfig):
    artwork_ridge: float = 100.0  # prior precision of an intercept (noise var / prior var)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("artwork_ridge", self.artwork_ridge > 0, "must be > 0")


@register_policy("linucb_artwork")
class ArtworkLinUCB(HybridLinUCB):
    """Hybrid LinUCB whose per-artwork term is an intercept only; ``arm_ids`` required.

    With d = 1 a batch is learnt at once, exactly: each touched artwork's old share
    B_aB_aᵀ/A_a leaves the Schur complement S (kept as ``schur``) and its new share comes in,
    then S⁻¹ is refactored (O(nk² + k³) a batch instead of O(k²) Python steps a row)."""

    Config = ArtworkLinUCBConfig
    config: ArtworkLinUCBConfig
    artwork_context = False

    def __init__(self, d_ctx: int, d_arm: int, config: ArtworkLinUCBConfig | None = None) -> None:
        super().__init__(d_ctx, d_arm, config)
        self.schur = self.gram.copy()  # S = λI + Σ zzᵀ − Σ_a B_aᵀA_a⁻¹B_a
        self._terms: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _artwork_ridge(self) -> float:
        return self.config.artwork_ridge

    def _per_artwork_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What a decision needs of each stored artwork whatever its context (row 0: the
        prior): A_a⁻¹, the intercept θ̂_a = A_a⁻¹(b_a − B_aβ̂) and B_aA_a⁻¹; made once per state
        (forgotten by every change of it), so a decision only gathers its candidates' rows."""
        if self._terms is None:
            inverse = self.arms["covariance"][:, 0, 0].copy()
            cross = self.arms["cross"][:, 0, :]
            intercept = inverse * (self.arms["moment"][:, 0] - cross @ self.theta)
            self._terms = (inverse, intercept, cross * inverse[:, None])
        return self._terms

    def _base_distributions(self, contexts, candidates, segments, arm_ids) -> np.ndarray:
        # HybridLinUCB's with x = [1]: A_a⁻¹ = 1 / A_a, B_a a row, so no per-arm matrices
        rows = self.arms.lookup(arm_ids)
        inverse, intercept, scaled_cross = self._per_artwork_terms()
        z = self._shared_features(segments.expand(contexts), candidates)  # (N, k)
        w = z - take_rows(scaled_cross, rows)
        variance = row_dots(w @ self.covariance, w) + inverse[rows]
        mean = z @ self.theta + intercept[rows]
        score = mean + self.config.alpha * np.sqrt(np.maximum(variance, 0.0))
        return segments.argmax_distribution(score)

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        self._terms = None
        root = np.sqrt(weights)
        z = root[:, None] * self._shared_features(batch.contexts, batch.arms)  # (n, k)
        r = root * batch.rewards
        rows = np.array([self.arms.row(arm_id) for arm_id in batch.arm_ids], dtype=np.intp)
        touched, where = np.unique(rows, return_inverse=True)
        precision = self.arms["precision"][touched, 0, 0]  # copies, written back below: (m,)
        cross = self.arms["cross"][touched, 0, :]  # (m, k)
        moment = self.arms["moment"][touched, 0]  # (m,)
        old_schur_share = (cross / precision[:, None]).T @ cross
        old_moment_share = (cross / precision[:, None]).T @ moment
        precision += np.bincount(where, weights=root * root, minlength=touched.size)
        np.add.at(cross, where, root[:, None] * z)
        moment += np.bincount(where, weights=root * r, minlength=touched.size)
        self.arms["precision"][touched, 0, 0] = precision
        self.arms["covariance"][touched, 0, 0] = 1.0 / precision
        self.arms["cross"][touched, 0, :] = cross
        self.arms["moment"][touched, 0] = moment
        self.gram += z.T @ z
        self.target += z.T @ r
        scaled = cross / precision[:, None]
        self.schur += z.T @ z - scaled.T @ cross + old_schur_share
        self.moment += z.T @ r - scaled.T @ moment + old_moment_share
        self.rows_since_refresh += len(rows)
        if self.rows_since_refresh >= REFRESH_EVERY:
            self.refresh()
            return
        self.covariance = spd_inverse(0.5 * (self.schur + self.schur.T), self.config.ridge)
        self.theta = self.covariance @ self.moment

    def _refreshed(self, schur: np.ndarray) -> None:
        self.schur = schur
        self._terms = None

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {**super()._state_arrays(), "shared_schur": self.schur}

    def _restore(self, state: StateReader) -> None:
        super()._restore(state)
        k = len(self.theta)
        self.schur = state.take("shared_schur", (k, k))
        self._terms = None
