"""The per-process cache of a viewer's recent activity: fresh reads, local updates, bounds."""

from __future__ import annotations

import pytest

from artwork.event_store import EventStore
from artwork.records import FeedbackEvent
from artwork.rows import Row
from artwork.selection import SelectionConfig, SelectionPipeline, UniformSelector
from artwork.viewer_activity import ViewerActivityCache

TYPES = ("click",)


class Source:
    """Counts reads; answers with what the test put in."""

    def __init__(self) -> None:
        self.reads = 0
        self.session, self.at = "s1", 100.0
        self.engaged = {"t1": ("a1", 50.0), "t2": ("a2", 90.0)}

    def recent_activity(self, user_id, since, types, dismissals=()):
        self.reads += 1
        engaged = {t: v for t, v in self.engaged.items() if v[1] >= since}
        return self.session, self.at, engaged, {"t9": ("a9", 1.0)} if dismissals else {}


def test_a_fresh_entry_is_reused_and_an_old_one_read_again() -> None:
    source = Source()
    cache = ViewerActivityCache(source, ttl_s=5.0)
    first = cache.get("v", 0.0, TYPES, now=100.0)
    assert (first.session, first.last_decision_at) == ("s1", 100.0)
    assert dict(first.engaged) == source.engaged
    cache.get("v", 0.0, TYPES, now=104.0)
    assert source.reads == 1
    cache.get("v", 0.0, TYPES, now=106.0)  # 6 s after the read: expired
    assert source.reads == 2
    cache.get("v", 0.0, TYPES, now=99.0)  # a clock that went back is no proof of freshness
    assert source.reads == 3


def test_peek_answers_from_the_cache_only() -> None:
    """What the event loop may call: a fresh entry (filtered to the window), else None."""
    source = Source()
    cache = ViewerActivityCache(source, ttl_s=5.0)
    assert cache.peek("v", 0.0, now=100.0) is None  # never read: no store read either
    cache.get("v", 0.0, TYPES, now=100.0)
    assert dict(cache.peek("v", 60.0, now=103.0).engaged) == {"t2": ("a2", 90.0)}
    assert cache.peek("v", -1.0, now=103.0) is None  # a wider window than was read
    assert cache.peek("v", 0.0, now=106.0) is None  # expired
    assert source.reads == 1


def test_a_later_window_filters_the_cached_engagement_and_an_earlier_one_reads() -> None:
    source = Source()
    cache = ViewerActivityCache(source, ttl_s=5.0)
    cache.get("v", 40.0, TYPES, now=100.0)
    later = cache.get("v", 60.0, TYPES, now=101.0)
    assert dict(later.engaged) == {"t2": ("a2", 90.0)} and source.reads == 1
    cache.get("v", 10.0, TYPES, now=101.0)  # wider than what was read: read again
    assert source.reads == 2


def test_decisions_move_the_session_clock_and_events_drop_the_entry() -> None:
    source = Source()
    cache = ViewerActivityCache(source, ttl_s=60.0)
    cache.get("v", 0.0, TYPES, now=100.0)
    cache.decided("v", "s2", 110.0)
    entry = cache.get("v", 0.0, TYPES, now=111.0)
    assert (entry.session, entry.last_decision_at, source.reads) == ("s2", 110.0, 1)
    cache.decided("unknown", "s9", 110.0)  # nothing cached: nothing to update
    cache.forget(["v", "unknown"])
    cache.get("v", 0.0, TYPES, now=112.0)
    assert source.reads == 2


def test_ttl_zero_reads_every_time_and_the_size_is_bounded() -> None:
    source = Source()
    off = ViewerActivityCache(source, ttl_s=0.0)
    for _ in range(3):
        off.get("v", 0.0, TYPES, now=100.0)
    assert source.reads == 3
    small = ViewerActivityCache(source, ttl_s=60.0, max_viewers=2)
    for viewer in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" comes
        small.get(viewer, 0.0, TYPES, now=100.0)
    reads = source.reads
    small.get("a", 0.0, TYPES, now=100.0)
    small.get("c", 0.0, TYPES, now=100.0)
    assert source.reads == reads
    small.get("b", 0.0, TYPES, now=100.0)
    assert source.reads == reads + 1
    with pytest.raises(ValueError, match="ttl_s"):
        ViewerActivityCache(source, ttl_s=-1.0)


def test_an_engagement_stored_here_sticks_at_once_despite_the_cache(tiny_catalog, tmp_path):
    rows = [Row("A", "r", ("t1", "t2"))]
    config = SelectionConfig(sticky_s=3600.0, activity_ttl_s=60.0)
    with EventStore(tmp_path / "events.db") as store:
        pipeline = SelectionPipeline(tiny_catalog, UniformSelector(), store, config)
        _, decisions = pipeline.decide_page("v", rows, {}, now=1000.0, session_id="s1")
        store.record_decisions(decisions[0])
        clicked = decisions[0][0]
        event = FeedbackEvent(event_id="e1", decision_id=clicked.decision_id, type="click",
                              time=1001.0)  # fmt: skip
        result = store.record_events([event])
        assert result.viewers == {"v"}
        pipeline.forget_viewers(result.viewers)  # what POST /v1/events does
        _, again = pipeline.decide_page("v", rows, {}, now=1002.0, session_id="s2")
        assert (again[0][0].policy, again[0][0].artwork_id) == ("sticky", clicked.artwork_id)


def test_dismissed_titles_come_with_the_same_read(tiny_catalog, tmp_path):
    config = SelectionConfig(sticky_s=3600.0, activity_ttl_s=60.0)
    with EventStore(tmp_path / "events.db") as store:
        pipeline = SelectionPipeline(tiny_catalog, UniformSelector(), store, config)
        rows = [Row("A", "r", ("t1", "t2"))]
        _, decisions = pipeline.decide_page("v", rows, {}, now=1000.0, session_id="s1")
        store.record_decisions(decisions[0])
        disliked = decisions[0][1]
        event = FeedbackEvent(event_id="d1", decision_id=disliked.decision_id, type="dislike",
                              time=1001.0)  # fmt: skip
        pipeline.forget_viewers(store.record_events([event]).viewers)
        activity = pipeline.viewer_activity("v", now=1002.0)
        assert dict(activity.dismissed) == {"t2": (disliked.artwork_id, 1001.0)}
        assert dict(activity.engaged) == {}  # a dislike is no engagement


def test_a_page_decided_with_the_activity_read_for_its_rows_reads_once(tiny_catalog, tmp_path):
    config = SelectionConfig(activity_ttl_s=0.0)  # no cache: every get reads the store
    with EventStore(tmp_path / "events.db") as store:
        pipeline = SelectionPipeline(tiny_catalog, UniformSelector(), store, config)
        reads = []
        read = store.recent_activity
        store.recent_activity = lambda *a, **k: reads.append(a) or read(*a, **k)  # type: ignore
        activity = pipeline.viewer_activity("v", now=1000.0)
        pipeline.decide_page("v", [Row("A", "r", ("t1",))], {}, now=1000.0, activity=activity)
        assert len(reads) == 1
