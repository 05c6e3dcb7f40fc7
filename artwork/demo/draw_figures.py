"""Painters for living figures in demo stills: person, face close-up, dog and horse."""

from __future__ import annotations

from artwork.demo.canvas import Colour, Frame, arc, jitter, mix, pick, shade, with_alpha

SKIN = ((255, 222, 196), (240, 192, 158), (222, 170, 128), (196, 136, 94), (158, 104, 68),
        (112, 74, 48), (84, 56, 40))  # fmt: skip
HAIR = ((28, 22, 18), (66, 42, 26), (118, 76, 40), (204, 162, 92), (168, 64, 30),
        (120, 120, 124), (232, 222, 196))  # fmt: skip
CLOTHES = ((200, 40, 44), (40, 84, 180), (36, 140, 72), (232, 190, 40), (124, 60, 150),
           (236, 236, 230), (44, 44, 50), (230, 120, 40), (88, 150, 204),
           (150, 100, 60))  # fmt: skip
TROUSERS = ((40, 50, 80), (30, 30, 34), (90, 70, 50), (70, 90, 120), (120, 110, 96))
IRIS = ((70, 44, 24), (40, 90, 150), (50, 110, 60), (30, 24, 20))
MOUTH: Colour = (120, 30, 40)
DARK: Colour = (24, 20, 22)


def hair_cap(f: Frame, cx: float, cy: float, r: float, colour: Colour) -> None:
    """Hair on top of a head of radius ``r``: a cap with a fringe over the forehead."""
    fringe = cy - 0.35 * r
    rng = f.c.rng
    top = arc(cx, cy - 0.02 * r, 1.06 * r, 1.08 * r, 180, 360, 14)
    wave = [(cx + r * x, fringe + r * rng.uniform(-0.08, 0.1)) for x in (0.9, 0.45, 0.0, -0.5)]
    f.poly([*top, *wave], colour)


def paint_features(
    f: Frame, cx: float, cy: float, r: float, expression: str, skin: Colour, detail: bool
) -> None:
    """Eyes, brows, nose and mouth of a head of radius ``r`` centred at (cx, cy)."""
    rng = f.c.rng
    ink = DARK if sum(skin) > 420 else (236, 200, 190)  # lines that show on any skin
    ey, ex = cy - 0.05 * r, 0.37 * r
    open_h = {"scared": 0.17, "angry": 0.07, "sad": 0.09}.get(expression, 0.11) * r
    line_w = (0.05 if detail else 0.09) * r
    iris_colour = pick(rng, IRIS)
    for side in (-1, 1):
        x = cx + side * ex
        if expression == "love":  # happy closed eyes
            f.stroke(arc(x, ey + 0.05 * r, 0.14 * r, 0.1 * r, 200, 340, 6), ink, line_w, False)
        elif detail:
            f.ellipse(x, ey, 0.17 * r, open_h, (250, 250, 246), outline=False)
            iris = 0.085 * r if expression != "scared" else 0.06 * r
            f.ellipse(x, ey, iris, min(iris, open_h), iris_colour, outline=False)
            f.ellipse(x, ey, iris * 0.5, min(iris, open_h) * 0.5, DARK, outline=False)
            f.ellipse(x + 0.03 * r, ey - 0.03 * r, 0.02 * r, 0.02 * r, (255, 255, 255), False)
            f.stroke([(x - 0.17 * r, ey), (x, ey - open_h), (x + 0.17 * r, ey)], DARK, 0.025 * r)
        else:
            white = (0.15, 0.17) if expression == "scared" else (0.13, min(open_h, 0.11 * r) / r)
            f.ellipse(x, ey, white[0] * r, white[1] * r, (250, 250, 246), outline=False)
            f.ellipse(x, ey, 0.07 * r, min(open_h, 0.1 * r), DARK, outline=False)
        # brows: (outer, inner) heights above the eye
        outer, inner = {"angry": (0.3, 0.12), "sad": (0.24, 0.38), "scared": (0.42, 0.46)}.get(
            expression, (0.28, 0.28)
        )
        brow = [(x + side * 0.2 * r, ey - outer * r), (x - side * 0.15 * r, ey - inner * r)]
        if expression in ("smile", "love", "neutral"):
            brow.insert(1, (x + side * 0.03 * r, ey - (outer + 0.06) * r))
        f.stroke(brow, shade(skin, 0.35) if ink == DARK else (20, 14, 12), line_w * 1.3, False)
    if detail:
        f.stroke(
            [(cx, cy + 0.02 * r), (cx + 0.08 * r, cy + 0.26 * r), (cx - 0.03 * r, cy + 0.3 * r)],
            shade(skin, 0.72),
            0.04 * r,
            False,
        )
    paint_mouth(f, cx, cy + 0.52 * r, r, expression, line_w, ink)
    if expression == "love":
        for side in (-1, 1):
            f.ellipse(cx + side * 0.52 * r, cy + 0.28 * r, 0.16 * r, 0.09 * r,
                      (255, 80, 110, 120), outline=False)  # fmt: skip
    if expression == "sad" and detail:
        x = cx + ex
        f.poly([(x, ey + 0.14 * r), (x + 0.05 * r, ey + 0.3 * r), (x - 0.05 * r, ey + 0.3 * r)],
               (150, 200, 255), outline=False)  # fmt: skip
        f.ellipse(x, ey + 0.31 * r, 0.05 * r, 0.05 * r, (150, 200, 255), outline=False)


