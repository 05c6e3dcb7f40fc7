"""The HTTP service end to end on a tiny world: home, events, images, the page, and errors."""

from __future__ import annotations

import gc
import json
import threading

import pytest
from fastapi.testclient import TestClient
from pydantic import ConfigDict

from artwork.errors import ArtifactError
from artwork.event_store import EventStore
from serve.app import create_app
from serve.routes import home as home_routes
from serve.schemas import ArtworkOut, HomeResponse
from serve.settings import Settings


@pytest.fixture
def db(tmp_path):
    return tmp_path / "log" / "events.db"


@pytest.fixture
def client(tiny_world, db):
    settings = Settings(world=tiny_world, db=db, rows=4, per_row=2, max_events_per_request=5,
                        policy="uniform", recommender="popular")  # fmt: skip
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def stored(db):
    """Decisions and events as a fresh store reads them from disk."""
    with EventStore(db) as store:
        return store.decisions(), store.events()


def home(client, user_id="v1", **params):
    response = client.get("/v1/home", params={"user_id": user_id, **params})
    assert response.status_code == 200, response.text
    return response.json()


def first_decision(page):
    return page["rows"][0]["titles"][0]["artwork"]["decision_id"]


def test_home_for_a_known_viewer_logs_every_decision_before_answering(client, db):
    response = client.get("/v1/home", params={"user_id": "v1", "device": "tv", "hour": 21})
    assert response.headers["cache-control"] == "no-store"
    page = response.json()
    assert page["user_id"] == "v1"
    assert [row["name"] for row in page["rows"]] == [
        "Popular now", "More Sci-Fi", "More Drama", "Popular in Horror",
    ]  # fmt: skip
    shown = {t["artwork"]["decision_id"]: t for row in page["rows"] for t in row["titles"]}
    decisions, _ = stored(db)
    assert {d.decision_id for d in decisions} == set(shown)
    for decision in decisions:
        title = shown[decision.decision_id]
        artwork = title["artwork"]
        assert (decision.title_id, decision.artwork_id) == (
            title["title_id"],
            artwork["artwork_id"],
        )
        assert artwork["propensity"] == decision.propensity == 1 / len(decision.candidates)
        assert artwork["policy"] == "uniform"
        assert artwork["image_url"] == f"/v1/artwork/{decision.artwork_id}/image"
        assert "uniformly at random" in artwork["why"]
        assert (decision.context["device"], decision.context["hour"]) == ("tv", 21)


