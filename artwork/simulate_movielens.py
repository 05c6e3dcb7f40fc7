"""The simulator's second mode: MovieLens users as viewers of the demo world's catalog."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from artwork.demo.viewers import plan_viewers
from artwork.demo.world import simulate_history
from artwork.errors import InputError
from artwork.interactions import ViewingHistory
from artwork.simulate import SimWorld


def movielens_viewers(world: SimWorld, folder: Path | str, seed: int = 0) -> SimWorld:
    """``world`` with its viewers replaced by the users of a MovieLens folder (``movies.csv``,
    ``ratings.csv``). User u's taste for genre g is the column-standardised score

        s_ug = Σ_{m∈g} (r_um − r̄_u) / (n_ug + 3) + ½·log((n_ug + 1) / (n_u·p_g + 1))

    (how much better than their average they rate the genre, and how much more often they rate
    it than its share p_g of all ratings), mapped onto the mean and spread of the world's own
    genre tastes. Devices, hours, tag tastes (from genre tastes plus a personal twist) and past
    viewing of the demo titles are drawn from ``seed`` as the demo world draws them; a viewer's
    cluster is their favourite genre."""
    folder, genres = Path(folder), world.response.genres
    movie: dict[str, int] = {}
    movie_genres = []
    for row in _csv_rows(folder / "movies.csv", ("movieId", "genres")):
        movie[row["movieId"]] = len(movie_genres)
        movie_genres.append([g in row["genres"].split("|") for g in genres])
    users: dict[str, int] = {}
    rows, movies, ratings = [], [], []
    for n, row in enumerate(_csv_rows(folder / "ratings.csv", ("userId", "movieId", "rating")), 2):
        try:
            movies.append(movie[row["movieId"]])
            ratings.append(float(row["rating"]))
        except (KeyError, ValueError):
            bad = "movieId" if row["movieId"] not in movie else "rating"
            message = f"bad value {row[bad]!r}"
            raise InputError(message, file="ratings.csv", line=n, field=bad) from None
        rows.append(users.setdefault(row["userId"], len(users)))
    if not users:
        raise InputError("no ratings", file=str(folder / "ratings.csv"))
    u, m, r = np.array(rows), np.array(movies), np.array(ratings)
    n_u = np.bincount(u).astype(float)
    deviation = r - (np.bincount(u, weights=r) / n_u)[u]
    in_genre = np.array(movie_genres, dtype=float)[m]  # (ratings, genres)
    sums = np.stack(
        [np.bincount(u, deviation * in_genre[:, j], len(users)) for j in range(len(genres))], 1
    )
    counts = np.stack([np.bincount(u, in_genre[:, j], len(users)) for j in range(len(genres))], 1)
    share = in_genre.mean(axis=0)
    score = sums / (counts + 3.0) + 0.5 * np.log((counts + 1.0) / (n_u[:, None] * share + 1.0))
    z = (score - score.mean(axis=0)) / np.maximum(score.std(axis=0), 1e-9)
    taste = world.response.genre_taste
    genre_taste = taste.mean() + taste.std() * z

    rng = np.random.default_rng(seed)
    profile = world.response.genre_profile
    drawn = plan_viewers(len(users), genres, profile, rng)
    from_genres = genre_taste @ (profile - profile.mean(axis=0))
    from_genres /= from_genres.std() + 1e-9
    response = replace(
        world.response,
        viewer_ids=tuple(f"ml{user}" for user in users),
        viewer_device=drawn.device,
        viewer_hour=drawn.hour,
        viewer_cluster=genre_taste.argmax(axis=1),
        genre_taste=np.round(genre_taste, 4),
        tag_taste=np.round(0.8 * from_genres + rng.normal(0.0, 0.6, from_genres.shape), 4),
    )
    history = ViewingHistory(simulate_history(response, rng))
    return SimWorld(world.catalog, history, response, world.truth_tags)


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise InputError("not found (is this a MovieLens folder?)", file=str(path))
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError(f"missing columns {missing}", file=path.name, line=1)
        yield from reader
