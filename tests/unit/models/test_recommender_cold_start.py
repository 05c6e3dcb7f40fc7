"""Cold-start items: scored by content between a typical title and the viewer's best."""

from __future__ import annotations

import numpy as np
import pytest

from models.recommenders import RecommenderError
from models.recommenders.cold_start import score_cold_items

# items 0-3 genre A, 4-7 genre B, 8 new A, 9 new B
CONTENT = np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 4 + [[1.0, 0.0], [0.0, 1.0]])
SCORES = np.array([0.0, 0.9, 0.8, 0.7, 0.1, 0.2, 0.05, 0.0, 0.0, 0.0])
COLD = np.array([8, 9])


def test_a_matching_cold_item_scores_high_but_not_first():
    out = score_cold_items(SCORES, np.array([0]), CONTENT, COLD)
    rivals = SCORES[1:8]
    assert out[8] == pytest.approx(np.median(np.sort(rivals)[-3:]))  # perfect match: cap
    assert out[9] == pytest.approx(np.median(rivals))  # nothing in common: a typical item
    assert out[8] < rivals.max()
    np.testing.assert_array_equal(out[:8], SCORES[:8])  # warm items untouched


def test_a_partial_match_lies_between_and_no_profile_means_typical():
    out = score_cold_items(SCORES, np.array([0, 4]), CONTENT, COLD)
    rivals = np.delete(SCORES[:8], [0, 4])
    mid, cap = np.median(rivals), np.median(np.sort(rivals)[-3:])
    assert out[8] == pytest.approx(out[9])  # both genres equally liked
    assert out[8] == pytest.approx(mid + np.sqrt(0.5) * (cap - mid))
    blank = score_cold_items(SCORES, np.array([], dtype=np.int64), CONTENT, COLD)
    assert blank[8] == blank[9] == pytest.approx(np.median(SCORES[:8]))


def test_no_cold_items_changes_nothing_and_bad_content_is_refused():
    same = score_cold_items(SCORES, np.array([0]), CONTENT, np.zeros(10, bool))
    np.testing.assert_array_equal(same, SCORES)
    with pytest.raises(RecommenderError, match="content"):
        score_cold_items(SCORES, np.array([0]), CONTENT[:5], COLD)
