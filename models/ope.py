"""Off-policy evaluation: what a new policy would have earned, estimated from another's log.

A log of n rounds is one validated, frozen ``LoggedBandit``. Each estimator is a small frozen
dataclass with the same verbs: ``estimate(data)``, ``interval(data, alpha, n_bootstrap,
seed)`` (bootstrap over rounds: BCa by default, or plain percentiles) and
``effective_sample_size(data)``. Notation, per
round i: logged action a_i with reward r_i; logging propensity μ_i = μ(a_i|x_i); target
propensity π_i = π(a_i|x_i); importance weight w_i = π_i / μ_i; reward model q̂(x_i, k) over
the round's candidates k.

Every estimate here is a sum of ratios of round sums, V̂ = Σ_j (Σ_i u_ij) / (Σ_i v_ij), so the
point estimate and all bootstrap replicates come from the same per-round terms: a replicate
resamples rounds, which only reweights the sums. That holds the reward model q̂ fixed; pass
``interval(refit=...)`` to refit it on every resample instead (one model fit per replicate).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from models.logged_bandit import LoggedBandit, OPEError, first_bad_row

_BOOTSTRAP_CHUNK = 1 << 22  # gathered values per vectorised bootstrap chunk (32 MiB of float64)
INTERVAL_METHODS = ("bca", "percentile")

RewardRefit = Callable[[np.ndarray], np.ndarray]
"""refit(rows) → q̂ (len(rows), K_max) on the resampled rounds ``rows`` (indices into the log,
with repeats), from a reward model fitted on those rounds alone."""


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A policy value estimate with its confidence interval [low, high]."""

    low: float
    high: float
    estimate: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise OPEError(f"Interval: expected low <= high, got [{self.low}, {self.high}]")


@dataclass(frozen=True)
class GateDecision:
    """Whether a candidate policy may replace the current one, and why, in words."""

    accepted: bool
    reason: str


def promotion_gate(
    candidate: Interval, current_estimate: float, margin: float = 0.0
) -> GateDecision:
    """Accept only when the candidate's lower bound beats current: low > current + margin."""
    if not np.isfinite([candidate.low, candidate.high, current_estimate, margin]).all():
        raise OPEError(
            f"promotion_gate: expected finite numbers, got candidate {candidate} "
            f"and current_estimate {current_estimate}, margin {margin}"
        )
    bar = current_estimate + margin
    shown = f"candidate {candidate.estimate:.4g} in [{candidate.low:.4g}, {candidate.high:.4g}]"
    if candidate.low > bar:
        return GateDecision(True, f"accepted: {shown}; its lower bound beats {bar:.4g}")
    return GateDecision(
        False,
        f"rejected: {shown}; its lower bound does not beat {bar:.4g} "
        "(the current policy's estimate" + (" plus margin)" if margin else ")"),
    )


# --- estimators ----------------------------------------------------------------------------------


