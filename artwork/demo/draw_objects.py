"""Painters for things that stand on the ground, and ``OBJECTS``: every tag's painter and spec."""

from __future__ import annotations

import math

import numpy as np

from artwork.demo.canvas import (
    BRIGHT,
    WHITE,
    Colour,
    Frame,
    cluster,
    jitter,
    mix,
    pick,
    shade,
    with_alpha,
)
from artwork.demo.draw_figures import DARK, paint_dog, paint_face, paint_horse, paint_person
from artwork.demo.draw_sky import (
    paint_balloon,
    paint_ghost,
    paint_heart,
    paint_moon,
    paint_music_note,
    paint_planet,
    paint_spaceship,
    paint_sun,
)
from artwork.demo.layout import ObjectSpec

METAL: Colour = (205, 210, 220)
PETALS = ((230, 40, 60), (250, 150, 200), (250, 220, 60), (250, 250, 250), (150, 80, 200),
          (250, 130, 40))  # fmt: skip


def paint_car(f: Frame) -> None:
    """A car in profile: body and cabin, two windows, two wheels, lights."""
    rng = f.c.rng
    paint = jitter(rng, pick(rng, (*BRIGHT, (30, 30, 34), (230, 230, 230), (160, 164, 170))))
    f.poly([(0.03, 0.8), (0.0, 0.55), (0.08, 0.44), (0.55, 0.4), (0.85, 0.06), (1.55, 0.06),
            (1.9, 0.4), (2.2, 0.46), (2.3, 0.6), (2.27, 0.8)], paint)  # fmt: skip
    glass = (60, 80, 110) if f.c.night else (170, 205, 228)
    f.poly([(0.68, 0.38), (0.9, 0.12), (1.18, 0.12), (1.18, 0.38)], glass)
    f.poly([(1.26, 0.38), (1.26, 0.12), (1.52, 0.12), (1.78, 0.38)], glass)
    f.stroke([(1.22, 0.42), (1.22, 0.72)], shade(paint, 0.6), 0.02, False)
    f.stroke([(0.02, 0.74), (2.28, 0.74)], shade(paint, 0.7), 0.04, False)
    f.ellipse(2.24, 0.54, 0.05, 0.04, (255, 240, 160))
    f.ellipse(0.04, 0.55, 0.03, 0.04, (220, 30, 30))
    if f.c.night:
        f.glow(2.3, 0.55, 0.3, (255, 240, 180), 0.6)
    for x in (0.52, 1.8):
        f.ellipse(x, 0.8, 0.2, 0.2, (26, 26, 30))
        f.ellipse(x, 0.8, 0.085, 0.085, (184, 184, 190))


def paint_house(f: Frame) -> None:
    """A house: walls, pitched roof with chimney, door and two cross-barred windows."""
    rng = f.c.rng
    wall = jitter(rng, pick(rng, ((236, 228, 210), (178, 70, 50), (150, 190, 220),
                                  (240, 210, 120), (150, 110, 80))))  # fmt: skip
    roof = jitter(rng, pick(rng, ((150, 40, 36), (80, 60, 50), (90, 94, 100), (50, 60, 110))))
    f.rect(0.66, 0.1, 0.78, 0.34, shade(wall, 0.7))
    f.rect(0.1, 0.45, 0.9, 1.0, wall)
    f.poly([(0.02, 0.48), (0.5, 0.05), (0.98, 0.48)], roof)
    f.rect(0.42, 0.66, 0.58, 1.0, shade(roof, 0.8))
    f.ellipse(0.55, 0.84, 0.012, 0.012, (220, 200, 90), outline=False)
    lit = (255, 214, 120) if f.c.night else (160, 200, 230)
    for x in (0.17, 0.66):
        f.rect(x, 0.56, x + 0.17, 0.76, lit)
        f.stroke([(x + 0.085, 0.56), (x + 0.085, 0.76)], WHITE, 0.015, False)
        f.stroke([(x, 0.66), (x + 0.17, 0.66)], WHITE, 0.015, False)
        if f.c.night:
            f.glow(x + 0.085, 0.66, 0.15, (255, 200, 110), 0.35)


