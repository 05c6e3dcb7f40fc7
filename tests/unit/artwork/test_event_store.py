"""EventStore: durable (WAL, synchronous=FULL), idempotent by event_id, all-or-nothing batches."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from artwork.errors import ArtifactError, InputErrors, NotFoundError
from artwork.event_store import EventStore, RecordResult
from artwork.records import FeedbackEvent


def click(event_id: str, decision_id: str, event_type: str = "click", value=None) -> FeedbackEvent:
    return FeedbackEvent(
        event_id=event_id, decision_id=decision_id, type=event_type, value=value, time=10.0
    )


@pytest.fixture
def store(tmp_path):
    with EventStore(tmp_path / "events.db") as opened:
        yield opened


def test_the_store_uses_wal_and_full_sync(store):
    assert store.journal_mode() == "wal"
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    db.close()


def test_decisions_and_events_read_back_from_a_new_store(tmp_path, make_decision):
    path = tmp_path / "log" / "events.db"
    first, second = make_decision(user_id="v1"), make_decision(user_id="v2", title_id="t1")
    with EventStore(path) as store:
        store.record_decisions([first, second])
        result = store.record_events(
            [click("e1", first.decision_id), click("e2", first.decision_id, "watch_seconds", 42.5)]
        )
    assert result == RecordResult(accepted=2, duplicates=0)
    with EventStore(path) as reopened:
        assert reopened.decisions() == [first, second]
        assert reopened.decisions(user_id="v2") == [second]
        assert reopened.decision(first.decision_id) == first
        events = reopened.events(first.decision_id)
        assert [(e.event_id, e.type, e.value) for e in events] == [
            ("e1", "click", 1.0),
            ("e2", "watch_seconds", 42.5),
        ]
        assert reopened.events(second.decision_id) == []


def test_a_repeated_event_id_is_stored_once(store, make_decision):
    decision = make_decision()
    store.record_decisions([decision])
    assert store.record_events([click("e1", decision.decision_id)]) == RecordResult(1, 0)
    again = [click("e1", decision.decision_id), click("e2", decision.decision_id)]
    assert store.record_events(again) == RecordResult(accepted=1, duplicates=1)
    within = [click("e3", decision.decision_id), click("e3", decision.decision_id)]
    assert store.record_events(within) == RecordResult(accepted=1, duplicates=1)
    assert [e.event_id for e in store.events()] == ["e1", "e2", "e3"]


def test_an_unknown_decision_stores_nothing_from_the_batch(store, make_decision):
    decision = make_decision()
    store.record_decisions([decision])
    store.record_events([click("before", decision.decision_id)])
    batch = [click("ok", decision.decision_id), click("bad", "f" * 32), click("bad2", "nope")]
    with pytest.raises(InputErrors) as caught:
        store.record_events(batch)
    assert [e.field for e in caught.value.errors] == [
        "events[1].decision_id",
        "events[2].decision_id",
    ]
    assert [e.event_id for e in store.events()] == ["before"]
    assert store.decisions() == [decision]


def test_a_decision_id_cannot_be_recorded_twice(store, make_decision):
    decision = make_decision()
    store.record_decisions([decision])
    with pytest.raises(InputErrors):
        store.record_decisions([make_decision(), decision])
    assert store.decisions() == [decision]


def test_an_unknown_decision_is_not_found(store):
    with pytest.raises(NotFoundError):
        store.decision("0" * 32)


def test_a_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "events.db"
    EventStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(ArtifactError, match="version 99"):
        EventStore(path)


def test_a_file_that_is_not_an_event_store_is_refused(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArtifactError):
        EventStore(garbage)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE something (x)")
    db.close()
    with pytest.raises(ArtifactError, match="schema_version"):
        EventStore(other)


def test_threads_can_write_concurrently(store, make_decision):
    decision = make_decision()
    store.record_decisions([decision])

    def post(worker: int) -> None:
        for i in range(20):
            store.record_events([click(f"w{worker}-{i}", decision.decision_id)])

    threads = [threading.Thread(target=post, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.events()) == 80
