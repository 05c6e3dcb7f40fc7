"""Operations endpoints: liveness, readiness, Prometheus metrics, request ids and access logs."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from serve.settings import Settings
from serve.telemetry import JsonFormatter


@pytest.fixture
def settings(tiny_world, tmp_path):
    return Settings(world=tiny_world, db=tmp_path / "events.db", policy="uniform")


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _decision_id(client) -> str:
    page = client.get("/v1/home", params={"user_id": "v1"}).json()
    return page["rows"][0]["titles"][0]["artwork"]["decision_id"]


def _series(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of every sample of ``name`` in Prometheus text."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def test_healthz_and_readyz_answer_when_the_state_is_loaded(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


def test_readyz_is_503_with_the_reason_when_the_store_does_not_answer(client):
    client.app.state.service.store.close()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "does not answer" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200  # alive, though not ready


def test_metrics_count_requests_decisions_events_and_lag(client):
    decision_id = _decision_id(client)
    batch = [{"event_id": "e1", "decision_id": decision_id, "type": "click"},
             {"event_id": "e2", "decision_id": decision_id, "type": "play"}]  # fmt: skip
    client.post("/v1/events", json={"events": batch})
    client.post("/v1/events", json={"events": batch[:1]})  # a duplicate
    client.get("/v1/artwork/no-such/image")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    requests = _series(text, "artwork_http_requests_total")
    assert requests['{method="GET",route="/v1/home",status="200"}'] == 1
    assert requests['{method="POST",route="/v1/events",status="202"}'] == 2
    assert requests['{method="GET",route="/v1/artwork/{artwork_id}/image",status="404"}'] == 1
    assert requests['{method="GET",route="unmatched",status="404"}'] == 1
    latency = _series(text, "artwork_http_request_duration_seconds_count")
    assert latency['{method="GET",route="/v1/home",status="200"}'] == 1
    assert 'artwork_http_request_duration_seconds_bucket{le="0.005",method="GET"' in text
    decisions = _series(text, "artwork_decisions_total")
    assert decisions['{policy="uniform"}'] == len(client.app.state.service.store.decisions())
    events = _series(text, "artwork_events_accepted_total")
    assert events == {'{type="click"}': 1.0, '{type="play"}': 1.0}
    assert _series(text, "artwork_events_duplicate_total") == {"": 1.0}
    lag = _series(text, "artwork_event_lag_seconds")
    assert set(lag) == {'{record="decision"}', '{record="event"}'} and min(lag.values()) >= 0
    info = _series(text, "artwork_policy_info")
    assert info == {'{name="uniform",serving="uniform",version="1"}': 1.0}


def test_each_app_keeps_its_own_metrics(settings, tmp_path):
    other = settings.model_copy(update={"db": tmp_path / "other.db"})
    with TestClient(create_app(settings)) as first, TestClient(create_app(other)) as second:
        first.get("/healthz")
        first.get("/healthz")
        second.get("/healthz")
        key = '{method="GET",route="/healthz",status="200"}'
        assert _series(first.get("/metrics").text, "artwork_http_requests_total")[key] == 2
        assert _series(second.get("/metrics").text, "artwork_http_requests_total")[key] == 1


def test_a_request_id_is_taken_from_the_client_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "req-42"}).headers[
        "x-request-id"
    ] == "req-42"  # fmt: skip
    made = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    odd = client.get("/healthz", headers={"X-Request-ID": 'bad "id" \x7f'}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", odd)  # not echoed into logs or headers
    refused = client.post("/v1/events", json={"events": [], "extra": 1},
                          headers={"X-Request-ID": "req-43"})  # fmt: skip
    assert refused.status_code == 422 and refused.headers["x-request-id"] == "req-43"


def test_one_json_access_line_per_request_with_its_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("serve.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        client.get("/v1/viewers", headers={"X-Request-ID": "trace-1"})
        client.get("/v1/artwork/no-such/image")
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {k: first[k] for k in ("method", "path", "route", "status", "request_id")} == {
        "method": "GET", "path": "/v1/viewers", "route": "/v1/viewers", "status": 200,
        "request_id": "trace-1",
    }  # fmt: skip
    assert first["duration_ms"] >= 0 and first["level"] == "INFO"
    assert second["status"] == 404 and re.fullmatch(r"[0-9a-f]{32}", second["request_id"])


def test_the_openapi_document_lists_the_new_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/readyz", "/metrics", "/v1/labels", "/v1/labels.csv",
                 "/v1/policies", "/v1/admin/reload"):  # fmt: skip
        assert path in paths


def test_run_serves_with_one_math_thread_per_call_and_rare_young_collections(settings, monkeypatch):
    """`artwork serve` loads the state (its fits may use every core), then caps BLAS and
    OpenMP at ``math_threads`` before uvicorn starts (an idle OpenBLAS worker would spin), and
    raises the cyclic collector's young threshold (a page's live objects would be promoted)."""
    import gc

    from threadpoolctl import threadpool_info, threadpool_limits

    import serve.app as app_module

    seen: dict[str, list[int]] = {}

    def fake_uvicorn_run(app, **kwargs) -> None:
        seen["threads"] = [lib["num_threads"] for lib in threadpool_info()]
        seen["port"] = [kwargs["port"]]
        seen["gc"] = list(gc.get_threshold())

    monkeypatch.setattr(app_module.uvicorn, "run", fake_uvicorn_run)
    monkeypatch.setattr(app_module, "configure_logging", lambda log_format: None)
    original = threadpool_limits(limits=2)  # as on a 2-core machine, whatever this one has
    thresholds = gc.get_threshold()
    try:
        app_module.run(settings)
    finally:
        original.restore_original_limits()
        gc.set_threshold(*thresholds)
    assert seen["port"] == [settings.port]
    assert seen["threads"] and set(seen["threads"]) == {1}, seen
    assert seen["gc"] == [app_module.GC_YOUNG_OBJECTS, *thresholds[1:]]