def paint_tree(f: Frame) -> None:
    """A tree: trunk and a round leafy canopy, or a pine of stacked triangles."""
    rng = f.c.rng
    green = jitter(rng, pick(rng, ((54, 120, 50), (40, 96, 44), (80, 140, 60), (34, 80, 50))))
    bark = jitter(rng, (96, 64, 40))
    cx = f.aspect / 2
    if f.c.setting == "snow" or rng.random() < 0.35:
        f.rect(cx - 0.04, 0.75, cx + 0.04, 1.0, bark)
        for i, (y0, y1, half) in enumerate(((0.45, 0.82, 0.34), (0.22, 0.58, 0.27),
                                            (0.0, 0.36, 0.19))):  # fmt: skip
            f.poly([(cx - half, y1), (cx, y0), (cx + half, y1)], shade(green, 0.85 + 0.1 * i))
            if f.c.setting == "snow":
                f.poly([(cx - half * 0.45, y0 + (y1 - y0) * 0.45), (cx, y0),
                        (cx + half * 0.45, y0 + (y1 - y0) * 0.45)], WHITE)  # fmt: skip
        return
    f.poly([(cx - 0.06, 1.0), (cx - 0.035, 0.45), (cx + 0.035, 0.45), (cx + 0.06, 1.0)], bark)
    f.stroke([(cx, 0.6), (cx + 0.15, 0.42)], bark, 0.03)
    blobs = ((0.0, 0.3, 0.25), (-0.17, 0.42, 0.18), (0.17, 0.42, 0.18), (-0.1, 0.2, 0.17),
             (0.12, 0.22, 0.17))  # fmt: skip
    for i, (dx, y, r) in enumerate(blobs):
        f.ellipse(cx + dx, y, r, r * 0.95, shade(green, 0.8 + 0.06 * i))
    f.ellipse(cx - 0.06, 0.22, 0.07, 0.05, with_alpha(mix(green, WHITE, 0.4), 90), False)


def paint_mountain(f: Frame) -> None:
    """A range of 2-4 peaks with shaded flanks and jagged snow caps (a backdrop)."""
    rng = f.c.rng
    base = jitter(rng, pick(rng, ((110, 120, 150), (120, 110, 120), (100, 110, 100))))
    n = int(rng.integers(2, 5))
    xs = np.sort(rng.uniform(0.1, 0.9, n)) * f.aspect
    for i, x in enumerate(xs):
        h = rng.uniform(0.55, 1.0) if i != n // 2 else 1.0
        half = h * rng.uniform(0.8, 1.2)
        rock = shade(base, 0.85 + 0.15 * (i % 2))
        top = 1 - h
        f.poly([(x - half, 1.02), (x - half * 0.3, top + h * 0.35), (x, top),
                (x + half * 0.4, top + h * 0.3), (x + half, 1.02)], rock)  # fmt: skip
        shadow_side = [(x, top), (x + half * 0.4, top + h * 0.3), (x + half, 1.02)]
        f.poly([*shadow_side, (x + 0.1 * half, 1.02)], shade(rock, 0.8), outline=False)
        cap = h * 0.3
        f.poly([(x - half * 0.3 * cap / (h * 0.35), top + cap), (x, top),
                (x + half * 0.4 * cap / (h * 0.3), top + cap),
                (x + half * 0.12, top + cap * 0.7), (x, top + cap * 1.05),
                (x - half * 0.12, top + cap * 0.75)], (244, 246, 252))  # fmt: skip