class OffPolicyEstimator(ABC):
    """One estimator's per-round terms; the shared verbs turn them into numbers."""

    @abstractmethod
    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(u_j, v_j)]: per-round numerators and denominators, V̂ = Σ_j Σ u_j / Σ v_j."""

    def _weights(self, data: LoggedBandit) -> np.ndarray:
        """The per-round weights the ESS describes (the importance weights unless overridden)."""
        return data.importance_weight

    def estimate(self, data: LoggedBandit) -> float:
        """The estimated value of the target policy (expected reward per round)."""
        terms = self._ratio_terms(data)
        for _, denominator in terms:
            if not denominator.sum() > 0:
                raise OPEError(
                    f"{type(self).__name__}: no logged round carries weight for the "
                    "target policy (every weight is 0), so the log says nothing of it"
                )
        return _ratio_value(terms)

    def interval(
        self,
        data: LoggedBandit,
        alpha: float = 0.05,
        n_bootstrap: int = 1000,
        seed: int | np.random.Generator | None = 0,
        refit: RewardRefit | None = None,
        method: str = "bca",
    ) -> Interval:
        """Bootstrap interval of V̂ over rounds resampled n of n: with ``method="percentile"``
        the α/2 and 1 − α/2 quantiles of the replicates; with ``"bca"`` (Efron's
        bias-corrected and accelerated interval) quantiles moved for the replicates' median
        bias and for the skew of the per-round influence values, which importance weights make
        heavy-tailed (its coverage error is O(1/n) against the percentile's O(1/√n)).

        Replicates whose denominators are all zero (possible for SNIPS, Replay, SNDR on tiny
        logs) are left out. ``estimate`` is V̂ on the full log. The replicates hold the log's
        q̂ fixed unless ``refit`` is given: then each replicate is V̂ on
        ``data.take(rows, refit(rows))``, so the interval includes the model's own fitting
        error (the same resamples as without ``refit``, but one model fit each).
        """
        if not 0 < alpha < 1:
            raise OPEError(f"alpha: expected a number in (0, 1), got {alpha!r}")
        if int(n_bootstrap) != n_bootstrap or n_bootstrap < 2:
            raise OPEError(f"n_bootstrap: expected an integer >= 2, got {n_bootstrap!r}")
        if method not in INTERVAL_METHODS:
            raise OPEError(f"method: expected one of {INTERVAL_METHODS}, got {method!r}")
        point = self.estimate(data)
        terms, rng = self._ratio_terms(data), np.random.default_rng(seed)
        if refit is None:
            replicates = _bootstrap(terms, int(n_bootstrap), rng)
        elif not data.has_reward_model:
            raise OPEError("refit: this log has no reward model to refit")
        else:
            replicates = np.array([
                _ratio_value(self._ratio_terms(data.take(rows, refit(rows))))
                for chunk in _resamples(data.n_rounds, 2 * len(terms), int(n_bootstrap), rng)
                for rows in chunk
            ])  # fmt: skip
        replicates = replicates[np.isfinite(replicates)]
        if len(replicates) < 2:
            raise OPEError(
                f"{type(self).__name__}: fewer than 2 bootstrap replicates carried "
                "weight for the target policy; the log is too small"
            )
        if method == "bca":
            levels = _bca_levels(replicates, point, _influence(terms), alpha)
        else:
            levels = np.array([alpha / 2, 1 - alpha / 2])
        low, high = np.quantile(replicates, levels)
        return Interval(float(low), float(high), point)

    def effective_sample_size(self, data: LoggedBandit) -> float:
        """ESS = (Σ_i w_i)² / Σ_i w_i²: how many on-policy rounds the weighted log is worth."""
        weights = self._weights(data)
        squares = float(np.dot(weights, weights))
        return float(weights.sum()) ** 2 / squares if squares > 0 else 0.0


def _resamples(
    n: int, width: int, n_bootstrap: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """``n_bootstrap`` resamples of n rounds, n of n with replacement, as (b, n) index matrices
    of at most ``_BOOTSTRAP_CHUNK`` / ``width`` indices each."""
    chunk = max(1, _BOOTSTRAP_CHUNK // (n * width))
    for start in range(0, n_bootstrap, chunk):
        yield rng.integers(0, n, size=(min(chunk, n_bootstrap - start), n))


def _bootstrap(
    terms: list[tuple[np.ndarray, np.ndarray]], n_bootstrap: int, rng: np.random.Generator
) -> np.ndarray:
    """V̂ on each of ``n_bootstrap`` resamples of the rounds, the terms held fixed."""
    columns = np.stack([array for pair in terms for array in pair], axis=1)  # (n, 2J)
    sums = np.concatenate([
        columns[rows].sum(axis=1)  # (b, 2J)
        for rows in _resamples(len(columns), columns.shape[1], n_bootstrap, rng)
    ])  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sums[:, 0::2] / sums[:, 1::2]).sum(axis=1)


def _influence(terms: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Each round's empirical influence on V̂ = Σ_j Σu_j / Σv_j: Σ_j n (u_ij − R_j v_ij) / Σv_j
    with R_j = Σu_j / Σv_j (the derivative of a ratio of means)."""
    total = np.zeros(len(terms[0][0]))
    for u, v in terms:
        denominator = v.sum()
        if denominator > 0:
            total += len(u) * (u - (u.sum() / denominator) * v) / denominator
    return total


def _bca_levels(
    replicates: np.ndarray, point: float, influence: np.ndarray, alpha: float
) -> np.ndarray:
    """The two quantile levels of a BCa interval (Efron 1987; DiCiccio & Efron 1996):
    z₀ = Φ⁻¹(share of replicates below V̂), a = Σ L³ / (6 (Σ L²)^{3/2}) over the influence
    values L, and level(z) = Φ(z₀ + (z₀ + z) / (1 − a (z₀ + z))) for z = z_{α/2}, z_{1−α/2}."""
    normal = NormalDist()
    below = np.count_nonzero(replicates < point) + 0.5 * np.count_nonzero(replicates == point)
    share = min(max(below / len(replicates), 0.5 / len(replicates)), 1 - 0.5 / len(replicates))
    z0 = normal.inv_cdf(share)
    squares = float(np.dot(influence, influence))
    accel = float((influence**3).sum()) / (6.0 * squares**1.5) if squares > 0 else 0.0
    levels = []
    for z in (normal.inv_cdf(alpha / 2), normal.inv_cdf(1 - alpha / 2)):
        shifted = z0 + z
        levels.append(normal.cdf(z0 + shifted / (1 - accel * shifted)))
    return np.array(levels)


def _ratio_value(terms: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Σ_j Σ u_j / Σ v_j, not finite when a denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(sum(u.sum() / v.sum() for u, v in terms))


def _ones(data: LoggedBandit) -> np.ndarray:
    return np.ones(data.n_rounds)


@dataclass(frozen=True)
class Replay(OffPolicyEstimator):
    """Rejection-sampling replay (Li et al. 2011) of a deterministic target policy.

    V̂ = Σ_i 1[π_i = 1] r_i / Σ_i 1[π_i = 1]: the mean reward over the rounds where the target
    would have chosen the logged action. Unbiased when the logging policy is uniform over the
    candidates; otherwise prefer IPS or DR. Needs π_i ∈ {0, 1} in every round.
    """

    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        match = self._weights(data)
        return [(match * data.rewards, match)]

    def _weights(self, data: LoggedBandit) -> np.ndarray:
        target = data.target_propensity
        chosen = np.abs(target - 1) <= 1e-12
        first_bad_row(
            "target_propensity",
            target,
            ~chosen & (target > 1e-12),
            "0 or 1: Replay evaluates a deterministic target; use IPS for others",
        )
        return chosen.astype(float)


@dataclass(frozen=True)
class IPS(OffPolicyEstimator):
    """Inverse propensity scoring: V̂ = (1/n) Σ_i min(w_i, clip) r_i, w_i = π_i / μ_i.

    Unbiased without clipping (``clip=None``); a finite ``clip`` trades bias for variance.
    """

    clip: float | None = None

    def __post_init__(self) -> None:
        if self.clip is not None and not self.clip > 0:
            raise OPEError(f"clip: expected a positive number or None, got {self.clip!r}")

    def _weights(self, data: LoggedBandit) -> np.ndarray:
        weights = data.importance_weight
        return weights if self.clip is None else np.minimum(weights, self.clip)

    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self._weights(data) * data.rewards, _ones(data))]


