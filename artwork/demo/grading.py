"""Colour grading of demo stills: moods and genres as global tone, contrast, light and grain."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
RGBf = tuple[float, float, float]


@dataclass(frozen=True)
class Grade:
    """One global colour transform, applied in field order:

    toning ``a += (lum * tone - a) * tone_amount``; saturation ``lum + (a - lum) * (1 + s)``;
    ``a * gain + lift``; contrast about the mean luminance; ``exposure * a ** gamma``.
    Vignette, bloom and grain add up over all grades and are applied once.
    """

    tone: RGBf = (1.0, 1.0, 1.0)
    tone_amount: float = 0.0
    saturation: float = 0.0
    gain: RGBf = (1.0, 1.0, 1.0)
    lift: RGBf = (0.0, 0.0, 0.0)
    contrast: float = 0.0
    exposure: float = 1.0
    gamma: float = 1.0
    vignette: float = 0.0
    bloom: float = 0.0
    grain: float = 0.0


MOOD_GRADES: dict[str, Grade] = {
    "dark": Grade(exposure=0.58, gamma=1.25, vignette=0.4, saturation=-0.1),
    "bright": Grade(lift=(0.05, 0.05, 0.05), exposure=1.08, gamma=0.75, contrast=-0.1),
    "warm": Grade(gain=(1.14, 1.0, 0.76), lift=(0.04, 0.01, -0.02)),
    "cold": Grade(gain=(0.78, 0.96, 1.16), lift=(-0.01, 0.01, 0.06)),
    "tense": Grade(contrast=0.45, saturation=0.05, vignette=0.25),
    "romantic": Grade(gain=(1.06, 0.9, 1.04), lift=(0.07, 0.0, 0.05), contrast=-0.1, bloom=0.35),
    "joyful": Grade(saturation=0.55, exposure=1.05),
    "scary": Grade(
        tone=(0.78, 1.0, 0.74), tone_amount=0.45, saturation=-0.2, exposure=0.85, vignette=0.6
    ),  # fmt: skip
    "calm": Grade(contrast=-0.35, saturation=-0.2, lift=(0.06, 0.06, 0.07)),
    "melancholic": Grade(
        tone=(0.86, 0.94, 1.1), tone_amount=0.55, saturation=-0.3, contrast=-0.1
    ),  # fmt: skip
}

GENRE_GRADES: dict[str, Grade] = {
    "Film-Noir": Grade(tone_amount=0.94, contrast=0.3, vignette=0.3, grain=0.04),
    "Western": Grade(tone=(1.16, 0.94, 0.66), tone_amount=0.55, grain=0.02),
    "War": Grade(tone=(1.0, 1.0, 0.7), tone_amount=0.45, saturation=-0.2, grain=0.02),
    "Animation": Grade(saturation=0.2),
    "Children": Grade(saturation=0.3, lift=(0.12, 0.12, 0.12), contrast=-0.15),
    "Comedy": Grade(exposure=1.08, lift=(0.03, 0.03, 0.03), saturation=0.15),
    "Documentary": Grade(saturation=-0.15, grain=0.02),
    "Sci-Fi": Grade(gain=(0.92, 1.0, 1.1), contrast=0.1),
    "Thriller": Grade(contrast=0.3, saturation=-0.1),
    "Romance": Grade(lift=(0.04, 0.0, 0.02), bloom=0.45),
    "Adventure": Grade(gain=(1.08, 1.02, 0.88)),
    "Horror": Grade(saturation=-0.2, vignette=0.35),
    "Fantasy": Grade(saturation=0.1, bloom=0.2),
    "Musical": Grade(saturation=0.15),
    "Action": Grade(contrast=0.15, saturation=0.1),
    "Crime": Grade(contrast=0.15, gain=(0.95, 1.0, 1.05)),
}


def apply_grade(a: np.ndarray, g: Grade) -> np.ndarray:
    """``a`` (H x W x 3 floats in 0..1) transformed by ``g``'s tone, colour and light."""
    if g.tone_amount:
        lum = (a @ LUMA)[..., None]
        a = a + (lum * np.asarray(g.tone, np.float32) - a) * g.tone_amount
    if g.saturation:
        lum = (a @ LUMA)[..., None]
        a = lum + (a - lum) * (1 + g.saturation)
    if g.gain != (1.0, 1.0, 1.0) or g.lift != (0.0, 0.0, 0.0):
        a = a * np.asarray(g.gain, np.float32) + np.asarray(g.lift, np.float32)
    if g.contrast:
        mean = float((a @ LUMA).mean())
        a = (a - mean) * (1 + g.contrast) + mean
    if g.gamma != 1.0 or g.exposure != 1.0:
        a = np.clip(a, 0, 1) ** g.gamma * g.exposure
    return a


@lru_cache(maxsize=8)
def _radius2(h: int, w: int) -> np.ndarray:
    """Squared distance from the centre, 0 there and 1 in the corners."""
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    return (xs**2 + ys**2) / 2


def iris(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A magnifier-shaped mask: 1 inside a big circle, 0.45 outside, with a dark rim."""
    cx, r = w * rng.uniform(0.42, 0.58), w * rng.uniform(0.42, 0.48)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt((xs - cx) ** 2 + (ys - h / 2) ** 2)
    inside = np.clip((r - d) / (0.03 * w), 0, 1)
    rim = np.clip(1 - np.abs(d - r) / (0.008 * w), 0, 1)
    return (0.45 + 0.55 * inside) * (1 - 0.6 * rim)


def grade(
    img: Image.Image, moods: set[str], genres: set[str], rng: np.random.Generator
) -> Image.Image:
    """Colour-grade ``img``: genre looks first, then moods (which dominate), then vignette,
    Mystery's iris and film grain (none for Animation)."""
    grades = [GENRE_GRADES[g] for g in sorted(genres) if g in GENRE_GRADES]
    grades += [MOOD_GRADES[m] for m in sorted(moods) if m in MOOD_GRADES]
    a = np.asarray(img, dtype=np.float32) / 255
    bloom = max((g.bloom for g in grades), default=0.0)
    if bloom:
        soft = img.filter(ImageFilter.GaussianBlur(0.025 * img.height))
        a = 1 - (1 - a) * (1 - np.asarray(soft, dtype=np.float32) / 255 * bloom)
    for g in grades:
        a = apply_grade(a, g)
    h, w = a.shape[:2]
    vignette = min(0.7, 0.15 + sum(g.vignette for g in grades))
    a = a * (1 - vignette * _radius2(h, w) ** 1.5)[..., None]
    if "Mystery" in genres:
        a = a * iris(h, w, rng)[..., None]
    if "Animation" not in genres:
        sigma = 0.018 + sum(g.grain for g in grades)
        a = a + rng.normal(0, sigma, (h, w, 1)).astype(np.float32)
    return Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8))


def letterbox(img: Image.Image, bar: float = 0.11) -> Image.Image:
    """``img`` with black bars over its top and bottom ``bar`` fraction (widescreen look)."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    depth = round(bar * img.height)
    draw.rectangle((0, 0, img.width, depth - 1), fill=(0, 0, 0))
    draw.rectangle((0, img.height - depth, img.width, img.height), fill=(0, 0, 0))
    return out