def paint_city(f: Frame) -> None:
    """A skyline (backdrop): tall buildings of varied heights with grids of windows."""
    rng = f.c.rng
    base = jitter(rng, pick(rng, ((80, 90, 110), (110, 110, 120), (70, 76, 96), (140, 130, 120))))
    night = f.c.night
    for layer, (lo, hi, tone) in enumerate(((0.45, 0.8, 1.25), (0.35, 1.0, 1.0))):
        x = -rng.uniform(0, 0.3)
        while x < f.aspect:
            bw, bh = rng.uniform(0.22, 0.5), rng.uniform(lo, hi)
            colour = shade(jitter(rng, base, 10), tone * rng.uniform(0.85, 1.1))
            top = 1 - bh
            f.rect(x, top, x + bw, 1.05, colour)
            if rng.random() < 0.25:
                f.stroke([(x + bw / 2, top), (x + bw / 2, top - 0.08)], colour, 0.012, False)
            if layer:
                lit = (255, 220, 130) if night else mix(colour, (190, 215, 235), 0.55)
                step = rng.uniform(0.055, 0.08)
                for wy in np.arange(top + 0.05, 0.98, step):
                    for wx in np.arange(x + 0.04, x + bw - 0.05, step * 0.9):
                        if not night or rng.random() < 0.55:
                            f.rect(wx, wy, wx + step * 0.45, wy + step * 0.5, lit, outline=False)
            x += bw + rng.uniform(-0.04, 0.03) * layer


def paint_gun(f: Frame) -> None:
    """A pistol in profile, muzzle forward: slide, grip, trigger guard."""
    rng = f.c.rng
    metal = pick(rng, ((46, 46, 52), (30, 30, 34), (150, 156, 164)))
    grip = pick(rng, ((96, 62, 38), metal, (60, 40, 30)))
    f.rect(0.1, 0.15, 1.42, 0.38, metal)
    f.rect(1.32, 0.1, 1.38, 0.15, metal)
    f.rect(0.16, 0.38, 1.05, 0.48, shade(metal, 0.85))
    f.poly([(0.16, 0.42), (0.5, 0.42), (0.42, 0.98), (0.03, 0.94)], grip)
    f.stroke([(0.52, 0.47), (0.56, 0.68), (0.8, 0.68), (0.86, 0.47)], shade(metal, 0.85), 0.05)
    f.stroke([(0.65, 0.48), (0.62, 0.6)], shade(metal, 0.7), 0.035)
    f.stroke([(0.14, 0.19), (1.38, 0.19)], mix(metal, WHITE, 0.45), 0.025, False)
    for i in range(4):
        f.stroke([(0.2 + 0.05 * i, 0.24), (0.2 + 0.05 * i, 0.35)], shade(metal, 0.6), 0.015, False)
    f.ellipse(1.42, 0.265, 0.02, 0.05, DARK, outline=False)


def paint_sword(f: Frame) -> None:
    """A sword point-down: pommel, wrapped grip, crossguard and a long ridged blade."""
    rng = f.c.rng
    cx = f.aspect / 2
    guard = pick(rng, ((200, 160, 60), (150, 150, 160), (120, 80, 40)))
    f.poly([(cx - 0.04, 0.26), (cx + 0.04, 0.26), (cx + 0.04, 0.9), (cx, 1.0), (cx - 0.04, 0.9)],
           METAL)  # fmt: skip
    f.poly([(cx, 0.27), (cx + 0.04, 0.27), (cx + 0.04, 0.9), (cx, 0.99)], shade(METAL, 0.8), False)
    f.stroke([(cx, 0.29), (cx, 0.88)], shade(METAL, 0.6), 0.012, False)
    f.rect(cx - 0.025, 0.07, cx + 0.025, 0.23, (90, 56, 32))
    for y in (0.1, 0.14, 0.18):
        f.stroke([(cx - 0.025, y), (cx + 0.025, y + 0.02)], (60, 36, 20), 0.008, False)
    f.rect(cx - 0.14, 0.22, cx + 0.14, 0.265, guard)
    f.ellipse(cx, 0.045, 0.035, 0.035, guard)


