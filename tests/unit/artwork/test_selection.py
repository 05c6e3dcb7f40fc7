"""Selectors: the logged propensity is the probability of what was actually chosen."""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np
import pytest

from artwork.catalog import ArtworkCandidate, Catalog, Title
from artwork.errors import InputError
from artwork.event_store import EventStore
from artwork.records import FeedbackEvent
from artwork.rows import Row
from artwork.selection import (
    SelectionConfig,
    SelectionPipeline,
    Selector,
    UniformSelector,
    session_seed,
)

CANDIDATES = tuple(ArtworkCandidate(f"a{k}", "t", f"images/a{k}.jpg") for k in range(5))


class Skewed(Selector):
    """A fixed non-uniform policy, to check the sampling every selector shares."""

    name, version = "skewed", "0"
    probabilities = np.array([0.5, 0.25, 0.15, 0.07, 0.03])

    def distribution(self, user_id, title_id, candidates, context):
        p = self.probabilities[: len(candidates)]
        return p / p.sum()


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


NOW = 1_750_000_000.0
ROWS = [Row("A", "r", ("t1", "t2")), Row("B", "r", ("t5",))]


@pytest.fixture
def pipeline(tiny_catalog, tmp_path):
    with EventStore(tmp_path / "events.db") as store:
        yield SelectionPipeline(tiny_catalog, Skewed(), store, SelectionConfig(sticky_s=3600.0))


def _page(pipeline, user="v1", now=NOW, **kwargs):
    rows, decisions = pipeline.decide_page(user, ROWS, {"device": "tv", "hour": 8}, now=now,
                                           **kwargs)  # fmt: skip
    pipeline.store.record_decisions(d for row in decisions for d in row)
    return rows, decisions


def _event(decision, kind, at):
    return FeedbackEvent(event_id=f"e-{kind}", decision_id=decision.decision_id, type=kind, time=at)


def test_a_page_gives_one_decision_per_title_with_its_place(pipeline):
    rows, decisions = _page(pipeline, session_id="s1")
    assert rows == ROWS
    assert [[d.title_id for d in row] for row in decisions] == [["t1", "t2"], ["t5"]]
    second = decisions[0][1]
    assert dict(second.context) == {
        "device": "tv", "hour": 8, "session": "s1", "row": "A", "row_index": 0, "position": 1,
    }  # fmt: skip
    assert second.seed == session_seed("s1", "t2") and second.created_at == NOW
    expected = Skewed().distribution("v1", "t2", pipeline.catalog.candidates("t2"), {})
    assert second.propensity == expected[second.candidates.index(second.artwork_id)]


def test_missing_device_and_hour_are_filled_and_logged(pipeline):
    _, decisions = pipeline.decide_page("v1", ROWS, {}, now=NOW)
    context = decisions[0][0].context
    assert context["device"] == "web" and context["hour"] == time.gmtime(NOW).tm_hour


def test_choices_are_stable_within_a_session_and_redrawn_in_a_new_one(pipeline):
    _, first = _page(pipeline)
    _, again = _page(pipeline, now=NOW + 600)  # 10 minutes later: the same session
    assert first[0][0].context["session"] == again[0][0].context["session"]
    assert [d.seed for r in first for d in r] == [d.seed for r in again for d in r]
    assert [d.artwork_id for r in first for d in r] == [d.artwork_id for r in again for d in r]
    _, later = _page(pipeline, now=NOW + 600 + 31 * 60)  # after 31 idle minutes: a new session
    assert later[0][0].context["session"] != first[0][0].context["session"]
    _, other = _page(pipeline, session_id="client-session")
    assert other[0][0].context["session"] == "client-session"


def test_an_image_engaged_with_sticks_until_the_window_ends(pipeline):
    _, decisions = _page(pipeline, session_id="s1")
    clicked = decisions[0][1]
    pipeline.store.record_events([_event(clicked, "click", NOW + 5)])
    for session in ("s2", "s3", "s4"):  # new sessions: only stickiness keeps the image
        _, again = _page(pipeline, now=NOW + 60, session_id=session)
        sticky = again[0][1]
        assert (sticky.artwork_id, sticky.candidates) == (clicked.artwork_id, (clicked.artwork_id,))
        assert (sticky.policy, sticky.propensity) == ("sticky", 1.0)
        assert "engaged" in pipeline.why(sticky)
        assert again[0][0].policy == "skewed"  # other titles are unaffected
        page = [d for row in again for d in row]  # a page's sentences: each from its own maker
        assert pipeline.explain(page) == [pipeline.why(d) for d in page]
        assert pipeline.explain(page)[1] == pipeline._sticky.why(sticky)
    _, expired = _page(pipeline, now=NOW + 5 + 3601, session_id="s5")
    assert expired[0][1].policy == "skewed"


def test_an_impression_does_not_make_an_image_stick(pipeline):
    _, decisions = _page(pipeline, session_id="s1")
    seen = decisions[0][1]
    pipeline.store.record_events([_event(seen, "impression", NOW)])
    _, again = _page(pipeline, now=NOW + 60, session_id="s2")
    assert again[0][1].policy == "skewed"


def test_ineligible_images_and_titles_are_left_out(tmp_path):
    titles = {"t1": Title("t1", "One", ("Drama",), 2000, "PG"),
              "t2": Title("t2", "Two", ("Drama",), 2000, "R")}  # fmt: skip
    art = [ArtworkCandidate("a1", "t1", "a1.jpg"),
           ArtworkCandidate("a2", "t1", "a2.jpg", maturity="R"),
           ArtworkCandidate("a3", "t1", "a3.jpg", available_until=NOW - 1),
           ArtworkCandidate("a4", "t2", "a4.jpg")]  # fmt: skip
    by_title = {"t1": tuple(art[:3]), "t2": (art[3],)}
    catalog = Catalog(tmp_path, titles, {a.artwork_id: a for a in art}, by_title)
    with EventStore(tmp_path / "events.db") as store:
        pipeline = SelectionPipeline(catalog, UniformSelector(), store)
        rows, decisions = pipeline.decide_page(
            "v", [Row("A", "r", ("t1", "t2"))], {}, max_maturity="PG", now=NOW
        )
        assert rows == [Row("A", "r", ("t1",))]  # t2 is rated R
        assert decisions[0][0].candidates == ("a1",)  # a2 is rated R, a3 has expired
        assert decisions[0][0].propensity == 1.0
        rows, decisions = pipeline.decide_page("v", [Row("A", "r", ("t1", "t2"))], {}, now=NOW)
        assert [d.candidates for d in decisions[0]] == [("a1", "a2"), ("a4",)]
        assert pipeline.decide_title("v", "t2", {}, max_maturity="PG-13", now=NOW) is None


def test_a_viewers_usual_device_and_hour_fill_a_request_without_them(tiny_catalog, tmp_path):
    config = SelectionConfig(usual_context={"v1": ("mobile", 7)})
    with EventStore(tmp_path / "events.db") as store:
        pipeline = SelectionPipeline(tiny_catalog, UniformSelector(), store, config)
        known = pipeline.decide_title("v1", "t1", {}, now=NOW)
        given = pipeline.decide_title("v1", "t1", {"device": "tv", "hour": 0}, now=NOW)
        other = pipeline.decide_title("v2", "t1", {}, now=NOW)
    assert (known.context["device"], known.context["hour"]) == ("mobile", 7)
    assert (given.context["device"], given.context["hour"]) == ("tv", 0)
    assert (other.context["device"], other.context["hour"]) == ("web", time.gmtime(NOW).tm_hour)
