"""The event store's SQLite layout, version by version, and the in-place upgrade between them.

Version 1:

- ``schema_version(version, created_at)``: one row per version the file was created at or
  upgraded to; the highest is the layout it uses.
- ``decisions``: one row per ``Decision``; ``candidates`` is a JSON array, ``context`` a JSON
  object.
- ``events``: one row per ``FeedbackEvent``, ``event_id`` the primary key (so a repeated
  client id is stored once); ``received_at`` is the server's clock when it was stored; the
  ``rowid`` orders events as they were stored (``events_since`` reads it as a position).

Version 2 adds ``labels(artwork_id, tag, label, received_at)``: people's tag judgements (label
0 or 1), appended in the order received; the latest row for an (artwork, tag) is the one that
counts.

Indexes: decisions by (user_id, created_at) and by (created_at, decision_id), the order in which
a trainer reads them (the latter is added on open to files made before it); events by decision;
labels by (artwork_id, tag).

A file of an older version is upgraded in place, in one transaction, when a store opens it; a
file of a newer version is refused.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from artwork.errors import ArtifactError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

_VERSION_1 = """
CREATE TABLE schema_version (
    version INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE decisions (
    decision_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title_id TEXT NOT NULL,
    candidates TEXT NOT NULL,
    artwork_id TEXT NOT NULL,
    propensity REAL NOT NULL,
    policy TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    seed INTEGER NOT NULL,
    context TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX decisions_by_user ON decisions (user_id, created_at);
CREATE TABLE events (
    event_id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL REFERENCES decisions (decision_id),
    type TEXT NOT NULL,
    value REAL NOT NULL,
    time REAL NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX events_by_decision ON events (decision_id);
"""

# version → the statements that upgrade a file from the version before it
_UPGRADES = {
    2: """
CREATE TABLE labels (
    artwork_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label IN (0, 1)),
    received_at REAL NOT NULL
);
CREATE INDEX labels_by_artwork_tag ON labels (artwork_id, tag);
""",
}

_TIME_INDEX = "CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions (created_at, decision_id)"


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Create the layout in an empty file, or upgrade an older one to ``SCHEMA_VERSION``, inside
    the caller's write transaction; ``ArtifactError`` for a file that is not an event store or
    is of a newer version."""
    has_version = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if has_version is None:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        if tables:
            names = ", ".join(sorted(t[0] for t in tables))
            raise ArtifactError(
                f"{path}: a SQLite file without a schema_version table ({names}); "
                "not an event store"
            )
        _execute(db, _VERSION_1)
        version = 0  # every upgrade below applies, but only the final version is recorded
    else:
        row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        version = row[0] if row else None
        if version is None or version > SCHEMA_VERSION:
            raise ArtifactError(
                f"{path}: event store schema version {version}, but this code reads "
                f"versions up to {SCHEMA_VERSION}; upgrade the code or use another file"
            )
    for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
        _execute(db, _UPGRADES[target])
    db.execute(_TIME_INDEX)  # files made before the index was part of the schema
    if version < SCHEMA_VERSION:
        db.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, time.time()))
        if version == 0:
            log.info("created event store %s (schema version %d)", path, SCHEMA_VERSION)
        else:
            log.info("upgraded event store %s from schema version %d to %d", path, version,
                     SCHEMA_VERSION)  # fmt: skip


def _execute(db: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` (``executescript`` would commit the transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
