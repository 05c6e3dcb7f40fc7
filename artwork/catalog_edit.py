"""Adds artwork to an existing catalog folder in place, rewriting its artwork file atomically."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from artwork.catalog import ARTWORK_FIELDS, ARTWORK_OPTIONAL, ArtworkCandidate, artwork_row
from artwork.errors import InputError
from artwork.tables import read_table, write_atomically, write_table


def merge_into_catalog(
    catalog_folder: Path | str,
    candidates: Iterable[ArtworkCandidate],
    images_root: Path | str | None = None,
) -> None:
    """Add video-frame stills to a catalog, replacing its earlier video_frame rows of their titles.

    Paths are relative to ``images_root`` (default: the catalog folder); images elsewhere are
    copied to the same relative path inside the catalog. Every title must be in the catalog's
    titles file, else ``InputError`` names it. The artwork file is rewritten atomically.
    """
    root = Path(catalog_folder)
    candidates = list(candidates)
    titles_file = _catalog_file(root, "titles")
    if titles_file is None:
        raise InputError("missing titles.csv or titles.jsonl", file=str(root))
    known = {str(row.get("title_id", "")).strip() for row in read_table(titles_file)[1]}
    for c in candidates:
        if c.title_id not in known:
            message = f"unknown title {c.title_id!r}"
            raise InputError(message, file=str(titles_file), field="title_id")
        if c.kind != "video_frame" or Path(c.path).is_absolute() or ".." in Path(c.path).parts:
            raise InputError(f"not a video frame inside the catalog: {c.path}", field="path")
    artwork_file = _catalog_file(root, "artwork") or root / "artwork.csv"
    header, rows = read_table(artwork_file) if artwork_file.exists() else ([], [])
    replaced = {c.title_id for c in candidates}
    rows = [
        r for r in rows if not (r.get("kind") == "video_frame" and r.get("title_id") in replaced)
    ]
    clash = {r.get("artwork_id") for r in rows} & {c.artwork_id for c in candidates}
    if clash:
        message = f"ids already used by other artwork: {sorted(clash)}"
        raise InputError(message, file=str(artwork_file), field="artwork_id")
    source = Path(images_root) if images_root is not None else root
    if source.resolve() != root.resolve():
        for c in candidates:
            (root / c.path).parent.mkdir(parents=True, exist_ok=True)
            write_atomically(root / c.path, lambda p, c=c: shutil.copyfile(source / c.path, p))
    used = [
        f
        for f in ARTWORK_FIELDS
        if f not in ARTWORK_OPTIONAL or any(getattr(c, f) is not None for c in candidates)
    ]
    header += [f for f in used if f not in header]
    rows += [artwork_row(c, [f for f in ARTWORK_FIELDS if f in header]) for c in candidates]
    write_table(artwork_file, header, rows)


def _catalog_file(root: Path, stem: str) -> Path | None:
    found = [root / f"{stem}{suffix}" for suffix in (".csv", ".jsonl")]
    return next((path for path in found if path.is_file()), None)