def paint_skull(f: Frame) -> None:
    """A skull: domed cranium, big dark eye sockets, nose hole, row of teeth and jaw."""
    rng = f.c.rng
    bone = jitter(rng, (236, 226, 200), 10)
    cx = f.aspect / 2
    f.rect(cx - 0.2, 0.84, cx + 0.2, 0.98, shade(bone, 0.9), radius=0.05)
    f.poly([(cx - 0.28, 0.5), (cx - 0.22, 0.86), (cx + 0.22, 0.86), (cx + 0.28, 0.5)], bone)
    f.ellipse(cx, 0.4, 0.4, 0.37, bone)
    f.rect(cx - 0.19, 0.73, cx + 0.19, 0.87, WHITE)
    for i in range(1, 6):
        x = cx - 0.19 + 0.38 * i / 6
        f.stroke([(x, 0.73), (x, 0.92)], (70, 60, 50), 0.015, False)
    f.stroke([(cx - 0.19, 0.8), (cx + 0.19, 0.8)], (70, 60, 50), 0.012, False)
    for side in (-1, 1):
        f.ellipse(cx + side * 0.16, 0.46, 0.11, 0.12, DARK)
    f.poly([(cx, 0.57), (cx + 0.05, 0.67), (cx - 0.05, 0.67)], DARK)
    f.stroke([(cx + 0.1, 0.08), (cx + 0.14, 0.18), (cx + 0.1, 0.25)], shade(bone, 0.6), 0.012)


def paint_flower(f: Frame) -> None:
    """One to three flowers: stem, leaf, ring of petals round a centre."""
    rng = f.c.rng
    centres, scale = cluster(rng, f.aspect, 0.5)
    for x, _ in centres:
        hy, pr = rng.uniform(0.15, 0.4), rng.uniform(0.1, 0.15) * scale
        petal = jitter(rng, pick(rng, PETALS))
        f.stroke([(x, 1.0), (x + 0.02, (1 + hy) / 2), (x, hy)], (50, 130, 50), 0.03)
        f.ellipse(x + 0.07, 0.75, 0.07, 0.03, (60, 150, 60), rot=-0.5)
        n = int(rng.integers(5, 9))
        for i in range(n):
            a = 2 * math.pi * i / n
            f.ellipse(x + pr * math.cos(a), hy + pr * math.sin(a), pr * 0.62, pr * 0.36, petal,
                      rot=a)  # fmt: skip
        f.ellipse(x, hy, pr * 0.45, pr * 0.45, pick(rng, ((250, 200, 40), (110, 70, 30))))


def paint_castle(f: Frame) -> None:
    """A castle: keep and two towers with battlements or cone roofs, gate, windows, flag."""
    rng = f.c.rng
    stone = jitter(rng, pick(rng, ((150, 150, 146), (190, 176, 142), (120, 116, 124))), 10)
    roof = pick(rng, ((170, 40, 40), (50, 70, 150), (90, 90, 96), None, None))

    def battlements(x0: float, x1: float, y: float, colour: Colour) -> None:
        n = max(3, round((x1 - x0) / 0.075))
        w = (x1 - x0) / (2 * n - 1)
        for i in range(n):
            f.rect(x0 + 2 * i * w, y - 0.05, x0 + (2 * i + 1) * w, y + 0.01, colour)

    top = 0.14 if roof is None else 0.25
    keep_top = 0.4
    f.rect(0.52, 0.12, 0.78, keep_top, shade(stone, 0.92))
    battlements(0.52, 0.78, 0.12, shade(stone, 0.92))
    f.stroke([(0.65, 0.07), (0.65, 0.01)], (60, 50, 40), 0.012, False)
    f.poly([(0.65, 0.005), (0.74, 0.025), (0.65, 0.045)], pick(rng, BRIGHT))
    f.rect(0.3, keep_top, 1.0, 1.0, stone)
    battlements(0.3, 1.0, keep_top, stone)
    for x0 in (0.02, 1.0):
        f.rect(x0, top, x0 + 0.28, 1.0, shade(stone, 0.95))
        if roof is None:
            battlements(x0, x0 + 0.28, top, shade(stone, 0.95))
        else:
            f.poly([(x0 - 0.03, top), (x0 + 0.14, 0.0), (x0 + 0.31, top)], roof)
        f.rect(x0 + 0.115, 0.4, x0 + 0.165, 0.52, DARK, radius=0.02)
    f.rect(0.55, 0.72, 0.75, 1.0, (50, 40, 34))
    f.ellipse(0.65, 0.72, 0.1, 0.1, (50, 40, 34))
    for x in (0.6, 0.65, 0.7):
        f.stroke([(x, 0.66), (x, 1.0)], (30, 26, 24), 0.01, False)
    for x in (0.4, 0.88):
        f.rect(x - 0.025, 0.52, x + 0.025, 0.62, DARK, radius=0.02)


