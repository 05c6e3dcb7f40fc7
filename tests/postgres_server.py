"""A throwaway PostgreSQL 15 server for tests: private data folder, private port, stopped after.

``initdb`` refuses root, so as root the server's commands run as the ``postgres`` user through
``runuser``. Anything that stops the server from starting is a ``ServerUnavailable``, which
the ``postgres_url`` fixture turns into a skip; ``fresh_database`` gives each test its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import pytest
import sqlalchemy as sa

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"
_databases = count()


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (binary, user or runuser missing, or a failure)."""


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server and yield its base URL (``postgresql+psycopg://postgres@127.0.0.1:PORT``);
    stop it and remove its data folder on exit."""
    as_user = _as_postgres_user()
    folder = Path(tempfile.mkdtemp(prefix="artwork-pg-"))
    data, port = folder / "data", _free_port()
    if as_user:
        shutil.chown(folder, USER, USER)
    try:
        _run(as_user, BIN / "initdb", "-D", data, "-U", USER, "-A", "trust", "--no-sync",
             "-E", "UTF8")  # fmt: skip
        # fsync off: these servers hold test data only, and creating a database per test
        # would otherwise sync every file it copies.
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(as_user, BIN / "pg_ctl", "-D", data, "-l", folder / "server.log", "-o", options,
             "-w", "-t", "30", "start")  # fmt: skip
        try:
            yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}"
        finally:
            _run(as_user, BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The base URL of a PostgreSQL server private to this test session (skip: none here)."""
    try:
        with postgres_server() as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")


@contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """A new, empty database on the server at ``base_url``, dropped on exit: its URL."""
    name = f"test_{os.getpid()}_{next(_databases)}"
    admin = sa.create_engine(f"{base_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as db:
            db.exec_driver_sql(f"CREATE DATABASE {name}")
        yield f"{base_url}/{name}"
        with admin.connect() as db:
            db.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        admin.dispose()


def _as_postgres_user() -> list[str]:
    """The command prefix that runs a server command as a non-root user ([] when we are one)."""
    if not (BIN / "initdb").is_file():
        raise ServerUnavailable(f"no PostgreSQL 15 server at {BIN}")
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root without runuser to drop to the postgres user")
    try:
        pwd.getpwnam(USER)
    except KeyError as exc:
        raise ServerUnavailable(f"no {USER!r} user to run the server as: {exc}") from exc
    return [runuser, "-u", USER, "--"]


def _run(prefix: list[str], *command: object) -> None:
    try:
        subprocess.run([*prefix, *map(str, command)], check=True, capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        raise ServerUnavailable(f"{command[0]} failed: {exc} {detail.strip()}") from exc


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
