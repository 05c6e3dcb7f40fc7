"""CSV and JSONL tables: read as header + rows, written atomically (temp file, then rename)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from artwork.errors import InputError
from models.artifacts import write_atomically

__all__ = ["read_table", "write_atomically", "write_table"]


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV or JSONL file (JSONL header: keys in first-seen order)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            if path.suffix == ".jsonl":
                rows = [json.loads(line) for line in f if line.strip()]
                header = list(dict.fromkeys(key for row in rows for key in row))
                return header, rows
            reader = csv.DictReader(f)
            return list(reader.fieldnames or []), list(reader)
    except (OSError, json.JSONDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from exc


def write_table(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """Write rows as CSV or JSONL (by suffix), atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            if path.suffix == ".jsonl":
                f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
                return
            writer = csv.DictWriter(f, header, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    write_atomically(path, write)
