"""``artwork serve`` as a newcomer runs it: a real uvicorn process answering real HTTP requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from artwork.event_store import EventStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tiny_world: Path, tmp_path: Path):
    port, db = _free_port(), tmp_path / "events.db"
    command = [sys.executable, "-m", "artwork.cli", "serve", "--world", str(tiny_world),
               "--db", str(db), "--port", str(port)]  # fmt: skip
    output = tmp_path / "server.log"  # the server's log lines, for tests that read them
    with open(output, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {output.read_text()}")
        try:
            httpx.get(base + "/v1/viewers", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("server did not start within 30 s")
    yield base, db
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_real_server_serves_page_rows_images_and_events(server) -> None:
    base, db = server
    page = httpx.get(base + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    home = httpx.get(base + "/v1/home", params={"user_id": "somebody-new"}).json()
    assert home["rows"] and home["rows"][0]["titles"]
    artwork = home["rows"][0]["titles"][0]["artwork"]
    image = httpx.get(base + artwork["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    event = {"event_id": "e-1", "decision_id": artwork["decision_id"], "type": "click"}
    answer = httpx.post(base + "/v1/events", json={"events": [event]})
    assert answer.status_code == 202, answer.text
    # Acknowledged means on disk: a separate reader sees it while the server still runs.
    with EventStore(db) as store:
        assert [e.event_id for e in store.events(artwork["decision_id"])] == ["e-1"]


def test_real_server_logs_one_json_line_per_request(server, tmp_path: Path) -> None:
    base, _ = server
    answer = httpx.get(base + "/healthz", headers={"X-Request-ID": "probe-7"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "probe-7"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()
                 if line.startswith("{")]  # fmt: skip
        access = [x for x in lines if x.get("request_id") == "probe-7"]
        if access:
            break
        time.sleep(0.1)
    assert [(x["method"], x["path"], x["status"]) for x in access] == [("GET", "/healthz", 200)]
    assert access[0]["duration_ms"] >= 0 and access[0]["logger"] == "serve.access"
    assert any("loaded" in x["message"] for x in lines)  # start-up lines are JSON too


def test_bad_world_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "artwork.cli",
            "serve",
            "--world",
            str(tmp_path / "none"),
            "--port",
            str(_free_port()),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode != 0
    assert "world folder not found" in result.stderr + result.stdout
