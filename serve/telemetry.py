"""Per-request telemetry (a request id, one access log line, the request metrics) and JSON logs.

``RequestTelemetry`` wraps the whole app: it takes the client's ``X-Request-ID`` (when it is a
sane token) or makes one, returns it in the response header, keeps it in a context variable
for every log line written while the request runs, and, once answered, counts the request by
route template and status and logs ``method, path, route, status, duration_ms, request_id``
to ``serve.access``. ``configure_logging`` makes every log line one JSON object; only
``serve.app.run`` calls it, so the app leaves the logging of its host (tests) alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from artwork.ids import random_hex
from serve.metrics import UNMATCHED_ROUTE, ServiceMetrics

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")  # no spaces or quotes: safe in logs and headers
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

access_log = logging.getLogger("serve.access")


def current_request_id() -> str | None:
    """The id of the request being answered in this context (None outside one)."""
    return _request_id.get()


class RequestTelemetry:
    """ASGI middleware: request id in and out, the access log line and request metrics."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_of(scope)
        token = _request_id.set(request_id)
        start, status = time.perf_counter(), 500  # 500: the app raised before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            self.metrics.observe_request(scope["method"], route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                method, path = scope["method"], scope["path"]
                fields = {"method": method, "path": path, "route": route, "status": status,
                          "duration_ms": round(seconds * 1000, 3)}  # fmt: skip
                access_log.info("%s %s %d", method, path, status, extra={"fields": fields})
            _request_id.reset(token)


def _request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
            break
    return random_hex()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request id when there is
    one, the record's ``fields`` (from ``extra={"fields": {...}}``) and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            doc["request_id"] = request_id
        doc.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class BatchedStreamHandler(logging.StreamHandler):
    """A ``StreamHandler`` that writes its lines in batches: when ``capacity`` are waiting, at
    once for a WARNING or worse (after the lines before it), and at least every
    ``interval_s`` (a daemon thread), at ``flush`` and at ``close`` (``logging.shutdown``).

    A server writes one access line per request; a write per line is a system call that gives
    up the GIL, which under load hands it to another thread and costs the request ~15 µs
    more. A process killed outright loses at most the last ``interval_s`` of lines."""

    def __init__(self, stream=None, capacity: int = 256, interval_s: float = 0.2) -> None:  # noqa: ANN001
        super().__init__(stream)
        self.capacity = capacity
        self._lines: list[str] = []
        self._stopped = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_every, args=(interval_s,), name="log-flush", daemon=True
        )
        self._flusher.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 (logging's own contract: report, never raise)
            self.handleError(record)
            return
        with self.lock:  # type: ignore[union-attr]  (created by Handler.__init__)
            self._lines.append(line)
            if len(self._lines) >= self.capacity or record.levelno >= logging.WARNING:
                try:
                    self._write()
                except Exception:  # noqa: BLE001 (a broken stream must not fail the caller)
                    self.handleError(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()

    def close(self) -> None:
        self._stopped.set()
        self.flush()
        super().close()

    def _write(self) -> None:
        """Write and flush what is waiting (the caller holds the lock); the lines leave the
        buffer first, so a failing stream never makes it grow."""
        if self._lines:
            text, self._lines = "".join(self._lines), []
            self.stream.write(text)
        if self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()

    def _flush_every(self, interval_s: float) -> None:
        while not self._stopped.wait(interval_s):
            if self._lines:
                with contextlib.suppress(Exception):  # lines already dropped: the next may pass
                    self.flush()


def configure_logging(log_format: str) -> None:
    """Format every log line as one JSON object (``json``) or plain text, on the root logger's
    handlers (a batched stderr handler when it has none, with our packages at INFO unless
    their level is set); uvicorn's own lines go the same way."""
    # Fields no line shows, which every record would otherwise look up (a fifth of an
    # access line's cost): the thread, the process id and the multiprocessing process name.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(BatchedStreamHandler(sys.stderr))
        for name in ("artwork", "models", "serve"):
            package = logging.getLogger(name)
            if package.level == logging.NOTSET:  # a level set before (--verbose) stays
                package.setLevel(logging.INFO)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in root.handlers:
        handler.setFormatter(formatter)
    uvicorn = logging.getLogger("uvicorn")
    if uvicorn.level == logging.NOTSET:  # its start-up lines ("Uvicorn running on ...") are INFO
        uvicorn.setLevel(logging.INFO)
