"""Ragged batches: per-decision reductions over stacked candidate rows."""

from __future__ import annotations

import numpy as np
import pytest

from models.bandits import PolicyError
from models.bandits.base import apply_floor, argmax_distribution
from models.bandits.segments import Segments


def test_layout_and_reductions_follow_the_counts() -> None:
    segments = Segments([2, 1, 3])
    assert len(segments) == 3 and segments.rows == 6
    assert segments.owner.tolist() == [0, 0, 1, 2, 2, 2]
    assert segments.slices() == [slice(0, 2), slice(2, 3), slice(3, 6)]
    values = np.array([1.0, 5.0, -2.0, 3.0, 9.0, 0.5])
    assert segments.sum(values).tolist() == [6.0, -2.0, 12.5]
    assert segments.max(values).tolist() == [5.0, -2.0, 9.0]
    assert [part.tolist() for part in segments.split(values)] == [[1, 5], [-2], [3, 9, 0.5]]


def test_argmax_and_floor_equal_the_single_decision_functions() -> None:
    rng = np.random.default_rng(0)
    counts = [1, 4, 3, 6, 2]
    scores = rng.integers(0, 3, sum(counts)).astype(float)  # small integers: many exact ties
    segments = Segments(counts)
    batch = segments.argmax_distribution(scores)
    floored = segments.apply_floor(batch, 0.2)
    for rows, part, part_floored in zip(segments.slices(), segments.split(batch),
                                        segments.split(floored), strict=True):  # fmt: skip
        best = scores[rows] == scores[rows].max()
        assert part.tolist() == (best / best.sum()).tolist()
        assert part.tolist() == argmax_distribution(scores[rows]).tolist()
        assert part_floored.tolist() == apply_floor(part, 0.2).tolist()  # bit for bit


@pytest.mark.parametrize("counts", [[], [2, 0], [[1, 2]], [-1]])
def test_every_decision_needs_a_candidate(counts: list) -> None:
    with pytest.raises(PolicyError, match="candidate counts"):
        Segments(counts)


def test_scores_equal_up_to_rounding_tie_and_real_gaps_do_not() -> None:
    segments = Segments([3, 3, 2])
    big = 1e6
    scores = np.array([
        0.3, 0.1 + 0.2, 0.2,  # 0.30000000000000004 against 0.3: a tie
        big, big * (1 - 1e-12), big * (1 - 1e-6),  # relative: a tie, then a real gap
        -5.0, -5.0 + 1e-6,  # a gap well above the tolerance
    ])  # fmt: skip
    p = segments.argmax_distribution(scores)
    np.testing.assert_allclose(p, [0.5, 0.5, 0, 0.5, 0.5, 0, 0, 1])
    assert argmax_distribution(scores[:3]).tolist() == p[:3].tolist()
