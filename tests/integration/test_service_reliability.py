"""The service under failure: killed mid-write, and fuzzed with every request its schema allows
(broken artifacts on reload: test_service_admin.py)."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from artwork.event_store import EventStore
from bench.service_process import start_server, stop_server
from serve.app import create_app
from serve.settings import Settings

POSTERS = 4  # client threads posting at once, so the kill lands between and inside commits
EVENTS_PER_POST = 3


def _post_until_refused(
    base: str, decisions: list[str], poster: int, acked: list[str], refused: list[str]
) -> None:
    """Post small batches of fresh events until the server stops answering; the ids of every
    batch that got a 202 go into ``acked``, any other answer into ``refused``."""
    with httpx.Client(base_url=base, timeout=5) as client:
        for n in range(100_000):
            ids = [f"p{poster}-{n}-{k}" for k in range(EVENTS_PER_POST)]
            batch = [{"event_id": i, "decision_id": decisions[(n + k) % len(decisions)],
                      "type": "click"} for k, i in enumerate(ids)]  # fmt: skip
            try:
                response = client.post("/v1/events", json={"events": batch})
            except httpx.TransportError:
                return
            if response.status_code != 202:
                refused.append(f"{response.status_code} {response.text}")
                return
            acked.extend(ids)


def test_every_acknowledged_event_survives_a_sigkill_exactly_once(demo_world, tmp_path):
    db = tmp_path / "events.db"
    process, base = start_server(demo_world, db, tmp_path / "server.log")
    try:
        home = httpx.get(base + "/v1/home", params={"user_id": "v0001"}, timeout=30).json()
        decisions = [t["artwork"]["decision_id"] for row in home["rows"] for t in row["titles"]]
        acked: list[list[str]] = [[] for _ in range(POSTERS)]
        refused: list[str] = []
        posters = [threading.Thread(target=_post_until_refused,
                                    args=(base, decisions, p, acked[p], refused))
                   for p in range(POSTERS)]  # fmt: skip
        for t in posters:
            t.start()
        while sum(map(len, acked)) < 300:  # well into the stream of writes
            assert all(t.is_alive() for t in posters), f"a poster stopped early: {refused}"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        for t in posters:
            t.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not refused, refused
    acknowledged = [i for ids in acked for i in ids]

    process, base = start_server(demo_world, db, tmp_path / "restarted.log")
    try:
        # The restarted server holds each acknowledged event: re-posting them all stores none.
        for start in range(0, len(acknowledged), 400):
            ids = acknowledged[start : start + 400]
            events = [{"event_id": i, "decision_id": decisions[0], "type": "click"} for i in ids]
            again = httpx.post(base + "/v1/events", json={"events": events}, timeout=30)
            assert again.status_code == 202, again.text
            assert again.json() == {"accepted": 0, "duplicates": len(ids)}
    finally:
        stop_server(process)
    with EventStore(db) as store:
        stored = [e.event_id for e in store.events()]
    assert len(stored) == len(set(stored)), "an event was stored twice"
    missing = set(acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"


# --- fuzzing the OpenAPI schema ----------------------------------------------------------------

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")


@pytest.fixture(scope="module")
def api_schema(demo_world, tmp_path_factory):
    """The app's own schema, with its lifespan entered (state loaded) for the whole module."""
    db = tmp_path_factory.mktemp("fuzz") / "events.db"
    app = create_app(Settings(world=demo_world, db=db, learn_every_s=0))
    with TestClient(app):
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_request_the_schema_allows_gets_a_server_error(api_schema) -> None:
    """Every operation, with requests the schema allows and requests it does not (a bounded
    number of each)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 10
    no_invalid_request = []  # operations where every request the generator can make is valid

    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):

        @hypothesis.given(case=operation.as_strategy(mode))
        @hypothesis.settings(max_examples=15, deadline=None, derandomize=True,
                             suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
        def answers_without_a_server_error(case) -> None:  # noqa: ANN001
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
                f"{response.status_code} {response.text[:300]}"
            )

        try:
            answers_without_a_server_error()
        except hypothesis.errors.Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
            no_invalid_request.append(operation.label)
    with_checked_inputs = {"GET /v1/home", "GET /v1/artwork", "POST /v1/events", "POST /v1/labels"}
    assert with_checked_inputs.isdisjoint(no_invalid_request), no_invalid_request
