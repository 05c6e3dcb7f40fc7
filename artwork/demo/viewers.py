"""Simulated viewers: a device, a usual hour, and hidden tastes over genres and image tags.

Viewers are drawn around a few taste archetypes (clusters), each loving 2–3 genres; a viewer's
taste for image tags follows their genres (romance fans like romantic images) plus a personal
twist, so that the right image differs between viewers of the same title.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artwork.demo.genre_cues import MOVIELENS_GENRE_COUNTS
from artwork.errors import InputError

N_CLUSTERS = 8
DEVICE_SHARES = {"tv": 0.45, "mobile": 0.30, "web": 0.15, "tablet": 0.10}


@dataclass(frozen=True)
class Viewers:
    """Arrays describing ``len(ids)`` viewers (rows) over genres and image tags (columns)."""

    ids: tuple[str, ...]
    device: tuple[str, ...]
    hour: np.ndarray
    cluster: np.ndarray
    genre_taste: np.ndarray
    tag_taste: np.ndarray


def plan_viewers(
    n: int, genres: tuple[str, ...], genre_profile: np.ndarray, rng: np.random.Generator
) -> Viewers:
    """``n`` viewers; ``genre_profile`` (genres × tags) links genre tastes to tag tastes."""
    popularity = np.array([MOVIELENS_GENRE_COUNTS[g] for g in genres], dtype=float)
    popularity /= popularity.sum()
    archetypes = np.full((N_CLUSTERS, len(genres)), -0.6)
    for k in range(N_CLUSTERS):
        loved = rng.choice(len(genres), size=int(rng.integers(2, 4)), replace=False, p=popularity)
        archetypes[k, loved] = 1.6
    cluster = rng.integers(0, N_CLUSTERS, size=n)
    genre_taste = archetypes[cluster] + rng.normal(0.0, 0.5, size=(n, len(genres)))

    # Tag taste: the tags of the genres a viewer likes, centred and scaled, plus a personal twist.
    centred_profile = genre_profile - genre_profile.mean(axis=0, keepdims=True)
    from_genres = genre_taste @ centred_profile
    from_genres /= from_genres.std() + 1e-9
    tag_taste = 0.8 * from_genres + rng.normal(0.0, 0.6, size=from_genres.shape)

    devices = list(DEVICE_SHARES)
    device = rng.choice(len(devices), size=n, p=list(DEVICE_SHARES.values()))
    evening = rng.random(n) < 0.75
    hour = np.where(evening, rng.normal(21.0, 1.5, n), rng.normal(13.0, 3.0, n))
    return Viewers(
        ids=tuple(f"u{i + 1:04d}" for i in range(n)),
        device=tuple(devices[d] for d in device),
        hour=np.mod(np.round(hour), 24).astype(int),
        cluster=cluster.astype(int),
        genre_taste=np.round(genre_taste, 4),
        tag_taste=np.round(tag_taste, 4),
    )


def write_viewer_profiles(path: Path | str, viewers: Viewers) -> None:
    """Write the public part of each viewer (id, device, usual hour) as CSV."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["viewer_id", "device", "hour"])
        for vid, dev, hour in zip(viewers.ids, viewers.device, viewers.hour, strict=True):
            w.writerow([vid, dev, int(hour)])


def read_viewer_profiles(path: Path | str) -> dict[str, tuple[str, int]]:
    """Each viewer's usual (device, hour) from a ``viewers.csv`` that ``write_viewer_profiles``
    wrote; ``InputError`` naming the line and field of a bad row."""
    profiles = {}
    with open(path, newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            hour = row.get("hour") or ""
            if not row.get("viewer_id") or not row.get("device"):
                raise InputError("empty value", file=str(path), line=line, field="viewer_id/device")
            if not hour.isdigit() or not 0 <= int(hour) <= 23:
                raise InputError(f"expected an hour 0..23, got {hour!r}", file=str(path),
                                 line=line, field="hour")  # fmt: skip
            profiles[row["viewer_id"]] = (row["device"], int(hour))
    return profiles
