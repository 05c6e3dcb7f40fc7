"""The live state on ``app.state.service``, its learning task, readiness and atomic hot reload.

A reload builds a whole new ``ServiceState`` from the files (world, tags, policy or the
learner's latest checkpoint) in a worker thread while the old one keeps serving, then swaps it
in with one assignment. A request resolves the state once, when it starts, so one in flight
finishes on the state it began with. Both states share the one open event store, which is
closed only at shutdown. The old learner is stopped before the new one resumes from the same
state folder (two learners on one folder would learn the same decisions twice); when the new
state cannot be built, the reload fails with the reason and the old state and its learner go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from artwork.errors import ArtifactError, ArtworkError
from serve.metrics import ServiceMetrics
from serve.settings import Settings
from serve.state import ServiceState

log = logging.getLogger(__name__)


class ReloadError(ArtworkError):
    """A reload could not build the new state; the previous one is still serving."""


class ServiceRunner:
    """Starts, reloads and stops the state ``app`` serves."""

    def __init__(self, app: FastAPI, settings: Settings, metrics: ServiceMetrics) -> None:
        self.app, self.settings, self.metrics = app, settings, metrics
        self._learning: asyncio.Task | None = None
        self._reloading: asyncio.Lock | None = None

    @property
    def state(self) -> ServiceState | None:
        """The state being served (None before start-up)."""
        return getattr(self.app.state, "service", None)

    async def start(self, state: ServiceState) -> None:
        """Serve ``state`` and start its learning loop."""
        self._reloading = asyncio.Lock()  # made in the loop that serves (a restart has a new one)
        self.app.state.service = state
        _freeze_heap()
        self._start_learning(state)

    async def reload(self) -> ServiceState:
        """Build a new state from the files and swap it in; ``ReloadError`` (the old state
        serving on) when it cannot be built. Reloads run one at a time."""
        assert self._reloading is not None and self.state is not None, "reload before start-up"
        async with self._reloading:
            old = self.state
            assert old is not None
            await self._stop_learning()
            try:
                new = await run_in_threadpool(ServiceState.load, self.settings, old.store)
            except BaseException as exc:  # whatever the files hold, the old state serves on
                self._start_learning(old)
                if not isinstance(exc, Exception):  # cancelled: nothing to report
                    raise
                self.metrics.reloads.labels("failed").inc()
                version = old.selection.selector.version
                log.error("reload failed; still serving %s: %s", version, exc,
                          exc_info=not isinstance(exc, ArtworkError))  # fmt: skip
                raise ReloadError(f"reload failed, still serving {version}: {exc}") from exc
            self.app.state.service = new
            _freeze_heap()
            self._start_learning(new)
            self.metrics.reloads.labels("ok").inc()
            log.info("reloaded: now serving %s (was %s)", new.selection.selector.version,
                     old.selection.selector.version)  # fmt: skip
            return new

    async def stop(self) -> None:
        """Stop learning and close the event store."""
        await self._stop_learning()
        if self.state is not None:
            self.state.close()

    def unready_reason(self) -> str | None:
        """Why the service cannot answer requests now (None: it can)."""
        state = self.state
        if state is None:
            return "the service state is not loaded yet"
        try:
            state.store.ping()
        except ArtifactError as exc:
            return str(exc)
        return None

    def _start_learning(self, state: ServiceState) -> None:
        if state.learning is not None:
            self._learning = asyncio.create_task(state.learning.run(self.settings.learn_every_s))

    async def _stop_learning(self) -> None:
        """Cancel the learning task and wait for it: a step already running in its worker
        thread finishes first (``run_in_threadpool`` shields it), so no step outlives this."""
        task, self._learning = self._learning, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _freeze_heap() -> None:
    """Collect, then move every object alive now (the loaded state: catalog, history, features,
    policy — hundreds of thousands of objects) out of the cyclic collector's reach. A full
    collection would otherwise walk them all, pausing every request for 100–200 ms a few times
    a minute under load; a reload first lets the previous state's cycles be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


async def get_runner(request: Request) -> ServiceRunner:
    """The app's runner, for ``Depends``."""
    return request.app.state.runner


Runner = Annotated[ServiceRunner, Depends(get_runner)]
