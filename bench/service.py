"""The HTTP service under load: a real uvicorn server and a load generator in another process.

    python -m bench.service [--seconds 30] [--concurrency 32] [--world FOLDER]

Builds the demo world once (cached in ``.cache/bench/service``), starts ``artwork serve`` on a
free loopback port with a fresh event log, and drives it from a separate process holding
``--concurrency`` keep-alive connections (aiohttp: httpx's async pool, tried first, capped
the client near 250 req/s at 32 connections), one endpoint at a time for ``--seconds``
each: ``GET /healthz`` (the framework's ceiling on this machine, the baseline), ``GET
/v1/artwork``, ``GET /v1/home`` (10 rows × 10 titles) and ``POST /v1/events`` (batches of 20
fresh events on decisions taken from the ``/v1/home`` answers). A 202 means the batch is
committed, so events/s is the durable ingest rate; the log is counted afterwards to check.

Each endpoint's line also says who used the CPU over its timed window, in % of one core:
the server's event-loop thread (its main thread), the server's other threads together (group
commit, worker threads, any library's own), and the load generator. A loop near 100 % means
the server's Python is the limit; a loop well under it while other threads run means it waits
for the GIL they hold; a library thread spinning between calls shows as "other" near 90 %.

``--serving policy`` (the default) has the bandit policy decide from the first request, as it
does in production once it has learnt; ``--serving tag_prior`` measures the cold start.

Writes ``bench/results/service.json``; targets, as ratios to ``/healthz`` in the same run:
``/v1/artwork`` ≥ 60 % of its throughput with a p99 ≤ 1.5× its p99, ``/v1/home`` ≥ 25 % of its
throughput, and ≥ 5,000 events/s ingested.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import numpy as np

from artwork.catalog import load_catalog
from artwork.demo.world import WorldSpec, build_world
from artwork.event_store import EventStore
from artwork.interactions import load_history
from bench import report
from bench.service_process import rss_mib, start_server, stop_server, thread_cpu_seconds

CACHE = Path(".cache/bench/service")
EVENTS_PER_BATCH = 20
HOME_SHAPE = {"rows": 10, "per_row": 10}
EVENT_TYPES = ("impression", "click", "play")
DECISIONS_KEPT = 20_000  # decision ids the events phase draws from
PHASES = ("healthz", "artwork", "home", "events")


@dataclass(frozen=True)
class Load:
    """What the load generator sends: where, for how long, and the ids to draw from."""

    base: str
    seconds: float
    concurrency: int
    viewers: tuple[str, ...]
    titles: tuple[str, ...]
    seed: int = 0
    phases: tuple[str, ...] = PHASES
    server_pid: int | None = None  # to charge each phase's CPU to the server's threads


class Phase:
    """What one endpoint's run measured (``items``: in the timed window; ``acked``: in all)."""

    def __init__(self, name: str) -> None:
        self.name, self.latencies, self.errors, self.items, self.acked = name, [], 0, 0, 0
        self.cpu: dict[str, float] = {}  # % of one core over the timed window, by whom

    def summary(self, elapsed: float) -> dict:
        lat = np.asarray(self.latencies) * 1000 if self.latencies else np.zeros(1)
        return {
            "requests": len(self.latencies), "errors": self.errors,
            "req_s": round(len(self.latencies) / elapsed, 1),
            "items_s": round(self.items / elapsed, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2), "acked_all": self.acked,
            **self.cpu,
        }  # fmt: skip


