"""The catalog: titles and their artwork candidates, loaded from a folder and validated whole.

A catalog folder holds ``titles.csv`` and ``artwork.csv`` (or ``titles.jsonl`` and
``artwork.jsonl``); artwork paths are relative to the folder and must stay inside it.

titles:  title_id, name, year, genres ("|"-separated in CSV, a list in JSONL), maturity
artwork: artwork_id, title_id, path, kind (key_art | still | video_frame), and optionally
         maturity (an image may be rated above its title: a gory still of a PG-13 film) and
         available_from / available_until (ISO 8601 date or time, UTC when no zone is given:
         rights windows, a poster withdrawn on a date)

Every problem found is reported with its file, line and field, all at once; a catalog with any
error is not loaded at all.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from artwork.errors import CatalogError, InputErrors, NotFoundError
from artwork.tables import write_atomically
from artwork.vocabulary import GENRES

MATURITY_RATINGS = ("G", "PG", "PG-13", "R", "NC-17")
ARTWORK_KINDS = ("key_art", "still", "video_frame")
TITLE_FIELDS = {"title_id": True, "name": True, "year": False, "genres": True, "maturity": False}
ARTWORK_FIELDS = {
    "artwork_id": True,
    "title_id": True,
    "path": True,
    "kind": False,
    "maturity": False,
    "available_from": False,
    "available_until": False,
}
ARTWORK_OPTIONAL = ("maturity", "available_from", "available_until")


@dataclass(frozen=True)
class Title:
    """A film or series as the catalog describes it."""

    title_id: str
    name: str
    genres: tuple[str, ...]
    year: int | None = None
    maturity: str = "PG-13"


@dataclass(frozen=True)
class ArtworkCandidate:
    """One image that may be shown for a title; ``path`` is relative to the catalog root."""

    artwork_id: str
    title_id: str
    path: str
    kind: str = "still"
    maturity: str | None = None  # None: the title's rating
    available_from: float | None = None  # Unix seconds; None: no limit
    available_until: float | None = None

    def available(self, now: float) -> bool:
        """Whether the image may be shown at ``now`` (Unix seconds)."""
        return (self.available_from is None or self.available_from <= now) and (
            self.available_until is None or now < self.available_until
        )


@dataclass(frozen=True)
class Catalog:
    """Titles and artwork candidates, with the folder their image paths are relative to."""

    root: Path
    titles: dict[str, Title]
    artwork: dict[str, ArtworkCandidate]
    by_title: dict[str, tuple[ArtworkCandidate, ...]] = field(repr=False)

    def candidates(self, title_id: str) -> tuple[ArtworkCandidate, ...]:
        """The artwork candidates of a title, in catalog order (empty for none)."""
        return self.by_title.get(title_id, ())

    def eligible(
        self, title_id: str, now: float, max_maturity: str | None = None
    ) -> tuple[ArtworkCandidate, ...]:
        """The candidates of a title that may be shown at ``now`` to a viewer allowed up to
        ``max_maturity`` (None: no limit); none when the title itself is rated above it."""
        title = self.titles.get(title_id)
        if title is None:
            return ()
        if max_maturity is None and title_id in self._always_shown:
            return self.candidates(title_id)
        if max_maturity is not None and not within_maturity(title.maturity, max_maturity):
            return ()
        return tuple(
            a for a in self.candidates(title_id)
            if a.available(now)
            and (max_maturity is None or a.maturity is None
                 or within_maturity(a.maturity, max_maturity))
        )  # fmt: skip

    @functools.cached_property
    def _always_shown(self) -> frozenset[str]:
        """Titles none of whose images has an availability window (every one is eligible at
        any time for a viewer without a maturity limit: a home page's usual case)."""
        return frozenset(
            title_id for title_id, images in self.by_title.items()
            if all(a.available_from is None and a.available_until is None for a in images)
        )  # fmt: skip

    def image_path(self, artwork_id: str) -> Path:
        """The image file of an artwork; ``NotFoundError`` for an unknown id."""
        if artwork_id not in self.artwork:
            raise NotFoundError(f"unknown artwork {artwork_id!r}")
        return self.root / self.artwork[artwork_id].path


def load_catalog(folder: Path | str) -> Catalog:
    """Load and validate a catalog folder; raises ``InputErrors`` listing every problem."""
    root = Path(folder).resolve()
    errors: list[CatalogError] = []
    titles_file = _find(root, "titles", errors)
    artwork_file = _find(root, "artwork", errors)
    if errors:
        raise InputErrors(errors)

    titles: dict[str, Title] = {}
    named: set[str] = set()  # every title id named, valid or not: no cascade of errors
    for where, row in _read_rows(titles_file, TITLE_FIELDS, errors):
        named.add(str(row.get("title_id", "")).strip())
        title = _parse_title(row, where, errors)
        if title is None:
            continue
        if title.title_id in titles:
            errors.append(_error(where, "title_id", f"duplicate id {title.title_id!r}"))
            continue
        titles[title.title_id] = title

    artwork: dict[str, ArtworkCandidate] = {}
    for where, row in _read_rows(artwork_file, ARTWORK_FIELDS, errors):
        candidate = _parse_artwork(row, where, root, named, errors)
        if candidate is None:
            continue
        if candidate.artwork_id in artwork:
            errors.append(_error(where, "artwork_id", f"duplicate id {candidate.artwork_id!r}"))
            continue
        artwork[candidate.artwork_id] = candidate

    if errors:
        raise InputErrors(errors)
    by_title: dict[str, list[ArtworkCandidate]] = {}
    for candidate in artwork.values():
        by_title.setdefault(candidate.title_id, []).append(candidate)
    return Catalog(root, titles, artwork, {k: tuple(v) for k, v in by_title.items()})


def within_maturity(rating: str, limit: str) -> bool:
    """Whether ``rating`` is at or below ``limit`` on ``MATURITY_RATINGS``."""
    return MATURITY_RATINGS.index(rating) <= MATURITY_RATINGS.index(limit)


def artwork_row(
    candidate: ArtworkCandidate, fields: Iterable[str] = ARTWORK_FIELDS
) -> dict[str, str]:
    """A candidate's ``fields`` as the CSV cells ``load_catalog`` reads back."""
    return {f: _cell(getattr(candidate, f)) for f in fields}


def write_catalog(folder: Path | str, titles: list[Title], artwork: list[ArtworkCandidate]) -> None:
    """Write ``titles.csv`` and ``artwork.csv`` atomically, in the format ``load_catalog`` reads."""
    folder = Path(folder)
    title_rows = [
        [t.title_id, t.name, "" if t.year is None else t.year, "|".join(t.genres), t.maturity]
        for t in titles
    ]
    # The optional artwork columns are written only when some image uses them.
    optional = [f for f in ARTWORK_OPTIONAL if any(getattr(a, f) is not None for a in artwork)]
    artwork_header = ["artwork_id", "title_id", "path", "kind", *optional]
    artwork_rows = [list(artwork_row(a, artwork_header).values()) for a in artwork]
    for name, header, rows in (
        ("titles.csv", list(TITLE_FIELDS), title_rows),
        ("artwork.csv", artwork_header, artwork_rows),
    ):

        def write(tmp: Path, header=header, rows=rows) -> None:
            with open(tmp, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                w.writerows(rows)

        write_atomically(folder / name, write)


# --- parsing -----------------------------------------------------------------------------------

_Where = tuple[str, int]


def _error(where: _Where, field_name: str, message: str) -> CatalogError:
    return CatalogError(message, file=where[0], line=where[1], field=field_name)


def _find(root: Path, stem: str, errors: list[CatalogError]) -> Path:
    for suffix in (".csv", ".jsonl"):
        if (root / f"{stem}{suffix}").is_file():
            return root / f"{stem}{suffix}"
    errors.append(CatalogError(f"missing {stem}.csv or {stem}.jsonl", file=str(root)))
    return root / f"{stem}.csv"


def _read_rows(
    path: Path, fields: dict[str, bool], errors: list[CatalogError]
) -> Iterator[tuple[_Where, dict[str, Any]]]:
    """Yield ((file, line), row) for each record, after checking its columns."""
    name = path.name
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                errors.append(CatalogError("empty file, expected a header", file=name, line=1))
                return
            header = [h.strip() for h in header]
            if not _columns_ok(header, fields, (name, 1), errors):
                return
            for row in reader:
                where = (name, reader.line_num)
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    errors.append(
                        CatalogError(
                            f"expected {len(header)} cells, found {len(row)}",
                            file=name,
                            line=reader.line_num,
                        )
                    )
                    continue
                yield where, {h: cell.strip() for h, cell in zip(header, row, strict=True)}
        return
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            where = (name, number)
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                errors.append(CatalogError(f"invalid JSON: {exc.msg}", file=name, line=number))
                continue
            if not isinstance(row, dict):
                errors.append(CatalogError("expected a JSON object", file=name, line=number))
                continue
            if _columns_ok(list(row), fields, where, errors):
                yield where, row


def _columns_ok(
    columns: list[str], fields: dict[str, bool], where: _Where, errors: list[CatalogError]
) -> bool:
    ok = True
    for column in columns:
        if column not in fields:
            errors.append(_error(where, column, f"unknown column (expected {', '.join(fields)})"))
            ok = False
    for column, required in fields.items():
        if required and column not in columns:
            errors.append(_error(where, column, "missing required column"))
            ok = False
    return ok


def _text(row: dict[str, Any], key: str, where: _Where, errors: list[CatalogError]) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(_error(where, key, "empty value"))
        return None
    return str(value).strip()


def _parse_title(row: dict[str, Any], where: _Where, errors: list[CatalogError]) -> Title | None:
    before = len(errors)
    title_id = _text(row, "title_id", where, errors)
    name = _text(row, "name", where, errors)
    raw_genres = row.get("genres") or []
    genres = tuple(g.strip() for g in raw_genres.split("|")) if isinstance(raw_genres, str) else ()
    if isinstance(raw_genres, list):
        genres = tuple(str(g).strip() for g in raw_genres)
    if not genres:
        errors.append(_error(where, "genres", "at least one genre is required"))
    for genre in genres:
        if genre not in GENRES:
            errors.append(_error(where, "genres", f"unknown genre {genre!r} (known: {GENRES})"))
    year = None
    if row.get("year") not in (None, ""):
        try:
            year = int(row["year"])
        except (TypeError, ValueError):
            errors.append(_error(where, "year", f"not a whole number: {row['year']!r}"))
        else:
            if not 1870 <= year <= 2100:
                errors.append(_error(where, "year", f"out of range 1870..2100: {year}"))
    maturity = row.get("maturity") or "PG-13"
    if maturity not in MATURITY_RATINGS:
        errors.append(_error(where, "maturity", f"unknown rating {maturity!r}"))
    if len(errors) > before:
        return None
    assert title_id is not None and name is not None
    return Title(title_id, name, genres, year, maturity)


def _parse_artwork(
    row: dict[str, Any],
    where: _Where,
    root: Path,
    title_ids: set[str],
    errors: list[CatalogError],
) -> ArtworkCandidate | None:
    before = len(errors)
    artwork_id = _text(row, "artwork_id", where, errors)
    title_id = _text(row, "title_id", where, errors)
    path = _text(row, "path", where, errors)
    kind = row.get("kind") or "still"
    if title_id is not None and title_id not in title_ids:
        errors.append(_error(where, "title_id", f"unknown title {title_id!r}"))
    if kind not in ARTWORK_KINDS:
        errors.append(_error(where, "kind", f"unknown kind {kind!r} (known: {ARTWORK_KINDS})"))
    if path is not None:
        resolved = (root / path).resolve()
        if Path(path).is_absolute() or not resolved.is_relative_to(root):
            errors.append(_error(where, "path", f"must be relative and inside the catalog: {path}"))
        elif not resolved.is_file():
            errors.append(_error(where, "path", f"file not found: {path}"))
    maturity = row.get("maturity") or None
    if maturity is not None and maturity not in MATURITY_RATINGS:
        errors.append(_error(where, "maturity", f"unknown rating {maturity!r}"))
    window = [_instant(row, name, where, errors) for name in ("available_from", "available_until")]
    if None not in window and window[0] >= window[1]:  # type: ignore[operator]
        errors.append(_error(where, "available_until", "must be after available_from"))
    if len(errors) > before:
        return None
    assert artwork_id is not None and title_id is not None and path is not None
    return ArtworkCandidate(artwork_id, title_id, path, kind, maturity, *window)


def _instant(row: dict[str, Any], name: str, where: _Where, errors: list) -> float | None:
    """An ISO 8601 date or time cell as Unix seconds (UTC when it names no zone); None if empty."""
    value = row.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        errors.append(_error(where, name, f"not an ISO 8601 date or time: {value!r}"))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _cell(value: object) -> str:
    """A CSV cell for an optional artwork field (times as ISO 8601 UTC)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return str(value)
