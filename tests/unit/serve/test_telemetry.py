"""The batched log handler: lines in order, written in batches, none lost."""

from __future__ import annotations

import io
import logging
import time

import pytest

from serve.telemetry import BatchedStreamHandler, configure_logging


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def logged():
    stream = CountingStream()
    handler = BatchedStreamHandler(stream, capacity=4, interval_s=3600)  # the timer stays out
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.batched")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, handler, stream
    logger.removeHandler(handler)
    handler.close()


def test_lines_wait_for_a_full_batch_then_go_out_in_one_write(logged):
    logger, _, stream = logged
    for i in range(3):
        logger.info("line %d", i)
    assert stream.getvalue() == "" and stream.writes == 0
    logger.info("line 3")
    assert stream.getvalue().splitlines() == [f"INFO line {i}" for i in range(4)]
    assert stream.writes == 1


def test_a_warning_goes_out_at_once_after_the_lines_before_it(logged):
    logger, _, stream = logged
    logger.info("before")
    logger.warning("trouble")
    assert stream.getvalue().splitlines() == ["INFO before", "WARNING trouble"]


def test_flush_and_close_write_what_waits(logged):
    logger, handler, stream = logged
    logger.info("one")
    handler.flush()
    assert stream.getvalue() == "INFO one\n"
    logger.info("two")
    handler.close()
    assert stream.getvalue() == "INFO one\nINFO two\n"


def test_the_timer_writes_a_lone_line_within_its_interval():
    stream = CountingStream()
    handler = BatchedStreamHandler(stream, capacity=1000, interval_s=0.05)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        handler.handle(logging.makeLogRecord({"msg": "alone", "levelno": logging.INFO}))
        deadline = time.monotonic() + 5
        while stream.getvalue() == "" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue() == "alone\n"
    finally:
        handler.close()


class BrokenStream(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("the pipe is gone")


def test_a_broken_stream_never_fails_the_caller_and_keeps_nothing(monkeypatch):
    monkeypatch.setattr(logging, "raiseExceptions", False)  # as in production: no traceback
    handler = BatchedStreamHandler(BrokenStream(), capacity=2, interval_s=3600)
    try:
        for i in range(5):
            handler.handle(logging.makeLogRecord({"msg": f"line {i}", "levelno": logging.INFO}))
        handler.handle(logging.makeLogRecord({"msg": "bad", "levelno": logging.ERROR}))
        assert handler._lines == []
    finally:
        monkeypatch.setattr(handler, "stream", io.StringIO())
        handler.close()


@pytest.mark.parametrize("verbose", [False, True])
def test_artwork_serve_writes_its_lines_through_the_batched_handler(monkeypatch, verbose):
    """The command line configures logging for its other commands; ``serve`` installs its
    own (one JSON line a request, written in batches), keeping ``--verbose``'s level."""
    import serve.app
    from artwork import cli

    root, seen = logging.getLogger(), {}
    saved = (root.handlers[:], root.level, logging.getLogger("serve").level)

    def fake_run(settings) -> None:  # noqa: ANN001
        configure_logging(settings.log_format)
        seen["handlers"] = [type(h) for h in root.handlers]
        seen["level"] = logging.getLogger("serve").level

    monkeypatch.setattr(serve.app, "run", fake_run)
    root.handlers = []
    try:
        argv = ["serve", "--world", "somewhere"]
        assert cli.main(["--verbose", *argv] if verbose else argv) == 0
    finally:
        for handler in root.handlers:
            if isinstance(handler, BatchedStreamHandler):
                handler.close()
        root.handlers, root.level = saved[0], saved[1]
        logging.getLogger("serve").setLevel(saved[2])
    assert seen["handlers"] == [BatchedStreamHandler]
    assert seen["level"] == (logging.DEBUG if verbose else logging.INFO)
