"""Viewing data for the recommenders: the demo world's history or MovieLens ratings, split by time.

MovieLens ``ratings.csv`` (userId, movieId, rating, timestamp): every rating is an interaction,
its timestamp kept; a bad row is reported by file, line and field, all of them at once. The demo
world's ``interactions.csv`` is read by ``artwork.interactions`` (every viewing an interaction)
and its items are all the catalog's titles, so titles nobody watched are still known.

Both carry what the context re-ranker learns from (``ContextInputs``): each item's genres (the
catalog's, or MovieLens ``movies.csv`` when present) and, for the demo world, each viewer's usual
device from ``viewers.csv`` (MovieLens has none).

``temporal_split`` (``models.recommenders.split``, re-exported here): each viewer's
interactions ordered by (time, item); the last round(0.2·n) are held out as test, the round(0.1·n)
before them as validation, the rest train (a viewer always keeps at least one training
interaction).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artwork.catalog import load_catalog
from artwork.demo.viewers import read_viewer_profiles
from artwork.errors import InputError, InputErrors
from artwork.interactions import load_history
from models.artifacts import file_sha256
from models.recommenders import Interactions
from models.recommenders.context import ContextInputs
from models.recommenders.split import TemporalSplit, temporal_split

__all__ = ["TemporalSplit", "ViewingData", "load_demo", "load_movielens", "temporal_split"]

RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")
RATING_RANGE = (0.5, 5.0)
MOVIES_COLUMNS = ("movieId", "title", "genres")
NO_GENRES = "(no genres listed)"  # MovieLens's word for a movie without genres


@dataclass(frozen=True, eq=False)
class ViewingData:
    """Interactions with the ids behind their indices and where they came from."""

    source: str  # "movielens" | "demo"
    path: Path
    sha256: str
    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    interactions: Interactions
    context: ContextInputs | None = None  # genres (and devices) for the context re-ranker

    def describe(self) -> dict[str, object]:
        """For a model card: source, file, its hash and the sizes."""
        return {"source": self.source, "file": str(self.path), "sha256": self.sha256,
                "users": len(self.user_ids), "items": len(self.item_ids),
                "interactions": len(self.interactions)}  # fmt: skip


def load_movielens(folder: Path | str) -> ViewingData:
    """Every rating of ``folder/ratings.csv`` as an interaction; ``InputErrors`` names each bad
    row by file, line and field."""
    path = Path(folder) / "ratings.csv"
    if not path.is_file():
        raise InputError("missing (expected MovieLens ratings.csv)", file=str(path))
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    rows: list[tuple[int, int, int]] = []
    errors: list[InputError] = []
    for line, row in _csv_rows(path, RATINGS_COLUMNS):
        parsed = _rating_row(row, path.name, line, errors)
        if parsed is not None:
            user, item, timestamp = parsed
            rows.append((users.setdefault(user, len(users)),
                         items.setdefault(item, len(items)), timestamp))  # fmt: skip
    if errors:
        raise InputErrors(errors)
    if not rows:
        raise InputError("no ratings", file=str(path))
    u, i, t = np.array(rows, dtype=np.int64).T
    interactions = Interactions.build(u, i, t, n_users=len(users), n_items=len(items))
    movies = path.with_name("movies.csv")
    context = (ContextInputs.from_ids(tuple(items), load_movie_genres(movies))
               if movies.is_file() else None)  # fmt: skip
    return ViewingData("movielens", path, file_sha256(path), tuple(users), tuple(items),
                       interactions, context)  # fmt: skip


def load_movie_genres(path: Path) -> dict[str, tuple[str, ...]]:
    """Each movie's genres from MovieLens ``movies.csv`` (movieId, title, genres "|"-separated);
    a bad row raises ``InputErrors`` naming file, line and field."""
    genres: dict[str, tuple[str, ...]] = {}
    errors: list[InputError] = []
    for line, row in _csv_rows(path, MOVIES_COLUMNS):
        if len(row) != len(MOVIES_COLUMNS) or not row[0].strip().isdigit():
            errors.append(InputError(f"expected a movieId and 3 cells, found {row!r}",
                                     file=path.name, line=line,
                                     field="movieId"))  # fmt: skip
            continue
        named = [g for g in row[2].split("|") if g and g != NO_GENRES]
        genres[row[0].strip()] = tuple(named)
    if errors:
        raise InputErrors(errors)
    return genres


def _rating_row(
    row: list[str], file: str, line: int, errors: list[InputError]
) -> tuple[str, str, int] | None:
    """(user, movie, timestamp) of one ratings.csv row, or None after noting what is wrong."""
    if len(row) != len(RATINGS_COLUMNS):
        errors.append(InputError(f"expected 4 cells, found {len(row)}", file=file, line=line))
        return None
    user, movie, rating, timestamp = (cell.strip() for cell in row)
    before = len(errors)
    for field, value in (("userId", user), ("movieId", movie), ("timestamp", timestamp)):
        if not value.isdigit():
            errors.append(InputError(f"not a whole number ≥ 0: {value!r}", file=file, line=line,
                                     field=field))  # fmt: skip
    try:
        score = float(rating)
    except ValueError:
        score = float("nan")
    if not RATING_RANGE[0] <= score <= RATING_RANGE[1]:
        errors.append(InputError(f"not a rating in {RATING_RANGE[0]}..{RATING_RANGE[1]}: "
                                 f"{rating!r}", file=file, line=line, field="rating"))  # fmt: skip
    return None if len(errors) > before else (user, movie, int(timestamp))


def load_demo(world: Path | str) -> ViewingData:
    """The demo world's viewing history; its items are every title of the catalog."""
    world = Path(world)
    catalog = load_catalog(world)
    path = world / "interactions.csv"
    history = load_history(path, catalog.titles)
    item_ids = tuple(sorted(catalog.titles))
    user_ids = tuple(sorted(history.viewers))
    item_index = {t: n for n, t in enumerate(item_ids)}
    user_index = {v: n for n, v in enumerate(user_ids)}
    events = history.interactions
    interactions = Interactions.build(
        np.array([user_index[i.viewer_id] for i in events], dtype=np.int64),
        np.array([item_index[i.title_id] for i in events], dtype=np.int64),
        np.array([i.timestamp for i in events], dtype=np.int64),
        n_users=len(user_ids), n_items=len(item_ids),
    )  # fmt: skip
    profiles = world / "viewers.csv"
    devices = ({v: d for v, (d, _) in read_viewer_profiles(profiles).items()}
               if profiles.is_file() else None)  # fmt: skip
    genres = {t: title.genres for t, title in catalog.titles.items()}
    context = ContextInputs.from_ids(item_ids, genres, user_ids, devices)
    return ViewingData("demo", path, file_sha256(path), user_ids, item_ids, interactions, context)


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """Each data row of the CSV file ``path`` with its line number, once its header is
    ``columns`` (else an ``InputError`` naming the file and line 1)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = tuple(next(reader, ()))
        if header != columns:
            raise InputError(f"expected columns {columns}, found {header}", file=path.name, line=1)
        for row in reader:
            yield reader.line_num, row
