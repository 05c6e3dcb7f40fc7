"""Tag labels for artwork: a demo world's truth, or people's judgements, as label matrices.

Two file formats, told apart by their header:

- truth (``truth.csv`` of a demo world): artwork_id, …, objects, moods, genres ("|"-separated);
  every vocabulary tag of a listed artwork is known: 1 when listed, else 0;
- human labels: ``artwork_id, tag, label`` with label 0 or 1; only the named tags are known.

Files are applied in order, later ones overriding earlier ones, so a person's judgement can
correct the machine's truth. Errors name file, line and field. People's labels arrive one
``TagLabel`` at a time (the service checks them with ``human_labels``, the event store keeps
them) and are written back out as a human labels file by ``write_human_labels``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artwork.errors import InputError, InputErrors
from models.artifacts import write_atomically

HUMAN_COLUMNS = ("artwork_id", "tag", "label")
TRUTH_GROUPS = ("objects", "moods", "genres")


@dataclass(frozen=True)
class TagLabels:
    """``labels[i, t]`` ∈ {0, 1} for artwork ``artwork_ids[i]`` and tag ``tags[t]``, where
    ``known[i, t]``."""

    artwork_ids: tuple[str, ...]
    tags: tuple[str, ...]
    labels: np.ndarray  # (N, T) int8
    known: np.ndarray  # (N, T) bool

    def counts(self) -> dict[str, int]:
        """How many labels are known, and how many of them are positive."""
        return {"known": int(self.known.sum()), "positive": int(self.labels[self.known].sum())}


@dataclass(frozen=True, kw_only=True)
class TagLabel:
    """A person's judgement that artwork ``artwork_id`` shows (1) or does not show (0) ``tag``."""

    artwork_id: str
    tag: str
    label: int

    def __post_init__(self) -> None:
        for name in ("artwork_id", "tag"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or value != value.strip():
                raise InputError(f"expected a non-empty, trimmed string, got {value!r}",
                                 field=name)  # fmt: skip
        if isinstance(self.label, bool) or self.label not in (0, 1):
            raise InputError(f"expected 0 or 1, got {self.label!r}", field="label")


def human_labels(
    items: Sequence[Mapping[str, Any]],
    *,
    artwork_ids: Collection[str],
    tags: Collection[str],
    max_labels: int | None = None,
    field_name: str = "labels",
) -> list[TagLabel]:
    """Labels from plain mappings, each naming a known artwork and tag; ``InputErrors`` naming
    ``labels[i].field`` for every bad item, or ``labels`` when there are over ``max_labels``."""
    if max_labels is not None and len(items) > max_labels:
        raise InputErrors(
            [InputError(f"{len(items)} labels, at most {max_labels} per batch", field=field_name)]
        )
    labels: list[TagLabel] = []
    errors: list[InputError] = []
    for i, item in enumerate(items):
        try:
            label = TagLabel(**item)
        except InputError as exc:
            errors.append(InputError(exc.reason, field=f"{field_name}[{i}].{exc.field}"))
            continue
        except TypeError as exc:  # an unexpected or missing keyword
            errors.append(InputError(str(exc), field=f"{field_name}[{i}]"))
            continue
        if label.artwork_id not in artwork_ids:
            errors.append(InputError(f"unknown artwork {label.artwork_id!r}",
                                     field=f"{field_name}[{i}].artwork_id"))  # fmt: skip
        elif label.tag not in tags:
            errors.append(InputError(f"unknown tag {label.tag!r}", field=f"{field_name}[{i}].tag"))
        else:
            labels.append(label)
    if errors:
        raise InputErrors(errors)
    return labels


def human_labels_csv(labels: Iterable[TagLabel]) -> str:
    """The text of a human labels file (``artwork_id,tag,label``) that ``load_labels`` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HUMAN_COLUMNS)
    writer.writerows((x.artwork_id, x.tag, x.label) for x in labels)
    return out.getvalue()


def write_human_labels(path: Path | str, labels: Iterable[TagLabel]) -> Path:
    """Write ``labels`` as a human labels file, atomically; returns the path."""
    path, text = Path(path), human_labels_csv(labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def load_labels(
    paths: Iterable[Path | str], artwork_ids: Sequence[str], tags: Sequence[str]
) -> TagLabels:
    """Labels for ``artwork_ids`` × ``tags`` from truth and/or human label files, in order.

    Rows naming an artwork outside ``artwork_ids`` are ignored (they were not tagged); an
    unknown tag or a label other than 0/1 is an error.
    """
    row_of = {a: i for i, a in enumerate(artwork_ids)}
    col_of = {t: j for j, t in enumerate(tags)}
    labels = np.zeros((len(artwork_ids), len(tags)), dtype=np.int8)
    known = np.zeros_like(labels, dtype=bool)
    errors: list[InputError] = []
    for path in map(Path, paths):
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = tuple(reader.fieldnames or ())
            if set(HUMAN_COLUMNS) <= set(header):
                rows = _human_rows(reader, path, col_of, errors)
            elif {"artwork_id", *TRUTH_GROUPS} <= set(header):
                rows = _truth_rows(reader, path, tags, col_of, errors)
            else:
                raise InputError(
                    f"expected columns {HUMAN_COLUMNS} (human labels) or artwork_id, "
                    f"{', '.join(TRUTH_GROUPS)} (truth); found {header}",
                    file=path.name,
                    line=1,
                )
            for artwork_id, column, value in rows:
                if artwork_id in row_of:
                    labels[row_of[artwork_id], column] = value
                    known[row_of[artwork_id], column] = True
    if errors:
        raise InputErrors(errors)
    return TagLabels(tuple(artwork_ids), tuple(tags), labels, known)


def _human_rows(reader: csv.DictReader, path: Path, col_of: dict[str, int], errors: list):
    for row in reader:
        line = reader.line_num
        tag, label = (row["tag"] or "").strip(), (row["label"] or "").strip()
        if tag not in col_of:
            errors.append(InputError(f"unknown tag {tag!r}", file=path.name, line=line,
                                     field="tag"))  # fmt: skip
        elif label not in ("0", "1"):
            errors.append(InputError(f"expected 0 or 1, found {label!r}", file=path.name,
                                     line=line, field="label"))  # fmt: skip
        else:
            yield row["artwork_id"].strip(), col_of[tag], int(label)


def _truth_rows(reader, path: Path, tags: Sequence[str], col_of: dict[str, int], errors: list):
    for row in reader:
        listed = {t for g in TRUTH_GROUPS for t in (row[g] or "").split("|") if t}
        unknown = sorted(listed - set(col_of))
        if unknown:
            errors.append(InputError(f"unknown tag(s) {unknown}", file=path.name,
                                     line=reader.line_num, field="tags"))  # fmt: skip
            continue
        for tag in tags:
            yield row["artwork_id"], col_of[tag], int(tag in listed)