async def _run_phase(load: Load, phase: Phase, send) -> dict:  # noqa: ANN001
    """``load.concurrency`` workers call ``send(rng)`` until time is up, after a short warm-up
    that is not counted; ``send`` returns whether it succeeded and the items it carried."""
    warmup = min(2.0, load.seconds / 10)
    started = time.perf_counter()
    counting_from, until = started + warmup, started + warmup + load.seconds

    async def worker(k: int) -> None:
        rng = random.Random(load.seed * 1000 + k)
        while (now := time.perf_counter()) < until:
            try:
                ok, items = await send(rng)
            except aiohttp.ClientError:
                ok, items = False, 0
            phase.acked += items if ok else 0
            if now >= counting_from:
                phase.latencies.append(time.perf_counter() - now)
                phase.errors += not ok
                phase.items += items if ok else 0

    async def charge_cpu() -> None:
        """Who used the CPU over the timed window: the server's event-loop thread, its other
        threads together (commit, worker, any library's), and this load generator."""
        await asyncio.sleep(max(0.0, counting_from - time.perf_counter()))
        server = thread_cpu_seconds(load.server_pid)
        own, at = time.process_time(), time.perf_counter()
        await asyncio.sleep(max(0.0, until - time.perf_counter()))
        server_now, elapsed = thread_cpu_seconds(load.server_pid), time.perf_counter() - at
        used = {tid: cpu - server.get(tid, 0.0) for tid, cpu in server_now.items()}
        main = used.pop(load.server_pid, 0.0)
        phase.cpu = {
            "server_loop_cpu_pct": round(100 * main / elapsed, 1),
            "server_other_cpu_pct": round(100 * sum(used.values()) / elapsed, 1),
            "loadgen_cpu_pct": round(100 * (time.process_time() - own) / elapsed, 1),
        }

    measuring = [charge_cpu()] if load.server_pid is not None else []
    await asyncio.gather(*(worker(k) for k in range(load.concurrency)), *measuring)
    return phase.summary(time.perf_counter() - counting_from)


