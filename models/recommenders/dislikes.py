"""Dislikes as feedback: a disliked title leaves the ranking and titles like it move down."""

from __future__ import annotations

import numpy as np

from models.recommenders.errors import RecommenderError

DEFAULT_STRENGTH = 0.5


def penalise_dislikes(
    scores: np.ndarray,
    disliked: np.ndarray | list[int],
    similarity: np.ndarray,
    strength: float = DEFAULT_STRENGTH,
) -> np.ndarray:
    """Scores (n_items,) with each disliked item set to −inf and every other item j lowered:

        s'_j = s_j − β · (max s − min s) · max_d m_dj,   m_dj = sim⁺(d, j) / max_j' sim⁺(d, j')

    where ``similarity`` is (len(disliked), n_items), sim⁺ its positive part and β the
    ``strength``: the title most like a disliked one loses β of the score range, unrelated ones
    nothing. Infinite scores (items already left out) stay as they are.
    """
    scores = np.array(scores, dtype=np.float64)
    disliked = np.asarray(disliked, dtype=np.int64)
    if similarity.shape != (len(disliked), scores.size):
        raise RecommenderError(
            f"similarity has shape {similarity.shape}, expected ({len(disliked)}, {scores.size})"
        )
    if not strength >= 0:
        raise RecommenderError(f"strength = {strength!r}: must be ≥ 0")
    if not len(disliked):
        return scores
    positive = np.clip(similarity, 0.0, None)
    positive[np.arange(len(disliked)), disliked] = 0.0
    peaks = positive.max(axis=1, keepdims=True)
    likeness = (positive / np.where(peaks > 0, peaks, 1.0)).max(axis=0)
    finite = np.isfinite(scores)
    spread = float(np.ptp(scores[finite])) if finite.any() else 0.0
    scores[finite] -= strength * spread * likeness[finite]
    scores[disliked] = -np.inf
    return scores
