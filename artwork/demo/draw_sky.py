"""Painters for what floats in a still's sky: sun, moon, planet, spaceship, ghost, hearts,
musical notes and balloons."""

from __future__ import annotations

import math

import numpy as np

from artwork.demo.canvas import (
    BRIGHT,
    WHITE,
    Frame,
    Point,
    arc,
    cluster,
    jitter,
    mix,
    pick,
    shade,
    with_alpha,
)
from artwork.demo.draw_figures import DARK


def crescent(cx: float, cy: float, r: float, k: float) -> list[Point]:
    """Right-hand lit part of a disc whose terminator is an ellipse of half-width ``k * r``."""
    return arc(cx, cy, r, r, -90, 90, 16) + arc(cx, cy, k * r, r, 90, -90, 16)


def heart_shape(cx: float, cy: float, s: float) -> list[Point]:
    """Heart of width about ``s`` centred at (cx, cy)."""
    ts = np.linspace(0, 2 * math.pi, 40, endpoint=False)
    xs = 16 * np.sin(ts) ** 3
    ys = -(13 * np.cos(ts) - 5 * np.cos(2 * ts) - 2 * np.cos(3 * ts) - np.cos(4 * ts))
    k = s / 34
    return [(cx + x * k, cy + (y + 2) * k) for x, y in zip(xs, ys, strict=True)]


def paint_moon(f: Frame) -> None:
    """The moon: a crescent, or a full disc with craters, with a pale glow."""
    rng = f.c.rng
    cx = f.aspect / 2
    pale = jitter(rng, (236, 234, 214), 8)
    f.glow(cx, 0.5, 0.55, (200, 210, 240), 0.45)
    if rng.random() < 0.45:
        f.poly(crescent(cx, 0.5, 0.38, rng.uniform(0.1, 0.5)), pale)
        return
    f.ellipse(cx, 0.5, 0.38, 0.38, pale)
    for _ in range(3):  # maria: broad faint patches
        a, d, r = rng.uniform(0, 2 * math.pi), rng.uniform(0.05, 0.2), rng.uniform(0.08, 0.14)
        f.ellipse(cx + d * math.cos(a), 0.5 + d * math.sin(a), r, r * 0.8, (120, 120, 110, 50),
                  outline=False)  # fmt: skip
    for _ in range(int(rng.integers(6, 11))):
        a, d, r = rng.uniform(0, 2 * math.pi), rng.uniform(0.05, 0.32), rng.uniform(0.015, 0.04)
        f.ellipse(cx + d * math.cos(a), 0.5 + d * math.sin(a), r, r, shade(pale, 0.8), False)


def paint_sun(f: Frame) -> None:
    """The sun: a bright disc ringed by rays, in a wide glow."""
    rng = f.c.rng
    cx = f.aspect / 2
    core = pick(rng, ((255, 222, 70), (255, 190, 60), (255, 150, 50)))
    edge = (240, 120, 30)  # a deep orange rim keeps the disc distinct in pale, hazy skies
    f.glow(cx, 0.5, 0.6, (255, 230, 150), 0.7)
    n = int(rng.integers(10, 15))
    for i in range(n):
        a = 2 * math.pi * i / n + rng.uniform(-0.05, 0.05)
        r1 = 0.47 if i % 2 == 0 else 0.38
        da = 0.08
        f.poly([(cx + 0.27 * math.cos(a - da), 0.5 + 0.27 * math.sin(a - da)),
                (cx + r1 * math.cos(a), 0.5 + r1 * math.sin(a)),
                (cx + 0.27 * math.cos(a + da), 0.5 + 0.27 * math.sin(a + da))], edge)  # fmt: skip
    f.ellipse(cx, 0.5, 0.26, 0.26, edge)
    f.ellipse(cx, 0.5, 0.22, 0.22, core, outline=False)
    f.ellipse(cx, 0.5, 0.14, 0.14, mix(core, WHITE, 0.5), outline=False)


