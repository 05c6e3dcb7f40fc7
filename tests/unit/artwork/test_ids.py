"""Random bits for ids: fresh in every thread and in a forked child."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from artwork.ids import random_bytes, random_hex


def test_draws_are_distinct_across_blocks_and_threads() -> None:
    found: list[str] = []

    def draw() -> None:
        found.extend(random_hex() for _ in range(1000))  # several 4 KiB blocks

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(found)) == len(found) == 4000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in found)
    assert len(random_bytes(5000)) == 5000  # more than a block at once


def _child(queue: multiprocessing.Queue) -> None:
    queue.put(random_hex())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_the_parents_next_bits() -> None:
    random_hex()  # the parent holds a block with bits left in it
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    from_child = queue.get(timeout=30)
    child.join(timeout=30)
    assert from_child != random_hex()