def paint_mouth(
    f: Frame, cx: float, my: float, r: float, expression: str, w: float, ink: Colour
) -> None:
    """Mouth at (cx, my) for a head of radius ``r``; lines ``w`` wide in ``ink``."""
    if expression == "smile":
        f.poly([(cx - 0.3 * r, my - 0.06 * r), *arc(cx, my - 0.06 * r, 0.3 * r, 0.26 * r, 0, 180)],
               MOUTH, outline=False)  # fmt: skip
        f.poly([(cx - 0.26 * r, my - 0.05 * r), (cx + 0.26 * r, my - 0.05 * r),
                (cx + 0.2 * r, my + 0.04 * r), (cx - 0.2 * r, my + 0.04 * r)],
               (250, 250, 245), outline=False)  # fmt: skip
    elif expression == "love":
        f.stroke(arc(cx, my - 0.08 * r, 0.24 * r, 0.16 * r, 20, 160, 8), MOUTH, w * 1.2, False)
    elif expression == "sad":
        f.stroke(arc(cx, my + 0.14 * r, 0.24 * r, 0.16 * r, 200, 340, 8), ink, w * 1.2, False)
    elif expression == "scared":
        f.ellipse(cx, my + 0.04 * r, 0.13 * r, 0.2 * r, MOUTH if w < 0.06 * r else ink, False)
    elif expression == "angry":
        f.rect(cx - 0.24 * r, my - 0.05 * r, cx + 0.24 * r, my + 0.08 * r, (245, 245, 240),
               outline=False)  # fmt: skip
        f.stroke([(cx - 0.26 * r, my - 0.05 * r), (cx + 0.26 * r, my - 0.05 * r),
                  (cx + 0.26 * r, my + 0.08 * r), (cx - 0.26 * r, my + 0.08 * r),
                  (cx - 0.26 * r, my - 0.05 * r)], ink, w * 0.7, False)  # fmt: skip
        f.stroke([(cx - 0.24 * r, my + 0.015 * r), (cx + 0.24 * r, my + 0.015 * r)], ink,
                 w * 0.5, False)  # fmt: skip
    else:
        f.stroke([(cx - 0.18 * r, my), (cx + 0.18 * r, my)], ink, w * 1.1, False)


