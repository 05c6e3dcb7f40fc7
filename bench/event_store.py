"""Durable event writes from concurrent request threads: one commit per write vs group commit.

    python -m bench.event_store [--threads 16] [--writes 200] [--db LOCATION]

``--threads`` threads each record ``--writes`` events, one event per ``record_events`` call (a
client posting single events), into a fresh ``EventStore``; every call returns only once its
event is committed and synced (SQLite WAL, synchronous=FULL). Baseline: the same store with
``max_batch=1``, so each write is its own transaction and fsync; ours: group commit, where
writes that arrive while a commit is under way share the next one. ``--db`` is a folder for
the SQLite files (default ``.cache/bench-event-store``, on disk: a tmpfs would make fsync
free) or a PostgreSQL URL (its database must be empty or an event store).

Writes ``bench/results/event_store.json``; target: group commit ≥ 2× the baseline's events/s.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from pathlib import Path

from artwork.event_store import EventStore
from artwork.records import Decision, FeedbackEvent, new_decision_id
from bench import report


def measure(location: Path | str, threads: int, writes: int, max_batch: int, tag: str) -> float:
    """Events per second for ``threads`` × ``writes`` single-event durable writes."""
    with EventStore(location, max_batch=max_batch) as store:
        decision = Decision(
            decision_id=new_decision_id(), user_id="bench", title_id="t1", candidates=("a",),
            artwork_id="a", propensity=1.0, policy="uniform", policy_version="1", seed=0,
            context={}, created_at=time.time(),
        )  # fmt: skip
        store.record_decisions([decision])
        start = threading.Barrier(threads + 1)

        def write(worker: int) -> None:
            start.wait()
            for i in range(writes):
                event_id = f"{tag}-{worker}-{i}"
                store.record_events(
                    [
                        FeedbackEvent(
                            event_id=event_id,
                            type="click",
                            decision_id=decision.decision_id,
                            time=1.0,
                        )
                    ]
                )

        workers = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
        for w in workers:
            w.start()
        start.wait()
        began = time.perf_counter()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - began
        assert len(store.events(decision.decision_id)) == threads * writes
    return threads * writes / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--writes", type=int, default=200, help="single-event writes per thread")
    parser.add_argument("--db", default=".cache/bench-event-store", help="folder or URL")
    args = parser.parse_args(argv)

    rates = {}
    for name, max_batch in (("per_write", 1), ("group", 256)):
        if "://" in args.db:
            location: Path | str = args.db
        else:
            folder = Path(args.db) / name
            shutil.rmtree(folder, ignore_errors=True)
            location = folder / "events.db"
        rates[name] = measure(
            location, args.threads, args.writes, max_batch, f"{name}{time.time()}"
        )
    speedup = rates["group"] / rates["per_write"]
    backend = "postgresql" if "://" in args.db else "sqlite"
    print(f"{'commit':<12}{'backend':<12}{'threads':>8}{'writes':>8}{'events/s':>12}")
    for name, rate in rates.items():
        print(f"{name:<12}{backend:<12}{args.threads:>8}{args.writes:>8}{rate:>12.0f}")
    print(f"group commit speedup: {speedup:.2f}x")
    report.write_result(
        "event_store",
        argv,
        {"backend": backend, "threads": args.threads, "writes_per_thread": args.writes,
         "per_write_events_s": round(rates["per_write"], 1),
         "group_events_s": round(rates["group"], 1)},
        [report.Target("group_vs_per_write", speedup, ">=", 2.0)],
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
