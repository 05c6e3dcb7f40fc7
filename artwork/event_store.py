"""The durable log of decisions and feedback events: SQLite (WAL, synchronous=FULL) or PostgreSQL.

The layout, its versions and the upgrade on open are in ``artwork.event_schema``: decisions,
events (idempotent by ``event_id``) and, from version 2, people's tag labels.

A write returns only after its transaction is committed and synced: an acknowledged decision
or event survives a crash or power loss. Writes from threads that arrive together share one
transaction and one sync (``artwork.group_commit``), so durability does not cost throughput.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from artwork import event_schema as schema
from artwork.errors import ArtifactError, InputError, NotFoundError
from artwork.event_writes import (
    DriverWrites,
    RecordResult,
    insert_decision_rows,
    insert_decisions,
    insert_events,
    rows_in,
)
from artwork.group_commit import GroupCommit, Ticket
from artwork.labels import TagLabel
from artwork.records import Decision, FeedbackEvent

log = logging.getLogger(__name__)

_WRITE_LOCK = 0x61727477  # PostgreSQL advisory lock key that serialises writers ("artw")

Write = Callable[[sa.Connection], Any]  # one caller's work inside a write transaction
Engaged = dict[str, tuple[str, float]]  # title_id -> (artwork_id, time of the latest event)


@dataclass(frozen=True)
class DecisionWrite:
    """One caller's decisions to insert: a ``Write`` that a batch may merge with others'."""

    decisions: list[Decision]

    def __call__(self, db: sa.Connection) -> None:
        insert_decisions(db, self.decisions)


def _run_together(db: sa.Connection | DriverWrites, tickets: Sequence[Ticket[Write]]) -> None:
    """Every ticket's work on ``db``, the decisions of all ``DecisionWrite`` s in one insert;
    the first failure propagates (the caller rolls back and retries writer by writer, each in a
    savepoint, where ``insert_decisions`` names any repeated id)."""
    merged = [d for t in tickets if isinstance(t.work, DecisionWrite) for d in t.work.decisions]
    if merged:
        insert_decision_rows(db, merged)
    for ticket in tickets:
        if not isinstance(ticket.work, DecisionWrite):
            ticket.result = ticket.work(db)


def store_location(text: str) -> Path | str:
    """A command line's ``--db``: a database URL (``scheme://…``) as is, else a SQLite path."""
    return text if "://" in text else Path(text)


def missing_sqlite_file(location: Path | str) -> bool:
    """Whether ``location`` names a SQLite file that does not exist (a URL never does)."""
    return isinstance(location, Path) and not location.is_file()


@dataclass(frozen=True)
class NewestRecords:
    """When the newest decision was made and the newest event stored (None: there is none)."""

    decision_at: float | None
    event_at: float | None


