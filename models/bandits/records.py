"""The records a policy exchanges with its callers: a sampled ``Choice`` and a ``FeedbackBatch``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from models.bandits.errors import FeedbackError, PolicyError

# How far a distribution's sum may stray from 1 (a few ulps of a K ≤ ~1000 sum, with margin).
SUM_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Choice:
    """One sampled decision: candidate ``index`` drawn from ``probabilities`` with
    ``models.sampling.sample_index``; ``propensity`` is exactly ``probabilities[index]``."""

    index: int
    propensity: float
    probabilities: np.ndarray = field(repr=False)  # (K,), read-only
    seed: int

    def __post_init__(self) -> None:
        probabilities = np.array(self.probabilities, dtype=np.float64)  # a private copy
        if probabilities.ndim != 1 or probabilities.size == 0:
            raise PolicyError(
                f"Choice.probabilities: expected shape (K,) with K ≥ 1, got {probabilities.shape}"
            )
        if not (np.isfinite(probabilities).all() and (probabilities >= 0).all()):
            raise PolicyError("Choice.probabilities: every entry must be finite and ≥ 0")
        if abs(probabilities.sum() - 1.0) > SUM_TOLERANCE:
            raise PolicyError(f"Choice.probabilities: sum to {probabilities.sum()!r}, not 1")
        if not 0 <= self.index < probabilities.size:
            raise PolicyError(f"Choice.index: {self.index} is not in [0, {probabilities.size})")
        if self.propensity != probabilities[self.index]:
            raise PolicyError(
                f"Choice.propensity: {self.propensity!r} differs from "
                f"probabilities[{self.index}] = {probabilities[self.index]!r}"
            )
        probabilities.setflags(write=False)
        object.__setattr__(self, "probabilities", probabilities)
        object.__setattr__(self, "index", int(self.index))
        object.__setattr__(self, "propensity", float(self.propensity))
        object.__setattr__(self, "seed", int(self.seed))


@dataclass(frozen=True)
class FeedbackBatch:
    """n logged rows to learn from, one per decision that has its reward.

    Row i holds the viewer's context ``contexts[i]`` (d_ctx), the features of the candidate that
    was shown ``arms[i]`` (d_arm), its reward ``rewards[i]`` within ``reward_range`` (a quality
    play in [0, 1] by default), the logging policy's ``propensities[i]`` ∈ (0, 1] for that
    candidate, and optionally its artwork id ``arm_ids[i]`` (needed by id-keyed policies).
    Arrays are copied to float64 and made read-only; a bad row raises ``FeedbackError`` naming
    the row and the field.
    """

    contexts: np.ndarray  # (n, d_ctx)
    arms: np.ndarray  # (n, d_arm): features of the chosen candidate
    rewards: np.ndarray  # (n,)
    propensities: np.ndarray  # (n,)
    arm_ids: tuple[str, ...] | None = None  # (n,) artwork ids of the chosen candidates
    reward_range: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        low, high = (float(v) for v in self.reward_range)
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise FeedbackError(
                f"FeedbackBatch.reward_range: {self.reward_range!r} must be two "
                f"finite numbers, low < high",
                row=None,
                field="reward_range",
            )
        object.__setattr__(self, "reward_range", (low, high))
        contexts = _frozen_array(self.contexts, "contexts", ndim=2)
        n = contexts.shape[0]
        arms = _frozen_array(self.arms, "arms", ndim=2, rows=n)
        rewards = _frozen_array(self.rewards, "rewards", ndim=1, rows=n)
        propensities = _frozen_array(self.propensities, "propensities", ndim=1, rows=n)
        _check_rows("contexts", np.isfinite(contexts).all(axis=1), contexts, "must be finite")
        _check_rows("arms", np.isfinite(arms).all(axis=1), arms, "must be finite")
        in_range = np.isfinite(rewards) & (rewards >= low) & (rewards <= high)
        _check_rows("rewards", in_range, rewards, f"must be finite and in [{low:g}, {high:g}]")
        valid = np.isfinite(propensities) & (propensities > 0) & (propensities <= 1)
        _check_rows("propensities", valid, propensities, "must be in (0, 1]")
        for name, value in (
            ("contexts", contexts),
            ("arms", arms),
            ("rewards", rewards),
            ("propensities", propensities),
        ):
            object.__setattr__(self, name, value)
        if self.arm_ids is not None:
            object.__setattr__(self, "arm_ids", _arm_ids(self.arm_ids, n))

    @classmethod
    def of_one(
        cls,
        context: np.ndarray,
        arm: np.ndarray,
        reward: float,
        propensity: float,
        arm_id: str | None = None,
    ) -> FeedbackBatch:
        """A batch holding a single decision's feedback (the online path)."""
        return cls(
            np.asarray(context, dtype=np.float64)[None],
            np.asarray(arm, np.float64)[None],
            np.array([reward], np.float64),
            np.array([propensity], np.float64),
            None if arm_id is None else (arm_id,),
        )

    def __len__(self) -> int:
        return self.rewards.shape[0]


def _frozen_array(value: object, name: str, *, ndim: int, rows: int | None = None) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FeedbackError(
            f"FeedbackBatch.{name}: not numeric ({exc})", row=None, field=name
        ) from exc
    expected = "(n, d)" if ndim == 2 else "(n,)"
    if array.ndim != ndim or (rows is not None and array.shape[0] != rows):
        raise FeedbackError(
            f"FeedbackBatch.{name}: expected shape {expected} with n = "
            f"{'len(contexts)' if rows is None else rows}, got {array.shape}",
            row=None,
            field=name,
        )
    array.setflags(write=False)
    return array


def _check_rows(name: str, ok: np.ndarray, values: np.ndarray, rule: str) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        row = int(bad[0])
        others = f" ({bad.size - 1} more bad rows)" if bad.size > 1 else ""
        raise FeedbackError(
            f"FeedbackBatch row {row}: {name} is {values[row].tolist()!r}, {rule}{others}",
            row=row,
            field=name,
        )


def _arm_ids(arm_ids: Sequence[str], n: int) -> tuple[str, ...]:
    ids = tuple(arm_ids)
    if len(ids) != n:
        raise FeedbackError(
            f"FeedbackBatch.arm_ids: expected {n} ids, got {len(ids)}", row=None, field="arm_ids"
        )
    for row, arm_id in enumerate(ids):
        if not isinstance(arm_id, str) or not arm_id:
            raise FeedbackError(
                f"FeedbackBatch row {row}: arm_ids is {arm_id!r}, must be a non-empty string",
                row=row,
                field="arm_ids",
            )
    return ids
