"""Render a ``StillPlan`` as a film still: setting, objects, mood and genre cues, colour grade."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from artwork.demo.canvas import Canvas, Frame, Scene, Style, jitter, pick, with_alpha
from artwork.demo.draw_objects import OBJECTS
from artwork.demo.draw_settings import SETTING_PAINTERS
from artwork.demo.grading import grade, letterbox
from artwork.demo.layout import Box, Painter, Placement, backdrop_frame, place_objects
from artwork.demo.plan import STILL_SIZE, StillPlan

SUPERSAMPLE = 2  # draw at twice the size, then downsample: cheap anti-aliasing
INDOORS = ("room", "stage")
GROUND_SETTINGS = ("desert", "field", "forest", "snow", "battlefield", "graveyard")


def render_still(plan: StillPlan, size: tuple[int, int] = STILL_SIZE) -> Image.Image:
    """Draw ``plan`` as an RGB image of ``size``; the same plan always gives the same pixels."""
    rng = np.random.default_rng(plan.seed)
    moods, genres = set(plan.moods), set(plan.genres)
    c = Canvas(
        (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE),
        rng,
        style_for(genres, size[1] * SUPERSAMPLE),
        plan.setting,
        light_for(plan, rng),
        ground_objects=any(OBJECTS[o].anchor == "ground" for o in plan.objects),
        expression=plan.expression,
    )
    tilt = dutch_angle(moods, genres, rng)
    safe = safe_area(c, tilt, genres)
    scene, sky_bottom = paint_background(c, plan, safe)
    zoom = rng.uniform(0.85, 1.2) * (0.7 if "IMAX" in genres else 1.0)
    zoom *= 0.8 if "face" in plan.objects else (1.15 if len(plan.objects) <= 1 else 1.0)
    placements = place_objects(
        plan.objects, OBJECTS, scene, safe, (c.w, c.h), zoom, sky_bottom, rng
    )
    paint_shadows(c, placements, hard="tense" in moods)
    # dark grading and greyscale flatten brightness steps, so such stills rim objects sooner
    min_contrast = RIM_CONTRAST * (1.7 if {"dark", "scary"} & moods or "Film-Noir" in genres else 1)
    for p in sorted(placements, key=draw_order):
        paint_object(c, p, min_contrast)
    for cue, names in ((mood_cue, moods), (genre_cue, genres)):
        for name in sorted(names):
            cue(c, scene, name)
    if tilt:
        c.replace(dutch_tilt(c.img, tilt))
    if "Documentary" in genres:
        c.blur(0.003 * c.h)
    frame_cues(c, genres)
    img = grade(c.img.resize(size, Image.Resampling.LANCZOS), moods, genres, rng)
    return letterbox(img) if "Thriller" in genres else img


def paint_background(c: Canvas, plan: StillPlan, safe: Box) -> tuple[Scene, float]:
    """Setting, backdrops (mountains, skyline) and background genre cues; returns the scene and
    the lowest row where sky objects may float."""
    genres, h = set(plan.genres), c.h
    setting = SETTING_PAINTERS[plan.setting]
    scene = setting.back(c)
    if c.light == "night":  # the ground (indoors: the room) falls dark, lit objects stand out
        top = 0 if plan.setting in INDOORS else scene.horizon
        c.draw.rectangle((0, top, c.w, h), fill=(4, 6, 16, 110))
    ground_cues(c, scene, genres)
    sky_bottom = float(scene.horizon)
    for tag in (o for o in plan.objects if OBJECTS[o].anchor == "backdrop"):
        frame = backdrop_frame(c, OBJECTS[tag], scene, safe[1], c.rng)
        OBJECTS[tag].paint(frame)
        sky_bottom = min(sky_bottom, frame.y0)
    if "IMAX" in genres:  # aerial haze over the distance
        c.fog(scene.sky_colour, 0.4, (scene.horizon - 0.2 * h, scene.horizon + 0.06 * h), 80)
    if setting.decor:
        setting.decor(c, scene)
    if "Crime" in genres and c.rng.random() < 0.5:
        police_tape(c, scene)
    if "Drama" in genres:  # shallow depth of field: only the objects stay sharp
        c.blur(0.008 * h)
    return scene, max(sky_bottom, safe[1] + 0.3 * h)


def paint_object(c: Canvas, p: Placement, min_contrast: float) -> None:
    """Paint one placed object; objects that do not glow get a rim when they would not show."""
    spec = OBJECTS[p.tag]
    frame = p.frame(c, spec.aspect)
    if spec.glows:
        spec.paint(frame)
    else:
        with_rim(c, frame, spec.paint, min_contrast)


def style_for(genres: set[str], height: int) -> Style:
    """Drawing style from genres: Animation flat and outlined, Children rounded, Comedy cartoony."""
    unit = height / 432
    outline = 5 if "Animation" in genres else (3 if "Children" in genres else 0)
    outline = outline or (2 if "Comedy" in genres else 0)
    cartoon = bool(genres & {"Comedy", "Animation", "Children"})
    return Style(
        outline=round(outline * unit),
        rounded="Children" in genres,
        flat="Animation" in genres,
        head_scale=1.35 if cartoon else 1.0,
    )


def light_for(plan: StillPlan, rng: np.random.Generator) -> str:
    """Time of day: "day", "dusk", "night", "overcast" (or "space"), fitting moods and objects."""
    moods, objects = set(plan.moods), set(plan.objects)
    warmish = bool(moods & {"warm", "romantic"})
    if plan.setting == "space":
        return "space"
    if "sun" in objects:
        return "dusk" if warmish and rng.random() < 0.6 else "day"
    if "bright" not in moods and (
        "dark" in moods or "moon" in objects or ("scary" in moods and rng.random() < 0.7)
    ):
        return "night"
    if "moon" in objects:
        return "dusk"
    if "melancholic" in moods or plan.setting == "battlefield":
        return "overcast"
    if plan.setting == "graveyard" and rng.random() < 0.6:
        return "overcast"
    return "dusk" if warmish and rng.random() < 0.5 else "day"


def dutch_angle(moods: set[str], genres: set[str], rng: np.random.Generator) -> float:
    """Camera roll in radians: tense stills (and some thrillers) tilt, calm ones never do."""
    roll = "tense" in moods or ("Thriller" in genres and rng.random() < 0.4)
    if not roll or "calm" in moods:
        return 0.0
    return math.radians(rng.uniform(4, 7)) * (1 if rng.random() < 0.5 else -1)


def safe_area(c: Canvas, tilt: float, genres: set[str]) -> Box:
    """Where objects may go: inside what a tilt, letterbox bars or a caption leave visible."""
    mx, my = (0.12, 0.18) if tilt else (0.03, 0.04)
    if "Mystery" in genres:  # stay inside the magnifier's circle
        mx = max(mx, 0.1)
    top, bottom = my, 1 - my
    if "Thriller" in genres:
        top, bottom = max(top, 0.14), min(bottom, 0.86)
    if "Documentary" in genres:
        bottom = min(bottom, 0.8)
    return mx * c.w, top * c.h, (1 - mx) * c.w, bottom * c.h


def draw_order(p: Placement) -> tuple[int, float]:
    return ({"sky": 0, "portrait": 2}.get(p.anchor, 1), p.box[3])


def paint_shadows(c: Canvas, placements: list[Placement], hard: bool) -> None:
    """Contact shadows under standing objects; long hard diagonal ones in tense stills."""
    for p in placements:
        if p.anchor != "ground":
            continue
        x0, y0, x1, y1 = p.box
        bw, bh = x1 - x0, y1 - y0
        if hard:
            reach = 0.9 * bh * (1 if c.w / 2 > x0 else -1)
            left, right, top = x0 + 0.2 * bw, x1 - 0.2 * bw, y1 - 0.2 * bh
            c.draw.polygon([(left, y1), (right, y1), (right + reach, top), (left + reach, top)],
                           fill=(0, 0, 0, 120))  # fmt: skip
        c.draw.ellipse((x0 + 0.05 * bw, y1 - 0.04 * bh, x1 - 0.05 * bw, y1 + 0.04 * bh),
                       fill=(0, 0, 0, 80))  # fmt: skip


def with_rim(c: Canvas, frame: Frame, paint: Painter, min_contrast: float) -> None:
    """``paint`` the object in ``frame``; if its mean brightness step over what is behind it is
    under ``min_contrast``, outline it with a rim of contrasting light so its silhouette stays
    readable (dark objects at night, red on green once a still is turned grey).

    The object's exact shape comes from painting it once more, on black, with the same random
    draws."""
    bx0, by0, bx1, by1 = frame.bounds()
    pad = (0.2 if frame.angle else 0.05) * (by1 - by0)
    x0, y0 = max(0, int(bx0 - pad)), max(0, int(by0 - pad))
    x1, y1 = min(c.w, int(bx1 + pad) + 1), min(c.h, int(by1 + pad) + 1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        paint(frame)
        return
    state = c.rng.bit_generator.state
    shape = c.scratch((x1 - x0, y1 - y0))
    paint(replace(frame, c=shape, x0=frame.x0 - x0, y0=frame.y0 - y0))
    c.rng.bit_generator.state = state
    before = c.img.crop((x0, y0, x1, y1))
    paint(frame)
    drawn = np.asarray(shape.img.convert("L")) > 0
    if drawn.sum() < 16:
        return
    after = c.img.crop((x0, y0, x1, y1))
    lum_after = np.asarray(after.convert("L"), dtype=np.int16)
    lum_before = np.asarray(before.convert("L"), dtype=np.int16)
    if np.abs(lum_after - lum_before)[drawn].mean() >= min_contrast:
        return
    mask = Image.fromarray((drawn * 255).astype(np.uint8))
    width = 2 * max(2, round(0.007 * c.h)) + 1
    ring = ImageChops.subtract(mask.filter(ImageFilter.MaxFilter(width)), mask)
    rim = (236, 234, 226) if lum_after[drawn].mean() < 128 else (22, 20, 26)
    after.paste(rim, (0, 0), ring)
    c.img.paste(after, (x0, y0))


RIM_CONTRAST = 55  # mean luminance step (0..255) below which an object gets a rim


def dutch_tilt(img: Image.Image, angle: float) -> Image.Image:
    """``img`` rolled by ``angle`` radians about its centre and zoomed to fill the frame."""
    w, h = img.size
    a = abs(angle)
    s = min(w / (w * math.cos(a) + h * math.sin(a)), h / (w * math.sin(a) + h * math.cos(a)))
    ca, sa = math.cos(angle) * s, math.sin(angle) * s
    cx, cy = w / 2, h / 2
    data = (ca, -sa, cx - ca * cx + sa * cy, sa, ca, cy - sa * cx - ca * cy)
    return img.transform((w, h), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR)


def ground_cues(c: Canvas, scene: Scene, genres: set[str]) -> None:
    """Genre marks on the ground: a neon grid (Sci-Fi), a winding trail (Adventure)."""
    hz, w, h = scene.horizon, c.w, c.h
    if hz >= 0.95 * h:
        return
    if "Sci-Fi" in genres:
        neon = with_alpha(pick(c.rng, ((40, 230, 255), (255, 60, 220))), 150)
        for k in range(1, 9):
            y = hz + (h - hz) * (k / 8) ** 2
            c.draw.line((0, y, w, y), fill=neon, width=2)
        for x in np.linspace(-1.5, 2.5, 17) * w:
            c.draw.line((w / 2, hz, x, h), fill=neon, width=2)
        c.glow(w / 2, hz, 0.3 * h, neon, 0.4)
    if "Adventure" in genres and c.setting in GROUND_SETTINGS:
        phase, bend = c.rng.uniform(0, 6), c.rng.uniform(0.1, 0.25) * w
        ts = np.linspace(0, 1, 24)
        xs = w * 0.5 + bend * np.sin(ts * 5 + phase) * (1 - ts) + (ts - 1) * 0.1 * w
        ys = hz + 4 + ts**2 * (h - hz)
        half = 0.004 * w + 0.16 * w * ts**1.5
        edge = [*zip(xs - half, ys, strict=True), *zip((xs + half)[::-1], ys[::-1], strict=True)]
        c.draw.polygon(edge, fill=(176, 140, 96, 170))


def mood_cue(c: Canvas, scene: Scene, mood: str) -> None:
    """What a mood adds to the picture itself (its colour grade comes later)."""
    rng, w, h = c.rng, c.w, c.h
    if mood == "tense":
        for _ in range(2):
            x = rng.uniform(-0.2, 0.8) * w
            c.draw.polygon([(x, 0), (x + 0.12 * w, 0), (x + 0.45 * w, h), (x + 0.33 * w, h)],
                           fill=(0, 0, 0, 70))  # fmt: skip
        c.glow(pick(rng, (0, w)), rng.uniform(0.2, 0.8) * h, 0.45 * h, (255, 30, 20), 0.35)
    elif mood == "romantic":
        for _ in range(int(rng.integers(12, 24))):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.02, 0.07) * h
            tone = pick(rng, ((255, 140, 200), (255, 200, 140), (220, 120, 255)))
            c.draw.ellipse((x - r, y - r, x + r, y + r), fill=with_alpha(tone, 60),
                           outline=with_alpha(tone, 110), width=2)  # fmt: skip
    elif mood == "joyful":
        for _ in range(int(rng.integers(40, 80))):
            x, y, s = rng.uniform(0, w), rng.uniform(0, 0.7) * h, rng.uniform(0.006, 0.012) * h
            a = rng.uniform(0, math.pi)
            dx, dy = math.cos(a) * s, math.sin(a) * s
            colour = jitter(rng, pick(rng, CONFETTI), 20)
            c.draw.polygon([(x - dx - dy / 2, y - dy + dx / 2), (x + dx - dy / 2, y + dy + dx / 2),
                            (x + dx + dy / 2, y + dy - dx / 2), (x - dx + dy / 2, y - dy - dx / 2)],
                           fill=colour)  # fmt: skip
    elif mood == "scary":
        c.fog((140, 170, 130), 0.33, (scene.horizon - 0.2 * h, h), 50)
        for x, y in ((0, h), (w, h), (pick(rng, (0, w)), 0)):
            c.glow(x, y, rng.uniform(0.3, 0.45) * h, (0, 0, 0), 0.7)
    elif mood == "melancholic":
        slant = rng.uniform(0.1, 0.3)
        for x, y in zip(rng.uniform(-0.2, 1, 220) * w, rng.uniform(0, h, 220), strict=True):
            length = rng.uniform(0.03, 0.07) * h
            c.draw.line((x, y, x + slant * length, y + length), fill=(210, 220, 235, 90), width=2)


CONFETTI = ((240, 40, 60), (40, 120, 240), (250, 210, 30), (40, 190, 90), (240, 100, 200))


def genre_cue(c: Canvas, scene: Scene, genre: str) -> None:
    """Genre marks on the scene (before any camera roll)."""
    cue = SCENE_CUES.get(genre)
    if cue:
        cue(c, scene)


def noir_blinds(c: Canvas, scene: Scene) -> None:
    slope, period = c.rng.uniform(-0.35, 0.35), 0.09 * c.h
    for y in np.arange(-abs(slope) * c.w - period, c.h, period):
        y1 = y + slope * c.w
        c.draw.polygon([(0, y), (c.w, y1), (c.w, y1 + 0.4 * period), (0, y + 0.4 * period)],
                       fill=(0, 0, 0, 75))  # fmt: skip


def musical_beams(c: Canvas, scene: Scene) -> None:
    floor = scene.horizon + 0.5 * (c.h - scene.horizon)
    for x in c.rng.uniform(0.15, 0.85, int(c.rng.integers(2, 4))) * c.w:
        top = x + c.rng.uniform(-0.3, 0.3) * c.w
        c.draw.polygon([(top - 0.02 * c.w, 0), (top + 0.02 * c.w, 0), (x + 0.12 * c.w, floor),
                        (x - 0.12 * c.w, floor)], fill=(255, 250, 220, 55))  # fmt: skip
        c.draw.ellipse((x - 0.12 * c.w, floor - 0.04 * c.h, x + 0.12 * c.w, floor + 0.04 * c.h),
                       fill=(255, 250, 220, 60))  # fmt: skip


def western_dust(c: Canvas, scene: Scene) -> None:
    c.fog((206, 170, 120), 0.35, (scene.horizon, c.h), 60)
    for x, y in zip(c.rng.uniform(0, c.w, 80), c.rng.uniform(0, c.h, 80), strict=True):
        c.draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(236, 206, 160, 150))


def action_streaks(c: Canvas, scene: Scene) -> None:
    rng = c.rng
    for _ in range(int(rng.integers(40, 70))):
        x, y, length = rng.uniform(-0.2, 1) * c.w, rng.uniform(0, c.h), rng.uniform(0.1, 0.4) * c.w
        c.draw.line((x, y, x + length, y), fill=(255, 255, 255, int(rng.integers(70, 150))),
                    width=int(rng.integers(2, 5)))  # fmt: skip


def crime_lights(c: Canvas, scene: Scene) -> None:
    """Red and blue police lights flashing in from the top corners."""
    c.glow(0, c.rng.uniform(0, 0.3) * c.h, 0.5 * c.h, (255, 30, 40), 0.5)
    c.glow(c.w, c.rng.uniform(0, 0.3) * c.h, 0.5 * c.h, (40, 80, 255), 0.5)


def police_tape(c: Canvas, scene: Scene) -> None:
    """A yellow-and-black cordon strung across the scene, behind every object."""
    below = c.h - scene.horizon
    y0 = scene.horizon + c.rng.uniform(0.05, 0.35) * below
    y1 = y0 + c.rng.uniform(-0.1, 0.1) * c.h
    band = 0.04 * c.h
    c.polygon([(0, y0), (c.w, y1), (c.w, y1 + band), (0, y0 + band)], (250, 210, 30), False)
    for t in np.arange(0.01, 1, 0.05):
        x, y = t * c.w, y0 + (y1 - y0) * t
        slope = (y1 - y0) * 0.025
        c.draw.polygon([(x, y + 0.25 * band), (x + 0.025 * c.w, y + 0.25 * band + slope),
                        (x + 0.025 * c.w, y + 0.75 * band + slope), (x, y + 0.75 * band)],
                       fill=(20, 20, 20))  # fmt: skip


def fantasy_sparkles(c: Canvas, scene: Scene) -> None:
    rng = c.rng
    for _ in range(int(rng.integers(30, 50))):
        x, y, r = rng.uniform(0, c.w), rng.uniform(0, c.h), rng.uniform(0.012, 0.03) * c.h
        tone = pick(rng, ((255, 236, 140), (200, 240, 255), (255, 190, 240)))
        star = [(x + (r if k % 2 == 0 else r * 0.25) * math.cos(k * math.pi / 4),
                 y + (r if k % 2 == 0 else r * 0.25) * math.sin(k * math.pi / 4))
                for k in range(8)]  # fmt: skip
        c.draw.polygon(star, fill=with_alpha(tone, 230))
        if rng.random() < 0.3:
            c.glow(x, y, 3 * r, tone, 0.4)


SCENE_CUES: dict[str, Callable[[Canvas, Scene], None]] = {
    "Film-Noir": noir_blinds,
    "Musical": musical_beams,
    "Western": western_dust,
    "War": lambda c, s: c.fog((120, 118, 110), 0.35, (0.15 * c.h, s.horizon + 0.1 * c.h), 60),
    "Mystery": lambda c, s: c.fog((190, 200, 212), 0.3, (s.horizon - 0.1 * c.h, c.h), 50),
    "Action": action_streaks,
    "Crime": crime_lights,
    "Fantasy": fantasy_sparkles,
    "Adventure": lambda c, s: c.glow(pick(c.rng, (0, c.w)), 0, 0.7 * c.h, (255, 200, 90), 0.45),
    "Sci-Fi": lambda c, s: c.glow(c.rng.uniform(0, c.w), 0, 0.4 * c.h, (60, 230, 255), 0.35),
    "Romance": lambda c, s: c.glow(pick(c.rng, (0, c.w)), 0, 0.6 * c.h, (255, 180, 200), 0.4),
}


def frame_cues(c: Canvas, genres: set[str]) -> None:
    """Genre marks on the frame itself: Horror's blood at the edges, Documentary's caption."""
    rng, w, h = c.rng, c.w, c.h
    if "Horror" in genres:
        blood = (130, 0, 10, 235)
        if rng.random() < 0.6:
            c.draw.rectangle((0, 0, w, 0.015 * h), fill=blood)
            for x in rng.uniform(0, w, int(rng.integers(6, 12))):
                length, r = rng.uniform(0.04, 0.16) * h, rng.uniform(0.004, 0.01) * w
                c.draw.line((x, 0, x, length), fill=blood, width=round(2 * r))
                c.draw.ellipse((x - 1.4 * r, length - r, x + 1.4 * r, length + 1.8 * r), fill=blood)
        else:
            x0, y0 = pick(rng, ((0.02, 0.05), (0.8, 0.05), (0.02, 0.6), (0.8, 0.6)))
            for k in range(3):
                sx, sy = (x0 + 0.035 * k) * w, (y0 + 0.02 * k) * h
                c.draw.polygon([(sx, sy), (sx + 0.012 * w, sy), (sx + 0.12 * w, sy + 0.3 * h),
                                (sx + 0.11 * w, sy + 0.3 * h)], fill=blood)  # fmt: skip
    if "Documentary" in genres:
        x0, y0, x1, y1 = 0.05 * w, 0.82 * h, rng.uniform(0.4, 0.55) * w, 0.93 * h
        c.draw.rectangle((x0, y0, x1, y1), fill=(10, 10, 14, 170))
        c.draw.rectangle(
            (x0, y0, x0 + 0.012 * w, y1), fill=pick(rng, ((240, 200, 40), (220, 40, 40)))
        )
        for row, (ya, yb) in enumerate(((0.2, 0.5), (0.62, 0.82))):
            x = x0 + 0.03 * w
            while x < x1 - 0.08 * w:
                bw = rng.uniform(0.03, 0.08) * w * (1 if row == 0 else 0.7)
                top, bottom = y0 + ya * (y1 - y0), y0 + yb * (y1 - y0)
                c.draw.rectangle((x, top, x + bw, bottom), fill=(235, 235, 235, 220 - 60 * row))
                x += bw + 0.012 * w
