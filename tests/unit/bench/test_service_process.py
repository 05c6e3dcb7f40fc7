"""The service bench's process helpers that need no server: per-thread CPU from /proc."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from bench.service_process import thread_cpu_seconds

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_thread_cpu_is_charged_to_the_thread_that_used_it():
    ids: list[int] = []
    stop = threading.Event()

    def spin() -> None:
        ids.append(threading.get_native_id())
        while not stop.is_set():
            sum(range(1000))

    before = thread_cpu_seconds(os.getpid())
    worker = threading.Thread(target=spin)
    worker.start()
    time.sleep(0.5)  # the main thread sleeps: it uses next to nothing
    after = thread_cpu_seconds(os.getpid())
    stop.set()
    worker.join()
    main = threading.get_native_id()
    assert after[ids[0]] >= 0.15  # the spinning thread (new since "before")
    assert after[main] - before[main] < 0.1
    assert ids[0] not in before
