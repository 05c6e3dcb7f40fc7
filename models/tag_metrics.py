"""Quality of tag probabilities: average precision (ranking) and calibration error (honesty).

Every function takes binary labels ``y`` and probabilities ``p``; the multi-label ones take
(N, T) matrices with a ``known`` mask saying which labels exist, since most tags of most
images are never labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability diagram: predictions in [lower, upper) (the last bin: upper]."""

    lower: float
    upper: float
    count: int
    mean_probability: float  # nan when empty
    fraction_positive: float  # nan when empty


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """AP = Σ_k (R_k − R_{k−1}) · P_k over the distinct thresholds p_k, in decreasing order.

    P_k and R_k are precision and recall of predicting positive for p ≥ p_k; tied scores
    form one threshold (no interpolation, as scikit-learn's ``average_precision_score``).
    nan when ``y`` has no positive.
    """
    y, p = _checked(y, p)
    positives = int(y.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    # The last index of each run of tied scores is where a threshold takes effect.
    last_of_tie = np.r_[np.flatnonzero(np.diff(p_sorted)), len(p_sorted) - 1]
    true_pos = np.cumsum(y_sorted)[last_of_tie]
    predicted = last_of_tie + 1
    precision = true_pos / predicted
    recall_gain = np.diff(np.r_[0, true_pos]) / positives
    return float(np.sum(recall_gain * precision))


def mean_average_precision_per_group(
    y: np.ndarray,
    p: np.ndarray,
    known: np.ndarray,
    groups: Sequence[str],
) -> dict[str, float]:
    """Mean over each group's tags of the AP on the tag's known labels; ``"all"``: over all tags.

    ``y``, ``p``, ``known``: (N, T); ``groups[t]`` is tag t's group. Tags with no known positive
    are left out of the means; a group with none of them gets nan.
    """
    y, p = np.asarray(y), np.asarray(p)
    known = np.asarray(known, dtype=bool)
    if y.ndim != 2 or y.shape != p.shape or y.shape != known.shape:
        raise ValueError(
            f"y, p, known: expected equal (N, T) shapes, got {y.shape}, {p.shape}, {known.shape}"
        )
    if len(groups) != y.shape[1]:
        raise ValueError(f"groups: expected {y.shape[1]} entries (one per tag), got {len(groups)}")
    per_tag = np.array([average_precision(y[known[:, t], t], p[known[:, t], t])
                        for t in range(y.shape[1])])  # fmt: skip
    result = {}
    for group in [*dict.fromkeys(groups), "all"]:
        chosen = per_tag[[g == group or group == "all" for g in groups]]
        chosen = chosen[~np.isnan(chosen)]
        result[group] = float(chosen.mean()) if len(chosen) else float("nan")
    return result


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 15) -> list[ReliabilityBin]:
    """Equal-width bins of ``p`` over [0, 1] with their counts, mean p and fraction positive."""
    y, p = _checked(y, p)
    if bins < 1:
        raise ValueError(f"bins: expected at least 1, got {bins}")
    index = np.minimum((p * bins).astype(np.int64), bins - 1)  # p = 1 goes to the last bin
    counts = np.bincount(index, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    sum_y = np.bincount(index, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p, frac_y = sum_p / counts, sum_y / counts
    return [
        ReliabilityBin(b / bins, (b + 1) / bins, int(counts[b]), float(mean_p[b]), float(frac_y[b]))
        for b in range(bins)
    ]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """ECE = Σ_b (n_b / N) · |ȳ_b − p̄_b| over equal-width bins b of p on [0, 1].

    n_b is the number of predictions in bin b, ȳ_b the fraction of them that are positive and
    p̄_b their mean probability; 0 is perfectly calibrated, nan when there is no prediction.
    """
    table = reliability_table(y, p, bins)
    total = sum(b.count for b in table)
    if total == 0:
        return float("nan")
    return float(sum(b.count / total * abs(b.fraction_positive - b.mean_probability)
                     for b in table if b.count))  # fmt: skip


def _checked(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y, p: expected the same number of values, got {len(y)} and {len(p)}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y: expected labels 0 or 1")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p: expected probabilities in [0, 1]")
    return y, p
