"""Browser fixtures: the real app under uvicorn on a free loopback port, and Debian's Chromium
driven by Playwright; every e2e test skips when either is missing."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from artwork.demo.world import WorldSpec, build_world
from serve.app import create_app
from serve.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class LiveService:
    url: str
    db: Path


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The app over a tiny demo world (6 titles, 20 viewers), served until the session ends."""
    root = tmp_path_factory.mktemp("e2e")
    world = build_world(root / "world", WorldSpec(seed=3, titles=6, viewers=20), workers=1)
    settings = Settings(world=world, db=root / "events.db", rows=3, per_row=4, learn_every_s=0,
                        log_format="text")  # fmt: skip
    with socket.socket() as probe:  # a free port; the tiny race with other processes is fine
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    yield LiveService(f"http://127.0.0.1:{port}", settings.db_path)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; skips when the playwright package or the binary is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    executable = CHROMIUM if CHROMIUM.is_file() else Path(shutil.which("chromium") or "")
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(executable),
                                                  args=CHROMIUM_ARGS, headless=True)  # fmt: skip
        except sync_api.Error as exc:
            pytest.skip(f"chromium did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_service):
    """A fresh tab (1280×800) on the live service; failed requests and JS errors fail the test."""
    context = browser.new_context(base_url=live_service.url,
                                  viewport={"width": 1280, "height": 800})  # fmt: skip
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, tmp_path: Path):
    """Save a page's screenshot as NAME.jpg in $ARTWORK_E2E_SCREENSHOTS (else the test's tmp)."""
    folder = Path(os.environ.get("ARTWORK_E2E_SCREENSHOTS") or tmp_path)

    def take(tab, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.jpg"
        tab.screenshot(path=str(path), type="jpeg", quality=85, full_page=True)
        assert path.stat().st_size > 0
        return path

    return take
