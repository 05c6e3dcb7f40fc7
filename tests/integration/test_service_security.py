"""Access: a bearer token for writes and admin, compared in constant time; strict bodies."""

from __future__ import annotations

import hmac

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from serve import security
from serve.app import create_app
from serve.settings import Settings

TOKEN = "s3cret-token-of-some-length"
LABEL = {"artwork_id": "t1_a0", "tag": "car", "label": 1}


def _client(tiny_world, tmp_path, **settings) -> TestClient:
    return TestClient(create_app(Settings(world=tiny_world, db=tmp_path / "events.db",
                                          policy="uniform", **settings)))  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _writes_and_admin(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    """The status of each protected endpoint called with ``headers``."""
    page = client.get("/v1/home", params={"user_id": "v1"}).json()
    decision_id = page["rows"][0]["titles"][0]["artwork"]["decision_id"]
    event = {"event_id": f"e-{len(headers)}", "decision_id": decision_id, "type": "click"}
    return {
        "events": client.post("/v1/events", json={"events": [event]}, headers=headers).status_code,
        "labels": client.post("/v1/labels", json={"labels": [LABEL]}, headers=headers).status_code,
        "export": client.get("/v1/labels.csv", headers=headers).status_code,
        "reload": client.post("/v1/admin/reload", headers=headers).status_code,
    }


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, "Bearer"),
        (_bearer("wrong-token-of-some-length"), 'Bearer error="invalid_token"'),
        (_bearer(TOKEN[:-1]), 'Bearer error="invalid_token"'),
        ({"Authorization": f"Basic {TOKEN}"}, "Bearer"),
    ],
)
def test_with_a_token_every_write_and_admin_call_needs_it(tiny_world, tmp_path, headers, challenge):
    with _client(tiny_world, tmp_path, api_token=TOKEN) as client:
        assert _writes_and_admin(client, headers) == dict.fromkeys(
            ("events", "labels", "export", "reload"), 401
        )
        refused = client.post("/v1/labels", json={"labels": [LABEL]}, headers=headers)
        assert refused.headers["www-authenticate"] == challenge
        assert "bearer token" in refused.json()["detail"]
        assert client.app.state.service.store.latest_labels() == []


def test_the_right_token_opens_everything(tiny_world, tmp_path):
    with _client(tiny_world, tmp_path, api_token=TOKEN) as client:
        assert _writes_and_admin(client, _bearer(TOKEN)) == {
            "events": 202, "labels": 202, "export": 200, "reload": 200,
        }  # fmt: skip
        assert client.get("/v1/home", params={"user_id": "v1"}).status_code == 200  # reads: open


def test_tokens_are_compared_in_constant_time(tiny_world, tmp_path, monkeypatch):
    calls, compare = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    with _client(tiny_world, tmp_path, api_token=TOKEN) as client:
        client.post("/v1/labels", json={"labels": [LABEL]}, headers=_bearer("nope"))
    assert calls == [(b"nope", TOKEN.encode())]


def test_without_a_token_writes_are_open_and_admin_is_closed(tiny_world, tmp_path):
    with _client(tiny_world, tmp_path) as client:
        assert _writes_and_admin(client, {}) == {
            "events": 202, "labels": 202, "export": 403, "reload": 403,
        }  # fmt: skip
        refused = client.post("/v1/admin/reload")
        assert "ARTWORK_API_TOKEN" in refused.json()["detail"]


def test_admin_open_opens_admin_only_when_no_token_is_set(tiny_world, tmp_path):
    with _client(tiny_world, tmp_path, admin_open=True) as client:
        assert _writes_and_admin(client, {})["reload"] == 200
    with _client(tiny_world, tmp_path, admin_open=True, api_token=TOKEN) as client:
        assert client.post("/v1/admin/reload").status_code == 401


def test_a_short_token_is_refused_at_configuration(tiny_world, monkeypatch):
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(world=tiny_world, api_token="short")
    monkeypatch.setenv("ARTWORK_API_TOKEN", TOKEN)
    monkeypatch.setenv("ARTWORK_ADMIN_OPEN", "true")
    settings = Settings(world=tiny_world)
    assert settings.api_token.get_secret_value() == TOKEN and settings.admin_open
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"labels": [LABEL], "extra": 1}, "extra"),
        ({"labels": [{**LABEL, "who": "me"}]}, "labels[0].who"),
        ({"labels": [{**LABEL, "label": True}]}, "labels[0].label"),
        ({"labels": [{**LABEL, "label": "1"}]}, "labels[0].label"),
        ({"labels": [{**LABEL, "label": 2}]}, "labels[0].label"),
        ({"labels": [{"artwork_id": "t1_a0", "label": 1}]}, "labels[0].tag"),
    ],
)
def test_label_bodies_are_strict(tiny_world, tmp_path, body, field):
    with _client(tiny_world, tmp_path) as client:
        response = client.post("/v1/labels", json=body)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]


def test_every_request_body_model_forbids_unknown_fields(tiny_world, tmp_path):
    with _client(tiny_world, tmp_path) as client:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
    bodies = ["EventsRequest", "EventIn", "LabelsRequest", "LabelIn"]
    assert all(schemas[name]["additionalProperties"] is False for name in bodies)
