"""Cold-start titles: scores for items no one has viewed, from their content vectors."""

from __future__ import annotations

import numpy as np

from models.recommenders.errors import RecommenderError

DEFAULT_TOP = 20  # a perfect content match scores like the viewer's ~10th best warm title


def score_cold_items(
    scores: np.ndarray,
    seen: np.ndarray,
    content: np.ndarray,
    cold: np.ndarray,
    top: int = DEFAULT_TOP,
) -> np.ndarray:
    """``scores`` (n_items,) with each ``cold`` item's score replaced by its content match.

    The viewer's profile p is the mean content vector (rows of ``content``, (n_items, d),
    non-negative) of the ``seen`` items; a cold item c gets

        s_c = mid + cos(p, x_c) · (cap − mid)

    over the viewer's rivals, the warm items they have not seen (finite scores): mid is their
    median score (a typical title) and cap the median of their best k, k = n // 4 but at least 3
    and at most ``top`` (about the k/2-th best). Content is non-negative, so cos ∈ [0, 1]: a title
    with nothing in common with the viewer scores as a typical title, a perfect match as about
    their k/2-th best, never first. Without a profile every cold item scores mid; without
    rivals, 0.
    """
    scores = np.array(scores, dtype=np.float64)
    n_items = scores.shape[0]
    if content.ndim != 2 or content.shape[0] != n_items:
        raise RecommenderError(f"content must be (n_items={n_items}, d), got {content.shape}")
    cold = _mask(cold, n_items)
    if not cold.any():
        return scores
    seen_mask = _mask(seen, n_items)
    rivals = scores[~cold & ~seen_mask]
    rivals = rivals[np.isfinite(rivals)]
    best = np.sort(rivals)[::-1][: min(max(rivals.size // 4, 3), top)]
    mid, cap = (np.median(rivals), np.median(best)) if rivals.size else (0.0, 0.0)
    profile = content[seen_mask].mean(axis=0) if seen_mask.any() else np.zeros(content.shape[1])
    norms = np.linalg.norm(content[cold], axis=1) * np.linalg.norm(profile)
    match = np.divide(content[cold] @ profile, norms, out=np.zeros(int(cold.sum())),
                      where=norms > 0)  # fmt: skip
    scores[cold] = mid + np.clip(match, 0.0, 1.0) * (cap - mid)
    return scores


def _mask(items: np.ndarray, n_items: int) -> np.ndarray:
    """A boolean mask (n_items,) from item indices or from a mask already."""
    items = np.asarray(items)
    if items.dtype == bool:
        if items.shape != (n_items,):
            raise RecommenderError(f"mask must have shape ({n_items},), got {items.shape}")
        return items
    mask = np.zeros(n_items, bool)
    mask[items.astype(np.int64)] = True
    return mask