def test_pages_and_single_decisions_are_exactly_their_documented_models(client):
    """The hot routes encode their bodies without pydantic: each must still be its
    ``response_model``, strictly (no missing, extra or mistyped field), as compact JSON."""
    title_id = home(client)["rows"][0]["titles"][0]["title_id"]
    for path, params, model in (
        ("/v1/home", {"user_id": "v1", "device": "tv", "hour": 21}, HomeResponse),
        ("/v1/artwork", {"user_id": "v1", "title_id": title_id}, ArtworkOut),
    ):
        response = client.get(path, params=params)
        assert response.status_code == 200 and response.headers["content-type"] == (
            "application/json"
        )
        strict = type("Strict", (model,), {"model_config": ConfigDict(extra="forbid", strict=True)})
        parsed = strict.model_validate_json(response.content)
        assert response.content == parsed.model_dump_json().encode()
    assert client.app.openapi()["paths"]["/v1/home"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"] == {"$ref": "#/components/schemas/HomeResponse"}  # fmt: skip


def test_home_for_an_unknown_viewer_is_not_an_error(client):
    page = home(client, "never-seen", rows=2, per_row=3)
    assert [row["name"] for row in page["rows"]] == ["Popular now", "Popular in Sci-Fi"]
    assert [t["name"] for t in page["rows"][0]["titles"]] == [
        "Star Voyage", "Quiet Rooms", "Laugh Track",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"user_id": "v1", "device": "fridge"}, "device"),
        ({"user_id": "v1", "hour": 24}, "hour"),
        ({"user_id": "v1", "rows": 0}, "rows"),
        ({"user_id": "v1", "genres": "Comedy,Soap"}, "genres"),
        ({"user_id": ""}, "user_id"),
        ({}, "user_id"),
    ],
)
def test_bad_home_parameters_are_422_naming_the_field(client, db, params, field):
    response = client.get("/v1/home", params=params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert stored(db) == ([], [])


@pytest.mark.parametrize(
    ("params", "field"),
    [({"user_id": "v1"}, "title_id"), ({"user_id": "v1", "title_id": "t1", "hour": -1}, "hour"),
     ({"user_id": "v1", "title_id": "t1", "max_maturity": "X"}, "max_maturity")],
)  # fmt: skip
def test_bad_artwork_parameters_are_422_naming_the_field(client, db, params, field):
    response = client.get("/v1/artwork", params=params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert stored(db) == ([], [])


def test_the_loaded_state_is_kept_out_of_the_cyclic_collectors_walks(client):
    """Frozen at start-up, so a full collection under load does not walk the whole state."""
    state = client.app.state.service
    assert gc.get_freeze_count() > 0
    assert not any(o is state for o in gc.get_objects())


def test_onboarding_genres_lead_a_new_viewers_page(client):
    page = home(client, "never-seen", rows=3, per_row=2, genres="Comedy, Romance")
    assert [(row["name"], row["reason"]) for row in page["rows"]] == [
        ("Comedy for you", "Because you like Comedy"),
        ("Romance for you", "Because you like Romance"),
        ("Popular now", "Most watched by everyone"),
    ]
    known = home(client, "v1", rows=4, per_row=2, genres="Horror")
    assert [row["name"] for row in known["rows"]][:2] == ["Popular now", "Horror for you"]


def test_an_unknown_onboarding_genre_is_named_in_the_422(client):
    response = client.get("/v1/home", params={"user_id": "never-seen", "genres": "Comedy,Soap"})
    assert response.status_code == 422
    assert "unknown genre 'Soap'" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("local", [True, False], ids=["sqlite", "server"])
@pytest.mark.parametrize("path", ["/v1/home", "/v1/artwork"])
def test_a_viewers_activity_is_read_on_the_loop_from_a_file_in_a_thread_from_a_server(
    client, monkeypatch, path, local
):
    """A SQLite file's read is quicker than the hop to a worker thread; a database server's
    round trip must not hold up the event loop."""
    hops, reads = [], []
    real_hop, real_read = home_routes.run_in_threadpool, EventStore.recent_activity

    async def hop(function, *args):
        hops.append(function.__name__)
        return await real_hop(function, *args)

    def read(store, *args, **kwargs):
        reads.append(threading.current_thread().name)
        return real_read(store, *args, **kwargs)

    monkeypatch.setattr(home_routes, "run_in_threadpool", hop)
    monkeypatch.setattr(EventStore, "recent_activity", read)
    monkeypatch.setattr(EventStore, "local", property(lambda store: local))
    for user_id in ("v1", "v2"):
        response = client.get(path, params={"user_id": user_id, "title_id": "t1"})
        assert response.status_code == 200, response.text
    assert len(reads) == 2  # one read per viewer: a second request is served from the cache
    assert hops == ([] if local else ["viewer_activity"] * 2)
    in_worker = [name == "AnyIO worker thread" for name in reads]
    assert in_worker == [not local] * 2


@pytest.mark.parametrize("path", ["/v1/home", "/v1/artwork"])
def test_a_failing_log_means_no_page(client, db, monkeypatch, path):
    def broken(db, table, columns, rows):
        raise ArtifactError("disk full")

    monkeypatch.setattr("artwork.event_writes.insert_rows", broken)  # inside the commit
    response = client.get(path, params={"user_id": "v1", "title_id": "t1"})
    assert response.status_code == 500
    assert "decision_id" not in response.text


def test_events_are_committed_and_read_back(client, db):
    decision_id = first_decision(home(client))
    batch = [
        {"event_id": "e1", "decision_id": decision_id, "type": "impression"},
        {"event_id": "e2", "decision_id": decision_id, "type": "click", "time": 1_700_000_000.5},
        {"event_id": "e3", "decision_id": decision_id, "type": "watch_seconds", "value": 600},
    ]
    response = client.post("/v1/events", json={"events": batch})
    assert response.status_code == 202
    assert response.json() == {"accepted": 3, "duplicates": 0}
    _, events = stored(db)
    assert [(e.event_id, e.type, e.value) for e in events] == [
        ("e1", "impression", 1.0), ("e2", "click", 1.0), ("e3", "watch_seconds", 600.0),
    ]  # fmt: skip
    assert events[1].time == 1_700_000_000.5


def test_a_repeated_event_id_is_stored_once(client, db):
    decision_id = first_decision(home(client))
    event = {"event_id": "same", "decision_id": decision_id, "type": "play"}
    assert client.post("/v1/events", json={"events": [event]}).json() == {
        "accepted": 1, "duplicates": 0,
    }  # fmt: skip
    assert client.post("/v1/events", json={"events": [event]}).json() == {
        "accepted": 0, "duplicates": 1,
    }  # fmt: skip
    assert [e.event_id for e in stored(db)[1]] == ["same"]


def test_an_unknown_decision_is_422_and_stores_nothing(client, db):
    decision_id = first_decision(home(client))
    client.post(
        "/v1/events",
        json={"events": [{"event_id": "kept", "decision_id": decision_id, "type": "click"}]},
    )
    before = stored(db)
    batch = [
        {"event_id": "new", "decision_id": decision_id, "type": "click"},
        {"event_id": "orphan", "decision_id": "0" * 32, "type": "click"},
    ]
    response = client.post("/v1/events", json={"events": batch})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "events[1].decision_id"
    assert "unknown decision" in body["errors"][0]["message"]
    assert stored(db) == before


def test_malformed_json_is_422_with_a_message(client):
    response = client.post(
        "/v1/events", content=b'{"events": [', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "body" and error["message"].startswith("invalid JSON")


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            {"event_id": "x", "decision_id": "d", "type": "click", "colour": "red"},
            "events[0].colour",
        ),
        ({"event_id": "x", "decision_id": "d", "type": "purchase"}, "events[0].type"),
        ({"event_id": "x", "decision_id": "d", "type": "watch_seconds"}, "events[0].value"),
        (
            {"event_id": "x", "decision_id": "d", "type": "click", "value": "lots"},
            "events[0].value",
        ),
        ({"decision_id": "d", "type": "click"}, "events[0].event_id"),
    ],
)
def test_bad_events_are_422_naming_the_field(client, db, event, field):
    response = client.post("/v1/events", json={"events": [event]})
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_unknown_top_level_fields_and_oversized_batches_are_refused(client, db):
    response = client.post("/v1/events", json={"events": [], "extra": 1})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "extra"
    decision_id = first_decision(home(client))
    batch = [{"event_id": str(i), "decision_id": decision_id, "type": "click"} for i in range(6)]
    response = client.post("/v1/events", json={"events": batch})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "events"
    assert stored(db)[1] == []


