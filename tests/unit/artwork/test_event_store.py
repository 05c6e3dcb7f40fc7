"""EventStore: durable (WAL, synchronous=FULL), idempotent by event_id, all-or-nothing batches."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading

import pytest

from artwork.errors import ArtifactError, InputError, InputErrors, NotFoundError
from artwork.event_store import EventStore, RecordResult
from artwork.labels import TagLabel
from artwork.records import FeedbackEvent
from tests import postgres_server
from tests.conftest import run_async


def click(event_id: str, decision_id: str, event_type: str = "click", value=None) -> FeedbackEvent:
    return FeedbackEvent(
        event_id=event_id, decision_id=decision_id, type=event_type, value=value, time=10.0
    )


@pytest.fixture
def store(store_location):
    """An empty store on each backend (SQLite; PostgreSQL where a server can be started)."""
    with EventStore(store_location) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path):
    with EventStore(tmp_path / "events.db") as opened:
        yield opened


def test_the_store_uses_wal_and_full_sync(sqlite_store):
    store = sqlite_store
    assert store.journal_mode() == "wal"
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    db.close()


def test_decisions_and_events_read_back_from_a_new_store(store_location, make_decision):
    path = store_location
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


def test_incremental_reads_follow_time_then_id_and_storage_order(store, make_decision):
    tied = sorted((make_decision(created_at=20.0) for _ in range(3)), key=lambda d: d.decision_id)
    early, late = make_decision(created_at=10.0), make_decision(created_at=30.0)
    store.record_decisions([late, *tied, early])
    assert store.decisions_after(None, until=25.0, limit=10) == [early, *tied]
    after = (tied[0].created_at, tied[0].decision_id)  # a watermark inside a tie
    assert store.decisions_after(after, until=99.0, limit=2) == tied[1:]
    assert store.decision_times([late.decision_id, "f" * 32]) == {late.decision_id: 30.0}

    assert store.event_position() == 0
    store.record_events([click("a", late.decision_id), click("b", early.decision_id)])
    position = store.event_position()
    store.record_events([click("c", late.decision_id)])
    fresh, after_c = store.events_since(position)
    assert [e.event_id for e in fresh] == ["c"] and after_c == store.event_position()
    assert store.events_since(after_c) == ([], after_c)
    assert [e.event_id for e in store.events_for([late.decision_id])] == ["a", "c"]


def test_a_malformed_stored_row_is_named(sqlite_store, make_decision):
    store = sqlite_store
    decision = make_decision()
    store.record_decisions([decision])
    store.record_events([click("e1", decision.decision_id)])
    db = sqlite3.connect(store.path)
    db.execute("UPDATE decisions SET propensity = 0")
    db.execute("UPDATE events SET value = 'NaN'")
    db.commit()
    db.close()
    with pytest.raises(InputError, match=rf"decisions\['{decision.decision_id}'\]\.propensity"):
        store.decisions()
    with pytest.raises(InputError, match=r"events\['e1'\]\.value: .*NaN"):
        store.events()


def test_a_version_1_file_is_upgraded_in_place_and_keeps_its_records(
    tmp_path, make_decision, v1_event_store
):
    decision = make_decision()
    path = v1_event_store(tmp_path / "old.db", decision)
    with EventStore(path) as store:
        assert store.schema_version() == 4
        assert store.decisions() == [decision]
        assert [e.event_id for e in store.events()] == ["e-v1"]
        # version 3 filled in the stored click's viewer: it still counts as their engagement
        engaged = store.recent_activity(decision.user_id, 0.0, ("click",))[2]
        assert engaged == {decision.title_id: (decision.artwork_id, 10.0)}
        assert store.record_labels([TagLabel(artwork_id="t1_a0", tag="car", label=1)]) == 1
    db = sqlite3.connect(path)
    versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY version")]
    db.close()
    assert versions == [1, 2, 3, 4]  # the upgrades are recorded beside the original version
    with EventStore(path) as reopened:  # a second open finds nothing left to do
        assert reopened.schema_version() == 4
        assert reopened.latest_labels() == [TagLabel(artwork_id="t1_a0", tag="car", label=1)]


def test_the_latest_label_of_each_artwork_and_tag_wins(store):
    first = [TagLabel(artwork_id="a1", tag="car", label=1),
             TagLabel(artwork_id="a2", tag="dark", label=0)]  # fmt: skip
    store.record_labels(first)
    store.record_labels([TagLabel(artwork_id="a1", tag="car", label=0)])
    assert store.latest_labels() == [
        TagLabel(artwork_id="a2", tag="dark", label=0),
        TagLabel(artwork_id="a1", tag="car", label=0),
    ]


def test_accepted_events_are_counted_by_type_and_the_newest_times_reported(store, make_decision):
    assert store.newest().decision_at is None and store.newest().event_at is None
    decision = make_decision(created_at=123.0)
    store.record_decisions([decision])
    store.record_events([click("e1", decision.decision_id)])
    result = store.record_events(
        [click("e1", decision.decision_id), click("e2", decision.decision_id, "play"),
         click("e3", decision.decision_id, "play")]
    )  # fmt: skip
    assert (result.accepted, result.duplicates, dict(result.accepted_types)) == (2, 1, {"play": 2})
    newest = store.newest()
    assert newest.decision_at == 123.0 and newest.event_at is not None


def test_a_closed_store_does_not_answer_a_ping(tmp_path):
    store = EventStore(tmp_path / "events.db")
    store.ping()
    store.close()
    with pytest.raises(ArtifactError, match="does not answer"):
        store.ping()


def test_concurrent_writers_each_return_once_their_rows_are_committed(
    store_location, make_decision
):
    """Group commit: every acknowledged write is visible to a separate reader, and a writer
    whose batch is refused does not spoil the others committed beside it."""
    decision = make_decision()
    with EventStore(store_location) as writer, EventStore(store_location) as reader:
        writer.record_decisions([decision])
        missing, refused = [], []

        def post(worker: int) -> None:
            decision_id = decision.decision_id if worker else "f" * 32  # 0: an unknown one
            for i in range(10):
                event_id = f"w{worker}-{i}"
                try:
                    writer.record_events([click(event_id, decision_id)])
                except InputErrors:
                    refused.append(event_id)
                    continue
                if event_id not in {e.event_id for e in reader.events(decision_id)}:
                    missing.append(event_id)

        threads = [threading.Thread(target=post, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert missing == [] and len(refused) == 10
        assert len(reader.events()) == 50


def test_every_process_opening_a_store_reads_the_same_identity(store_location) -> None:
    with EventStore(store_location) as one, EventStore(store_location) as another:
        assert re.fullmatch("[0-9a-f]{32}", one.store_id()) and one.store_id() == another.store_id()


def test_a_store_keeps_one_identity_of_its_own(tmp_path, make_decision, v1_event_store) -> None:
    with EventStore(tmp_path / "a.db") as a, EventStore(tmp_path / "b.db") as b:
        first, other = a.store_id(), b.store_id()
    assert re.fullmatch("[0-9a-f]{32}", first) and first != other
    with EventStore(tmp_path / "a.db") as again:
        assert again.store_id() == first  # drawn once, when the store was created
    with EventStore(v1_event_store(tmp_path / "old.db", make_decision())) as upgraded:
        assert re.fullmatch("[0-9a-f]{32}", upgraded.store_id()) and upgraded.store_id() != first


def test_a_version_2_file_from_before_alembic_is_adopted(tmp_path, make_decision, v1_event_store):
    path = v1_event_store(tmp_path / "v2.db", make_decision())
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE labels (artwork_id TEXT NOT NULL, tag TEXT NOT NULL, "
        "label INTEGER NOT NULL CHECK (label IN (0, 1)), received_at REAL NOT NULL);"
        "INSERT INTO labels VALUES ('a1', 'car', 1, 5.0);"
        "INSERT INTO schema_version VALUES (2, 1700000001.0);"
    )
    db.close()
    with EventStore(path) as store:
        assert store.schema_version() == 4
        assert store.latest_labels() == [TagLabel(artwork_id="a1", tag="car", label=1)]
    db = sqlite3.connect(path)
    assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0004",)]
    assert [v for (v,) in db.execute("SELECT version FROM schema_version")] == [1, 2, 3, 4]
    indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    db.close()
    assert "decisions_by_time" in indexes  # added to files made before it was in version 1


def test_a_revision_this_code_does_not_know_is_refused(tmp_path):
    path = tmp_path / "events.db"
    EventStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE alembic_version SET version_num = '0099'")
    db.commit()
    db.close()
    with pytest.raises(ArtifactError, match="0099"):
        EventStore(path)


def test_a_sqlite_url_names_the_same_file_as_its_path(tmp_path, make_decision):
    decision = make_decision()
    with EventStore(f"sqlite:///{tmp_path / 'events.db'}") as by_url:
        by_url.record_decisions([decision])
        assert by_url.path == tmp_path / "events.db"
    with EventStore(tmp_path / "events.db") as by_path:
        assert by_path.decisions() == [decision]


def test_without_a_server_binary_the_postgresql_tests_are_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres_server, "BIN", tmp_path / "no-such-bin")
    server = postgres_server.postgres_server()
    with pytest.raises(postgres_server.ServerUnavailable, match="no PostgreSQL"):
        server.__enter__()


def test_a_batch_inserts_writers_decisions_together_and_isolates_a_failing_one(
    store, make_decision
):
    """The decisions of a batch's writers go in one insert; when one writer's would fail, the
    batch is run again writer by writer, and only that writer gets the error."""
    from artwork.event_store import DecisionWrite
    from artwork.group_commit import Ticket

    first, second, again = make_decision(), make_decision(), make_decision()
    store.record_decisions([first])
    together = [Ticket(DecisionWrite([second])), Ticket(DecisionWrite([again]))]
    store._commit_batch(together)
    assert [t.error for t in together] == [None, None]
    third, fourth = make_decision(), make_decision()
    tickets = [Ticket(DecisionWrite([third])), Ticket(DecisionWrite([first])),
               Ticket(DecisionWrite([fourth]))]  # fmt: skip
    store._commit_batch(tickets)
    assert tickets[0].error is None and tickets[2].error is None
    assert isinstance(tickets[1].error, InputErrors)
    assert tickets[1].error.errors[0].field == "decisions[0].decision_id"
    stored = {d.decision_id for d in store.decisions()}
    assert stored == {d.decision_id for d in (first, second, again, third, fourth)}


def test_async_writes_are_committed_before_they_return_and_merge_with_others(
    store_location, make_decision
):
    """``record_decisions_async``: awaited writers share batches through the committer thread;
    each returns once its rows are committed (a separate store reads them); a batch larger
    than one multi-row INSERT's chunk is stored whole; a repeated id fails only its writer."""
    pages = [[make_decision() for _ in range(k)] for k in (1, 5, 700)]  # 700 > one chunk
    with EventStore(store_location) as writer, EventStore(store_location) as reader:

        async def main() -> list:
            results = await asyncio.gather(
                *(writer.record_decisions_async(page) for page in pages),
                writer.record_decisions_async([pages[0][0]]),  # already in the first page
                return_exceptions=True,
            )
            stored = {d.decision_id for d in reader.decisions()}
            assert stored == {d.decision_id for page in pages for d in page}
            return results

        results = run_async(main())
        assert results[:3] == [None, None, None]
        assert isinstance(results[3], InputErrors)
        assert "is already recorded" in str(results[3])
        assert reader.decisions(pages[2][0].user_id)[-1].context == pages[2][-1].context
    with pytest.raises(ArtifactError, match="closed"):
        run_async(writer.record_decisions_async([make_decision()]))


