"""The benchmark result file (DESIGN.md's format): metrics, targets and the machine they ran on."""

from __future__ import annotations

import json
import math
import operator
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch

RESULTS = Path(__file__).with_name("results")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    """A measured value and the bound it should meet (``value op target``)."""

    name: str
    value: float
    op: str
    target: float

    @property
    def met(self) -> bool:
        return bool(_OPS[self.op](self.value, self.target))

    def as_dict(self) -> dict:
        return {"name": self.name, "value": round(float(self.value), 4), "op": self.op,
                "target": self.target, "met": self.met}  # fmt: skip


def machine() -> str:
    """Cores, architecture and accelerator, in words."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} cores, {platform.machine()}, {gpu}"


def write_result(name: str, argv: list[str] | None, metrics: dict, targets: list[Target]) -> Path:
    """Write ``bench/results/NAME.json`` for a run of ``python -m bench.NAME`` with ``argv``
    (None: this process's arguments) and print whether each target was met. A non-finite metric
    (a rate with nothing to time) is written as null: JSON has no NaN."""
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "bench": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": machine(),
        "command": " ".join([f"python -m bench.{name}", *(sys.argv[1:] if argv is None else argv)]),
        "metrics": _finite(metrics),
        "targets": _finite([t.as_dict() for t in targets]),
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    for t in targets:
        print(f"target {t.name}: {t.value:.3f} {t.op} {t.target} -> {'met' if t.met else 'MISSED'}")
    return path


def _finite(value):
    """``value`` with every non-finite float, at any depth, as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