@dataclass(frozen=True)
class SNIPS(OffPolicyEstimator):
    """Self-normalised IPS: V̂ = Σ_i w_i r_i / Σ_i w_i. Slightly biased, bounded by the rewards."""

    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        weights = self._weights(data)
        return [(weights * data.rewards, weights)]


@dataclass(frozen=True)
class DirectMethod(OffPolicyEstimator):
    """Direct method: V̂ = (1/n) Σ_i Σ_k π(k|x_i) q̂(x_i, k); as good as the reward model.

    Its ESS is the importance weights' (how far the log is from the target), though DM itself
    does not weight rounds. Its bootstrap holds the fitted model fixed unless ``interval`` is
    given ``refit``; either way the interval is about the model's noise, not its bias, so it
    misses the true value when the model is wrong.
    """

    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(data.reward_hat_target, _ones(data))]


@dataclass(frozen=True)
class DoublyRobust(OffPolicyEstimator):
    """Doubly robust: V̂ = (1/n) Σ_i [Σ_k π(k|x_i) q̂(x_i, k) + w_i (r_i − q̂(x_i, a_i))].

    Unbiased when the propensities are right, whatever the reward model; lower variance than IPS
    when the model is good. An error in q̂ cancels in expectation, so a bootstrap that holds a
    cross-fitted q̂ fixed misses its fitting error only to second order (``refit`` adds it).
    """

    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        correction = data.importance_weight * (data.rewards - data.reward_hat_logged)
        return [(data.reward_hat_target + correction, _ones(data))]


@dataclass(frozen=True)
class SelfNormalizedDR(OffPolicyEstimator):
    """Self-normalised DR (SNDR, as OBP's): the DR correction divided by Σ w instead of n.

    V̂ = (1/n) Σ_i Σ_k π(k|x_i) q̂(x_i, k) + Σ_i w_i (r_i − q̂(x_i, a_i)) / Σ_i w_i.
    """

    def _ratio_terms(self, data: LoggedBandit) -> list[tuple[np.ndarray, np.ndarray]]:
        weights = self._weights(data)
        correction = weights * (data.rewards - data.reward_hat_logged)
        return [(data.reward_hat_target, _ones(data)), (correction, weights)]
