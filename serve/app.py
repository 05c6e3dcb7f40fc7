"""The FastAPI app factory: lifespan-loaded state, routes, limits, telemetry and the one error
mapping."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from threadpoolctl import threadpool_limits

from artwork import __version__
from artwork.errors import ArtworkError, InputError, InputErrors, NotFoundError
from serve.metrics import ServiceMetrics
from serve.reload import ReloadError, ServiceRunner
from serve.routes import admin, events, home, images, labels, ops, page, stats
from serve.schemas import ErrorItem, ErrorResponse
from serve.settings import Settings
from serve.state import ServiceState
from serve.telemetry import RequestTelemetry, configure_logging

log = logging.getLogger(__name__)


def create_app(settings: Settings, service: ServiceState | None = None) -> FastAPI:
    """The service for ``settings``; the world and event log are opened at start-up.

    ``service``: state already loaded (so that a caller can report a bad world before serving).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal service
        # A preloaded state serves the first start only; a restart loads afresh.
        state, service = service or ServiceState.load(settings), None
        await runner.start(state)
        try:
            yield
        finally:
            await runner.stop()

    app = FastAPI(title="Artwork selector", version=__version__, lifespan=lifespan)
    metrics = ServiceMetrics(lambda: getattr(app.state, "service", None))
    runner = ServiceRunner(app, settings, metrics)
    app.state.metrics, app.state.runner = metrics, runner
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Added last, so outermost: it times and logs every answer, a 413 from BodyLimit included.
    app.add_middleware(RequestTelemetry, metrics=metrics)
    app.add_exception_handler(ArtworkError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for module in (home, events, labels, images, admin, stats, ops, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    return app


def run(settings: Settings) -> None:
    """Serve ``settings`` with uvicorn until interrupted; a bad world raises before serving.

    Log lines are JSON objects (``log_format``); the app writes its own access line per
    request, so uvicorn's is off.
    """
    configure_logging(settings.log_format)
    app = create_app(settings, ServiceState.load(settings))
    limit_math_threads(settings.math_threads)
    gc.set_threshold(GC_YOUNG_OBJECTS, *gc.get_threshold()[1:])
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


# The cyclic collector's first threshold while serving (Python's default: 700). A home page
# holds a few thousand objects alive at once, so at 700 a young collection ran mid-page about
# every 1.3 pages and promoted live objects, which then grew the old generation into a full
# collection (~15 ms, a pause for every request in flight) every ~150 pages; most garbage here
# is acyclic and freed by reference counting when its request ends. At 10,000 (in process,
# /v1/home): one young collection in 2,000 pages instead of ~1,700 collections of all three
# generations, the loop 10 % cheaper.
GC_YOUNG_OBJECTS = 10_000


def limit_math_threads(threads: int) -> threadpool_limits:
    """Cap every loaded BLAS and OpenMP library at ``threads`` per call, for the rest of the
    process. Called once the state is loaded (its fits may use every core) and before serving:
    under load a page's matrix products otherwise fan out to OpenBLAS's workers, which then
    spin waiting for the next call (85 % of one of two cores under ``/v1/home`` load, taken
    from the load's own processes); requests are the parallelism a server needs. Returns the
    limiter (``restore_original_limits``)."""
    return threadpool_limits(limits=threads)


# --- errors: the one place domain exceptions become status codes ------------------------------


def _domain_error(request: Request, exc: ArtworkError) -> JSONResponse:
    if isinstance(exc, ReloadError):  # an admin asked: the reason is theirs to read
        return _error(500, str(exc))
    if isinstance(exc, InputErrors):
        return _error(422, str(exc), [_item(e) for e in exc.errors])
    if isinstance(exc, InputError):
        return _error(422, str(exc), [_item(exc)])
    if isinstance(exc, NotFoundError):
        return _error(404, str(exc))
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _error(500, f"internal error ({type(exc).__name__}); see the service log")


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = []
    for error in exc.errors():
        source, *path = error["loc"] or ("body",)
        if error["type"] == "json_invalid":
            at = f" at position {path[0]}" if path else ""
            reason = error.get("ctx", {}).get("error", "")
            items.append(ErrorItem(field="body", message=f"invalid JSON{at}: {reason}"))
        else:
            items.append(ErrorItem(field=_field_path(path) or str(source), message=error["msg"]))
    summary = "; ".join(f"{i.field}: {i.message}" for i in items)
    return _error(422, f"invalid request: {summary}", items)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _error(exc.status_code, str(exc.detail), headers=exc.headers)


def _item(error: InputError) -> ErrorItem:
    where = ":".join(str(p) for p in (error.file, error.line) if p is not None)
    return ErrorItem(
        field=error.field, message=f"{where}: {error.reason}" if where else error.reason
    )


def _field_path(path: Sequence[int | str]) -> str:
    """``["events", 2, "type"]`` → ``"events[2].type"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error(
    status: int,
    detail: str,
    errors: list[ErrorItem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


# --- request size ------------------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not Content-Length is sent.

    The body is read (up to the limit) before the app sees it, then replayed; bodies this small
    cost nothing to hold, and the app never parses a partial or oversized one.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body larger than {self.max_bytes} bytes"
        response = _error(413, message, [ErrorItem(field="body", message=message)])
        await response(scope, receive, send)
