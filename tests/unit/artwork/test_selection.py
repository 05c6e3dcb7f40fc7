"""Selectors: the logged propensity is the probability of what was actually chosen."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from artwork.catalog import ArtworkCandidate
from artwork.errors import InputError
from artwork.rows import Row
from artwork.selection import Selector, UniformSelector, decide_rows

CANDIDATES = tuple(ArtworkCandidate(f"a{k}", "t", f"images/a{k}.jpg") for k in range(5))


class Skewed(Selector):
    """A fixed non-uniform policy, to check the sampling every selector shares."""

    name, version = "skewed", "0"
    probabilities = np.array([0.5, 0.25, 0.15, 0.07, 0.03])

    def distribution(self, user_id, title_id, candidates, context):
        return self.probabilities[: len(candidates)]


def test_uniform_gives_exactly_one_over_k():
    selector = UniformSelector()
    assert selector.distribution("u", "t", CANDIDATES, {}).tolist() == [0.2] * 5
    decision = selector.decide("u", "t", CANDIDATES, {"device": "tv"}, seed=3)
    assert decision.propensity == 1 / 5
    assert decision.candidates == tuple(c.artwork_id for c in CANDIDATES)
    assert (decision.policy, decision.policy_version, decision.seed) == ("uniform", "1", 3)
    assert dict(decision.context) == {"device": "tv"}
    assert "5 images" in selector.why(decision)


def test_a_seed_reproduces_the_choice_and_a_missing_one_is_logged():
    selector = UniformSelector()
    chosen = {selector.decide("u", "t", CANDIDATES, {}, seed=s).artwork_id for s in range(3)}
    again = {selector.decide("u", "t", CANDIDATES, {}, seed=s).artwork_id for s in range(3)}
    assert chosen == again
    drawn = selector.decide("u", "t", CANDIDATES, {})
    assert 0 <= drawn.seed < 2**63
    assert selector.decide("u", "t", CANDIDATES, {}, seed=drawn.seed).artwork_id == drawn.artwork_id


@pytest.mark.parametrize("selector", [UniformSelector(), Skewed()], ids=lambda s: s.name)
def test_empirical_frequencies_match_the_logged_propensities(selector):
    draws = 20_000
    decisions = [selector.decide("u", "t", CANDIDATES, {}, seed=s) for s in range(draws)]
    counts = Counter(d.artwork_id for d in decisions)
    propensity = {d.artwork_id: d.propensity for d in decisions}
    expected = selector.distribution("u", "t", CANDIDATES, {})
    for k, candidate in enumerate(CANDIDATES):
        p = propensity[candidate.artwork_id]
        assert p == expected[k]
        # 5 binomial standard deviations: a false alarm about once in 1.7 million runs.
        tolerance = 5 * math.sqrt(p * (1 - p) / draws)
        assert abs(counts[candidate.artwork_id] / draws - p) < tolerance


def test_no_candidates_or_foreign_candidates_are_refused():
    with pytest.raises(InputError, match="no artwork"):
        UniformSelector().decide("u", "t", (), {})
    foreign = (ArtworkCandidate("x", "other", "images/x.jpg"),)
    with pytest.raises(InputError, match="belongs to title"):
        UniformSelector().decide("u", "t", foreign, {})


def test_decide_rows_gives_one_decision_per_title_with_its_place(tiny_catalog):
    rows = [Row("A", "r", ("t1", "t2")), Row("B", "r", ("t5",))]
    decisions = decide_rows(
        UniformSelector(), tiny_catalog, rows, "v1", {"device": "web", "hour": 8}
    )
    assert [[d.title_id for d in row] for row in decisions] == [["t1", "t2"], ["t5"]]
    second = decisions[0][1]
    assert dict(second.context) == {
        "device": "web", "hour": 8, "row": "A", "row_index": 0, "position": 1,
    }  # fmt: skip
    assert second.propensity == 1 / len(tiny_catalog.candidates("t2"))
