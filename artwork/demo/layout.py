"""Where a still's objects go: non-overlapping boxes on the ground, on water and in the sky."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from artwork.demo.canvas import Canvas, Frame, Scene

Painter = Callable[[Frame], None]
Box = tuple[float, float, float, float]

# Anchors: "ground" stands on the ground with perspective, "water" floats on water (or ground),
# "sky" floats above the horizon, "backdrop" spans the horizon behind everything (not boxed),
# "portrait" is a close-up that fills one side of the frame.
ANCHORS = ("ground", "water", "sky", "backdrop", "portrait")


@dataclass(frozen=True)
class ObjectSpec:
    """How an object is painted and laid out."""

    paint: Painter
    anchor: str
    aspect: float  # box width / box height
    height: float  # box height / frame height (for ground objects: when nearest the camera)
    depth: tuple[float, float] = (0.0, 1.0)  # ground band it may stand in: 0 far, 1 near
    tilt: float = 0.0  # largest random turn, radians
    glows: bool = False  # lights itself (sun, explosion...): needs no rim against the background

    def __post_init__(self) -> None:
        assert self.anchor in ANCHORS, self.anchor


@dataclass(frozen=True)
class Placement:
    """One object's box on the canvas and its pose."""

    tag: str
    box: Box
    facing: int
    angle: float
    anchor: str

    def frame(self, c: Canvas, aspect: float) -> Frame:
        x0, y0, _, y1 = self.box
        return Frame(c, x0, y0, y1 - y0, aspect, self.facing, self.angle)


def _free_x(y0: float, y1: float, bw: float, safe: Box, boxes: list[Box], gap: float) -> list[Box]:
    """Ranges (lo, hi, 0, 0) of left edges where a box ``bw`` wide over rows ``y0..y1`` stays
    inside ``safe`` and at least ``gap`` away from every box in ``boxes``."""
    lo, hi = safe[0], safe[2] - bw
    near = (b for b in boxes if b[1] < y1 + gap and y0 < b[3] + gap)
    blocked = sorted((b[0] - gap - bw, b[2] + gap) for b in near)
    free, start = [], lo
    for a, b in blocked:
        if min(a, hi) >= start:
            free.append((start, min(a, hi), 0.0, 0.0))
        start = max(start, b)
    if start <= hi:
        free.append((start, hi, 0.0, 0.0))
    return free


def _propose(
    spec: ObjectSpec,
    scene: Scene,
    safe: Box,
    size: tuple[int, int],
    zoom: float,
    sky_bottom: float,
    rng: np.random.Generator,
) -> Box:
    """A box of the right size and height for ``spec``; left edge at the safe area's (but a
    portrait's box is final: it goes first, against one side)."""
    w, h = size
    sx0, sy0, sx1, sy1 = safe
    if spec.anchor == "portrait":
        bh = min(rng.uniform(0.74, 0.95) * h, h * 1.02 - sy0)
        bw = bh * spec.aspect
        left = rng.random() < 0.5
        x0 = sx0 + rng.uniform(0, 0.1) * w if left else sx1 - bw - rng.uniform(0, 0.1) * w
        y0 = max(sy0, h * 1.04 - bh)
        return x0, y0, x0 + bw, y0 + bh
    if spec.anchor == "sky":
        bh = spec.height * h * zoom * rng.uniform(0.85, 1.15)
        y0 = rng.uniform(sy0, max(sy0, sky_bottom - bh))
    else:
        band = scene.water if spec.anchor == "water" and scene.water else scene.ground
        g0, g1 = band[0], min(band[1], sy1)
        foot = g0 + rng.uniform(*spec.depth) * max(0.0, g1 - g0)
        near = (foot - scene.horizon) / max(1.0, h - scene.horizon)
        bh = spec.height * h * zoom * (0.45 + 0.55 * near) * rng.uniform(0.9, 1.1)
        y0 = foot - bh
    return sx0, y0, sx0 + bh * spec.aspect, y0 + bh


def place_objects(
    tags: Sequence[str],
    specs: dict[str, ObjectSpec],
    scene: Scene,
    safe: Box,
    size: tuple[int, int],
    zoom: float,
    sky_bottom: float,
    rng: np.random.Generator,
) -> list[Placement]:
    """Boxes for every boxed object (backdrops excluded), tallest first, without overlaps.

    Each try draws a size and a height (depth on the ground, or a place in the sky), then a left
    edge among those that overlap nothing; sizes shrink after every few failed tries, and when an
    object finds no room at all the whole layout starts again with everything smaller.
    """
    order = sorted(
        (t for t in tags if specs[t].anchor != "backdrop"),
        key=lambda t: (specs[t].anchor != "portrait", -specs[t].height),
    )
    placed: list[Placement] = []
    for _ in range(RESTARTS):
        placed, fitted = [], True
        for tag in order:
            box, found = _place_one(specs[tag], placed, scene, safe, size, zoom, sky_bottom, rng)
            fitted = fitted and found
            spec = specs[tag]
            facing = 1 if rng.random() < 0.5 else -1
            angle = float(rng.uniform(-spec.tilt, spec.tilt)) if spec.tilt else 0.0
            placed.append(Placement(tag, box, facing, angle, spec.anchor))
        if fitted:
            break
        zoom *= 0.8
    return placed


def _place_one(
    spec: ObjectSpec,
    placed: list[Placement],
    scene: Scene,
    safe: Box,
    size: tuple[int, int],
    zoom: float,
    sky_bottom: float,
    rng: np.random.Generator,
) -> tuple[Box, bool]:
    """A box for one object clear of ``placed``, and whether one was found."""
    gap = 0.012 * size[0]
    box = (0.0, 0.0, 0.0, 0.0)
    for attempt in range(MAX_TRIES):
        box = _propose(spec, scene, safe, size, zoom * 0.92 ** (attempt // 3), sky_bottom, rng)
        if spec.anchor == "portrait":
            return box, True
        bw = box[2] - box[0]
        free = _free_x(box[1], box[3], bw, safe, [p.box for p in placed], gap)
        if free and box[1] >= safe[1] - 1:
            lengths = np.array([b - a for a, b, _, _ in free]) + 1.0
            lo, hi, _, _ = free[int(rng.choice(len(free), p=lengths / lengths.sum()))]
            x0 = rng.uniform(lo, hi)
            return (x0, box[1], x0 + bw, box[3]), True
    return box, False


MAX_TRIES = 45  # per object; by the last, sizes have shrunk to about a half
RESTARTS = 6


def backdrop_frame(
    c: Canvas, spec: ObjectSpec, scene: Scene, top: float, rng: np.random.Generator
) -> Frame:
    """Frame of a backdrop (mountains, skyline): a wide band standing on the horizon."""
    room = max(scene.horizon - top, 0.1 * c.h)
    bh = min(spec.height * c.h * rng.uniform(0.8, 1.1), 0.8 * room)
    span = c.w * rng.uniform(0.6, 1.15) if spec.aspect < 3 else c.w * 1.1
    x0 = rng.uniform(-0.1 * c.w, max(-0.1 * c.w, c.w * 1.05 - span))
    return Frame(c, x0, scene.horizon - bh + 2, bh, span / bh)
