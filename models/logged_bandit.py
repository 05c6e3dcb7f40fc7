"""One off-policy evaluation log: rewards, propensities and a reward model, validated once.

Notation, per round i: logged action a_i with reward r_i; logging propensity μ_i = μ(a_i|x_i);
target propensity π_i = π(a_i|x_i); importance weight w_i = π_i / μ_i; reward model q̂(x_i, k)
over the round's candidates k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.errors import ModelError

_SUM_TOLERANCE = 1e-6  # how far a target distribution may sum from 1 (float32 producers)


class OPEError(ModelError):
    """Logged data or an estimator's settings cannot support an estimate; the message says why."""


# --- the log -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LoggedBandit:
    """n logged rounds, checked once: rewards, both policies' propensities, and optionally a model.

    ``rewards``, ``logged_propensity`` (in (0, 1]), ``target_propensity`` (in [0, 1]): (n,).
    For the model-based estimators (DM, DR, SNDR) give all three of ``target_distribution``
    (n, K_max), ``reward_hat`` (n, K_max) and ``action_index`` (n,), the logged action's column;
    ``candidate_mask`` (n, K_max) marks each round's real candidates when their counts vary
    (default: all). Entries outside the mask are ignored (NaN padding is fine) and stored as 0.
    The target distribution must sum to 1 over the mask; ``target_propensity`` may then be left
    out (it is read off at ``action_index``) or must agree with it. Arrays are stored as
    read-only copies.
    """

    rewards: np.ndarray
    logged_propensity: np.ndarray
    target_propensity: np.ndarray | None = None
    target_distribution: np.ndarray | None = None
    reward_hat: np.ndarray | None = None
    action_index: np.ndarray | None = None
    candidate_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        rewards = _finite_vector("rewards", self.rewards)
        n = len(rewards)
        if n == 0:
            raise OPEError("rewards: expected at least one logged round, got shape (0,)")
        logged = _finite_vector("logged_propensity", self.logged_propensity, n)
        first_bad_row("logged_propensity", logged, (logged <= 0) | (logged > 1), "(0, 1]")
        fields = {"rewards": rewards, "logged_propensity": logged}
        model = {
            "target_distribution": self.target_distribution,
            "reward_hat": self.reward_hat,
            "action_index": self.action_index,
        }
        given = [name for name, value in model.items() if value is not None]
        if given and len(given) < len(model):
            missing = ", ".join(name for name in model if name not in given)
            raise OPEError(
                f"{', '.join(given)} given without {missing}: the model-based "
                "estimators need target_distribution, reward_hat and action_index"
            )
        if not given and self.candidate_mask is not None:
            raise OPEError(
                "candidate_mask: given without target_distribution, reward_hat and "
                "action_index, which it describes"
            )
        at_logged = None
        if given:
            fields.update(_checked_model(self, n))
            at_logged = fields["target_distribution"][np.arange(n), fields["action_index"]]
        if self.target_propensity is None:
            if at_logged is None:
                raise OPEError(
                    "target_propensity: expected shape (n,), got None (it may be "
                    "left out only when target_distribution and action_index give it)"
                )
            fields["target_propensity"] = at_logged
        else:
            target = _finite_vector("target_propensity", self.target_propensity, n)
            first_bad_row("target_propensity", target, (target < 0) | (target > 1), "[0, 1]")
            if at_logged is not None:
                first_bad_row(
                    "target_propensity",
                    target,
                    np.abs(target - at_logged) > _SUM_TOLERANCE,
                    "target_distribution at action_index",
                )
            fields["target_propensity"] = target
        for name, value in fields.items():
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_rounds(self) -> int:
        return len(self.rewards)

    @property
    def has_reward_model(self) -> bool:
        return self.reward_hat is not None

    @property
    def importance_weight(self) -> np.ndarray:
        """w_i = π(a_i|x_i) / μ(a_i|x_i), (n,)."""
        return self.target_propensity / self.logged_propensity

    @property
    def reward_hat_logged(self) -> np.ndarray:
        """q̂(x_i, a_i): the reward model at the logged action, (n,)."""
        self._require_model()
        return self.reward_hat[np.arange(self.n_rounds), self.action_index]

    @property
    def reward_hat_target(self) -> np.ndarray:
        """Σ_k π(k|x_i) q̂(x_i, k): the reward model's value of the target in each round, (n,)."""
        self._require_model()
        return np.einsum("nk,nk->n", self.target_distribution, self.reward_hat)

    def take(self, rows: np.ndarray, reward_hat: np.ndarray | None = None) -> LoggedBandit:
        """The log of rounds ``rows`` (indices, repeats allowed, in that order), e.g. a bootstrap
        resample; ``reward_hat`` (len(rows), K_max), when given, replaces q̂ on those rounds."""
        rows = np.asarray(rows)
        if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
            raise OPEError(f"rows: expected integers of shape (m,), got {rows.dtype} {rows.shape}")
        n = self.n_rounds
        first_bad_row("rows", rows, (rows < 0) | (rows >= n), f"a round in [0, {n})")
        if not self.has_reward_model:
            if reward_hat is not None:
                raise OPEError("reward_hat: this log has no reward model to replace")
            return LoggedBandit(
                self.rewards[rows], self.logged_propensity[rows], self.target_propensity[rows]
            )
        return LoggedBandit(
            rewards=self.rewards[rows],
            logged_propensity=self.logged_propensity[rows],
            target_propensity=self.target_propensity[rows],
            target_distribution=self.target_distribution[rows],
            reward_hat=self.reward_hat[rows] if reward_hat is None else reward_hat,
            action_index=self.action_index[rows],
            candidate_mask=self.candidate_mask[rows],
        )

    def _require_model(self) -> None:
        if not self.has_reward_model:
            raise OPEError(
                "this estimator needs a reward model: build the LoggedBandit with "
                "target_distribution, reward_hat and action_index"
            )


