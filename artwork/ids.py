"""Random bits for ids, read from ``os.urandom`` a block at a time per thread.

``os.urandom`` is a system call that gives up the GIL. The service draws ids on its event loop
thread for every request (request ids, decision ids); each GIL hand-over there lets a waiting
thread (the commit thread) in, and the loop waits to get the GIL back. One read per 4 KiB of ids
keeps that to one hand-over per few hundred ids. A forked child starts with an empty block, so
parent and child never hand out the same bits.
"""

from __future__ import annotations

import os
import threading

_BLOCK = 4096
_pool = threading.local()


def random_bytes(n: int) -> bytes:
    """``n`` random bytes from ``os.urandom``, served from this thread's current block."""
    pool = _pool
    data, at = getattr(pool, "data", b""), getattr(pool, "at", 0)
    if at + n > len(data):
        data, at = os.urandom(max(_BLOCK, n)), 0
        pool.data = data
    pool.at = at + n
    return data[at : at + n]


def random_hex(n_bytes: int = 16) -> str:
    """``n_bytes`` random bytes as lowercase hex (a uuid4-sized id by default)."""
    return random_bytes(n_bytes).hex()


def _forget_block() -> None:
    global _pool
    _pool = threading.local()


os.register_at_fork(after_in_child=_forget_block)
