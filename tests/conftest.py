"""Shared fixtures: a tiny world (catalog with JPEG stills and viewing history), built in code."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from artwork.catalog import ArtworkCandidate, Catalog, Title, load_catalog, write_catalog
from artwork.interactions import Interaction, ViewingHistory, load_history, write_history
from artwork.records import Decision, new_decision_id

# title_id: (name, genres, number of stills)
TITLES = {
    "t1": ("Star Voyage", ("Sci-Fi", "Adventure"), 3),
    "t2": ("Red Planet", ("Sci-Fi",), 2),
    "t3": ("Quiet Rooms", ("Drama",), 3),
    "t4": ("Long Goodbye", ("Drama", "Romance"), 2),
    "t5": ("Laugh Track", ("Comedy",), 4),
    "t6": ("Night Visitor", ("Horror", "Thriller"), 2),
    "t7": ("No Pictures", ("Comedy",), 0),  # a title without artwork is never shown
}

# viewer_id: [(title_id, watched fraction)]
VIEWINGS = {
    "v1": [("t1", 1.0), ("t2", 0.6), ("t3", 0.2)],
    "v2": [("t3", 0.95), ("t4", 0.7)],
    "v3": [("t1", 0.8), ("t5", 0.5), ("t6", 0.3)],
    "v4": [("t1", 0.55), ("t3", 0.6), ("t5", 0.9)],
    "v5": [("t2", 0.4), ("t6", 0.7), ("t7", 1.0)],
}

COLOURS = [(200, 40, 40), (40, 160, 70), (40, 80, 200), (220, 180, 40), (150, 60, 170)]


@pytest.fixture
def tiny_world(tmp_path: Path) -> Path:
    """A catalog folder: ``titles.csv``, ``artwork.csv``, ``images/*.jpg``, ``interactions.csv``."""
    root = tmp_path / "world"
    (root / "images").mkdir(parents=True)
    titles, artwork = [], []
    for n, (title_id, (name, genres, stills)) in enumerate(TITLES.items()):
        titles.append(Title(title_id, name, genres, 2000 + n, "PG-13"))
        for k in range(stills):
            path = f"images/{title_id}_{k}.jpg"
            image = Image.new("RGB", (96, 54), COLOURS[(n + k) % len(COLOURS)])
            ImageDraw.Draw(image).ellipse((30, 10, 66, 46), fill=(240, 240, 240))
            image.save(root / path, "JPEG", quality=80)
            artwork.append(ArtworkCandidate(f"{title_id}_a{k}", title_id, path, "still"))
    write_catalog(root, titles, artwork)
    start = 1_700_000_000
    write_history(
        root / "interactions.csv",
        [
            Interaction(viewer, title_id, start + 3600 * v + 60 * i, watched)
            for v, (viewer, seen) in enumerate(VIEWINGS.items())
            for i, (title_id, watched) in enumerate(seen)
        ],
    )
    return root


@pytest.fixture
def tiny_catalog(tiny_world: Path) -> Catalog:
    return load_catalog(tiny_world)


@pytest.fixture
def tiny_history(tiny_world: Path, tiny_catalog: Catalog) -> ViewingHistory:
    return load_history(tiny_world / "interactions.csv", tiny_catalog.titles)


@pytest.fixture
def make_decision() -> Callable[..., Decision]:
    """Build a valid Decision; keyword arguments override its fields."""

    def make(**overrides: object) -> Decision:
        fields: dict[str, object] = {
            "decision_id": new_decision_id(),
            "user_id": "v1",
            "title_id": "t1",
            "candidates": ("t1_a0", "t1_a1", "t1_a2"),
            "artwork_id": "t1_a1",
            "propensity": 1 / 3,
            "policy": "uniform",
            "policy_version": "1",
            "seed": 42,
            "context": {"device": "tv", "hour": 21},
            "created_at": time.time(),
        }
        fields.update(overrides)
        return Decision(**fields)  # type: ignore[arg-type]

    return make
