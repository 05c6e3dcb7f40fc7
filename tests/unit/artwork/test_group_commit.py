"""GroupCommit: writes that arrive during a commit share the next one; outcomes reach their
writers."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from artwork.group_commit import GroupCommit, GroupCommitClosed
from tests.conftest import run_async


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


def test_async_writers_share_batches_and_the_loop_runs_on_while_they_commit():
    release, batches = threading.Event(), []

    def commit(tickets):
        batches.append(sorted(t.work for t in tickets))
        if len(batches) == 1:
            release.wait(5)  # the committer thread blocks; the loop must not
        for t in tickets:
            t.result = t.work * 10

    group: GroupCommit[int] = GroupCommit(commit)

    async def main() -> list[int]:
        first = asyncio.ensure_future(group.submit_async(0))
        while not batches:  # the first batch is being committed
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(group.submit_async(i)) for i in range(1, 6)]
        ticks = 0
        while group.pending < 5:
            await asyncio.sleep(0.001)
        for _ in range(10):  # the loop still turns while the commit is held up
            await asyncio.sleep(0)
            ticks += 1
        release.set()
        results = await asyncio.gather(first, *rest)
        assert ticks == 10
        return results

    assert run_async(main()) == [i * 10 for i in range(6)]
    assert batches == [[0], [1, 2, 3, 4, 5]]
    group.close()


def test_async_and_sync_writers_mix_and_errors_reach_the_awaiting_writer():
    def commit(tickets):
        for t in tickets:
            if t.work < 0:
                t.error = ValueError(f"bad work {t.work}")
            else:
                t.result = t.work

    group: GroupCommit[int] = GroupCommit(commit, max_batch=3)
    sync_results: list[int] = []
    threads = [threading.Thread(target=lambda i=i: sync_results.append(group.submit(i)))
               for i in range(100, 110)]  # fmt: skip

    async def main() -> list[int]:
        for t in threads:
            t.start()
        good = await asyncio.gather(*(group.submit_async(i) for i in range(20)))
        with pytest.raises(ValueError, match="bad work -1"):
            await group.submit_async(-1)
        return good

    assert run_async(main()) == list(range(20))
    for t in threads:
        t.join(5)
    assert sorted(sync_results) == list(range(100, 110))
    group.close()


def test_close_commits_queued_async_work_then_refuses_more():
    committed, release = [], threading.Event()

    def commit(tickets):
        release.wait(5)
        committed.extend(t.work for t in tickets)

    group: GroupCommit[int] = GroupCommit(commit)

    async def main() -> None:
        pending = [asyncio.ensure_future(group.submit_async(i)) for i in range(4)]
        await asyncio.sleep(0.01)
        closer = threading.Thread(target=group.close)
        closer.start()
        release.set()
        closer.join(5)
        assert not closer.is_alive()
        assert sorted(committed) == [0, 1, 2, 3]  # committed before close returned
        await asyncio.gather(*pending)
        with pytest.raises(GroupCommitClosed):
            await group.submit_async(9)

    run_async(main())
    assert group.submit(5) is None  # a sync writer still leads its own batch
