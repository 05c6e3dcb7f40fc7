"""Viewing history: who watched which title, when and how much, read from ``interactions.csv``.

Columns: viewer_id, title_id, timestamp (Unix seconds, integer), watched (fraction 0..1 of the
title watched). Rows are validated against the catalog's titles; errors name file, line, field.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from artwork.errors import InputError, InputErrors

COLUMNS = ("viewer_id", "title_id", "timestamp", "watched")
T = TypeVar("T")


@dataclass(frozen=True)
class Interaction:
    """One viewing of a title by a viewer."""

    viewer_id: str
    title_id: str
    timestamp: int
    watched: float


class ViewingHistory:
    """All interactions, sorted by time, with per-viewer lookups."""

    def __init__(self, interactions: Iterable[Interaction]) -> None:
        self.interactions = tuple(
            sorted(interactions, key=lambda i: (i.timestamp, i.viewer_id, i.title_id))
        )
        by_viewer: dict[str, list[Interaction]] = {}
        for i in self.interactions:
            by_viewer.setdefault(i.viewer_id, []).append(i)
        self._by_viewer = {k: tuple(v) for k, v in by_viewer.items()}
        self._derived: dict[tuple[str, int], tuple[object, Any]] = {}

    def derived(self, name: str, source: object, compute: Callable[[], T]) -> T:
        """``compute()``, once per ``name`` and ``source`` object (e.g. the catalog it is
        derived with; None for what the history alone gives): the history never changes, so
        neither does what is derived from it and an unchanging ``source``. Callers must not
        modify what they get."""
        key = (name, id(source))
        hit = self._derived.get(key)
        if hit is not None and hit[0] is source:  # the same object, not one at a reused id
            return hit[1]
        value = compute()
        self._derived[key] = (source, value)
        return value

    @property
    def viewers(self) -> tuple[str, ...]:
        return tuple(self._by_viewer)

    def of(self, viewer_id: str) -> tuple[Interaction, ...]:
        """A viewer's interactions, oldest first (empty for an unknown viewer)."""
        return self._by_viewer.get(viewer_id, ())

    def popularity(self, min_watched: float = 0.0) -> Counter[str]:
        """How many viewings each title has (counting those with ``watched >= min_watched``); a
        fresh copy each call, counted once per threshold (the history never changes)."""
        counts = self.derived(f"popularity/{min_watched!r}", None, lambda: Counter(
            i.title_id for i in self.interactions if i.watched >= min_watched
        ))  # fmt: skip
        return Counter(counts)


def write_history(path: Path | str, interactions: Iterable[Interaction]) -> None:
    """Write interactions as CSV, oldest first."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for i in sorted(interactions, key=lambda i: (i.timestamp, i.viewer_id, i.title_id)):
            w.writerow([i.viewer_id, i.title_id, i.timestamp, f"{i.watched:.3f}"])


def load_history(path: Path | str, title_ids: Iterable[str] | None = None) -> ViewingHistory:
    """Read ``interactions.csv``; with ``title_ids``, rows naming another title are errors."""
    path = Path(path)
    known = set(title_ids) if title_ids is not None else None
    errors: list[InputError] = []
    rows: list[Interaction] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = tuple(reader.fieldnames or ())
        if header != COLUMNS:
            raise InputError(f"expected columns {COLUMNS}, found {header}", file=path.name, line=1)
        for row in reader:
            line = reader.line_num

            def bad(field: str, message: str, line: int = line) -> None:
                errors.append(InputError(message, file=path.name, line=line, field=field))

            if known is not None and row["title_id"] not in known:
                bad("title_id", f"unknown title {row['title_id']!r}")
            if not row["viewer_id"]:
                bad("viewer_id", "empty value")
            try:
                timestamp = int(row["timestamp"])
            except (TypeError, ValueError):
                bad("timestamp", f"not a whole number: {row['timestamp']!r}")
                continue
            try:
                watched = float(row["watched"])
            except (TypeError, ValueError):
                bad("watched", f"not a number: {row['watched']!r}")
                continue
            if not 0.0 <= watched <= 1.0:
                bad("watched", f"out of range 0..1: {watched}")
                continue
            rows.append(Interaction(row["viewer_id"], row["title_id"], timestamp, watched))
    if errors:
        raise InputErrors(errors)
    return ViewingHistory(rows)
