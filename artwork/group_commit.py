"""Group commit: writes from threads that arrive together share one transaction and one sync.

A leader/follower queue. A writer enqueues its work; if no batch is being committed it
becomes the leader, takes everything queued, runs it in one transaction and wakes the others;
writers that arrived meanwhile wait, and the first of them leads the next batch. Each writer
returns (or raises) only once the batch holding its work is committed, so durability per call
is kept while the cost of a sync is shared by every write that waited for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Work = TypeVar("Work")


@dataclass(eq=False)
class Ticket(Generic[Work]):
    """One writer's work and, once its batch is done, its result or its exception."""

    work: Work
    done: bool = False
    result: Any = None
    error: BaseException | None = field(default=None, repr=False)

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit(Generic[Work]):
    """Run writers' work in batches of at most ``max_batch``: ``commit(tickets)`` must run all
    of them in one transaction and set each ticket's ``result`` or ``error``; an exception it
    raises (e.g. a failed COMMIT) becomes the error of every ticket without one."""

    def __init__(self, commit: Callable[[Sequence[Ticket[Work]]], None], max_batch: int = 256):
        self._commit = commit
        self._max_batch = max_batch
        self._queue: list[Ticket[Work]] = []
        self._leading = False
        self._changed = threading.Condition()

    @property
    def pending(self) -> int:
        """Writers waiting for a batch to take their work."""
        with self._changed:
            return len(self._queue)

    def submit(self, work: Work) -> Any:
        """Run ``work`` in the next batch; return its result once that batch is committed."""
        ticket = Ticket(work)
        with self._changed:
            self._queue.append(ticket)
        while True:  # a leader whose ticket did not fit in its batch leads again
            with self._changed:
                while self._leading and not ticket.done:
                    self._changed.wait()
                if ticket.done:
                    return ticket.outcome()
                self._leading = True
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
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
