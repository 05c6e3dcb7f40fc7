"""People's tag labels over HTTP: checked against the catalog and vocabulary, stored, exported."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from artwork.cli import main as artwork_cli
from artwork.event_store import EventStore
from artwork.labels import TagLabel, load_labels
from artwork.vocabulary import default_vocabulary
from serve.app import create_app
from serve.settings import Settings


@pytest.fixture
def db(tmp_path):
    return tmp_path / "log" / "events.db"


@pytest.fixture
def client(tiny_world, db):
    settings = Settings(world=tiny_world, db=db, policy="uniform", admin_open=True,
                        max_labels_per_request=3)  # fmt: skip
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _labels(*rows: tuple[str, str, int]) -> dict:
    return {"labels": [{"artwork_id": a, "tag": t, "label": v} for a, t, v in rows]}


def test_labels_are_stored_and_exported_as_the_file_calibration_reads(client, db, tmp_path):
    first = client.post("/v1/labels", json=_labels(("t1_a0", "car", 1), ("t2_a1", "dark", 0)))
    assert first.status_code == 202 and first.json() == {"accepted": 2}
    client.post("/v1/labels", json=_labels(("t1_a0", "car", 0)))  # a correction: latest wins
    with EventStore(db) as store:  # durable: a fresh reader sees them
        assert store.latest_labels() == [
            TagLabel(artwork_id="t2_a1", tag="dark", label=0),
            TagLabel(artwork_id="t1_a0", tag="car", label=0),
        ]
    export = client.get("/v1/labels.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.text == "artwork_id,tag,label\nt2_a1,dark,0\nt1_a0,car,0\n"
    path = tmp_path / "labels.csv"
    path.write_text(export.text)
    tags = default_vocabulary().tags
    read = load_labels([path], ["t1_a0", "t2_a1"], tags)
    assert read.counts() == {"known": 2, "positive": 0}
    assert "artwork_labels_accepted_total 3.0" in client.get("/metrics").text


def test_unknown_artwork_or_tag_is_422_naming_the_item_and_field(client, db):
    body = _labels(("t1_a0", "car", 1), ("no-such-art", "car", 1), ("t1_a1", "unicorn", 0))
    response = client.post("/v1/labels", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["labels[1].artwork_id", "labels[2].tag"]
    assert "no-such-art" in errors[0]["message"] and "unicorn" in errors[1]["message"]
    assert client.app.state.service.store.latest_labels() == []  # all or nothing


def test_a_batch_over_the_limit_is_refused(client):
    body = _labels(*[("t1_a0", "car", 1)] * 4)
    response = client.post("/v1/labels", json=body)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "labels"


def test_the_service_upgrades_a_version_1_store_and_takes_labels(
    tiny_world, tmp_path, make_decision, v1_event_store
):
    decision = make_decision()
    db = v1_event_store(tmp_path / "old.db", decision)
    settings = Settings(world=tiny_world, db=db, policy="uniform")
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/labels", json=_labels(("t1_a0", "car", 1))).status_code == 202
        event = {"event_id": "after", "decision_id": decision.decision_id, "type": "play"}
        assert client.post("/v1/events", json={"events": [event]}).status_code == 202
    with EventStore(db) as store:
        assert store.schema_version() == 4 and store.decisions() == [decision]
        assert [e.event_id for e in store.events()] == ["e-v1", "after"]
        assert store.latest_labels() == [TagLabel(artwork_id="t1_a0", tag="car", label=1)]


def test_the_cli_exports_labels_from_an_event_store(tmp_path, capsys):
    db = tmp_path / "events.db"
    with EventStore(db) as store:
        store.record_labels([TagLabel(artwork_id="a1", tag="car", label=1)])
    out = tmp_path / "export" / "labels.csv"
    assert artwork_cli(["labels", "export", "--db", str(db), "--out", str(out)]) == 0
    assert out.read_text() == "artwork_id,tag,label\na1,car,1\n"
    assert "wrote 1 labels" in capsys.readouterr().out
    missing = artwork_cli(["labels", "export", "--db", str(tmp_path / "none.db"),
                           "--out", str(out)])  # fmt: skip
    assert missing == 2 and not (tmp_path / "none.db").exists()