def _float_array(name: str, value: object) -> np.ndarray:
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise OPEError(f"{name}: expected an array of numbers: {error}") from None


def _finite_vector(name: str, value: object, n: int | None = None) -> np.ndarray:
    array = _float_array(name, value)
    if array.ndim != 1 or (n is not None and len(array) != n):
        expected = "(n,)" if n is None else f"({n},), one per logged round"
        raise OPEError(f"{name}: expected shape {expected}, got {array.shape}")
    first_bad_row(name, array, ~np.isfinite(array), "a finite number")
    return array


def first_bad_row(name: str, array: np.ndarray, bad: np.ndarray, expected: str) -> None:
    if bad.any():
        where = np.argwhere(bad)[0]
        row = int(where[0])
        at = f"row {row}" if len(where) == 1 else f"row {row}, column {int(where[1])}"
        value = array[tuple(where)].item()
        shown = f"{value:.6g}" if isinstance(value, float) else repr(value)
        raise OPEError(f"{name}: {at} is {shown}; expected {expected}")


def _checked_model(data: LoggedBandit, n: int) -> dict[str, np.ndarray]:
    """The model-based fields of ``data``, validated against each other, padding zeroed."""
    distribution = _float_array("target_distribution", data.target_distribution)
    if distribution.ndim != 2 or len(distribution) != n or distribution.shape[1] == 0:
        raise OPEError(
            f"target_distribution: expected shape ({n}, K_max), got {distribution.shape}"
        )
    shape = distribution.shape
    reward_hat = _float_array("reward_hat", data.reward_hat)
    if reward_hat.shape != shape:
        raise OPEError(
            f"reward_hat: expected shape {shape} like target_distribution, got {reward_hat.shape}"
        )
    if data.candidate_mask is None:
        mask = np.ones(shape, dtype=bool)
    else:
        mask = np.asarray(data.candidate_mask)
        if mask.shape != shape or not (mask.dtype == bool or np.isin(mask, (0, 1)).all()):
            raise OPEError(
                f"candidate_mask: expected booleans of shape {shape}, "
                f"got {mask.dtype} of shape {mask.shape}"
            )
        mask = mask.astype(bool)
        first_bad_row("candidate_mask", mask.any(axis=1), ~mask.any(axis=1), "a candidate")
    index = np.asarray(data.action_index)
    if index.shape != (n,) or not np.issubdtype(index.dtype, np.integer):
        raise OPEError(
            f"action_index: expected integers of shape ({n},), "
            f"got {index.dtype} of shape {index.shape}"
        )
    first_bad_row(
        "action_index", index, (index < 0) | (index >= shape[1]), f"a column in [0, {shape[1]})"
    )
    index = index.astype(np.intp)
    rows = np.arange(n)
    first_bad_row("action_index", index, ~mask[rows, index], "a candidate of its round")
    for name, values in (("target_distribution", distribution), ("reward_hat", reward_hat)):
        values[~mask] = 0.0
        first_bad_row(name, values, ~np.isfinite(values), "a finite number")
    first_bad_row(
        "target_distribution",
        distribution,
        (distribution < 0) | (distribution > 1),
        "a probability in [0, 1]",
    )
    totals = distribution.sum(axis=1)
    first_bad_row(
        "target_distribution (sum over candidates)",
        totals,
        np.abs(totals - 1) > _SUM_TOLERANCE,
        "1",
    )
    return {
        "target_distribution": distribution,
        "reward_hat": reward_hat,
        "action_index": index,
        "candidate_mask": mask,
    }
