"""Backgrounds of demo stills: each setting paints sky, ground and light, never a tagged object."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from artwork.demo.canvas import Canvas, Colour, Frame, Scene, jitter, mix, pick, shade, with_alpha

SKIES: dict[str, tuple[Colour, ...]] = {
    "day": ((62, 122, 204), (148, 190, 232), (204, 224, 242)),
    "dusk": ((44, 40, 96), (188, 96, 112), (255, 176, 104)),
    "night": ((4, 6, 20), (14, 20, 50), (36, 46, 88)),
    "overcast": ((100, 104, 114), (146, 150, 158), (186, 188, 192)),
    "space": ((2, 2, 8), (6, 6, 20), (14, 10, 34)),
}


def sky(c: Canvas, horizon: int, light: str | None = None) -> Colour:
    """Sky gradient down to ``horizon`` with clouds or stars; returns the colour at the horizon."""
    stops = [jitter(c.rng, s, 12) for s in SKIES[light or c.light]]
    c.gradient((0, 0, c.w, horizon), stops)
    if c.night:
        stars(c, horizon, int(c.rng.integers(60, 160)))
    elif c.rng.random() < 0.7:
        clouds(c, horizon)
    return stops[-1]


def stars(c: Canvas, bottom: float, n: int) -> None:
    rng = c.rng
    xs, ys = rng.uniform(0, c.w, n), rng.uniform(0, bottom, n)
    for x, y, r, a in zip(xs, ys, rng.uniform(0.7, 2.2, n), rng.integers(90, 255, n), strict=True):
        c.draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 240, int(a)))


def clouds(c: Canvas, horizon: int) -> None:
    rng = c.rng
    tone = (255, 255, 255) if c.light == "day" else (255, 214, 200)
    for _ in range(int(rng.integers(1, 5))):
        cx, cy = rng.uniform(0, c.w), rng.uniform(0.05, 0.75) * horizon
        size = rng.uniform(0.04, 0.09) * c.h
        for _ in range(5):
            dx, r = rng.uniform(-2.2, 2.2) * size, size * rng.uniform(0.6, 1.1)
            dy = rng.uniform(-0.4, 0.2) * size
            box = (cx + dx - 1.6 * r, cy + dy - r * 0.7, cx + dx + 1.6 * r, cy + dy + r * 0.7)
            c.draw.ellipse(box, fill=with_alpha(tone, 150))


def ground(c: Canvas, top: int, stops: tuple[Colour, ...], texture: float = 0.14) -> None:
    """Ground gradient from row ``top`` to the bottom edge, with texture noise."""
    c.gradient((0, top, c.w, c.h), [jitter(c.rng, s, 10) for s in stops])
    c.texture((0, top, c.w, c.h), texture)


def hills(c: Canvas, base: float, amp: float, colour: Colour, waves: float = 2.0) -> None:
    """A rolling silhouette whose crest wanders ``amp`` px above row ``base``."""
    xs = np.linspace(0, c.w, 48)
    phase = c.rng.uniform(0, 2 * math.pi, 2)
    wave = np.sin(xs / c.w * waves * math.pi + phase[0]) + 0.4 * np.sin(
        xs / c.w * waves * 3.1 * math.pi + phase[1]
    )
    ys = base - amp * (0.5 + 0.35 * wave)
    c.polygon([*zip(xs, ys, strict=True), (c.w, c.h), (0, c.h)], colour, outline=False)


def horizon_at(c: Canvas, lo: float, hi: float) -> int:
    return int(c.h * c.rng.uniform(lo, hi))


def open_scene(
    horizon: int,
    c: Canvas,
    sky_colour: Colour,
    ground: tuple[int, int] | None = None,
    water: tuple[int, int] | None = None,
) -> Scene:
    """Scene whose objects stand anywhere from just below the horizon to the bottom edge."""
    rows = ground or (horizon + int(0.03 * c.h), int(0.97 * c.h))
    return Scene(horizon, rows, water, sky_colour)


def space(c: Canvas) -> Scene:
    rng = c.rng
    c.gradient((0, 0, c.w, c.h), SKIES["space"])
    for _ in range(int(rng.integers(1, 4))):
        colour = pick(rng, ((120, 40, 160), (40, 80, 170), (30, 140, 140), (170, 50, 90)))
        c.glow(rng.uniform(0, c.w), rng.uniform(0, c.h), rng.uniform(0.3, 0.6) * c.h, colour, 0.35)
    stars(c, c.h, int(rng.integers(200, 400)))
    for x, y in zip(rng.uniform(0, c.w, 5), rng.uniform(0, c.h, 5), strict=True):
        r = rng.uniform(6, 12)
        c.stroke([(x - r, y), (x + r, y)], (255, 255, 255, 180), 1.5, False)
        c.stroke([(x, y - r), (x, y + r)], (255, 255, 255, 180), 1.5, False)
    if not c.ground_objects:
        return Scene(c.h, (int(0.9 * c.h), c.h), None, (14, 10, 34))
    hz = horizon_at(c, 0.72, 0.84)
    xs = np.linspace(0, c.w, 25)
    ys = hz + np.cumsum(rng.normal(0, 0.012 * c.h, xs.size))
    rock = jitter(rng, (74, 66, 84), 12)
    c.polygon([*zip(xs, ys, strict=True), (c.w, c.h), (0, c.h)], rock, outline=False)
    c.texture((0, int(ys.min()), c.w, c.h), 0.25, 8)
    return open_scene(hz, c, (14, 10, 34), ground=(int(ys.max()) + 4, int(0.97 * c.h)))


def desert(c: Canvas) -> Scene:
    hz = horizon_at(c, 0.5, 0.66)
    top = sky(c, hz)
    sand = jitter(c.rng, (232, 194, 130), 12)
    hills(c, hz + 2, 0.05 * c.h, mix(sand, top, 0.35), 1.5)
    ground(c, hz, (shade(sand, 0.95), shade(sand, 0.82)), 0.08)
    for k in range(2):
        hills(c, hz + (0.2 + 0.3 * k) * (c.h - hz), 0.06 * c.h, shade(sand, 0.9 + 0.08 * k), 1.2)
    for _ in range(10):
        x, y = c.rng.uniform(0, c.w), c.rng.uniform(hz + 0.05 * c.h, c.h)
        length = 0.04 * c.w + 0.08 * c.w * (y - hz) / (c.h - hz)
        c.stroke([(x, y), (x + length / 2, y - 3), (x + length, y)], shade(sand, 0.78), 2, False)
    return open_scene(hz, c, top)


def street(c: Canvas) -> Scene:
    hz = horizon_at(c, 0.56, 0.68)
    top = sky(c, hz)
    kerb = hz + int(0.035 * c.h)
    road_bottom = int(hz + 0.6 * (c.h - hz))
    c.gradient((0, hz, c.w, kerb), [(150, 150, 150), (130, 130, 130)])
    c.gradient((0, kerb, c.w, road_bottom), [(78, 78, 84), (56, 56, 62)])
    c.texture((0, kerb, c.w, road_bottom), 0.15, 6)
    mid = (kerb + road_bottom) / 2
    paint = pick(c.rng, ((240, 240, 230), (240, 200, 60)))
    for x in np.arange(c.rng.uniform(-0.1, 0) * c.w, c.w, 0.12 * c.w):
        c.draw.rectangle((x, mid - 0.006 * c.h, x + 0.06 * c.w, mid + 0.006 * c.h), fill=paint)
    c.gradient((0, road_bottom, c.w, c.h), [(168, 164, 158), (132, 128, 124)])
    c.draw.rectangle((0, road_bottom, c.w, road_bottom + 0.012 * c.h), fill=(96, 94, 92))
    for x in np.arange(0, c.w, 0.1 * c.w):
        c.draw.line((x, road_bottom, x - 0.03 * c.w, c.h), fill=(110, 108, 104), width=2)
    return open_scene(hz, c, top)


def street_decor(c: Canvas, scene: Scene) -> None:
    """Street lamps on the far pavement, lit at night."""
    for x in c.rng.uniform(0.05, 0.95, int(c.rng.integers(1, 4))) * c.w:
        top = scene.horizon - 0.42 * c.h
        c.stroke([(x, scene.horizon + 0.02 * c.h), (x, top)], (40, 46, 44), 0.009 * c.w)
        c.stroke([(x, top), (x + 0.035 * c.w, top + 0.015 * c.h)], (40, 46, 44), 0.006 * c.w)
        lamp = Frame(c, x + 0.02 * c.w, top + 0.01 * c.h, 0.03 * c.h, 1.0)
        lamp.ellipse(0.5, 0.5, 0.7, 0.35, (255, 236, 170) if c.night else (200, 200, 190))
        if c.night:
            lamp.glow(0.5, 0.6, 3.0, (255, 220, 150), 0.5)


def field(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.45, 0.66)
    top = sky(c, hz)
    wheat = rng.random() < 0.25
    grass = ((214, 186, 96), (172, 132, 60)) if wheat else ((128, 178, 74), (64, 124, 42))
    if rng.random() < 0.5:
        hills(c, hz + 2, 0.06 * c.h, mix(grass[0], top, 0.45), 1.8)
    ground(c, hz, grass, 0.16)
    for _ in range(220):
        t = rng.random() ** 0.7
        x, y = rng.uniform(0, c.w), hz + t * (c.h - hz)
        length = (0.01 + 0.05 * t) * c.h
        blade = shade(grass[int(rng.random() < 0.5)], rng.uniform(0.75, 1.2))
        c.draw.line((x, y, x + rng.uniform(-0.3, 0.3) * length, y - length), fill=blade, width=2)
    return open_scene(hz, c, top)


def forest(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.6, 0.72)
    top = sky(c, hz)
    leaf = jitter(rng, (38, 84, 40), 10)
    for layer in range(3):
        haze = 0.55 - 0.25 * layer
        trunk, crown = mix((70, 52, 36), top, haze), mix(leaf, top, haze)
        for x in rng.uniform(-0.05, 1.05, 9 + 3 * layer) * c.w:
            w = (0.012 + 0.012 * layer) * c.w
            c.draw.rectangle((x - w, 0.2 * c.h, x + w, hz + (0.02 + 0.04 * layer) * c.h), trunk)
        for x in np.arange(-0.05, 1.1, 0.08) * c.w:
            r = rng.uniform(0.08, 0.14) * c.h
            y = rng.uniform(0.05, 0.35) * hz
            c.draw.ellipse((x - 1.3 * r, y - r, x + 1.3 * r, y + r), fill=shade(crown, 0.95))
    ground(c, hz, ((78, 96, 50), (40, 54, 28)), 0.2)
    if c.light == "day":
        for x in rng.uniform(0.1, 0.9, 3) * c.w:
            shaft = [(x, 0), (x + 0.05 * c.w, 0), (x + 0.25 * c.w, c.h), (x + 0.15 * c.w, c.h)]
            c.draw.polygon(shaft, fill=(255, 250, 210, 36))
    return open_scene(hz, c, top)


def sea(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.38, 0.56)
    top = sky(c, hz)
    shore = int(hz + rng.uniform(0.55, 0.7) * (c.h - hz)) if c.ground_objects else c.h
    c.gradient((0, hz, c.w, c.h), [mix(top, (30, 80, 140), 0.55), (18, 56, 104)])
    c.texture((0, hz, c.w, c.h), 0.08, 10)
    for _ in range(170):
        t = rng.random() ** 0.8
        x, y = rng.uniform(0, c.w), hz + 3 + t * (c.h - hz)
        length = (0.01 + 0.05 * t) * c.w
        c.draw.line((x, y, x + length, y), fill=(230, 240, 255, 90), width=max(1, round(3 * t)))
    if shore >= c.h:
        return open_scene(hz, c, top, water=(hz + int(0.03 * c.h), int(0.95 * c.h)))
    xs = np.linspace(0, c.w, 30)
    ys = shore + 0.012 * c.h * np.sin(xs / c.w * 9 + rng.uniform(0, 6))
    c.draw.line([*zip(xs, ys - 3, strict=True)], fill=(245, 250, 255), width=5)
    c.polygon([*zip(xs, ys, strict=True), (c.w, c.h), (0, c.h)], jitter(rng, (222, 198, 146)),
              outline=False)  # fmt: skip
    c.texture((0, shore, c.w, c.h), 0.1, 6)
    return open_scene(hz, c, top, water=(hz + int(0.03 * c.h), shore - int(0.03 * c.h)),
                      ground=(shore + int(0.04 * c.h), int(0.97 * c.h)))  # fmt: skip


def folds(c: Canvas, x0: float, x1: float, y1: float, period: float) -> None:
    """Darker vertical folds across a curtain between columns x0 and x1."""
    for x in np.arange(x0, x1, period):
        c.draw.rectangle((x, 0, x + period * 0.4, y1), fill=(0, 0, 0, 60))


def stage(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.62, 0.74)
    curtain = jitter(rng, pick(rng, ((150, 20, 30), (90, 20, 100), (30, 40, 110))))
    c.gradient((0, 0, c.w, hz), [shade(curtain, 0.7), curtain, shade(curtain, 0.8)])
    folds(c, 0, c.w, hz, 0.05 * c.w)
    ground(c, hz, ((150, 96, 52), (96, 58, 30)), 0.1)
    vx, vy = c.w / 2, hz - 0.9 * c.h
    for x in np.linspace(-0.6, 1.6, 23) * c.w:
        t = (hz - vy) / (c.h - vy)
        c.draw.line((vx + (x - vx) * t, hz, x, c.h), fill=(70, 40, 20), width=2)
    return open_scene(hz, c, curtain)


def stage_decor(c: Canvas, scene: Scene) -> None:
    """Side curtains, a scalloped pelmet and pools of light on the boards."""
    rng = c.rng
    curtain = shade(scene.sky_colour, 0.85)
    for left in (True, False):
        w = rng.uniform(0.06, 0.1) * c.w
        x0, x1 = (0, w) if left else (c.w - w, c.w)
        c.draw.rectangle((x0, 0, x1, c.h), fill=curtain)
        folds(c, x0, x1, c.h, w / 3)
    depth = 0.07 * c.h
    c.draw.rectangle((0, 0, c.w, depth), fill=curtain)
    for x in np.arange(0, c.w, 0.08 * c.w):
        c.draw.ellipse((x, depth - 0.03 * c.h, x + 0.08 * c.w, depth + 0.03 * c.h), fill=curtain)
    for x in rng.uniform(0.2, 0.8, int(rng.integers(1, 3))) * c.w:
        y = scene.horizon + rng.uniform(0.3, 0.6) * (c.h - scene.horizon)
        c.draw.ellipse((x - 0.16 * c.w, y - 0.05 * c.h, x + 0.16 * c.w, y + 0.05 * c.h),
                       fill=(255, 244, 210, 70))  # fmt: skip


WALLS = ((226, 214, 190), (180, 196, 170), (160, 176, 196), (214, 176, 160), (120, 90, 80))


def room(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.64, 0.78)
    wall = jitter(rng, pick(rng, WALLS))
    c.gradient((0, 0, c.w, hz), [shade(wall, 1.05), shade(wall, 0.88)])
    if rng.random() < 0.4:
        folds(c, 0, c.w, hz, 0.04 * c.w)
    carpet = rng.random() < 0.4
    floor = jitter(rng, pick(rng, ((120, 44, 44), (70, 80, 110))) if carpet else (150, 100, 60))
    ground(c, hz, (floor, shade(floor, 0.75)), 0.12)
    if not carpet:
        for k in range(1, 9):
            y = hz + (c.h - hz) * (k / 9) ** 1.5
            c.draw.line((0, y, c.w, y), fill=shade(floor, 0.7), width=2)
    c.draw.rectangle(
        (0, hz - 0.025 * c.h, c.w, hz), fill=pick(rng, ((240, 240, 236), (70, 50, 40)))
    )
    ww, wh = rng.uniform(0.16, 0.24) * c.w, rng.uniform(0.28, 0.36) * c.h
    wx = rng.uniform(0.05, 0.95) * c.w - ww / 2
    wy = rng.uniform(0.1, 0.16) * c.h
    window = Frame(c, wx, wy, wh, ww / wh)
    view = "night" if c.night else ("dusk" if c.light == "dusk" else "day")
    c.gradient((wx, wy, wx + ww, wy + wh), SKIES[view])
    frame_col = pick(rng, ((245, 245, 240), (110, 74, 44)))
    for seq in ([(0, 0), (ww / wh, 0), (ww / wh, 1), (0, 1), (0, 0)],
                [(ww / wh / 2, 0), (ww / wh / 2, 1)], [(0, 0.5), (ww / wh, 0.5)]):  # fmt: skip
        window.stroke(seq, frame_col, 0.04)
    drape = jitter(rng, pick(rng, ((150, 40, 50), (60, 90, 140), (200, 170, 100))))
    for x in (wx - 0.04 * c.w, wx + ww - 0.005 * c.w):
        c.draw.rectangle((x, wy - 0.04 * c.h, x + 0.045 * c.w, wy + wh + 0.08 * c.h), fill=drape)
    if rng.random() < 0.6:
        px = (wx + ww + 0.1 * c.w) if wx < c.w / 2 else rng.uniform(0.05, 0.2) * c.w
        art = Frame(c, px, 0.15 * c.h, 0.18 * c.h, 1.3)
        art.rect(0, 0, 1.3, 1, pick(rng, ((180, 140, 60), (60, 40, 30))))
        art.rect(0.1, 0.1, 1.2, 0.9, jitter(rng, (230, 226, 214)))
        art.rect(0.2, 0.2, 0.7, 0.8, jitter(rng, (60, 110, 170), 40), outline=False)
        art.rect(0.6, 0.4, 1.1, 0.85, jitter(rng, (200, 80, 60), 40), outline=False)
    return open_scene(hz, c, wall)


def snow(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.48, 0.64)
    top = sky(c, hz, "overcast" if c.light == "day" and rng.random() < 0.5 else None)
    hills(c, hz + 2, 0.05 * c.h, mix((236, 242, 252), top, 0.3), 1.6)
    ground(c, hz, ((240, 244, 252), (204, 214, 236)), 0.1)
    for _ in range(6):
        x, y = rng.uniform(0, c.w), rng.uniform(hz, c.h)
        r = rng.uniform(0.05, 0.15) * c.w
        c.draw.ellipse((x - r, y - r * 0.15, x + r, y + r * 0.15), fill=(150, 170, 220, 50))
    for x, y in zip(rng.uniform(0, c.w, 180), rng.uniform(0, c.h, 180), strict=True):
        r = rng.uniform(1.2, 3.2)
        c.draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 200))
    return open_scene(hz, c, top)


def battlefield(c: Canvas) -> Scene:
    rng = c.rng
    hz = horizon_at(c, 0.5, 0.64)
    stops = ((86, 84, 80), (140, 124, 106), (196, 150, 104))
    c.gradient((0, 0, c.w, hz), [jitter(rng, s, 10) for s in stops])
    for x in rng.uniform(0.1, 0.9, 2) * c.w:
        c.glow(x, hz, 0.12 * c.h, (255, 130, 40), 0.35)
        drift = rng.uniform(0.02, 0.05) * c.w
        for k in range(12):  # a plume that billows and leans as it rises
            r = (0.03 + 0.012 * k) * c.h * rng.uniform(0.8, 1.2)
            y = hz - k * 0.035 * c.h
            px = x + drift * k * 0.5 + rng.uniform(-1, 1) * r * 0.6
            c.draw.ellipse((px - 1.3 * r, y - r, px + 1.3 * r, y + r), fill=(80, 76, 72, 60))
    ground(c, hz, ((108, 96, 72), (64, 54, 40)), 0.3)
    for _ in range(int(rng.integers(3, 7))):
        t = rng.random()
        x, y = rng.uniform(0, c.w), hz + (0.1 + 0.85 * t) * (c.h - hz)
        r = (0.03 + 0.08 * t) * c.w
        c.draw.ellipse((x - r, y - 0.22 * r, x + r, y + 0.22 * r), fill=(124, 110, 86))
        c.draw.ellipse((x - 0.8 * r, y - 0.14 * r, x + 0.8 * r, y + 0.17 * r), fill=(52, 44, 34))
    return open_scene(hz, c, stops[-1])


def battlefield_decor(c: Canvas, scene: Scene) -> None:
    """A barbed-wire line and a few steel anti-tank crosses."""
    rng = c.rng
    y = scene.horizon + 0.12 * (c.h - scene.horizon)
    posts = np.arange(rng.uniform(0, 0.1), 1.05, 0.1) * c.w
    for x in posts:
        c.stroke([(x, y), (x, y - 0.06 * c.h)], (60, 50, 40), 4)
    zig = [(x, y - (0.045 if i % 2 else 0.02) * c.h) for i, x in enumerate(np.repeat(posts, 2))]
    c.draw.line(zig, fill=(50, 46, 44), width=2)
    for _ in range(int(rng.integers(1, 4))):
        t = rng.uniform(0.2, 0.7)
        x, yy = rng.uniform(0, c.w), scene.horizon + t * (c.h - scene.horizon)
        s = (0.03 + 0.06 * t) * c.h
        for dx in (-1, 1):
            c.stroke([(x - dx * s, yy), (x + dx * s, yy - 1.4 * s)], (54, 52, 50), 0.25 * s)


def graveyard(c: Canvas) -> Scene:
    hz = horizon_at(c, 0.5, 0.64)
    top = sky(c, hz)
    hills(c, hz + 2, 0.07 * c.h, mix((40, 50, 44), top, 0.3), 1.3)
    ground(c, hz, ((72, 86, 60), (36, 46, 32)), 0.2)
    return open_scene(hz, c, top)


def graveyard_decor(c: Canvas, scene: Scene) -> None:
    """An iron railing, tombstones and crosses at various depths, and low mist."""
    rng = c.rng
    hz = scene.horizon
    base = hz + 0.05 * (c.h - hz)
    iron = (30, 30, 34)
    for x in np.arange(0, c.w, 0.025 * c.w):
        c.draw.line((x, base, x, base - 0.11 * c.h), fill=iron, width=3)
        c.draw.polygon([(x - 4, base - 0.11 * c.h), (x, base - 0.13 * c.h),
                        (x + 4, base - 0.11 * c.h)], fill=iron)  # fmt: skip
    for y in (base - 0.09 * c.h, base - 0.02 * c.h):
        c.draw.line((0, y, c.w, y), fill=iron, width=3)
    for t in np.sort(rng.uniform(0.05, 0.9, int(rng.integers(4, 9)))):
        foot = base + t * (c.h - base) * 0.95
        s = (0.07 + 0.12 * t) * c.h
        stone = jitter(rng, (150, 150, 148), 14)
        grave = Frame(c, rng.uniform(0, c.w - s), foot - s, s, 0.7)
        kind = rng.integers(3)
        if kind == 0:
            grave.rect(0.1, 0.3, 0.6, 1.0, stone)
            grave.ellipse(0.35, 0.3, 0.25, 0.2, stone)
            grave.stroke([(0.22, 0.45), (0.48, 0.45)], shade(stone, 0.6), 0.03, False)
        elif kind == 1:
            grave.rect(0.28, 0.05, 0.42, 1.0, stone)
            grave.rect(0.08, 0.25, 0.62, 0.38, stone)
        else:
            grave.poly([(0.15, 1.0), (0.2, 0.2), (0.35, 0.0), (0.5, 0.2), (0.55, 1.0)], stone)
    c.fog((200, 210, 214), 0.35, (hz - 0.05 * c.h, hz + 0.25 * c.h))


Backdrop = Callable[[Canvas], Scene]
Decor = Callable[[Canvas, Scene], None]


@dataclass(frozen=True)
class SettingPainter:
    """A setting's background, and decor drawn after backdrops but before any object."""

    back: Backdrop
    decor: Decor | None = None


SETTING_PAINTERS: dict[str, SettingPainter] = {
    "space": SettingPainter(space),
    "desert": SettingPainter(desert),
    "street": SettingPainter(street, street_decor),
    "field": SettingPainter(field),
    "forest": SettingPainter(forest),
    "sea": SettingPainter(sea),
    "stage": SettingPainter(stage, stage_decor),
    "room": SettingPainter(room),
    "snow": SettingPainter(snow),
    "battlefield": SettingPainter(battlefield, battlefield_decor),
    "graveyard": SettingPainter(graveyard, graveyard_decor),
}
