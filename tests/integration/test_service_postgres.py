"""The service with its event log on PostgreSQL (``ARTWORK_DB`` a URL): decisions and events
are committed there (skipped where no PostgreSQL server can be started)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from artwork.event_store import EventStore
from serve.app import create_app
from serve.settings import Settings
from tests.postgres_server import fresh_database, postgres_url  # noqa: F401 (a fixture)


@pytest.fixture
def database(request: pytest.FixtureRequest):
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


def test_decisions_and_events_land_in_postgresql(tiny_world, database, monkeypatch):
    monkeypatch.setenv("ARTWORK_DB", database)
    settings = Settings(world=tiny_world, rows=2, per_row=2, policy="uniform",
                        recommender="popular", learner_dir=tiny_world / "learner")  # fmt: skip
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
        page = client.get("/v1/home", params={"user_id": "v1"}).json()
        shown = {t["artwork"]["decision_id"] for row in page["rows"] for t in row["titles"]}
        decision_id = page["rows"][0]["titles"][0]["artwork"]["decision_id"]
        event = {"event_id": "e1", "decision_id": decision_id, "type": "click"}
        for expected in ({"accepted": 1, "duplicates": 0}, {"accepted": 0, "duplicates": 1}):
            response = client.post("/v1/events", json={"events": [event]})
            assert response.status_code == 202 and response.json() == expected
    with EventStore(database) as store:
        assert {d.decision_id for d in store.decisions()} == shown
        assert [e.event_id for e in store.events(decision_id)] == ["e1"]
