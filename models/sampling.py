"""The one way a logged seed turns a distribution into a choice, so any decision can be replayed.

    u = splitmix64(seed) / 2⁶⁴ ∈ [0, 1),   index = the first i with Σ_{j ≤ i} p_j > u · Σ p

splitmix64 (Steele, Lea & Flood 2014) is a bijective 64-bit mixer with good avalanche, so u is
uniform over seeds drawn at random (``secrets.randbits(63)``) and the empirical frequency of each
index matches its probability; it costs about a microsecond, against ~30 µs for building a numpy
Generator per decision.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import numpy as np

_MASK = (1 << 64) - 1


def seed_uniform(seed: int) -> float:
    """A uniform in [0, 1) determined by ``seed`` (any int; taken modulo 2⁶⁴)."""
    z = (seed + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return (z >> 11) * 2.0**-53


def sample_index(probabilities: np.ndarray | Sequence[float], seed: int) -> int:
    """The index drawn from ``probabilities`` (≥ 0, positive sum) with ``seed``."""
    if isinstance(probabilities, np.ndarray):
        probabilities = probabilities.tolist()  # K is small: plain floats
    cumulative = list(itertools.accumulate(probabilities))
    index = bisect.bisect_right(cumulative, seed_uniform(seed) * cumulative[-1])
    return min(index, len(cumulative) - 1)
