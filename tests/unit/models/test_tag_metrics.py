"""Tag metrics: average precision by hand, calibration error of honest and overconfident models."""

from __future__ import annotations

import numpy as np
import pytest

from models.tag_metrics import (
    average_precision,
    expected_calibration_error,
    mean_average_precision_per_group,
    reliability_table,
)


def test_average_precision_matches_a_hand_computed_ranking() -> None:
    # Ranked: + − + − +  → precision at each positive 1/1, 2/3, 3/5; each adds recall 1/3.
    y = np.array([1, 0, 1, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.2])
    assert average_precision(y, p) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert average_precision(y[::-1], p[::-1]) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_average_precision_treats_ties_as_one_threshold() -> None:
    assert average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert average_precision([1, 1, 0], [0.9, 0.4, 0.4]) == pytest.approx((1 + 2 / 3) / 2)
    assert np.isnan(average_precision([0, 0], [0.3, 0.4]))


def test_average_precision_agrees_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 2)  # with ties
    assert average_precision(y, p) == pytest.approx(metrics.average_precision_score(y, p))


def test_map_per_group_uses_known_labels_only() -> None:
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    p = np.array([[0.9, 0.1, 0.8], [0.2, 0.7, 0.1], [0.3, 0.4, 0.2]])
    known = np.array([[True, True, True], [True, True, True], [True, False, True]])
    result = mean_average_precision_per_group(y, p, known, ["objects", "objects", "moods"])
    ap_tag1 = 1.0  # known rows 0, 1: the only positive ranks first
    assert result["objects"] == pytest.approx((average_precision(y[:, 0], p[:, 0]) + ap_tag1) / 2)
    assert result["moods"] == pytest.approx(1.0)
    assert result["all"] == pytest.approx(np.mean([average_precision(y[:, 0], p[:, 0]), 1, 1]))
    with pytest.raises(ValueError, match="groups"):
        mean_average_precision_per_group(y, p, known, ["objects"])


def test_ece_of_a_hand_computed_example() -> None:
    # Bin [0, .5): p̄ = .2, ȳ = .5 → .3; bin [.5, 1]: p̄ = .8, ȳ = 1 → .2; each half the weight.
    y, p = [0, 1, 1, 1], [0.2, 0.2, 0.8, 0.8]
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(0.25)


def test_ece_is_near_zero_when_calibrated_and_large_when_overconfident() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(20_000)
    y = (rng.random(truth.size) < truth).astype(int)
    assert expected_calibration_error(y, truth) < 0.02
    logit = np.log(truth / (1 - truth))
    overconfident = 1 / (1 + np.exp(-4 * logit))
    assert expected_calibration_error(y, overconfident) > 0.1


def test_reliability_table_puts_every_prediction_in_one_bin() -> None:
    table = reliability_table([0, 1, 1, 0], [0.0, 1.0, 0.55, 0.5], bins=4)
    assert [b.count for b in table] == [1, 0, 2, 1]  # p = 1 belongs to the last bin
    assert table[2].mean_probability == pytest.approx(0.525)
    assert table[2].fraction_positive == pytest.approx(0.5)
    assert np.isnan(table[1].mean_probability)


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [([1, 0], [0.5], "same number"), ([2, 0], [0.5, 0.5], "labels 0 or 1"),
     ([1, 0], [1.5, 0.5], r"\[0, 1\]")],
)  # fmt: skip
def test_bad_inputs_are_named(y, p, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(y, p)