def test_a_body_over_the_byte_limit_is_413(tiny_world, db):
    settings = Settings(world=tiny_world, db=db, max_body_bytes=2048)
    with TestClient(create_app(settings)) as client:
        big = json.dumps(
            {"events": [{"event_id": "x" * 100, "decision_id": "d", "type": "click"}] * 30}
        )
        response = client.post(
            "/v1/events", content=big, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["errors"][0]["field"] == "body"

        def chunks():  # no Content-Length: the limit must hold on the bytes themselves
            for start in range(0, len(big), 500):
                yield big[start : start + 500].encode()

        response = client.post(
            "/v1/events", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413


def test_images_are_served_as_jpeg_and_unknown_ones_are_404(client):
    page = home(client)
    url = page["rows"][0]["titles"][0]["artwork"]["image_url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"
    missing = client.get("/v1/artwork/no-such-artwork/image")
    assert missing.status_code == 404 and "no-such-artwork" in missing.json()["detail"]
    escape = client.get("/v1/artwork/..%2F..%2Ftitles.csv/image")
    assert escape.status_code == 404


def test_viewers_lists_ids_from_the_history(client):
    assert client.get("/v1/viewers").json() == {"viewers": ["v1", "v2", "v3", "v4", "v5"]}


def test_the_page_is_html_that_loads_the_script(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in response.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/v1/home" in script.text
    assert client.get("/static/style.css").status_code == 200


def test_the_default_db_sits_in_the_world_folder(tiny_world):
    assert Settings(world=tiny_world).db_path == tiny_world / "events.db"


def test_a_missing_world_fails_at_start_up(tmp_path):
    with (
        pytest.raises(ArtifactError, match="not found"),
        TestClient(create_app(Settings(world=tmp_path / "nope"))),
    ):
        pass
