"""Random bits for ids: fresh across blocks and in a forked child."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from artwork.ids import random_bytes, random_hex


def test_draws_are_distinct_across_blocks() -> None:
    # (threads: each has its own block; test_records draws decision ids in four at once)
    found = [random_hex() for _ in range(1000)]  # several 4 KiB blocks
    assert len(set(found)) == len(found) == 1000
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