def paint_person(f: Frame) -> None:
    """A standing figure facing the camera: legs, body, arms posed by the expression, head."""
    rng, expr = f.c.rng, f.c.expression
    skin, hair = pick(rng, SKIN), pick(rng, HAIR)
    top, legs = jitter(rng, pick(rng, CLOTHES)), jitter(rng, pick(rng, TROUSERS))
    cx, r = f.aspect / 2, 0.07 * f.c.style.head_scale
    hy = r + 0.01
    sh, hip = hy + r + 0.045, 0.54
    long_hair = rng.random() < 0.4
    dress = rng.random() < 0.25
    if long_hair:
        f.ellipse(cx, hy + 0.35 * r, r * 1.12, r * 1.45, hair)
    spread = rng.uniform(0.02, 0.07)
    for side in (-1, 1):
        foot = (cx + side * (0.045 + spread), 0.955)
        f.stroke([(cx + side * 0.045, hip), foot], skin if dress else legs, 0.07)
        f.ellipse(foot[0] + 0.015, 0.97, 0.045, 0.025, DARK)
    if dress:
        f.poly([(cx - 0.08, 0.36), (cx + 0.08, 0.36), (cx + 0.16, 0.74), (cx - 0.16, 0.74)], top)
    f.poly([(cx - 0.1, sh), (cx + 0.1, sh), (cx + 0.085, hip + 0.02), (cx - 0.085, hip + 0.02)],
           top)  # fmt: skip
    poses = {
        "scared": ((0.19, sh + 0.07), (0.1, hy + 0.03)),
        "angry": ((0.19, sh + 0.15), (0.1, hip - 0.04)),
    }
    for side in (-1, 1):
        elbow, hand = poses.get(expr, ((0.13, sh + 0.17), (0.14, hip + 0.04)))
        if expr in ("smile", "love") and side == 1:  # a wave
            elbow, hand = (0.19, sh - 0.01), (0.2, hy - 0.07)
        arm = [(cx + side * 0.085, sh + 0.02), (cx + side * elbow[0], elbow[1])]
        arm.append((cx + side * hand[0], hand[1]))
        f.stroke(arm, top, 0.05)
        f.ellipse(arm[-1][0], arm[-1][1], 0.028, 0.028, skin)
    f.rect(cx - 0.025, hy + r * 0.8, cx + 0.025, sh + 0.01, shade(skin, 0.9), outline=False)
    f.ellipse(cx, hy, r * 0.92, r, skin)
    paint_features(f, cx, hy + 0.06 * r, r * 0.95, expr, skin, detail=False)
    hair_cap(f, cx, hy, r * 0.94, hair)


def paint_face(f: Frame) -> None:
    """A head-and-shoulders close-up showing the expression in detail."""
    rng, expr = f.c.rng, f.c.expression
    skin, hair = pick(rng, SKIN), pick(rng, HAIR)
    cloth = jitter(rng, pick(rng, CLOTHES))
    cx, cy, r = f.aspect / 2, 0.4, 0.24  # r: head half-width
    f.glow(cx, cy, 0.5, (255, 244, 220), 0.55)  # portrait backlight: the head reads on any ground
    if rng.random() < 0.5:  # long hair falls behind the shoulders
        f.ellipse(cx, cy + 0.12, 1.3 * r, 1.8 * r, hair)
    f.poly([(-0.03, 1.1), (0.0, 0.92), (0.12, 0.84), (cx * 2 - 0.12, 0.84),
            (cx * 2, 0.92), (cx * 2 + 0.03, 1.1)], cloth)  # fmt: skip
    f.poly([(cx - 0.1, 0.64), (cx + 0.1, 0.64), (cx + 0.12, 0.85), (cx, 0.94), (cx - 0.12, 0.85)],
           shade(skin, 0.9))  # fmt: skip
    # rim light: a bright edge round the head, strong at night, so the head reads in the dark
    rim = (255, 238, 206) if f.c.night else mix(skin, (255, 255, 255), 0.35)
    f.ellipse(cx - 0.015, cy - 0.01, 0.95 * r + 0.02, 1.25 * r + 0.02, rim, outline=False)
    for side in (-1, 1):
        f.ellipse(cx + side * 0.93 * r, cy + 0.02, 0.18 * r, 0.3 * r, shade(skin, 0.95))
    f.ellipse(cx, cy, 0.95 * r, 1.25 * r, skin)
    f.ellipse(cx + 0.4 * r, cy + 0.05, 0.5 * r, 0.85 * r, with_alpha(shade(skin, 0.7), 50), False)
    paint_features(f, cx, cy + 0.02, r, expr, skin, detail=True)
    hair_cap(f, cx, cy - 0.02, 0.95 * r, hair)


FUR = ((140, 90, 50), (40, 34, 30), (236, 230, 218), (212, 162, 84), (120, 118, 116))
HORSE_COATS = ((128, 70, 36), (36, 30, 28), (230, 226, 216), (150, 150, 150), (214, 176, 110))


