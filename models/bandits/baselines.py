"""The two baselines: ``uniform`` random, and non-contextual Beta–Bernoulli Thompson sampling."""

from __future__ import annotations

import dataclasses

import numpy as np

from models.bandits.arm_table import ArmTable
from models.bandits.base import Policy, PolicyConfig, StateReader, monte_carlo_argmax
from models.bandits.errors import PolicyError
from models.bandits.records import FeedbackBatch
from models.bandits.registry import register_policy


@register_policy("uniform")
class Uniform(Policy):
    """Every candidate with probability 1/K; learns nothing (it only counts feedback rows)."""

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        return np.full(len(candidates), 1.0 / len(candidates))

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class BetaTSConfig(PolicyConfig):
    prior_alpha: float = 1.0  # Beta(α0, β0) prior on every artwork's reward rate
    prior_beta: float = 1.0
    draws: int = 256  # Monte Carlo draws per decision
    seed: int = 0  # mixed into each decision's generator

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("prior_alpha", self.prior_alpha > 0, "must be > 0")
        self.require("prior_beta", self.prior_beta > 0, "must be > 0")
        self.require("draws", isinstance(self.draws, int) and self.draws >= 1, "must be an int ≥ 1")
        self.require("seed", isinstance(self.seed, int), "must be an int")


@register_policy("beta_ts")
class BetaTS(Policy):
    """Beta–Bernoulli Thompson sampling per artwork id, ignoring context and features.

    Artwork a has posterior Beta(α0 + Σ w·r, β0 + Σ w·(1 − r)) over its rows (rewards in [0, 1];
    fractional rewards count fractionally). The distribution is the Monte Carlo probability of
    each candidate's draw being the largest, from a generator seeded by the state and the
    inputs (as for ``linear_ts``), so the logged propensity is exactly what is sampled from.
    """

    needs_arm_ids = True
    Config = BetaTSConfig
    config: BetaTSConfig

    def __init__(self, d_ctx: int, d_arm: int, config: BetaTSConfig | None = None) -> None:
        super().__init__(d_ctx, d_arm, config)
        self.arms = ArmTable(
            {"alpha": np.array(self.config.prior_alpha), "beta": np.array(self.config.prior_beta)}
        )

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        rows = self.arms.lookup(arm_ids)
        rng = self._decision_rng(context, candidates, arm_ids, self.config.seed)
        samples = rng.beta(
            self.arms["alpha"][rows], self.arms["beta"][rows], size=(self.config.draws, len(rows))
        )
        return monte_carlo_argmax(samples)

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        low, high = batch.reward_range
        if low < 0 or high > 1:
            raise PolicyError(
                f"beta_ts learns from rewards in [0, 1]; this batch's "
                f"reward_range is ({low:g}, {high:g})"
            )
        for arm_id, reward, weight in zip(batch.arm_ids, batch.rewards, weights, strict=True):
            row = self.arms.row(arm_id)
            alpha, beta = self.arms["alpha"], self.arms["beta"]  # views move when the table grows
            alpha[row] += weight * reward
            beta[row] += weight * (1.0 - reward)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.arms.arrays("arm_")

    def _state_card(self) -> dict[str, object]:
        return {"arm_ids": list(self.arms.ids)}

    def _restore(self, state: StateReader) -> None:
        self.arms.restore(state, "arm_", state.card.get("arm_ids"))
