"""``artwork serve`` as a subprocess on a free loopback port, for the service bench and the
reliability tests (which kill and restart it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    world: Path, db: Path | str, log: Path, settings: Mapping[str, object] | None = None
) -> tuple[subprocess.Popen, str]:
    """``artwork serve`` on a free loopback port, once it answers ``/readyz``; ``db`` is a
    SQLite file or a database URL, ``settings`` more ``Settings`` fields (``learn_every_s``),
    passed as ``ARTWORK_*`` variables."""
    port = _free_port()
    command = [sys.executable, "-m", "artwork.cli", "serve", "--world", str(world),
               "--db", str(db), "--port", str(port)]  # fmt: skip
    env = {**os.environ, **{f"ARTWORK_{k.upper()}": str(v) for k, v in (settings or {}).items()}}
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited; see {log}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start in 120 s; see {log}")


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each thread of process ``pid``, by thread
    id (Linux ``/proc``; a thread that ended in between is simply absent)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
        used[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return used


def stop_server(process: subprocess.Popen, timeout: float = 30) -> None:
    """Ask the server to shut down (SIGINT, as Ctrl-C); kill it if it has not within
    ``timeout`` seconds."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
