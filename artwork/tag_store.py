"""The tag store: one Parquet row per artwork, written in resumable chunks and read back as arrays.

Schema version 1, one row per readable artwork:

=====================  ====================================  =====================================
column                 type                                  meaning
=====================  ====================================  =====================================
artwork_id, title_id   string                                from the catalog
model_id               string                                encoder that made the embedding
calibration_version    string                                "uncalibrated" or the tag model's hash
vocabulary_version     int32                                 tag vocabulary the tags come from
embedding              fixed_size_list<float32|float16>[D]   L2-normalised image embedding
p_<tag>                float32                               tag probability σ(a·s + b), per tag
s_<tag>                float32                               raw score s = cos(x, tag) −
                                                             cos(x, neutral): refit without
                                                             encoding again
width, height          int32                                 full size as displayed (EXIF applied)
aspect, brightness,    float32                               ``artwork.quality`` signals, measured
contrast, sharpness,                                         on the decoded image
sharpness_score,
colourfulness
faces_count            int32
largest_face_share     float32
decode_notes           string                                how the file was read ("" if plainly)
tagged_at              timestamp[ms, UTC]
=====================  ====================================  =====================================

Tag columns follow the tag model's order. Schema metadata: ``artwork.tags`` holds the
``StoreHeader`` as JSON, ``artwork.tags.failures`` the unreadable images as [artwork_id, path,
reason] (also written to ``<out>.errors.csv``).

Writing (``ChunkedTagStore``): each chunk is an atomically renamed
``<out>.parts/part-NNNNN.parquet`` carrying its own failures, so a killed run resumes from the
committed parts (a half-written temp file is ignored); ``finish`` merges ``<out>`` (if any) and
the parts into a new ``<out>``, streaming one row group at a time.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from artwork.errors import ArtifactError
from artwork.tables import write_atomically, write_table

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
HEADER_KEY = b"artwork.tags"
FAILURES_KEY = b"artwork.tags.failures"
EMBEDDING_DTYPES = {"float32": pa.float32(), "float16": pa.float16()}
QUALITY_COLUMNS = {
    "width": pa.int32(), "height": pa.int32(), "aspect": pa.float32(),
    "brightness": pa.float32(), "contrast": pa.float32(), "sharpness": pa.float32(),
    "sharpness_score": pa.float32(), "colourfulness": pa.float32(),
    "faces_count": pa.int32(), "largest_face_share": pa.float32(),
}  # fmt: skip
ERROR_COLUMNS = ["artwork_id", "path", "reason"]


@dataclass(frozen=True)
class StoreHeader:
    """What every row of a store shares; rows with different headers never mix in one file."""

    model_id: str
    vocabulary_version: int
    calibration_version: str
    tags: tuple[str, ...]
    groups: tuple[str, ...]  # the group of each tag
    embedding_dim: int
    embedding_dtype: str = "float32"
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "groups", tuple(self.groups))
        if self.embedding_dtype not in EMBEDDING_DTYPES:
            raise ArtifactError(f"embedding_dtype: expected one of {list(EMBEDDING_DTYPES)}")
        if len(self.groups) != len(self.tags):
            raise ArtifactError(f"groups: expected {len(self.tags)} (one per tag)")

    def differences(self, other: StoreHeader) -> list[str]:
        """``"field: theirs there, ours now"`` for each field that differs."""
        mine, theirs = asdict(self), asdict(other)
        return [f"{k}: {theirs[k]!r} there, {mine[k]!r} now" if k not in ("tags", "groups")
                else f"{k} differ" for k in mine if mine[k] != theirs[k]]  # fmt: skip

    def schema(self) -> pa.Schema:
        """The Arrow schema of a store with this header (failures not included)."""
        columns = [
            ("artwork_id", pa.string()),
            ("title_id", pa.string()),
            ("model_id", pa.string()),
            ("calibration_version", pa.string()),
            ("vocabulary_version", pa.int32()),
            ("embedding", pa.list_(EMBEDDING_DTYPES[self.embedding_dtype], self.embedding_dim)),
            *((f"p_{t}", pa.float32()) for t in self.tags),
            *((f"s_{t}", pa.float32()) for t in self.tags),
            *QUALITY_COLUMNS.items(),
            ("decode_notes", pa.string()),
            ("tagged_at", pa.timestamp("ms", tz="UTC")),
        ]
        return pa.schema(columns, metadata={HEADER_KEY: json.dumps(asdict(self))})


@dataclass(frozen=True)
class TagRecord:
    """The tags of one artwork: embedding (D,), raw scores and probabilities (T,), quality."""

    artwork_id: str
    title_id: str
    embedding: np.ndarray = field(repr=False)
    scores: np.ndarray = field(repr=False)
    probabilities: np.ndarray = field(repr=False)
    quality: Mapping[str, Any]
    decode_notes: str = ""


@dataclass(frozen=True)
class TaggingFailure:
    """An artwork whose image could not be read, and why."""

    artwork_id: str
    path: str
    reason: str


@dataclass(frozen=True)
class TagTable:
    """A tag store read back: arrays aligned on ``artwork_ids`` (rows) and ``header.tags``."""

    path: Path
    header: StoreHeader
    artwork_ids: tuple[str, ...]
    title_ids: tuple[str, ...]
    embeddings: np.ndarray = field(repr=False)  # (N, D) float32
    scores: np.ndarray = field(repr=False)  # (N, T) float32
    probabilities: np.ndarray = field(repr=False)  # (N, T) float32
    quality: Mapping[str, np.ndarray] = field(repr=False)  # column → (N,)

    @property
    def tags(self) -> tuple[str, ...]:
        return self.header.tags


def read_tags(path: Path | str) -> TagTable:
    """Read a whole tag store; ``ArtifactError`` when it is not one or of another schema."""
    path = Path(path)
    header = read_header(path)
    table = pq.read_table(path)
    n = table.num_rows
    flat = table["embedding"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return TagTable(
        path=path,
        header=header,
        artwork_ids=tuple(table["artwork_id"].to_pylist()),
        title_ids=tuple(table["title_id"].to_pylist()),
        embeddings=flat.astype(np.float32).reshape(n, header.embedding_dim),
        scores=_matrix(table, [f"s_{t}" for t in header.tags]),
        probabilities=_matrix(table, [f"p_{t}" for t in header.tags]),
        quality={name: table[name].to_numpy() for name in QUALITY_COLUMNS},
    )


def read_header(path: Path) -> StoreHeader:
    """The header of a tag store file, its schema version checked."""
    meta = _metadata(path)
    if HEADER_KEY not in meta:
        raise ArtifactError(f"{path}: not a tag store (no {HEADER_KEY.decode()} metadata)")
    raw = json.loads(meta[HEADER_KEY])
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(
            f"{path}: tag store schema version {raw.get('schema_version')!r}, this code reads "
            f"{SCHEMA_VERSION}; tag the catalog again"
        )
    try:
        return StoreHeader(**raw)
    except TypeError as exc:
        raise ArtifactError(f"{path}: malformed {HEADER_KEY.decode()} metadata ({exc})") from exc


def read_failures(path: Path) -> list[TaggingFailure]:
    """The unreadable images recorded in a tag store file."""
    raw = _metadata(path).get(FAILURES_KEY, b"[]")
    return [TaggingFailure(*row) for row in json.loads(raw)]


class ChunkedTagStore:
    """``out`` plus ``out.parts/``: what is already done, committing chunks, merging at the end."""

    def __init__(self, out: Path, header: StoreHeader, restart: bool = False) -> None:
        self.out, self.header = out, header
        self.parts_dir = out.with_name(out.name + ".parts")
        self.errors_path = out.with_name(out.name + ".errors.csv")
        if restart:
            shutil.rmtree(self.parts_dir, ignore_errors=True)
            out.unlink(missing_ok=True)
            self.errors_path.unlink(missing_ok=True)
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts_dir.glob(".*.tmp"):  # a chunk being written when a run was killed
            tmp.unlink()
        self.done: set[str] = set()
        self.failures: list[TaggingFailure] = []
        if out.exists():
            self.done, self.failures = self._contents(out)
        for part in self._parts():
            ids, failures = self._contents(part)
            if ids <= self.done:  # merged into out by a run killed before it removed its parts
                part.unlink()
                continue
            if ids & self.done:
                raise ArtifactError(f"{part} overlaps {out}; pass --restart (restart=True)")
            self.done |= ids
            self.failures += failures
        self._next = 1 + max((int(p.stem.removeprefix("part-")) for p in self._parts()), default=-1)

    def commit(self, chunk: Sequence[TagRecord | TaggingFailure]) -> int:
        """Write a chunk as the next part, atomically, and update the error report; its number."""
        failures = [f for f in chunk if isinstance(f, TaggingFailure)]
        for f in failures:
            log.warning("skipped %s (%s): %s", f.artwork_id, f.path, f.reason)
        table = self._table([r for r in chunk if isinstance(r, TagRecord)], failures)
        number, self._next = self._next, self._next + 1
        path = self.parts_dir / f"part-{number:05d}.parquet"
        write_atomically(path, lambda tmp: pq.write_table(table, tmp))
        self.done |= {item.artwork_id for item in chunk}
        self.failures += failures
        self._write_errors()
        return number

    def finish(self) -> None:
        """Merge ``out`` and the parts into a new ``out`` (atomically), then drop the parts."""
        parts = self._parts()
        if parts or not self.out.exists():
            sources = ([self.out] if self.out.exists() else []) + parts
            schema = self._schema(self.failures)

            def write(tmp: Path) -> None:
                with pq.ParquetWriter(tmp, schema) as writer:
                    for source in sources:
                        for batch in pq.ParquetFile(source).iter_batches():
                            writer.write_batch(batch)

            write_atomically(self.out, write)
        shutil.rmtree(self.parts_dir, ignore_errors=True)
        self._write_errors()

    def _parts(self) -> list[Path]:
        return sorted(self.parts_dir.glob("part-*.parquet"))

    def _contents(self, path: Path) -> tuple[set[str], list[TaggingFailure]]:
        """The artwork ids a file accounts for (rows and failures), after checking its header."""
        differences = self.header.differences(read_header(path))
        if differences:
            raise ArtifactError(
                f"{path} was made with other settings ({'; '.join(differences)}); pass --restart "
                "(restart=True) to discard it and tag again"
            )
        failures = read_failures(path)
        rows = pq.read_table(path, columns=["artwork_id"])["artwork_id"].to_pylist()
        return set(rows) | {f.artwork_id for f in failures}, failures

    def _schema(self, failures: list[TaggingFailure]) -> pa.Schema:
        rows = [[f.artwork_id, f.path, f.reason] for f in failures]
        schema = self.header.schema()
        return schema.with_metadata({**schema.metadata, FAILURES_KEY: json.dumps(rows)})

    def _table(self, records: list[TagRecord], failures: list[TaggingFailure]) -> pa.Table:
        schema, header, n = self._schema(failures), self.header, len(records)
        embeddings = _stack([r.embedding for r in records], header.embedding_dim)
        # one contiguous row per tag column
        scores = _stack([r.scores for r in records], len(header.tags)).T.copy()
        probabilities = _stack([r.probabilities for r in records], len(header.tags)).T.copy()
        flat = pa.array(embeddings.astype(header.embedding_dtype).ravel())
        columns: dict[str, Any] = {
            "artwork_id": [r.artwork_id for r in records],
            "title_id": [r.title_id for r in records],
            "model_id": [header.model_id] * n,
            "calibration_version": [header.calibration_version] * n,
            "vocabulary_version": [header.vocabulary_version] * n,
            "embedding": pa.FixedSizeListArray.from_arrays(flat, header.embedding_dim),
            **{f"p_{t}": probabilities[i] for i, t in enumerate(header.tags)},
            **{f"s_{t}": scores[i] for i, t in enumerate(header.tags)},
            **{name: [r.quality[name] for r in records] for name in QUALITY_COLUMNS},
            "decode_notes": [r.decode_notes for r in records],
            "tagged_at": [datetime.now(UTC)] * n,
        }
        return pa.table([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)

    def _write_errors(self) -> None:
        rows = [{"artwork_id": f.artwork_id, "path": f.path, "reason": f.reason}
                for f in self.failures]  # fmt: skip
        write_table(self.errors_path, ERROR_COLUMNS, rows)


def _metadata(path: Path) -> dict[bytes, bytes]:
    try:
        return pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise ArtifactError(f"{path}: not a readable Parquet file ({exc})") from exc


def _stack(rows: list[np.ndarray], width: int) -> np.ndarray:
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, width), np.float32)


def _matrix(table: pa.Table, columns: list[str]) -> np.ndarray:
    if not columns:
        return np.zeros((table.num_rows, 0), dtype=np.float32)
    return np.stack([table[c].to_numpy() for c in columns], axis=1).astype(np.float32)
