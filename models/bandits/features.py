"""The one feature map every linear policy uses: a bias-augmented outer product of context and arm.

For a viewer's context c ∈ R^{d_ctx} and a candidate artwork's features a ∈ R^{d_arm}:

    c̃ = [1, c],   ã = [1, a],   x = vec(c̃ ⊗ ã) ∈ R^{(d_ctx + 1)(d_arm + 1)}

so x holds, in order, the bias (x[0] = 1), the arm's own features (x[1 : d_arm + 1]), and then
for each context feature c_i the block [c_i, c_i · a] — i.e. the context alone and every
context × arm interaction. A linear model θᵀx is therefore a bilinear reward model
c̃ᵀ Θ ã. The context-only terms are equal for every candidate of one decision, so they never
change a ranking; they are kept because they absorb the viewer's baseline response, which would
otherwise bias the arm coefficients.
"""

from __future__ import annotations

import numpy as np

# Written on every policy card; a policy trained under another map refuses to load.
FEATURE_MAP = "outer_with_bias/1"


def joint_dim(d_ctx: int, d_arm: int) -> int:
    """The length of ``joint_features``' rows: (d_ctx + 1)(d_arm + 1)."""
    return (d_ctx + 1) * (d_arm + 1)


def with_bias(features: np.ndarray) -> np.ndarray:
    """``features`` (..., d) with a leading 1 on the last axis: (..., d + 1)."""
    ones = np.ones(features.shape[:-1] + (1,), dtype=np.float64)
    return np.concatenate((ones, features), axis=-1)


def joint_features(contexts: np.ndarray, arms: np.ndarray) -> np.ndarray:
    """vec([1, c] ⊗ [1, a]) for broadcast pairs: (d_ctx,) with (K, d_arm) gives (K, D) for one
    decision; (n, d_ctx) with (n, d_arm) gives (n, D) for a feedback batch."""
    outer = with_bias(contexts)[..., :, None] * with_bias(arms)[..., None, :]
    return outer.reshape(outer.shape[:-2] + (-1,))