def paint_dog(f: Frame) -> None:
    """A dog in profile: short legs, low body, round head with snout, ear and raised tail."""
    rng = f.c.rng
    fur = jitter(rng, pick(rng, FUR))
    far = shade(fur, 0.75)
    f.stroke([(0.26, 0.45), (0.13, 0.3), (0.09, 0.12)], fur, 0.06)
    for x0, x1 in ((0.36, 0.35), (0.96, 0.99)):
        f.stroke([(x0, 0.55), (x1, 0.96)], far, 0.08)
    f.ellipse(0.62, 0.5, 0.42, 0.19, fur)
    for x0, x1 in ((0.28, 0.25), (0.88, 0.9)):
        f.stroke([(x0, 0.55), (x1, 0.95)], fur, 0.09)
        f.ellipse(x1 + 0.03, 0.96, 0.06, 0.035, shade(fur, 0.85))
    f.poly([(0.84, 0.42), (0.99, 0.2), (1.13, 0.3), (0.98, 0.58)], fur)
    f.ellipse(1.1, 0.25, 0.16, 0.15, fur)
    f.ellipse(1.24, 0.31, 0.12, 0.08, mix(fur, (255, 255, 255), 0.2))
    if rng.random() < 0.5:
        f.ellipse(1.23, 0.4, 0.03, 0.05, (230, 100, 120))
    f.ellipse(1.35, 0.28, 0.035, 0.03, DARK)
    f.ellipse(1.12, 0.2, 0.025, 0.028, DARK, outline=False)
    ear = shade(fur, 0.6) if fur[0] > 60 else (90, 80, 70)
    if rng.random() < 0.6:
        f.poly([(1.0, 0.13), (1.07, 0.12), (1.03, 0.4), (0.96, 0.35)], ear)
    else:
        f.poly([(0.99, 0.16), (1.02, 0.0), (1.09, 0.12)], ear)
    f.stroke([(0.98, 0.28), (0.92, 0.5)], pick(rng, ((200, 30, 40), (30, 80, 200))), 0.04)


def paint_horse(f: Frame) -> None:
    """A horse in profile: long legs with hooves, long raised neck, mane, tail, long head."""
    rng = f.c.rng
    coat = jitter(rng, pick(rng, HORSE_COATS))
    mane = shade(coat, 0.4) if sum(coat) > 300 or rng.random() < 0.7 else (235, 225, 200)
    gallop = rng.random() < 0.4
    f.poly([(0.15, 0.33), (0.05, 0.45), (0.01, 0.76), (0.08, 0.79), (0.12, 0.5), (0.2, 0.37)],
           mane)  # fmt: skip
    back, front = ((0.1, 0.9), (1.08, 0.8)) if gallop else ((0.27, 0.95), (0.93, 0.95))
    legs = [((0.3, 0.52), back), ((0.9, 0.52), front)]
    for (hx, hy), (fx, fy) in legs:
        f.stroke([(hx, hy), ((hx + fx) / 2, 0.76), (fx, fy)], shade(coat, 0.75), 0.055)
    f.ellipse(0.57, 0.44, 0.41, 0.16, coat)
    for (hx, hy), (fx, fy) in legs:
        hx, fx = hx - 0.07, fx - 0.07
        f.stroke([(hx, hy), ((hx + fx) / 2 + 0.02, 0.76), (fx, fy)], coat, 0.06)
        f.ellipse(fx, fy + 0.015, 0.035, 0.022, DARK)
    f.poly([(0.76, 0.36), (0.95, 0.07), (1.08, 0.12), (1.0, 0.5)], coat)
    f.ellipse(1.11, 0.17, 0.16, 0.065, coat, rot=0.65)
    f.ellipse(1.2, 0.27, 0.055, 0.045, shade(coat, 0.85))
    f.poly([(0.96, 0.09), (0.98, 0.0), (1.03, 0.07)], coat)
    f.poly([(0.96, 0.04), (1.0, 0.09), (0.83, 0.4), (0.75, 0.38)], mane)
    f.ellipse(1.06, 0.13, 0.018, 0.018, DARK, outline=False)