def test_a_viewers_engagement_and_dismissals_are_read_from_their_own_events(
    store_location, make_decision
):
    mine, other = make_decision(user_id="me"), make_decision(user_id="someone-else")
    old = make_decision(user_id="me", title_id="t2", created_at=1.0)
    with EventStore(store_location) as store:
        store.record_decisions([mine, other, old])
        store.record_events([
            click("e1", mine.decision_id, "play"), click("e2", other.decision_id, "like"),
            FeedbackEvent(event_id="e3", decision_id=old.decision_id, type="hide", time=5.0),
            FeedbackEvent(event_id="e4", decision_id=old.decision_id, type="click", time=6.0),
        ])  # fmt: skip
        session, at, engaged, dismissed = store.recent_activity(
            "me", since=8.0, types=("click", "play"), dismissals=("hide",)
        )
    assert at == max(mine.created_at, old.created_at)
    assert set(engaged) == {mine.title_id}  # the old click is before ``since``; not another's
    assert dismissed == {"t2": (old.artwork_id, 5.0)}  # dismissals count whenever they were


def test_a_viewers_read_asks_only_for_the_kinds_of_event_named(store, make_decision):
    decision = make_decision(user_id="me", context={"device": "tv", "session": "s1"})
    store.record_decisions([decision])
    store.record_events([click("e1", decision.decision_id, "hide")])
    clicks_only = store.recent_activity("me", since=0.0, types=("click",))
    hides_only = store.recent_activity("me", since=0.0, types=(), dismissals=("hide",))
    nothing = store.recent_activity("me", since=0.0, types=())
    assert clicks_only[2:] == nothing[2:] == ({}, {})
    assert hides_only[2:] == ({}, {decision.title_id: (decision.artwork_id, 10.0)})
    assert clicks_only[:2] == hides_only[:2] == nothing[:2] == ("s1", decision.created_at)
    assert store.recent_activity("someone-else", since=0.0, types=("click",)) == (
        None, None, {}, {},
    )  # fmt: skip


def test_a_closed_store_refuses_a_viewers_read(sqlite_store):
    sqlite_store.close()
    with pytest.raises(ArtifactError, match="closed"):
        sqlite_store.recent_activity("me", since=0.0, types=("click",))


def test_decisions_alone_are_committed_without_sqlalchemy(store, make_decision, monkeypatch):
    """Serving's batches go through the driver's own cursor (SQLAlchemy's set-up would hold
    the GIL ~100 µs a commit); events still take the checked path."""
    first, second = make_decision(user_id="a"), make_decision(user_id="b")
    writing = EventStore._writing

    def not_here(self):  # noqa: ANN001
        raise AssertionError("a batch of decisions went through SQLAlchemy")

    monkeypatch.setattr(EventStore, "_writing", not_here)
    store.record_decisions([first])
    run_async(store.record_decisions_async([second]))
    monkeypatch.setattr(EventStore, "_writing", writing)
    assert store.decisions() == [first, second]
    assert store.record_events([click("e1", first.decision_id)]).accepted == 1