def paint_spaceship(f: Frame) -> None:
    """A rocket with nose cone, fins, porthole and flame, or a saucer with dome and lights."""
    rng = f.c.rng
    hull = pick(rng, ((232, 234, 240), (190, 196, 206), (240, 240, 230)))
    trim = pick(rng, ((210, 40, 40), (40, 90, 200), (240, 160, 30)))
    cx = f.aspect / 2
    if rng.random() < 0.5:
        f.glow(cx, 0.5, 0.45, (200, 255, 200), 0.4)
        f.poly([(cx - 0.12, 0.55), (cx + 0.12, 0.55), (cx + 0.3, 1.0), (cx - 0.3, 1.0)],
               (255, 250, 180, 70), outline=False)  # fmt: skip
        f.ellipse(cx, 0.4, 0.2, 0.17, (150, 220, 240, 230))
        f.ellipse(cx, 0.5, 0.49, 0.11, hull)
        f.ellipse(cx, 0.54, 0.38, 0.04, shade(hull, 0.7))
        for i in range(5):
            f.ellipse(cx + 0.16 * (i - 2), 0.5, 0.025, 0.025, pick(rng, BRIGHT))
        return
    f.glow(cx, 0.88, 0.18, (255, 170, 60), 0.7)
    f.poly([(cx - 0.09, 0.74), (cx + 0.09, 0.74), (cx + 0.06, 0.87), (cx, 1.0), (cx - 0.06, 0.87)],
           (255, 130, 40))  # fmt: skip
    f.poly([(cx - 0.05, 0.74), (cx + 0.05, 0.74), (cx, 0.92)], (255, 230, 120), False)
    for side in (-1, 1):
        f.poly([(cx + side * 0.1, 0.48), (cx + side * 0.22, 0.74), (cx + side * 0.22, 0.82),
                (cx + side * 0.1, 0.72)], trim)  # fmt: skip
    f.poly([(cx, 0.0), (cx + 0.11, 0.18), (cx + 0.12, 0.5), (cx + 0.1, 0.75), (cx - 0.1, 0.75),
            (cx - 0.12, 0.5), (cx - 0.11, 0.18)], hull)  # fmt: skip
    f.poly([(cx, 0.0), (cx + 0.11, 0.18), (cx - 0.11, 0.18)], trim)
    f.ellipse(cx, 0.34, 0.065, 0.065, (110, 120, 130))
    f.ellipse(cx, 0.34, 0.045, 0.045, (140, 210, 245), outline=False)


def paint_planet(f: Frame) -> None:
    """A planet: a banded, shaded disc, often with a tilted ring."""
    rng = f.c.rng
    base = jitter(rng, pick(rng, ((214, 180, 130), (220, 140, 80), (90, 140, 220),
                                  (200, 90, 70), (120, 190, 150), (170, 120, 200))))  # fmt: skip
    cx, cy, r = f.aspect / 2, 0.5, 0.4
    ringed = rng.random() < 0.65
    tilt = rng.uniform(-0.35, 0.35)
    ring_col = with_alpha(mix(base, WHITE, 0.5), 230)
    ts = np.linspace(0, 2 * math.pi, 40)
    ring = [(cx + 0.8 * math.cos(t) * math.cos(tilt) - 0.17 * math.sin(t) * math.sin(tilt),
             cy + 0.8 * math.cos(t) * math.sin(tilt) + 0.17 * math.sin(t) * math.cos(tilt))
            for t in ts]  # fmt: skip
    if ringed:
        f.stroke(ring[19:], ring_col, 0.06, False)
    f.ellipse(cx, cy, r, r, base)
    edges = np.sort(rng.uniform(-r, r, int(rng.integers(3, 7))))
    for i in range(0, len(edges) - 1, 2):
        y0, y1 = edges[i], edges[i + 1]
        side = [(math.sqrt(max(0.0, r * r - y * y)) * 0.98, y) for y in np.linspace(y0, y1, 6)]
        band = [(cx + x, cy + y) for x, y in side] + [(cx - x, cy + y) for x, y in side[::-1]]
        f.poly(band, shade(base, rng.uniform(0.7, 0.85)), outline=False)
    f.poly(crescent(cx, cy, r, -0.3)[::1], (0, 0, 0, 90), outline=False)
    if ringed:
        f.stroke(ring[:21], ring_col, 0.06, False)


def paint_ghost(f: Frame) -> None:
    """A ghost: a glowing white sheet with a wavy hem, dark eyes and an open mouth."""
    rng = f.c.rng
    cx = f.aspect / 2
    f.glow(cx, 0.45, 0.5, (200, 230, 255), 0.45)
    sheet = (244, 246, 252, 235)
    hem = [(cx + 0.32 - 0.64 * i / 8, 0.9 + (0.08 if i % 2 else 0.0)) for i in range(9)]
    f.poly([*arc(cx, 0.35, 0.28, 0.33, 180, 360, 14), (cx + 0.3, 0.6), (cx + 0.42, 0.5),
            (cx + 0.34, 0.7), *hem, (cx - 0.34, 0.7), (cx - 0.42, 0.55),
            (cx - 0.3, 0.6)], sheet)  # fmt: skip
    for side in (-1, 1):
        f.ellipse(cx + side * 0.1, 0.33, 0.05, 0.08, DARK, outline=False)
    f.ellipse(cx, 0.52, 0.06, 0.09 * rng.uniform(0.7, 1.1), DARK, outline=False)