async def _drive(load: Load) -> dict[str, dict]:
    decisions: list[str] = []

    async def get(path: str, params: dict | None = None) -> tuple[int, bytes]:
        async with session.get(path, params=params) as response:
            return response.status, await response.read()

    async def healthz(rng: random.Random) -> tuple[bool, int]:
        return (await get("/healthz"))[0] == 200, 1

    def viewer_context(rng: random.Random) -> dict:
        return {"user_id": rng.choice(load.viewers), "device": rng.choice(("tv", "mobile")),
                "hour": rng.randrange(24)}  # fmt: skip

    async def artwork(rng: random.Random) -> tuple[bool, int]:
        params = {**viewer_context(rng), "title_id": rng.choice(load.titles)}
        return (await get("/v1/artwork", params))[0] == 200, 1

    async def home(rng: random.Random) -> tuple[bool, int]:
        status, body = await get("/v1/home", {**viewer_context(rng), **HOME_SHAPE})
        if status == 200 and len(decisions) < DECISIONS_KEPT:
            rows = json.loads(body)["rows"]
            decisions.extend(t["artwork"]["decision_id"] for row in rows for t in row["titles"])
        return status == 200, 1

    async def events(rng: random.Random) -> tuple[bool, int]:
        batch = [{"event_id": uuid.uuid4().hex, "decision_id": rng.choice(decisions),
                  "type": rng.choice(EVENT_TYPES)} for _ in range(EVENTS_PER_BATCH)]  # fmt: skip
        async with session.post("/v1/events", json={"events": batch}) as response:
            await response.read()
            return response.status == 202, EVENTS_PER_BATCH

    results = {}
    connector = aiohttp.TCPConnector(limit=load.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(load.base, connector=connector, timeout=timeout) as session:
        senders = {"healthz": healthz, "artwork": artwork, "home": home, "events": events}
        for name in load.phases:
            results[name] = await _run_phase(load, Phase(name), senders[name])
    return results


def drive(load: Load) -> dict[str, dict]:
    """Run every phase against ``load.base`` (in the load generator's own process)."""
    return asyncio.run(_drive(load))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections")
    parser.add_argument("--world", type=Path, default=CACHE / "world")
    parser.add_argument("--seed", type=int, default=7, help="the demo world's seed")
    parser.add_argument(
        "--serving", choices=("policy", "tag_prior"), default="policy",
        help="what decides: the bandit policy, as in production once it has learnt (its cold "
             "start turned off: the same computation as a learnt one), or the cold tag prior",
    )  # fmt: skip
    parser.add_argument(
        "--phases", nargs="+", choices=PHASES, default=list(PHASES),
        help="endpoints to drive, in order (a partial run prints its table, writes no result; "
             "events draw decisions from home's answers)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if "events" in args.phases and "home" not in args.phases[: args.phases.index("events")]:
        parser.error("--phases: events need a home phase before them (their decision ids)")

    if not (args.world / "world.json").is_file():
        build_world(args.world, WorldSpec(seed=args.seed), force=True)
    catalog = load_catalog(args.world)
    titles = tuple(t for t in catalog.titles if catalog.candidates(t))
    # Mostly viewers with a history (personal rows), some new ones (popular rows).
    known = sorted(load_history(args.world / "interactions.csv", catalog.titles).viewers)
    viewers = tuple(known[:800]) + tuple(f"bench-new-{i:03d}" for i in range(200))
    db = CACHE / "events.db"
    for stale in CACHE.glob("events.db*"):  # a fresh log, and no learner state from an old one
        stale.unlink()
    shutil.rmtree(CACHE / "events.learner", ignore_errors=True)
    serving = {"cold_start_updates": 0} if args.serving == "policy" else {}
    process, base = start_server(args.world, db, CACHE / "server.log", serving)
    try:
        load = Load(base, args.seconds, args.concurrency, viewers, titles,
                    phases=tuple(args.phases), server_pid=process.pid)  # fmt: skip
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no shared GIL
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as generator:
            results = generator.submit(drive, load).result()
        rss = rss_mib(process.pid)
    finally:
        stop_server(process)
    with EventStore(db) as store:
        stored = len(store.events())
    if tuple(args.phases) != PHASES:
        _print_table(results)
        print(f"server RSS after the run: {rss:.0f} MiB (partial run: no result file written)")
        return 0
    return report_results(args, argv, results, rss, stored)


def _print_table(results: dict[str, dict]) -> None:
    """One line per endpoint; CPU as % of one core: the server's loop thread, its other
    threads, the load generator (a loop near 100 % means the server is the limit)."""
    print(f"{'endpoint':<10}{'req/s':>10}{'items/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'loop %':>8}{'other %':>9}{'load %':>8}")  # fmt: skip
    for name, r in results.items():
        cpu = "".join(
            f"{r.get(k, float('nan')):>{w}.0f}"
            for k, w in (
                ("server_loop_cpu_pct", 8),
                ("server_other_cpu_pct", 9),
                ("loadgen_cpu_pct", 8),
            )
        )
        print(f"{name:<10}{r['req_s']:>10.0f}{r['items_s']:>10.0f}{r['p50_ms']:>9.1f}"
              f"{r['p99_ms']:>9.1f}{r['errors']:>8}{cpu}")  # fmt: skip


def report_results(
    args: argparse.Namespace, argv: list[str] | None, results: dict, rss: float, stored: int
) -> int:
    """Print the table and write the result file."""
    _print_table(results)
    acked = results["events"]["acked_all"]  # warm-up included
    print(f"server RSS after the run: {rss:.0f} MiB; events acknowledged {acked}, stored {stored}"
          + ("" if stored == acked else "  <- MISMATCH"))  # fmt: skip
    health, art, home = results["healthz"], results["artwork"], results["home"]
    targets = [
        report.Target("artwork_vs_healthz_req_s", art["req_s"] / health["req_s"], ">=", 0.6),
        report.Target("artwork_vs_healthz_p99", art["p99_ms"] / health["p99_ms"], "<=", 1.5),
        report.Target("home_vs_healthz_req_s", home["req_s"] / health["req_s"], ">=", 0.25),
        report.Target("durable_events_s", results["events"]["items_s"], ">=", 5000.0),
    ]
    metrics = {
        "seconds": args.seconds, "concurrency": args.concurrency, "serving": args.serving,
        "events_per_batch": EVENTS_PER_BATCH, "home_shape": HOME_SHAPE,
        "server_rss_mib": round(rss, 1), "events_stored": stored,
        "cpu_cores": os.cpu_count(), **results,
    }  # fmt: skip
    report.write_result("service", argv, metrics, targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
