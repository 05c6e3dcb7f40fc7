"""Group commit: writes that arrive together share one transaction and one sync.

A leader/follower queue. A writer enqueues its work; if no batch is being committed it
becomes the leader, takes everything queued, runs it in one transaction and wakes the others;
writers that arrived meanwhile wait, and the first of them leads the next batch. Each writer
returns (or raises) only once the batch holding its work is committed, so durability per call
is kept while the cost of a sync is shared by every write that waited for it.

Writers on an event loop (``submit_async``) must not block it: their work is committed by one
committer thread, started on first use, that leads whenever work is queued and no batch is
being committed; the awaiting coroutine resumes once its batch is committed. Sync and async
writers share the same batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Work = TypeVar("Work")


@dataclass(eq=False)
class Ticket(Generic[Work]):
    """One writer's work and, once its batch is done, its result or its exception; an async
    writer's ``future`` is settled on its event ``loop`` then."""

    work: Work
    done: bool = False
    result: Any = None
    error: BaseException | None = field(default=None, repr=False)
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    future: asyncio.Future[Any] | None = field(default=None, repr=False)

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommitClosed(RuntimeError):
    """Work submitted after ``close``."""


class GroupCommit(Generic[Work]):
    """Run writers' work in batches of at most ``max_batch``: ``commit(tickets)`` must run all
    of them in one transaction and set each ticket's ``result`` or ``error``; an exception it
    raises (e.g. a failed COMMIT) becomes the error of every ticket without one."""

    def __init__(self, commit: Callable[[Sequence[Ticket[Work]]], None], max_batch: int = 256):
        self._commit = commit
        self._max_batch = max_batch
        self._queue: list[Ticket[Work]] = []
        self._leading = False
        self._closed = False
        self._committer: threading.Thread | None = None
        self._changed = threading.Condition()

    @property
    def pending(self) -> int:
        """Writers waiting for a batch to take their work."""
        with self._changed:
            return len(self._queue)

    def submit(self, work: Work) -> Any:
        """Run ``work`` in the next batch; return its result once that batch is committed."""
        ticket = Ticket(work)
        self._enqueue(ticket)
        while True:  # a leader whose ticket did not fit in its batch leads again
            with self._changed:
                while self._leading and not ticket.done:
                    self._changed.wait()
                if ticket.done:
                    return ticket.outcome()
                batch = self._take()
            self._lead(batch)

    async def submit_async(self, work: Work) -> Any:
        """``submit`` for a coroutine: the committer thread runs the batch; the event loop is
        free meanwhile. A cancelled caller's work is still committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._enqueue(Ticket(work, loop=loop, future=future), committer=True)
        return await future

    def close(self) -> None:
        """Stop the committer thread once it has committed what is queued; later async work is
        refused (``GroupCommitClosed``), sync writers still lead their own batches."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            committer = self._committer
        if committer is not None and committer is not threading.current_thread():
            committer.join()

    def _enqueue(self, ticket: Ticket[Work], committer: bool = False) -> None:
        with self._changed:
            if committer and self._closed:
                raise GroupCommitClosed("closed: no committer thread runs async work any more")
            self._queue.append(ticket)
            if committer and self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_queued, name="group-commit", daemon=True
                )
                self._committer.start()
            self._changed.notify_all()

    def _take(self) -> list[Ticket[Work]]:
        """Become the leader and take the next batch (the caller holds ``_changed``)."""
        self._leading = True
        batch = self._queue[: self._max_batch]
        del self._queue[: self._max_batch]
        return batch

    def _commit_queued(self) -> None:
        """The committer thread: lead a batch whenever work waits and nobody else leads."""
        while True:
            with self._changed:
                while self._leading or not (self._queue or self._closed):
                    self._changed.wait()
                if not self._queue:  # closed and drained
                    return
                batch = self._take()
            self._lead(batch)

    def _lead(self, batch: list[Ticket[Work]]) -> None:
        try:
            self._commit(batch)
        except BaseException as exc:
            for t in batch:
                if t.error is None:
                    t.error, t.result = exc, None
        finally:
            with self._changed:
                for t in batch:
                    t.done = True
                self._leading = False
                self._changed.notify_all()
            _wake_async_writers(batch)


def _wake_async_writers(batch: Sequence[Ticket[Any]]) -> None:
    """Settle the batch's futures: one call into each event loop, not one per writer."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Ticket[Any]]] = {}
    for t in batch:
        if t.loop is not None:
            by_loop.setdefault(t.loop, []).append(t)
    for loop, tickets in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, tickets)


def _settle(tickets: Sequence[Ticket[Any]]) -> None:
    for t in tickets:
        assert t.future is not None
        if t.future.cancelled():
            continue
        if t.error is not None:
            t.future.set_exception(t.error)
        else:
            t.future.set_result(t.result)
