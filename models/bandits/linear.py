"""Policies over one shared ridge-regression reward model of the joint features.

Each candidate a of a decision is described by x_a = joint_features(context, a) (see
``features``); the model predicts ŷ_a = θᵀx_a with uncertainty sqrt(x_aᵀA⁻¹x_a) (see ``ridge``).
The policies differ only in how they turn (ŷ, A⁻¹) into a distribution:

- ``epsilon_greedy``: ε/K everywhere plus 1 − ε on the argmax of ŷ.
- ``linucb``: all mass on the argmax of ŷ_a + α·sqrt(x_aᵀA⁻¹x_a) (Li et al. 2010, with one
  model shared by all candidates — the right choice when arms are described by features).
- ``linear_ts``: the probability that each candidate is the argmax under the posterior
  θ ~ N(θ̂, v²A⁻¹), estimated from ``draws`` Monte Carlo draws of the K scores.
- ``squarecb``: inverse-gap weighting (Foster & Rakhlin 2020) over ŷ.

Ties in an argmax (scores equal up to rounding: ``Segments.best``) split its mass evenly; the
floor is mixed in afterwards by ``Policy``. All but ``linear_ts`` (whose Monte Carlo draws are
seeded per decision) score a whole page of decisions at once (``_base_distributions``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from models.bandits.base import (
    Policy,
    PolicyConfig,
    StateReader,
    gaussian_argmax,
)
from models.bandits.features import joint_dim, joint_features
from models.bandits.records import FeedbackBatch
from models.bandits.registry import register_policy
from models.bandits.ridge import RidgeRegression


@dataclasses.dataclass(frozen=True, kw_only=True)
class RidgeConfig(PolicyConfig):
    ridge: float = 1.0  # λ, the prior precision of every coefficient

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("ridge", self.ridge > 0, "must be > 0")


class RidgePolicy(Policy):
    """A policy whose state is one ``RidgeRegression`` over ``joint_features``."""

    Config = RidgeConfig
    config: RidgeConfig

    def __init__(self, d_ctx: int, d_arm: int, config: RidgeConfig | None = None) -> None:
        super().__init__(d_ctx, d_arm, config)
        self.model = RidgeRegression(joint_dim(self.d_ctx, self.d_arm), self.config.ridge)

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        self.model.add(joint_features(batch.contexts, batch.arms), batch.rewards, weights)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.model.arrays()

    def _restore(self, state: StateReader) -> None:
        self.model.restore(state)


@dataclasses.dataclass(frozen=True, kw_only=True)
class EpsilonGreedyConfig(RidgeConfig):
    epsilon: float = 0.05  # the share spread uniformly over all candidates

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("epsilon", 0.0 <= self.epsilon <= 1.0, "must be in [0, 1]")


@register_policy("epsilon_greedy")
class EpsilonGreedy(RidgePolicy):
    """p = ε/K + (1 − ε)·1[a = argmax ŷ] over the ridge model."""

    Config = EpsilonGreedyConfig
    config: EpsilonGreedyConfig

    def _base_distributions(self, contexts, candidates, segments, arm_ids) -> np.ndarray:
        x = joint_features(segments.expand(contexts), candidates)
        greedy = segments.argmax_distribution(self.model.predict(x))
        epsilon = self.config.epsilon
        return segments.expand(epsilon / segments.counts) + (1.0 - epsilon) * greedy


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinUCBConfig(RidgeConfig):
    alpha: float = 0.5  # the width of the confidence bonus, in reward units per unit of noise

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("alpha", self.alpha >= 0, "must be ≥ 0")


@register_policy("linucb")
class LinUCB(RidgePolicy):
    """All mass on argmax ŷ_a + α·sqrt(x_aᵀA⁻¹x_a); deterministic but for the floor."""

    Config = LinUCBConfig
    config: LinUCBConfig

    def _base_distributions(self, contexts, candidates, segments, arm_ids) -> np.ndarray:
        x = joint_features(segments.expand(contexts), candidates)
        scores = self.model.predict(x) + self.config.alpha * self.model.widths(x)
        return segments.argmax_distribution(scores)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinearTSConfig(RidgeConfig):
    scale: float = 0.3  # v: the posterior is N(θ̂, v²A⁻¹)
    draws: int = 256  # Monte Carlo draws per decision
    seed: int = 0  # mixed into each decision's generator

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("scale", self.scale >= 0, "must be ≥ 0")
        self.require("draws", isinstance(self.draws, int) and self.draws >= 1, "must be an int ≥ 1")
        self.require("seed", isinstance(self.seed, int), "must be an int")


@register_policy("linear_ts")
class LinearTS(RidgePolicy):
    """Linear Thompson sampling with an exact, logged propensity.

    The chance that a candidate wins under the posterior has no closed form, so the policy
    draws ``draws`` samples of the K scores s ~ N(Xθ̂, v²·XA⁻¹Xᵀ) — K-dimensional, so a draw
    costs O(K²), not O(d³) — and returns how often each candidate is the largest. The draws
    come from a generator seeded by the state and the inputs, so this Monte Carlo distribution
    is a pure function of them; it is what ``choose`` samples from and what is logged.
    """

    Config = LinearTSConfig
    config: LinearTSConfig

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        x = joint_features(context, candidates)
        mean = self.model.predict(x)
        covariance = (x @ self.model.covariance) @ x.T
        rng = self._decision_rng(context, candidates, arm_ids, self.config.seed)
        return gaussian_argmax(mean, covariance, self.config.scale, self.config.draws, rng)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SquareCBConfig(RidgeConfig):
    gamma0: float = 5.0  # γ = γ0·sqrt(K·t) after t feedback rows (t ≥ 1; K = 4: VW's 10·√t)
    gamma: float | None = None  # ... unless a fixed γ is given here

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("gamma0", self.gamma0 > 0, "must be > 0")
        self.require("gamma", self.gamma is None or self.gamma > 0, "must be > 0 or None")


@register_policy("squarecb")
class SquareCB(RidgePolicy):
    """Inverse-gap weighting (Foster & Rakhlin 2020) over the ridge regression oracle.

    With ŷ* = max ŷ, every candidate off the argmax gets p_a = 1 / (K + γ(ŷ* − ŷ_a)) and the
    argmax candidates share the rest evenly (each gets ≥ 1/K). The learning rate γ grows as
    γ0·sqrt(K·t), t the number of feedback rows seen — Foster & Rakhlin's γ ∝ sqrt(K·T / Reg_Sq)
    with the oracle's regret Reg_Sq taken as a constant; ``gamma`` fixes it instead. γ is in
    inverse reward units: rescaling rewards by c calls for γ/c.
    """

    Config = SquareCBConfig
    config: SquareCBConfig

    def gamma(self, k: int | np.ndarray) -> float | np.ndarray:
        """The learning rate used for a decision among k candidates (an array of k: each's)."""
        if self.config.gamma is not None:
            return np.full(np.shape(k), self.config.gamma)[()]
        return self.config.gamma0 * np.sqrt(np.asarray(k) * max(self.n_updates, 1))[()]

    def _base_distributions(self, contexts, candidates, segments, arm_ids) -> np.ndarray:
        predicted = self.model.predict(joint_features(segments.expand(contexts), candidates))
        k, expand = segments.counts, segments.expand
        gaps = expand(segments.max(predicted)) - predicted
        best = segments.best(predicted)
        p = 1.0 / (expand(k) + expand(self.gamma(k)) * gaps)
        rest = 1.0 - segments.sum(np.where(best, 0.0, p))  # what the argmax candidates share
        return np.where(best, expand(rest / segments.sum(best.astype(np.float64))), p)
