"""Supersampled drawing surface for demo stills: style-aware shapes, gradients, glows and fog."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Colour = tuple[int, ...]  # RGB, or RGBA to blend over what is already drawn
Point = tuple[float, float]
INK: Colour = (20, 16, 24)  # outline colour of the outlined (Animation) style
WHITE: Colour = (250, 250, 248)
# saturated paints for toys, flags and cars
BRIGHT = ((220, 40, 50), (40, 110, 220), (250, 200, 40), (40, 170, 80), (240, 110, 180),
          (150, 70, 200), (250, 130, 30))  # fmt: skip


def mix(a: Sequence[int], b: Sequence[int], t: float) -> Colour:
    """Colour ``a + (b - a) * t``, channel by channel."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=False))


def shade(colour: Sequence[int], factor: float) -> Colour:
    """Colour with its RGB scaled by ``factor`` and clipped to 0..255; alpha is kept."""
    return tuple(min(255, max(0, int(v * factor))) for v in colour[:3]) + tuple(colour[3:])


def with_alpha(colour: Sequence[int], alpha: int) -> Colour:
    """The RGB of ``colour`` with opacity ``alpha`` (0..255)."""
    return (*colour[:3], int(alpha))


def pick(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def jitter(rng: np.random.Generator, colour: Sequence[int], amount: int = 16) -> Colour:
    """Colour with each channel moved by up to ``amount``."""
    deltas = rng.integers(-amount, amount + 1, 3)
    return tuple(min(255, max(0, int(v + d))) for v, d in zip(colour[:3], deltas, strict=True))


@dataclass(frozen=True)
class Style:
    """How shapes are drawn; genres set it (Animation outlines, Children rounds, ...)."""

    outline: int = 0  # width of dark outlines in canvas pixels, 0 for none
    rounded: bool = False  # rectangles get round corners
    flat: bool = False  # banded gradients and no texture noise
    head_scale: float = 1.0  # cartoonish heads of figures


@dataclass(frozen=True)
class Scene:
    """Geometry a setting leaves for the layout, in canvas pixels."""

    horizon: int
    ground: tuple[int, int]  # rows where standing objects may put their feet
    water: tuple[int, int] | None = None  # rows where boats float, when the setting has water
    sky_colour: Colour = (170, 200, 230)  # colour near the horizon, for haze


class Canvas:
    """An RGB image twice the output size with a blending draw and the still's random source."""

    def __init__(
        self,
        size: tuple[int, int],
        rng: np.random.Generator,
        style: Style,
        setting: str,
        light: str,
        ground_objects: bool,
        expression: str = "neutral",
    ) -> None:
        self.w, self.h = size
        self.rng = rng
        # texture noise draws as many numbers as there are pixels: a stream of its own keeps
        # layout and colours the same at every output size
        self.noise_rng = rng.spawn(1)[0]
        self.style = style
        self.setting = setting
        self.light = light  # "day", "dusk", "night", "overcast" or "space"
        self.ground_objects = ground_objects  # whether a setting must give objects a ground
        self.expression = expression  # the face of every figure drawn
        self.img = Image.new("RGB", size)
        self.draw = ImageDraw.Draw(self.img, "RGBA")
        self.shapes_only = False  # a scratch canvas that records shapes skips soft light

    @property
    def night(self) -> bool:
        return self.light in ("night", "space")

    def polygon(self, pts: Sequence[Point], fill: Colour, outline: bool = True) -> None:
        width = self.style.outline if outline else 0
        if width:
            self.draw.polygon(pts, fill=fill, outline=INK, width=width)
        else:
            self.draw.polygon(pts, fill=fill)

    def ellipse(self, box: Sequence[float], fill: Colour, outline: bool = True) -> None:
        width = self.style.outline if outline else 0
        self.draw.ellipse(box, fill=fill, outline=INK if width else None, width=width)

    def stroke(
        self, pts: Sequence[Point], fill: Colour, width: float, outline: bool = True
    ) -> None:
        """A polyline with round joints and caps (outlined in the outlined style)."""
        ow = self.style.outline if outline else 0
        passes = ((INK, width + 2 * ow), (fill, width)) if ow else ((fill, width),)
        for colour, w in passes:
            self.draw.line(pts, fill=colour, width=max(1, round(w)), joint="curve")
            r = w / 2
            if r >= 1.5:
                for x, y in (pts[0], pts[-1]):
                    self.draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)

    def gradient(self, box: Sequence[float], stops: Sequence[Sequence[int]]) -> None:
        """Fill ``box`` top to bottom through colour ``stops`` (in bands in the flat style)."""
        x0, y0, x1, y1 = (max(0, int(v)) for v in box)
        x1, y1 = min(x1, self.w), min(y1, self.h)
        if x1 <= x0 or y1 <= y0:
            return
        t = np.linspace(0.0, 1.0, y1 - y0, dtype=np.float32)
        if self.style.flat:
            t = np.floor(t * 5) / 4.0
        k = len(stops) - 1
        pos = np.minimum(t * k, k - 1e-4)
        i = pos.astype(int)
        f = (pos - i)[:, None]
        table = np.asarray(stops, dtype=np.float32)[:, :3]
        rows = table[i] * (1 - f) + table[i + 1] * f
        block = np.repeat(rows.astype(np.uint8)[:, None, :], x1 - x0, axis=1)
        self.img.paste(Image.fromarray(block), (x0, y0))

    def glow(self, cx: float, cy: float, r: float, colour: Colour, strength: float) -> None:
        """Soft round light of about radius ``r`` (a blurred disc blended in)."""
        if r < 1 or self.shapes_only:
            return
        half = int(r * 1.6) + 2
        k = max(1, int(r // 12))  # the light is soft: blur it small, then scale it up
        small, core = max(2, 2 * half // k), r * 0.75 / k
        mask = Image.new("L", (small, small), 0)
        mid = small / 2
        box = (mid - core, mid - core, mid + core, mid + core)
        ImageDraw.Draw(mask).ellipse(box, fill=int(255 * strength))
        mask = mask.filter(ImageFilter.GaussianBlur(r * 0.35 / k))
        mask = mask.resize((2 * half, 2 * half), Image.Resampling.BILINEAR)
        self.img.paste(colour[:3], (int(cx) - half, int(cy) - half), mask)

    def noise(self, shape: tuple[int, int], cell: int) -> np.ndarray:
        """Smooth value noise in [0, 1] of ``shape`` (rows, cols), features about ``cell`` px."""
        rows, cols = shape
        small = self.noise_rng.random((max(2, rows // cell + 2), max(2, cols // cell + 2)))
        img = Image.fromarray(small.astype(np.float32), mode="F")
        return np.asarray(img.resize((cols, rows), Image.Resampling.BICUBIC), dtype=np.float32)

    def texture(self, box: Sequence[float], amount: float = 0.12, cell: int = 12) -> None:
        """Modulate brightness in ``box`` by smooth noise (no-op in the flat style)."""
        x0, y0, x1, y1 = (max(0, int(v)) for v in box)
        x1, y1 = min(x1, self.w), min(y1, self.h)
        if self.style.flat or x1 - x0 < 2 or y1 - y0 < 2:
            return
        n = self.noise((y1 - y0, x1 - x0), cell) * 0.7 + self.noise((y1 - y0, x1 - x0), 3) * 0.3
        region = np.asarray(self.img.crop((x0, y0, x1, y1)), dtype=np.float32)
        region *= 1 + amount * 2 * (n[..., None] - 0.5)
        self.img.paste(Image.fromarray(np.clip(region, 0, 255).astype(np.uint8)), (x0, y0))

    def fog(
        self, colour: Colour, strength: float, band: tuple[float, float], cell: int = 40
    ) -> None:
        """Patchy fog, densest across rows ``band`` and fading above and below it."""
        y0, y1 = band
        rows = np.arange(self.h, dtype=np.float32)
        mid, half = (y0 + y1) / 2, max(1.0, (y1 - y0) / 2)
        profile = np.clip(1.2 - np.abs(rows - mid) / half, 0, 1)
        density = self.noise((self.h, self.w), cell) if not self.style.flat else 0.6
        mask = np.clip(profile[:, None] * density * strength * 255 * 1.4, 0, 255)
        self.img.paste(colour[:3], (0, 0), Image.fromarray(mask.astype(np.uint8)))

    def luminance(self, box: Sequence[float]) -> float:
        """Mean luminance (0..255) of what is drawn in ``box``."""
        x0, y0, x1, y1 = (int(v) for v in box)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.w, max(x1, x0 + 1)), min(self.h, max(y1, y0 + 1))
        return float(np.asarray(self.img.crop((x0, y0, x1, y1)).convert("L")).mean())

    def scratch(self, size: tuple[int, int]) -> Canvas:
        """A black canvas of ``size`` sharing this one's style, light and random source, that
        draws shapes but no glows (to find where an object is)."""
        other = copy.copy(self)
        other.w, other.h = size
        other.shapes_only = True
        other.replace(Image.new("RGB", size))
        return other

    def replace(self, img: Image.Image) -> None:
        """Draw on ``img`` from now on (after a whole-frame transform such as a camera roll)."""
        self.img = img
        self.draw = ImageDraw.Draw(img, "RGBA")

    def blur(self, radius: float) -> None:
        """Blur everything drawn so far (depth of field)."""
        self.img.paste(self.img.filter(ImageFilter.GaussianBlur(radius)))


@dataclass(frozen=True)
class Frame:
    """An object's own coordinates on the canvas: unit = box height, x in [0, aspect].

    ``facing`` -1 mirrors the object left-right; ``angle`` (radians) turns it about the box
    centre. Painters draw in these coordinates, so one drawing serves every pose and size.
    """

    c: Canvas
    x0: float
    y0: float
    s: float  # canvas pixels per unit
    aspect: float
    facing: int = 1
    angle: float = 0.0

    def pt(self, x: float, y: float) -> Point:
        if self.facing < 0:
            x = self.aspect - x
        if self.angle:
            dx, dy = x - self.aspect / 2, y - 0.5
            ca, sa = math.cos(self.angle), math.sin(self.angle)
            x, y = self.aspect / 2 + dx * ca - dy * sa, 0.5 + dx * sa + dy * ca
        return self.x0 + x * self.s, self.y0 + y * self.s

    def pts(self, seq: Sequence[Point]) -> list[Point]:
        return [self.pt(x, y) for x, y in seq]

    def poly(self, seq: Sequence[Point], fill: Colour, outline: bool = True) -> None:
        self.c.polygon(self.pts(seq), fill, outline)

    def ellipse(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        fill: Colour,
        outline: bool = True,
        rot: float = 0.0,
    ) -> None:
        """Ellipse with radii ``rx``, ``ry`` turned by ``rot`` radians about its centre."""
        if not self.angle and not rot:
            px, py = self.pt(cx, cy)
            box = (px - rx * self.s, py - ry * self.s, px + rx * self.s, py + ry * self.s)
            self.c.ellipse(box, fill, outline)
            return
        cr, sr = math.cos(rot), math.sin(rot)
        ts = np.linspace(0, 2 * math.pi, 28, endpoint=False)
        ring = [(rx * math.cos(t), ry * math.sin(t)) for t in ts]
        self.poly([(cx + x * cr - y * sr, cy + x * sr + y * cr) for x, y in ring], fill, outline)

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: Colour,
        outline: bool = True,
        radius: float = 0.0,
    ) -> None:
        """Rectangle; corners rounded by ``radius`` (always a little in the rounded style)."""
        if self.c.style.rounded:
            radius = max(radius, 0.3 * min(x1 - x0, y1 - y0))
        if radius <= 0:
            self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill, outline)
            return
        r = min(radius, (x1 - x0) / 2, (y1 - y0) / 2)
        corners = ((x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90))
        corners += ((x0 + r, y0 + r, 180),)
        seq = [
            (cx + r * math.cos(math.radians(a + d)), cy + r * math.sin(math.radians(a + d)))
            for cx, cy, a in corners
            for d in (0, 30, 60, 90)
        ]
        self.poly(seq, fill, outline)

    def stroke(
        self, seq: Sequence[Point], fill: Colour, width: float, outline: bool = True
    ) -> None:
        """Polyline of ``width`` units with round ends."""
        self.c.stroke(self.pts(seq), fill, width * self.s, outline)

    def glow(self, cx: float, cy: float, r: float, colour: Colour, strength: float) -> None:
        px, py = self.pt(cx, cy)
        self.c.glow(px, py, r * self.s, colour, strength)

    def dark_behind(self) -> bool:
        """Whether what is already drawn in this frame's box is dark (to pick a light ink)."""
        return self.c.luminance(self.bounds()) < 110

    def bounds(self) -> tuple[float, float, float, float]:
        """The box on the canvas (ignoring ``angle``)."""
        return self.x0, self.y0, self.x0 + self.aspect * self.s, self.y0 + self.s


def arc(
    cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 12
) -> list[Point]:
    """Points on an ellipse from angle ``a0`` to ``a1`` (degrees; 0 = right, 90 = down)."""
    ts = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in ts]


def cluster(
    rng: np.random.Generator, aspect: float, size: float
) -> tuple[list[tuple[float, float]], float]:
    """Centres of 1-3 items of about ``size`` spread across a box ``aspect`` wide, and a scale
    for the items (a lone item may be drawn larger)."""
    n = int(rng.integers(1, 4))
    step = (aspect - size) / max(1, n - 1) if n > 1 else 0.0
    x0 = size / 2 if n > 1 else aspect / 2
    centres = [(x0 + i * step + rng.uniform(-0.03, 0.03), rng.uniform(0.3, 0.7)) for i in range(n)]
    return centres, (1.4 if n == 1 else 1.0)
