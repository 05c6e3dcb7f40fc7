"""What one write does inside its transaction: check the batch against the stored rows, then insert.

Each function runs on a connection that holds the database's write lock (see ``EventStore``),
so what its checks see is still true when its inserts run.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from artwork import event_schema as schema
from artwork.errors import InputError, InputErrors
from artwork.records import Decision, FeedbackEvent

_IN_CHUNK = 500  # ids per "IN (...)" query, well under SQLite's bound-variable limit
_MAX_BOUND = 2000  # bound values per multi-row INSERT (SQLite allows 32,766)


@dataclass(frozen=True)
class RecordResult:
    """What a batch of events did: newly stored, and already stored under the same event_id."""

    accepted: int
    duplicates: int
    # newly stored per event type; a summary, left out of comparisons
    accepted_types: Mapping[str, int] = field(default_factory=dict, compare=False)
    # the viewers of the decisions that newly stored events belong to (for caches to forget)
    viewers: frozenset[str] = field(default=frozenset(), compare=False)


@dataclass(frozen=True)
class DriverWrites:
    """A driver cursor inside a write transaction, with what ``insert_rows`` asks of a
    connection (``exec_driver_sql`` and ``dialect``)."""

    cursor: Any
    dialect: sa.Dialect

    def exec_driver_sql(self, sql: str, parameters: tuple) -> None:
        self.cursor.execute(sql, parameters)


def insert_decisions(db: sa.Connection, decisions: list[Decision]) -> None:
    """Insert decisions; ``InputErrors`` (nothing stored) for an id already recorded.

    Fresh random ids are the rule, so the insert is tried first, in a savepoint; only when the
    primary key refuses it are the stored ids looked up to name the offending rows."""
    ids = [d.decision_id for d in decisions]
    if len(set(ids)) != len(ids):
        raise InputErrors([InputError("repeated decision_id within the batch")])
    try:
        with db.begin_nested():
            insert_decision_rows(db, decisions)
    except sa.exc.IntegrityError:
        known = _existing_decisions(db, ids)
        errors = [
            InputError(
                f"decision {d.decision_id!r} is already recorded",
                field=f"decisions[{i}].decision_id",
            )
            for i, d in enumerate(decisions)
            if d.decision_id in known
        ]
        if not errors:
            raise
        raise InputErrors(errors) from None


def insert_decision_rows(db: sa.Connection | DriverWrites, decisions: Sequence[Decision]) -> None:
    """Insert decisions as they are (a repeated id raises the driver's ``IntegrityError``,
    which leaves a PostgreSQL transaction unusable: ``insert_decisions`` names the rows)."""
    encode = _LIST_JSON.encode
    insert_rows(db, schema.decisions, _DECISION_COLUMNS, [
        (d.decision_id, d.user_id, d.title_id, encode(d.candidates), d.artwork_id, d.propensity,
         d.policy, d.policy_version, d.seed, d.context_json(), d.created_at)
        for d in decisions
    ])  # fmt: skip


_DECISION_COLUMNS = (
    "decision_id", "user_id", "title_id", "candidates", "artwork_id", "propensity", "policy",
    "policy_version", "seed", "context", "created_at",
)  # fmt: skip
_EVENT_COLUMNS = ("event_id", "decision_id", "type", "value", "time", "received_at", "user_id")
_LIST_JSON = json.JSONEncoder()  # json.dumps' output ('["a", "b"]'), without an encoder per call


def insert_rows(
    db: sa.Connection | DriverWrites,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: Sequence[tuple],
) -> None:
    """Insert ``rows`` (tuples of values for ``columns``, as the driver takes them) with one
    multi-row ``INSERT … VALUES (…), (…)`` per chunk of at most ``_MAX_BOUND`` values.

    Not ``executemany``: the SQLite driver runs that as one statement per row and gives up the
    GIL around each, and under load every hand-back waits for the event loop's thread (up to
    the interpreter's switch interval); one statement gives it up once. The statement text is
    built once per shape; SQLAlchemy's own multi-row ``values()`` recompiles it per call."""
    if not rows:
        return
    per_chunk = max(1, _MAX_BOUND // len(columns))
    mark = "?" if db.dialect.paramstyle == "qmark" else "%s"
    quote = db.dialect.identifier_preparer.quote
    names = tuple(map(quote, columns))
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        sql = _multi_row_insert(quote(table.name), names, len(chunk), mark)
        db.exec_driver_sql(sql, tuple(itertools.chain.from_iterable(chunk)))


@functools.lru_cache(maxsize=512)
def _multi_row_insert(table: str, columns: tuple[str, ...], n_rows: int, mark: str) -> str:
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * n_rows)


def insert_events(
    db: sa.Connection, events: Sequence[FeedbackEvent], received_at: float
) -> RecordResult:
    """Insert the events not stored yet; ``InputErrors`` (nothing stored) for unknown decisions."""
    d = schema.decisions
    owners = dict(rows_in(db, sa.select(d.c.decision_id, d.c.user_id), d.c.decision_id,
                          [e.decision_id for e in events]))  # fmt: skip
    known = owners.keys()
    errors = [
        InputError(f"unknown decision {e.decision_id!r}", field=f"events[{i}].decision_id")
        for i, e in enumerate(events)
        if e.decision_id not in known
    ]
    if errors:
        raise InputErrors(errors)
    # The write lock is held, so the ids seen here are all there are: a plain insert of
    # the rest is exactly "insert or ignore", and counts what it stored.
    stored = rows_in(db, sa.select(schema.events.c.event_id), schema.events.c.event_id,
                      [e.event_id for e in events])  # fmt: skip
    seen = {r[0] for r in stored}
    fresh = []
    for e in events:
        if e.event_id not in seen:
            seen.add(e.event_id)
            fresh.append(e)
    if fresh:
        insert_rows(db, schema.events, _EVENT_COLUMNS,
                    [(e.event_id, e.decision_id, e.type, e.value, e.time, received_at,
                      owners[e.decision_id]) for e in fresh])  # fmt: skip
    accepted = Counter(e.type for e in fresh)
    viewers = frozenset(owners[e.decision_id] for e in fresh)
    return RecordResult(len(fresh), len(events) - len(fresh), MappingProxyType(+accepted), viewers)


def _existing_decisions(db: sa.Connection, ids: Sequence[str]) -> set[str]:
    column = schema.decisions.c.decision_id
    return {r[0] for r in rows_in(db, sa.select(column), column, ids)}


def rows_in(
    db: sa.Connection, select: sa.Select, column: sa.ColumnElement, keys: Iterable[str]
) -> list[sa.Row]:
    """``select`` restricted to rows whose ``column`` is one of ``keys``, in chunks that keep
    each query under SQLite's bound-variable limit (row order is not defined)."""
    unique = sorted(set(keys))
    rows: list[sa.Row] = []
    for start in range(0, len(unique), _IN_CHUNK):
        rows += db.execute(select.where(column.in_(unique[start : start + _IN_CHUNK]))).all()
    return rows
