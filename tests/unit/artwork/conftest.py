"""Event store locations: a SQLite file always, and a fresh database on a PostgreSQL server that
the session starts itself (skipped where none can be started)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import fresh_database, postgres_url  # noqa: F401 (a fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """Where a new, empty event store lives: a SQLite path, or a PostgreSQL database URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "log" / "events.db")
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url