class EventStore:
    """Decisions and feedback events in a SQLite file (a path) or PostgreSQL (a
    ``postgresql+psycopg://`` URL); safe to share between threads.

    Reads use pooled connections (WAL lets them run beside a write). Writes go through a group
    commit: one transaction at a time per store, each holding the database's write lock (SQLite
    ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so checks made inside it still hold when
    its inserts run and ``rowid`` positions are assigned in commit order.
    """

    def __init__(self, location: Path | str, *, max_batch: int = 256) -> None:
        """Open (creating or upgrading) the store; up to ``max_batch`` concurrent writes share
        a transaction (1: each commits on its own)."""
        self.url = schema.store_url(location)
        self._sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = Path(self.url.database or "") if self._sqlite else None
        self.location = str(self.path) if self.path else self.url.render_as_string()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._closed = False
        self._store_id: str | None = None
        self._engine = schema.create_store_engine(self.url)
        self._mark = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        self._group: GroupCommit[Write] = GroupCommit(self._commit_batch, max_batch)
        try:
            self._check_journal()
            with self._writing() as db:
                schema.upgrade(db, self.location)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def local(self) -> bool:
        """Whether this store is a local file (SQLite), not a database server: its reads are
        local page reads, never a network round trip, and in WAL mode never wait for a writer."""
        return self._sqlite

    # --- writing -----------------------------------------------------------------------------

    def record_decisions(self, decisions: Iterable[Decision]) -> None:
        """Store decisions in one transaction; a decision_id already stored is an error."""
        decisions = list(decisions)
        if decisions:
            self._group.submit(DecisionWrite(decisions))

    async def record_decisions_async(self, decisions: Iterable[Decision]) -> None:
        """``record_decisions`` for a coroutine: the event loop runs on while the batch
        holding them is committed (by the group commit's committer thread)."""
        decisions = list(decisions)
        if decisions:
            if self._closed:
                raise ArtifactError(f"{self.location}: the event store is closed")
            await self._group.submit_async(DecisionWrite(decisions))

    def record_events(self, events: Sequence[FeedbackEvent]) -> RecordResult:
        """Store a batch of events, all or nothing, idempotently by ``event_id``.

        Raises ``InputErrors`` naming ``events[i].decision_id`` for each event whose decision
        is unknown; then nothing of the batch is stored.
        """
        if not events:
            return RecordResult(0, 0)
        return self._group.submit(lambda db: insert_events(db, events, time.time()))

    def record_labels(self, labels: Sequence[TagLabel]) -> int:
        """Append people's tag labels in one transaction; returns how many were stored."""
        received_at = time.time()
        rows = [{"artwork_id": x.artwork_id, "tag": x.tag, "label": x.label,
                 "received_at": received_at} for x in labels]  # fmt: skip
        if rows:
            self._group.submit(lambda db: db.execute(schema.labels.insert(), rows))
        return len(rows)

    def _commit_batch(self, tickets: Sequence[Ticket[Write]]) -> None:
        """Run writers' work in one transaction, then commit once.

        First optimistically: every writer's work in one go, the decisions of all writers in
        one insert. If anything fails, that transaction is rolled back and the batch is run
        again with each writer in a savepoint, so that one that fails (e.g. an unknown
        decision) gets its own error and leaves the others' rows in.

        A batch of decisions alone (what serving writes) runs on the driver's own connection:
        SQLAlchemy's transaction and statement set-up cost ~100 µs a commit, held under the
        GIL that the event loop's thread is waiting for."""
        decisions_only = all(isinstance(t.work, DecisionWrite) for t in tickets)
        try:
            with (self._driver_writing if decisions_only else self._writing)() as db:
                _run_together(db, tickets)
            return
        except Exception:  # retried below, writer by writer
            for ticket in tickets:
                ticket.result = None
        with self._writing() as db:
            for ticket in tickets:
                try:
                    with db.begin_nested():
                        ticket.result = ticket.work(db)
                except Exception as exc:  # this writer's own failure: handed back to it
                    ticket.error = exc

    # --- reading -----------------------------------------------------------------------------

    def decision(self, decision_id: str) -> Decision:
        """One decision; ``NotFoundError`` when it was never recorded."""
        query = sa.select(*schema.DECISION_COLUMNS).where(
            schema.decisions.c.decision_id == decision_id
        )
        with self._reading() as db:
            row = db.execute(query).first()
        if row is None:
            raise NotFoundError(f"unknown decision {decision_id!r}")
        return self._decision(row)

    def decisions(self, user_id: str | None = None) -> list[Decision]:
        """All decisions (or one user's), oldest first."""
        d = schema.decisions
        query = sa.select(*schema.DECISION_COLUMNS).order_by(d.c.created_at, d.c.rowid)
        if user_id is not None:
            query = query.where(d.c.user_id == user_id)
        with self._reading() as db:
            rows = db.execute(query).all()
        return [self._decision(row) for row in rows]

    def recent_activity(
        self, user_id: str, since: float, types: Iterable[str], dismissals: Iterable[str] = ()
    ) -> tuple[str | None, float | None, Engaged, Engaged]:
        """What a home page needs of a viewer, in one read: the session and time of their last
        decision (None, None without one); per title, the artwork through which they last
        engaged (an event of one of ``types`` at or after ``since``) and that event's time; and
        the same, of all time, for the ``dismissals`` (the titles they disliked or hid)."""
        engaging, dismissing = sorted(set(types)), sorted(set(dismissals))
        last_sql, events_sql = _viewer_reads(len(engaging), len(dismissing), self._mark)
        with self._driver_reading() as cursor:
            cursor.execute(last_sql, (user_id,))
            row = cursor.fetchone()
            events: list[tuple] = []
            if events_sql is not None:
                cursor.execute(events_sql, (user_id, *([since] if engaging else ()), *engaging,
                                            *dismissing))  # fmt: skip
                events = cursor.fetchall()
        engaged: Engaged = {}
        dismissed: Engaged = {}
        for title_id, artwork_id, at, kind in events:  # oldest first: the latest wins
            if kind in engaging and at >= since:
                engaged[title_id] = (artwork_id, float(at))
            if kind in dismissing:
                dismissed[title_id] = (artwork_id, float(at))
        if row is None:
            return None, None, engaged, dismissed
        try:
            session = json.loads(row[0]).get("session")
        except (TypeError, ValueError, AttributeError):
            session = None  # a context that is not a JSON object: start a new session
        return (session if isinstance(session, str) else None), float(row[1]), engaged, dismissed

    def decisions_after(
        self, after: tuple[float, str] | None, *, until: float, limit: int
    ) -> list[Decision]:
        """Up to ``limit`` decisions with ``(created_at, decision_id) > after`` (all when
        ``after`` is None) and ``created_at <= until``, in that order: a trainer's next ones."""
        low, low_id = after if after is not None else (float("-inf"), "")
        d = schema.decisions
        query = (
            sa.select(*schema.DECISION_COLUMNS)
            .where(sa.tuple_(d.c.created_at, d.c.decision_id) > sa.tuple_(low, low_id))
            .where(d.c.created_at <= until)
            .order_by(d.c.created_at, d.c.decision_id)
            .limit(limit)
        )
        with self._reading() as db:
            rows = db.execute(query).all()
        return [self._decision(row) for row in rows]

    def decision_times(self, decision_ids: Iterable[str]) -> dict[str, float]:
        """``created_at`` of each of these decisions that is recorded."""
        d = schema.decisions
        with self._reading() as db:
            rows = rows_in(db, sa.select(d.c.decision_id, d.c.created_at), d.c.decision_id,
                            decision_ids)  # fmt: skip
        return {decision_id: created_at for decision_id, created_at in rows}

    def events(self, decision_id: str | None = None) -> list[FeedbackEvent]:
        """All events (or one decision's), in the order they were stored."""
        query = sa.select(*schema.EVENT_COLUMNS).order_by(schema.events.c.rowid)
        if decision_id is not None:
            query = query.where(schema.events.c.decision_id == decision_id)
        with self._reading() as db:
            rows = db.execute(query).all()
        return [self._event(row) for row in rows]

    def events_for(self, decision_ids: Iterable[str]) -> list[FeedbackEvent]:
        """The events of these decisions, in the order they were stored."""
        e = schema.events
        with self._reading() as db:
            rows = rows_in(db, sa.select(e.c.rowid, *schema.EVENT_COLUMNS), e.c.decision_id,
                            decision_ids)  # fmt: skip
        return [self._event(row[1:]) for row in sorted(rows, key=lambda r: r[0])]

    def events_since(self, position: int) -> tuple[list[FeedbackEvent], int]:
        """The events stored after ``position`` (0: all), in order, and the position after them
        (pass it to the next call): a change feed for incremental readers."""
        e = schema.events
        query = sa.select(e.c.rowid, *schema.EVENT_COLUMNS).where(e.c.rowid > position)
        with self._reading() as db:
            rows = db.execute(query.order_by(e.c.rowid)).all()
        return [self._event(row[1:]) for row in rows], (int(rows[-1][0]) if rows else position)

    def event_position(self) -> int:
        """The position after the last stored event (see ``events_since``)."""
        query = sa.select(sa.func.coalesce(sa.func.max(schema.events.c.rowid), 0))
        with self._reading() as db:
            return int(db.scalar(query))

    def latest_labels(self) -> list[TagLabel]:
        """The latest label of each (artwork, tag) that has one, in the order they were stored."""
        x = schema.labels
        latest = sa.select(sa.func.max(x.c.rowid)).group_by(x.c.artwork_id, x.c.tag)
        query = (
            sa.select(x.c.artwork_id, x.c.tag, x.c.label)
            .where(x.c.rowid.in_(latest))
            .order_by(x.c.rowid)
        )
        with self._reading() as db:
            rows = db.execute(query).all()
        return [TagLabel(artwork_id=a, tag=t, label=int(v)) for a, t, v in rows]

    def newest(self) -> NewestRecords:
        """When the newest decision was made and the newest event stored (for lag gauges)."""
        e = schema.events
        with self._answering() as db:
            decision_at = db.scalar(sa.select(sa.func.max(schema.decisions.c.created_at)))
            event_at = db.scalar(sa.select(e.c.received_at).order_by(e.c.rowid.desc()).limit(1))
        return NewestRecords(decision_at, event_at)

    def ping(self) -> None:
        """Answer a trivial query; ``ArtifactError`` when the store cannot (e.g. closed)."""
        with self._answering() as db:
            db.execute(sa.select(sa.literal(1)).select_from(schema.schema_version).limit(1))

    def store_id(self) -> str:
        """This store's identity: a random id drawn once, when it was created (or upgraded to
        schema version 4), the same from every process and replica that opens it."""
        if self._store_id is None:
            with self._reading() as db:
                self._store_id = str(db.scalar(sa.select(schema.store_identity.c.store_id)))
        return self._store_id

    def schema_version(self) -> int:
        """The layout version this store uses (``artwork.event_schema``)."""
        with self._reading() as db:
            return int(db.scalar(sa.select(sa.func.max(schema.schema_version.c.version))))

    def journal_mode(self) -> str:
        """SQLite's journal mode for this file (``wal``); PostgreSQL always writes ahead."""
        if not self._sqlite:
            return "wal"
        with self._reading() as db:
            return str(db.exec_driver_sql("PRAGMA journal_mode").scalar())

    def close(self) -> None:
        """Commit what async writers queued, close the connections; later calls fail. Closing
        twice is harmless."""
        self._group.close()
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------------

    def _check_journal(self) -> None:
        if not self._sqlite:
            return
        try:
            mode = self.journal_mode()
        except sa.exc.DatabaseError as exc:  # e.g. "file is not a database"
            raise ArtifactError(f"{self.location}: not an event store: {exc.orig}") from exc
        if mode.lower() != "wal":
            raise ArtifactError(f"{self.location}: cannot use WAL journaling (got {mode!r})")

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        if self._closed:
            raise ArtifactError(f"{self.location}: the event store is closed")
        with self._engine.connect() as db:
            yield db

    @contextmanager
    def _driver_cursor(self) -> Iterator[tuple[Any, Any]]:
        """A pooled connection (the driver's own, no SQLAlchemy on its calls) and a cursor on
        it; the cursor is closed and the connection handed back (rolled back) afterwards."""
        if self._closed:
            raise ArtifactError(f"{self.location}: the event store is closed")
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                yield connection, cursor
            finally:
                cursor.close()
        finally:
            connection.close()

    @contextmanager
    def _driver_reading(self) -> Iterator[Any]:
        """A driver cursor in one read transaction, for reads made on a request's path: SQL
        run through the driver's own cursor costs a viewer's read ~12 µs of CPU, through
        SQLAlchemy's ``execute`` ~150 µs (statement set-up, events and result wrapping)."""
        with self._driver_cursor() as (_, cursor):
            if self._sqlite:  # the driver leaves BEGIN to us (see create_store_engine)
                cursor.execute("BEGIN")
            yield cursor

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """One write transaction holding the database's write lock; commits on success."""
        with self._reading() as db:
            db.execution_options(write=True)  # SQLite: BEGIN IMMEDIATE
            with db.begin():
                if not self._sqlite:
                    db.execute(sa.select(sa.func.pg_advisory_xact_lock(_WRITE_LOCK)))
                yield db

    @contextmanager
    def _driver_writing(self) -> Iterator[DriverWrites]:
        """``_writing`` on the driver's own connection: the same write lock and commit, for
        statements that ``insert_rows`` runs."""
        with self._driver_cursor() as (connection, cursor):
            try:
                if self._sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                else:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
                yield DriverWrites(cursor, self._engine.dialect)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise

    @contextmanager
    def _answering(self) -> Iterator[sa.Connection]:
        """A read whose failure (e.g. a closed store) is an ``ArtifactError``."""
        try:
            with self._reading() as db:
                yield db
        except (ArtifactError, sa.exc.SQLAlchemyError) as exc:
            raise ArtifactError(f"{self.location}: the event store does not answer: {exc}") from exc

    def _decision(self, row: tuple) -> Decision:
        """A stored decision row as a record; a malformed row is an ``InputError`` naming it."""
        parsed = {}
        for name, column in (("candidates", 3), ("context", 9)):
            try:
                parsed[name] = json.loads(row[column])
            except (TypeError, ValueError) as exc:
                raise self._bad_row("decisions", row[0], name, f"not JSON: {exc}") from None
        try:
            return Decision(
                decision_id=row[0], user_id=row[1], title_id=row[2],
                candidates=tuple(parsed["candidates"]), artwork_id=row[4], propensity=row[5],
                policy=row[6], policy_version=row[7], seed=row[8], context=parsed["context"],
                created_at=row[10],
            )  # fmt: skip
        except InputError as exc:
            raise self._bad_row("decisions", row[0], exc.field, exc.reason) from None
        except TypeError as exc:  # candidates not a list
            raise self._bad_row("decisions", row[0], "candidates", str(exc)) from None

    def _event(self, row: tuple) -> FeedbackEvent:
        """A stored event row as a record; a malformed row is an ``InputError`` naming it."""
        try:
            return FeedbackEvent(
                event_id=row[0], decision_id=row[1], type=row[2], value=row[3], time=row[4]
            )
        except InputError as exc:
            reason = f"{exc.reason} (decision {row[1]!r})"
            raise self._bad_row("events", row[0], exc.field, reason) from None

    def _bad_row(self, table: str, key: object, field: str | None, reason: str) -> InputError:
        return InputError(reason, file=self.location, field=f"{table}[{key!r}].{field}")


@functools.lru_cache(maxsize=64)
def _viewer_reads(n_engaging: int, n_dismissing: int, mark: str) -> tuple[str, str | None]:
    """A viewer's reads as the driver's SQL (``mark``: its placeholder): their last decision,
    and the events of the types asked for (engagement since a time, dismissals ever) with the
    image each came through; None for the second when no type is asked for. Parameters: the
    user id; then the time and the engaging types, the dismissing types."""
    last = (
        f"SELECT context, created_at FROM decisions WHERE user_id = {mark} "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1"
    )
    kinds = []
    if n_engaging:
        kinds.append(f"(e.time >= {mark} AND e.type IN ({', '.join([mark] * n_engaging)}))")
    if n_dismissing:
        kinds.append(f"e.type IN ({', '.join([mark] * n_dismissing)})")
    if not kinds:
        return last, None
    events = (
        "SELECT d.title_id, d.artwork_id, e.time, e.type FROM events e "
        f"JOIN decisions d ON d.decision_id = e.decision_id WHERE e.user_id = {mark} "
        f"AND ({' OR '.join(kinds)}) ORDER BY e.time, e.rowid"
    )
    return last, events