def paint_heart(f: Frame) -> None:
    """One to three heart symbols."""
    rng = f.c.rng
    red = pick(rng, ((220, 30, 60), (250, 90, 140), (200, 20, 40), (255, 60, 110)))
    centres, scale = cluster(rng, f.aspect, 0.6)
    for x, y in centres:
        s = rng.uniform(0.45, 0.65) * scale
        y = min(y, 1 - 0.45 * s) if scale > 1 else y
        f.poly(heart_shape(x, y, s), jitter(rng, red, 12))
        f.ellipse(x - s * 0.22, y - s * 0.14, s * 0.08, s * 0.05, (255, 255, 255, 140), False)


def paint_music_note(f: Frame) -> None:
    """One to three musical notes: single eighth notes or beamed pairs."""
    rng = f.c.rng
    light = f.dark_behind()
    ink = pick(rng, ((250, 246, 230), (255, 220, 120), (150, 230, 255)) if light else
               ((20, 20, 30), (40, 30, 90), (90, 20, 60)))  # fmt: skip
    centres, scale = cluster(rng, f.aspect, 0.5)
    for x, y in centres:
        s = rng.uniform(0.45, 0.6) * min(scale, 1.2)
        x0, y0 = x - s * 0.4, min(y - s * 0.5, 1 - s)

        if rng.random() < 0.5:
            f.ellipse(x0 + 0.3 * s, y0 + 0.86 * s, 0.17 * s, 0.12 * s, ink, rot=-0.4)
            f.stroke([(x0 + 0.45 * s, y0 + 0.84 * s), (x0 + 0.45 * s, y0)], ink, 0.055 * s)
            f.poly([(x0 + 0.43 * s, y0), (x0 + 0.75 * s, y0 + 0.3 * s),
                    (x0 + 0.7 * s, y0 + 0.55 * s), (x0 + 0.68 * s, y0 + 0.36 * s),
                    (x0 + 0.43 * s, y0 + 0.2 * s)], ink)  # fmt: skip
        else:
            for hx, hy in ((0.15, 0.9), (0.75, 0.8)):
                f.ellipse(x0 + hx * s, y0 + hy * s, 0.17 * s, 0.12 * s, ink, rot=-0.4)
            for sx, top, bot in ((0.3, 0.1, 0.88), (0.9, 0.0, 0.78)):
                f.stroke([(x0 + sx * s, y0 + bot * s), (x0 + sx * s, y0 + top * s)], ink,
                         0.055 * s)  # fmt: skip
            f.poly([(x0 + 0.28 * s, y0 + 0.06 * s), (x0 + 0.92 * s, y0 - 0.04 * s),
                    (x0 + 0.92 * s, y0 + 0.1 * s), (x0 + 0.28 * s, y0 + 0.2 * s)], ink)  # fmt: skip


def paint_balloon(f: Frame) -> None:
    """One to three party balloons with knots and curly strings meeting below."""
    rng = f.c.rng
    knot = (f.aspect / 2, 1.0)
    centres, scale = cluster(rng, f.aspect, 0.3)
    for x, _ in centres:
        rx, colour = rng.uniform(0.11, 0.14) * scale, jitter(rng, pick(rng, BRIGHT), 10)
        y = max(rng.uniform(0.17, 0.32), 1.3 * rx)
        string = [(x + 0.02 * math.sin(t * 9), y + 0.2 + t * (0.8 - y)) for t in (0, 0.3, 0.6)]
        f.stroke(
            [*string, knot], (230, 230, 230) if f.dark_behind() else (60, 60, 60), 0.012, False
        )
        f.poly([(x, y + rx * 1.2), (x - 0.025, y + rx * 1.4), (x + 0.025, y + rx * 1.4)], colour)
        f.ellipse(x, y, rx, rx * 1.25, colour)
        f.ellipse(x - rx * 0.4, y - rx * 0.5, rx * 0.2, rx * 0.3, (255, 255, 255, 150), False)
