"""The durable log of decisions and feedback events, in one SQLite file (WAL, synchronous=FULL).

The layout and its versions are in ``artwork.event_schema``: decisions, events (idempotent
by ``event_id``) and, from version 2, people's tag labels; an older file is upgraded on open.

A write returns only after its transaction is committed and synced: an acknowledged decision
or event survives a crash or power loss.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from artwork.errors import ArtifactError, InputError, InputErrors, NotFoundError
from artwork.event_schema import migrate
from artwork.labels import TagLabel
from artwork.records import Decision, FeedbackEvent

log = logging.getLogger(__name__)

_IN_CHUNK = 500  # ids per "IN (...)" query, well under SQLite's bound-variable limit

_DECISION_COLUMNS = (
    "decision_id, user_id, title_id, candidates, artwork_id, propensity, policy, "
    "policy_version, seed, context, created_at"
)
_EVENT_COLUMNS = "event_id, decision_id, type, value, time"


@dataclass(frozen=True)
class RecordResult:
    """What a batch of events did: newly stored, and already stored under the same event_id."""

    accepted: int
    duplicates: int
    # newly stored per event type; a summary, left out of comparisons
    accepted_types: Mapping[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class NewestRecords:
    """When the newest decision was made and the newest event stored (None: there is none)."""

    decision_at: float | None
    event_at: float | None


class EventStore:
    """Decisions and feedback events in a SQLite file; safe to share between threads.

    One connection guarded by one lock: SQLite serialises writers anyway, and a single
    connection can be closed for certain by ``close()``, which per-thread connections in a
    thread pool cannot. Reads take the lock too; WAL lets other processes read meanwhile.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each batch is exactly
            # one transaction; timeout waits for another process's write lock.
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise ArtifactError(f"{self.path}: cannot open the event store: {exc}") from exc
        try:
            self._configure()
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    # --- writing -----------------------------------------------------------------------------

    def record_decisions(self, decisions: Iterable[Decision]) -> None:
        """Store decisions in one transaction; a decision_id already stored is an error."""
        decisions = list(decisions)
        if not decisions:
            return
        with self._transaction() as db:
            ids = [d.decision_id for d in decisions]
            known = self._existing_decisions(db, ids)
            errors = [
                InputError(
                    f"decision {d.decision_id!r} is already recorded",
                    field=f"decisions[{i}].decision_id",
                )
                for i, d in enumerate(decisions)
                if d.decision_id in known
            ]
            if len(set(ids)) != len(ids):
                errors.append(InputError("repeated decision_id within the batch"))
            if errors:
                raise InputErrors(errors)
            db.executemany(
                f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        d.decision_id, d.user_id, d.title_id, json.dumps(list(d.candidates)),
                        d.artwork_id, d.propensity, d.policy, d.policy_version, d.seed,
                        d.context_json(), d.created_at,
                    )
                    for d in decisions
                ],
            )  # fmt: skip

    def record_events(self, events: Sequence[FeedbackEvent]) -> RecordResult:
        """Store a batch of events, all or nothing, idempotently by ``event_id``.

        Raises ``InputErrors`` naming ``events[i].decision_id`` for each event whose decision
        is unknown; then nothing of the batch is stored.
        """
        if not events:
            return RecordResult(0, 0)
        received_at = time.time()
        with self._transaction() as db:
            known = self._existing_decisions(db, [e.decision_id for e in events])
            errors = [
                InputError(f"unknown decision {e.decision_id!r}", field=f"events[{i}].decision_id")
                for i, e in enumerate(events)
                if e.decision_id not in known
            ]
            if errors:
                raise InputErrors(errors)
            accepted: Counter[str] = Counter()
            for e in events:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO events "
                    "(event_id, decision_id, type, value, time, received_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (e.event_id, e.decision_id, e.type, e.value, e.time, received_at),
                )
                accepted[e.type] += cursor.rowcount
        total = sum(accepted.values())
        return RecordResult(total, len(events) - total, MappingProxyType(+accepted))

    def record_labels(self, labels: Sequence[TagLabel]) -> int:
        """Append people's tag labels in one transaction; returns how many were stored."""
        received_at = time.time()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO labels (artwork_id, tag, label, received_at) VALUES (?,?,?,?)",
                [(x.artwork_id, x.tag, x.label, received_at) for x in labels],
            )
        return len(labels)

    # --- reading -----------------------------------------------------------------------------

    def decision(self, decision_id: str) -> Decision:
        """One decision; ``NotFoundError`` when it was never recorded."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE decision_id = ?", (decision_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"unknown decision {decision_id!r}")
        return self._decision(row)

    def decisions(self, user_id: str | None = None) -> list[Decision]:
        """All decisions (or one user's), oldest first."""
        query = f"SELECT {_DECISION_COLUMNS} FROM decisions"
        params: tuple[str, ...] = ()
        if user_id is not None:
            query, params = query + " WHERE user_id = ?", (user_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created_at, rowid", params).fetchall()
        return [self._decision(row) for row in rows]

    def last_decision(self, user_id: str) -> Decision | None:
        """The user's most recent decision (None for a user with none)."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE user_id = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (user_id,),
            ).fetchone()
        return None if row is None else self._decision(row)

    def engaged_artwork(
        self, user_id: str, since: float, types: Iterable[str]
    ) -> dict[str, tuple[str, float]]:
        """Per title, the artwork through which the user last engaged (an event of one of
        ``types`` at or after ``since``) and that event's time: {title_id: (artwork_id, time)}."""
        kinds = sorted(set(types))
        marks = ", ".join("?" * len(kinds))
        with self._lock:
            rows = self._db.execute(
                "SELECT d.title_id, d.artwork_id, e.time FROM decisions d "
                "JOIN events e ON e.decision_id = d.decision_id "
                f"WHERE d.user_id = ? AND e.time >= ? AND e.type IN ({marks}) "
                "ORDER BY e.time, e.rowid",
                (user_id, since, *kinds),
            ).fetchall()
        return {title_id: (artwork_id, float(t)) for title_id, artwork_id, t in rows}  # latest wins

    def decisions_after(
        self, after: tuple[float, str] | None, *, until: float, limit: int
    ) -> list[Decision]:
        """Up to ``limit`` decisions with ``(created_at, decision_id) > after`` (all when
        ``after`` is None) and ``created_at <= until``, in that order: a trainer's next ones."""
        low, low_id = after if after is not None else (float("-inf"), "")
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions "
                "WHERE (created_at, decision_id) > (?, ?) AND created_at <= ? "
                "ORDER BY created_at, decision_id LIMIT ?",
                (low, low_id, until, limit),
            ).fetchall()
        return [self._decision(row) for row in rows]

    def decision_times(self, decision_ids: Iterable[str]) -> dict[str, float]:
        """``created_at`` of each of these decisions that is recorded."""
        with self._lock:
            select = "SELECT decision_id, created_at FROM decisions"
            return dict(_rows_in(self._db, select, "decision_id", decision_ids))

    def events(self, decision_id: str | None = None) -> list[FeedbackEvent]:
        """All events (or one decision's), in the order they were stored."""
        query = f"SELECT {_EVENT_COLUMNS} FROM events"
        params: tuple[str, ...] = ()
        if decision_id is not None:
            query, params = query + " WHERE decision_id = ?", (decision_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY rowid", params).fetchall()
        return [self._event(row) for row in rows]

    def events_for(self, decision_ids: Iterable[str]) -> list[FeedbackEvent]:
        """The events of these decisions, in the order they were stored."""
        query = f"SELECT rowid, {_EVENT_COLUMNS} FROM events"
        with self._lock:
            rows = _rows_in(self._db, query, "decision_id", decision_ids)
        return [self._event(row[1:]) for row in sorted(rows)]

    def events_since(self, position: int) -> tuple[list[FeedbackEvent], int]:
        """The events stored after ``position`` (0: all), in order, and the position after them
        (pass it to the next call): a change feed for incremental readers."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, {_EVENT_COLUMNS} FROM events WHERE rowid > ? ORDER BY rowid",
                (position,),
            ).fetchall()
        return [self._event(row[1:]) for row in rows], (rows[-1][0] if rows else position)

    def event_position(self) -> int:
        """The position after the last stored event (see ``events_since``)."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(rowid), 0) FROM events").fetchone()[0])

    def latest_labels(self) -> list[TagLabel]:
        """The latest label of each (artwork, tag) that has one, in the order they were stored."""
        with self._lock:
            rows = self._db.execute(
                "SELECT artwork_id, tag, label FROM labels WHERE rowid IN "
                "(SELECT MAX(rowid) FROM labels GROUP BY artwork_id, tag) ORDER BY rowid"
            ).fetchall()
        return [TagLabel(artwork_id=a, tag=t, label=int(v)) for a, t, v in rows]

    def newest(self) -> NewestRecords:
        """When the newest decision was made and the newest event stored (for lag gauges)."""
        with self._answering() as db:
            decision_at = db.execute("SELECT MAX(created_at) FROM decisions").fetchone()[0]
            event_at = db.execute(
                "SELECT received_at FROM events ORDER BY rowid DESC LIMIT 1"
            ).fetchone()
        return NewestRecords(decision_at, event_at[0] if event_at else None)

    def ping(self) -> None:
        """Answer a trivial query; ``ArtifactError`` when the store cannot (e.g. closed)."""
        with self._answering() as db:
            db.execute("SELECT 1 FROM schema_version LIMIT 1").fetchone()

    def schema_version(self) -> int:
        """The layout version this file uses (``artwork.event_schema``)."""
        with self._lock:
            return int(self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    def journal_mode(self) -> str:
        """SQLite's journal mode for this file (``wal``)."""
        with self._lock:
            return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        """Close the connection; later calls fail. Closing twice is harmless."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------------

    def _configure(self) -> None:
        try:
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            # FULL syncs the WAL on every commit: NORMAL could lose the last acknowledged
            # transactions on power loss, which would break "acknowledged means stored".
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:  # e.g. "file is not a database"
            raise ArtifactError(f"{self.path}: not an event store: {exc}") from exc
        if str(mode).lower() != "wal":
            raise ArtifactError(f"{self.path}: cannot use WAL journaling (got {mode!r})")

    def _migrate(self) -> None:
        with self._transaction() as db:
            migrate(db, self.path)

    @contextmanager
    def _answering(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a read whose failure (e.g. a closed store) is an ``ArtifactError``."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise ArtifactError(f"{self.path}: the event store does not answer: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one write transaction; commit on success, roll back on error."""
        with self._lock:
            # IMMEDIATE takes the write lock now, so the checks inside the transaction still
            # hold when its inserts run, even with another process writing the same file.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT leaves it open
                    self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def _existing_decisions(db: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
        return {r[0] for r in _rows_in(db, "SELECT decision_id FROM decisions", "decision_id", ids)}

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
        return InputError(reason, file=str(self.path), field=f"{table}[{key!r}].{field}")


def _rows_in(db: sqlite3.Connection, select: str, column: str, keys: Iterable[str]) -> list[tuple]:
    """``select`` restricted to rows whose ``column`` is one of ``keys``, in chunks that keep
    each query under SQLite's bound-variable limit (row order is not defined)."""
    unique = sorted(set(keys))
    rows: list[tuple] = []
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start : start + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows += db.execute(f"{select} WHERE {column} IN ({marks})", chunk).fetchall()
    return rows
