"""Shared fixtures built in code: a tiny world (catalog, stills, history); a tiny CLIP encoder."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import torch
from PIL import Image, ImageDraw

from artwork.catalog import ArtworkCandidate, Catalog, Title, load_catalog, write_catalog
from artwork.interactions import Interaction, ViewingHistory, load_history, write_history
from artwork.records import Decision, new_decision_id
from models.clip import EncoderSpec, load_encoder, save_encoder

T = TypeVar("T")

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


# --- a tiny CLIP encoder ------------------------------------------------------------------

# Small enough to load in ~0.1 s and encode a few 32×32 images in milliseconds.
TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TINY_PREPROCESS = {"size": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
                   "interpolation": "bicubic", "resize_mode": "shortest"}  # fmt: skip


def write_tiny_clip_config(folder: Path) -> Path:
    """Write the tiny architecture as ``folder/tiny-clip.json`` (open_clip names it tiny-clip)."""
    path = folder / "tiny-clip.json"
    path.write_text(json.dumps(TINY_CLIP))
    return path


@pytest.fixture()
def tiny_clip_config(tmp_path: Path) -> Path:
    """An open_clip architecture JSON for a tiny model; loading it gives fresh random weights."""
    return write_tiny_clip_config(tmp_path)


@pytest.fixture(scope="session")
def tiny_clip_spec(tmp_path_factory: pytest.TempPathFactory) -> EncoderSpec:
    """The tiny random encoder saved to a folder, so every load has the same weights (CPU, fp32).

    A bare architecture file would load with new random weights each time, under one model id.
    """
    config = write_tiny_clip_config(tmp_path_factory.mktemp("tiny-clip-config"))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        encoder = load_encoder(EncoderSpec(model=str(config), device="cpu", precision="fp32"))
    folder = save_encoder(encoder.model, TINY_CLIP, TINY_PREPROCESS,
                          tmp_path_factory.mktemp("tiny-clip"))  # fmt: skip
    return EncoderSpec(model=f"local-dir:{folder}", device="cpu", precision="fp32")


# --- an event store file as schema version 1 wrote it ---------------------------------------

# Frozen here on purpose: the layout a version-1 file has on disk, whatever the code says now.
EVENT_STORE_V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE decisions (
    decision_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title_id TEXT NOT NULL,
    candidates TEXT NOT NULL, artwork_id TEXT NOT NULL, propensity REAL NOT NULL,
    policy TEXT NOT NULL, policy_version TEXT NOT NULL, seed INTEGER NOT NULL,
    context TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE INDEX decisions_by_user ON decisions (user_id, created_at);
CREATE TABLE events (
    event_id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL REFERENCES decisions (decision_id),
    type TEXT NOT NULL, value REAL NOT NULL, time REAL NOT NULL, received_at REAL NOT NULL
);
CREATE INDEX events_by_decision ON events (decision_id);
INSERT INTO schema_version VALUES (1, 1700000000.0);
"""


@pytest.fixture
def v1_event_store() -> Callable[[Path, Decision], Path]:
    """Write a version-1 event store file holding one decision and one click on it."""

    def write(path: Path, decision: Decision) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path)
        db.executescript(EVENT_STORE_V1)
        db.execute(
            "INSERT INTO decisions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (decision.decision_id, decision.user_id, decision.title_id,
             json.dumps(list(decision.candidates)), decision.artwork_id, decision.propensity,
             decision.policy, decision.policy_version, decision.seed, decision.context_json(),
             decision.created_at),
        )  # fmt: skip
        db.execute("INSERT INTO events VALUES ('e-v1', ?, 'click', 1.0, 10.0, 11.0)",
                   (decision.decision_id,))  # fmt: skip
        db.commit()
        db.close()
        return path

    return write


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own: the session's browser fixture keeps
    Playwright's event loop running in the main thread, where ``asyncio.run`` is refused."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
