"""GroupCommit: writes that arrive during a commit share the next one; outcomes reach their
writers."""

from __future__ import annotations

import threading
import time

import pytest

from artwork.group_commit import GroupCommit


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_writes_that_arrive_during_a_commit_share_the_next_one():
    release, batches = threading.Event(), []

    def commit(tickets):
        batches.append(sorted(t.work for t in tickets))
        if len(batches) == 1:
            release.wait(5)
        for t in tickets:
            t.result = t.work * 10

    group: GroupCommit[int] = GroupCommit(commit)
    results: dict[int, int] = {}

    def write(i: int) -> None:
        results[i] = group.submit(i)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    threads[0].start()
    _wait_for(lambda: len(batches) == 1)  # the first commit is under way
    for t in threads[1:]:
        t.start()
    _wait_for(lambda: group.pending == 5)
    release.set()
    for t in threads:
        t.join(5)
    assert batches == [[0], [1, 2, 3, 4, 5]]
    assert results == {i: i * 10 for i in range(6)}


def test_each_writer_gets_its_own_error_and_a_failed_commit_fails_them_all():
    def commit(tickets):
        for t in tickets:
            if t.work == "bad":
                t.error = ValueError("bad work")
            else:
                t.result = t.work

    group: GroupCommit[str] = GroupCommit(commit)
    assert group.submit("good") == "good"
    with pytest.raises(ValueError, match="bad work"):
        group.submit("bad")

    def failing(tickets):
        raise OSError("disk full")

    broken: GroupCommit[str] = GroupCommit(failing)
    with pytest.raises(OSError, match="disk full"):
        broken.submit("anything")
    with pytest.raises(OSError, match="disk full"):  # the queue is free again
        broken.submit("again")


def test_a_batch_never_exceeds_its_bound():
    sizes = []
    group: GroupCommit[int] = GroupCommit(lambda ts: sizes.append(len(ts)), max_batch=2)
    threads = [threading.Thread(target=group.submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sum(sizes) == 20 and max(sizes) <= 2