def paint_explosion(f: Frame) -> None:
    """An explosion: a jagged red-orange-yellow fireball under billowing smoke, with debris."""
    rng = f.c.rng
    cx, cy = f.aspect / 2, 0.58
    for _ in range(6):
        r = rng.uniform(0.1, 0.17)
        grey = int(rng.integers(60, 110))
        f.ellipse(cx + rng.uniform(-0.3, 0.3), rng.uniform(0.16, 0.32), r, r * 0.85,
                  (grey, grey, grey, 220), outline=False)  # fmt: skip
    f.glow(cx, cy, 0.6, (255, 150, 40), 0.7)
    n = int(rng.integers(12, 18))
    radii = rng.uniform(0.85, 1.15, 2 * n)
    angles = np.arange(2 * n) * math.pi / n + rng.uniform(-0.08, 0.08, 2 * n)
    for scale, colour in ((1.0, (225, 60, 20)), (0.72, (255, 140, 30)), (0.46, (255, 220, 80)),
                          (0.22, (255, 250, 210))):  # fmt: skip
        burst = []
        for i, (a, k) in enumerate(zip(angles, radii, strict=True)):
            rad = (0.44 if i % 2 == 0 else 0.25) * k * scale
            burst.append((cx + rad * math.cos(a), min(0.99, cy + rad * 0.95 * math.sin(a))))
        f.poly(burst, colour, outline=scale == 1.0)
    for _ in range(8):
        a, d = rng.uniform(0, 2 * math.pi), rng.uniform(0.45, 0.52)
        x, y = cx + d * math.cos(a), min(0.97, cy + d * 0.85 * math.sin(a))
        f.ellipse(x, y, 0.02, 0.014, DARK, outline=False, rot=a)


def paint_cactus(f: Frame) -> None:
    """A saguaro cactus: ribbed trunk with one or two upturned arms."""
    rng = f.c.rng
    green = jitter(rng, (64, 140, 70), 14)
    cx = f.aspect / 2
    for side in (-1, 1):
        if side == 1 or rng.random() < 0.8:
            y = rng.uniform(0.4, 0.62)
            x = cx + side * rng.uniform(0.2, 0.26)
            f.stroke([(cx, y), (x, y), (x, y - rng.uniform(0.18, 0.28))], green, 0.11)
    f.rect(cx - 0.085, 0.05, cx + 0.085, 1.0, green, radius=0.085)
    for dx in (-0.04, 0.0, 0.04):
        f.stroke([(cx + dx, 0.1), (cx + dx, 0.98)], shade(green, 0.75), 0.012, False)


