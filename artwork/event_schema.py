"""The event store's tables, its database engine (SQLite or PostgreSQL) and the upgrade on open.

Version 1:

- ``schema_version(version, created_at)``: one row per version the store was created at or
  upgraded to; the highest is the layout it uses.
- ``decisions``: one row per ``Decision``; ``candidates`` is a JSON array, ``context`` a JSON
  object.
- ``events``: one row per ``FeedbackEvent``, ``event_id`` the primary key (so a repeated
  client id is stored once); ``received_at`` is the server's clock when it was stored.

Version 2 adds ``labels(artwork_id, tag, label, received_at)``: people's tag judgements (label
0 or 1), appended in the order received; the latest row for an (artwork, tag) is the one that
counts.

Version 3 adds ``events.user_id``: the viewer of the event's decision, copied when the event is
stored, so that a viewer's recent events are read by index without their decisions.

Version 4 adds ``store_identity(store_id)``: one row, a random id drawn when the store was
created or upgraded, which state kept outside the database (an online learner's folder) records
to know the event log it belongs to.

``rowid`` orders the rows of each table as they were stored (``events_since`` reads it as a
position): SQLite's implicit rowid, an identity column on PostgreSQL. Indexes: decisions by
(user_id, created_at) and by (created_at, decision_id); events by decision and by (user_id,
time); labels by (artwork_id, tag).

The versions are Alembic revisions in ``artwork/migrations`` (revision ``000N`` is version N);
opening a store runs ``upgrade head`` in one transaction. A SQLite file made before Alembic
(a ``schema_version`` table, no ``alembic_version``) is stamped at its version first; a store
of a newer version is refused.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util import CommandError

from artwork.errors import ArtifactError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
MIGRATIONS = Path(__file__).with_name("migrations")

metadata = sa.MetaData()
# Query shapes only: the migrations create the tables (rowid is implicit on SQLite).
schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer), sa.Column("created_at", sa.Float),
)  # fmt: skip
decisions = sa.Table(
    "decisions", metadata,
    sa.Column("rowid", sa.BigInteger),
    sa.Column("decision_id", sa.Text, primary_key=True),
    *(sa.Column(name, sa.Text) for name in ("user_id", "title_id", "candidates", "artwork_id")),
    sa.Column("propensity", sa.Float),
    sa.Column("policy", sa.Text), sa.Column("policy_version", sa.Text),
    sa.Column("seed", sa.BigInteger), sa.Column("context", sa.Text),
    sa.Column("created_at", sa.Float),
)  # fmt: skip
events = sa.Table(
    "events", metadata,
    sa.Column("rowid", sa.BigInteger),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("decision_id", sa.Text), sa.Column("type", sa.Text),
    sa.Column("value", sa.Float), sa.Column("time", sa.Float), sa.Column("received_at", sa.Float),
    sa.Column("user_id", sa.Text),
)  # fmt: skip
labels = sa.Table(
    "labels", metadata,
    sa.Column("rowid", sa.BigInteger),
    sa.Column("artwork_id", sa.Text), sa.Column("tag", sa.Text),
    sa.Column("label", sa.Integer), sa.Column("received_at", sa.Float),
)  # fmt: skip

store_identity = sa.Table("store_identity", metadata, sa.Column("store_id", sa.Text))

DECISION_COLUMNS = tuple(c for c in decisions.c if c.name != "rowid")
EVENT_COLUMNS = (events.c.event_id, events.c.decision_id, events.c.type, events.c.value,
                 events.c.time)  # fmt: skip


def store_url(location: Path | str) -> sa.URL:
    """The SQLAlchemy URL of a store: a path is a SQLite file; ``postgresql://`` uses psycopg."""
    if isinstance(location, Path) or "://" not in location:
        return sa.URL.create("sqlite", database=str(location))
    url = sa.make_url(location)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ArtifactError(f"{url!r}: the event store runs on SQLite or PostgreSQL only")
    return url


# Connections kept open: enough for a service's worker threads reading at once (SQLAlchemy's
# default of 5 made a busy service open and close a connection, and rerun its set-up, per read).
POOL = {"pool_size": 16, "max_overflow": 32}


def create_store_engine(url: sa.URL) -> sa.Engine:
    """An engine whose SQLite connections sync every commit (WAL, synchronous=FULL) and enforce
    foreign keys; a connection with the ``write`` execution option begins ``IMMEDIATE``."""
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **POOL)
    # timeout waits for another process's write lock; the pool hands connections across threads
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30.0}, **POOL
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # noqa: ANN001
        # isolation_level=None: the driver leaves BEGIN to us (below), so SAVEPOINT and DDL
        # take part in the transaction (SQLAlchemy's documented recipe for pysqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL syncs the WAL on every commit: NORMAL could lose the last acknowledged
        # transactions on power loss, which would break "acknowledged means stored".
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock now, so checks inside a write transaction still hold
        # when its inserts run, even with another process writing the same file.
        write = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def upgrade(connection: sa.Connection, where: str) -> None:
    """Create the layout in an empty store or upgrade an older one to ``SCHEMA_VERSION``, inside
    the caller's write transaction; ``ArtifactError`` for a database that is not an event store
    or is of a newer version."""
    tables = set(sa.inspect(connection).get_table_names())
    version = _recorded_version(connection, where) if "schema_version" in tables else 0
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    try:
        if "alembic_version" not in tables and version:
            command.stamp(config, f"{version:04d}")  # a file from before Alembic
            _ensure_time_index(connection)
        elif "alembic_version" not in tables and tables:
            raise ArtifactError(
                f"{where}: a database without a schema_version table "
                f"({', '.join(sorted(tables))}); not an event store"
            )
        command.upgrade(config, "head")
    except CommandError as exc:  # e.g. a revision this code does not know
        raise ArtifactError(f"{where}: cannot upgrade the event store: {exc}") from exc
    if version == 0:
        log.info("created event store %s (schema version %d)", where, SCHEMA_VERSION)
    elif version < SCHEMA_VERSION:
        log.info("upgraded event store %s from schema version %d to %d", where, version,
                 SCHEMA_VERSION)  # fmt: skip


def _recorded_version(connection: sa.Connection, where: str) -> int:
    version = connection.scalar(sa.select(sa.func.max(schema_version.c.version)))
    if version is None or version > SCHEMA_VERSION:
        raise ArtifactError(
            f"{where}: event store schema version {version}, but this code reads "
            f"versions up to {SCHEMA_VERSION}; upgrade the code or use another file"
        )
    return int(version)


def _ensure_time_index(connection: sa.Connection) -> None:
    """Files made before the (created_at, decision_id) index was part of version 1 lack it."""
    connection.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions (created_at, decision_id)"
    )