def paint_boat(f: Frame) -> None:
    """A sailing boat (hull, mast, two sails) or a small ship, on a band of waves."""
    rng = f.c.rng
    hull = jitter(rng, pick(rng, ((120, 70, 40), (200, 40, 40), (240, 240, 236), (40, 60, 120))))
    if rng.random() < 0.65:
        sail = pick(rng, (WHITE, (240, 230, 200), (230, 80, 60)))
        f.stroke([(0.58, 0.02), (0.58, 0.7)], (90, 60, 40), 0.02)
        f.poly([(0.58, 0.02), (0.68, 0.05), (0.58, 0.08)], pick(rng, BRIGHT))
        f.poly([(0.61, 0.09), (0.61, 0.65), (1.0, 0.65)], sail)
        f.poly([(0.55, 0.12), (0.55, 0.65), (0.2, 0.65)], shade(sail, 0.92))
    else:
        f.rect(0.3, 0.42, 0.82, 0.68, WHITE)
        for x in (0.36, 0.5, 0.64):
            f.rect(x, 0.48, x + 0.08, 0.56, (60, 90, 130), outline=False)
        f.rect(0.52, 0.22, 0.64, 0.42, (200, 40, 40))
        f.rect(0.52, 0.22, 0.64, 0.27, DARK, outline=False)
    f.poly([(0.02, 0.67), (1.13, 0.67), (0.98, 0.9), (0.15, 0.9)], hull)
    f.stroke([(0.08, 0.73), (1.07, 0.73)], shade(hull, 0.6), 0.025, False)
    water = (40, 90, 150, 235)
    crest = [(x, 0.87 + 0.02 * math.sin(x * 18)) for x in np.linspace(-0.05, 1.2, 14)]
    f.poly([(-0.05, 1.0), *crest, (1.2, 1.0)], water, outline=False)


OBJECTS: dict[str, ObjectSpec] = {
    "person": ObjectSpec(paint_person, "ground", 0.46, 0.82, (0.45, 1.0)),
    "face": ObjectSpec(paint_face, "portrait", 0.85, 0.9, tilt=0.08, glows=True),
    "car": ObjectSpec(paint_car, "ground", 2.3, 0.34, (0.3, 1.0)),
    "house": ObjectSpec(paint_house, "ground", 1.0, 0.8, (0.0, 0.6)),
    "tree": ObjectSpec(paint_tree, "ground", 0.75, 0.95, (0.0, 0.8)),
    "mountain": ObjectSpec(paint_mountain, "backdrop", 0.6, 0.42),
    "city": ObjectSpec(paint_city, "backdrop", 1.0, 0.46),
    "moon": ObjectSpec(paint_moon, "sky", 1.0, 0.3, glows=True),
    "sun": ObjectSpec(paint_sun, "sky", 1.0, 0.36, glows=True),
    "gun": ObjectSpec(paint_gun, "ground", 1.46, 0.34, (0.6, 1.0), tilt=0.3),
    "sword": ObjectSpec(paint_sword, "ground", 0.32, 0.62, (0.5, 1.0), tilt=0.35),
    "dog": ObjectSpec(paint_dog, "ground", 1.4, 0.34, (0.55, 1.0)),
    "horse": ObjectSpec(paint_horse, "ground", 1.3, 0.62, (0.3, 1.0)),
    "spaceship": ObjectSpec(paint_spaceship, "sky", 1.0, 0.42, tilt=0.25, glows=True),
    "planet": ObjectSpec(paint_planet, "sky", 1.7, 0.36),
    "ghost": ObjectSpec(paint_ghost, "sky", 0.8, 0.42, tilt=0.2, glows=True),
    "skull": ObjectSpec(paint_skull, "ground", 0.85, 0.32, (0.6, 1.0)),
    "heart": ObjectSpec(paint_heart, "sky", 1.3, 0.42),
    "flower": ObjectSpec(paint_flower, "ground", 1.0, 0.4, (0.6, 1.0)),
    "castle": ObjectSpec(paint_castle, "ground", 1.3, 0.95, (0.0, 0.4)),
    "explosion": ObjectSpec(paint_explosion, "ground", 1.1, 0.8, (0.2, 0.8), glows=True),
    "music_note": ObjectSpec(paint_music_note, "sky", 1.3, 0.36),
    "balloon": ObjectSpec(paint_balloon, "sky", 0.8, 0.56),
    "cactus": ObjectSpec(paint_cactus, "ground", 0.65, 0.62, (0.1, 1.0)),
    "boat": ObjectSpec(paint_boat, "water", 1.15, 0.5, (0.3, 1.0)),
}
