"""Unit-test fixtures: a tiny random CLIP architecture and image files of every awkward kind."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

# --- image files of every kind a catalog may hold, good and bad ---------------------------------

RED = (220, 30, 30)
GREEN = (30, 200, 60)
BLUE = (30, 60, 220)
# name → reason pattern, for the files that must be reported, not read
UNREADABLE = {
    "empty.jpg": "empty file",
    "truncated.jpg": "truncated",
    "not_an_image.jpg": "not an image",
    "too_many_pixels.png": "pixel limit",
    "bomb.png": "pixel limit",
}
ZOO_MAX_PIXELS = 1_000_000  # too_many_pixels.png is over it, big.jpg under it


def write_image_zoo(folder: Path) -> list[str]:
    """Write good, odd and unreadable image files into ``folder``; their names, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    Image.new("RGB", (48, 32), RED).save(folder / "red.jpg", quality=95)
    noise.save(folder / "noise.png")
    noise.resize((1200, 800)).save(folder / "big.jpg", quality=90)
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(folder / "cmyk.jpg", quality=95)
    ramp = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    Image.fromarray(ramp).save(folder / "grey16.png")
    palette = Image.new("P", (40, 30), 0)
    palette.putpalette([0, 0, 0, *BLUE] + [0] * 762)
    palette.paste(1, (20, 0, 40, 30))  # right half blue, left half transparent
    palette.save(folder / "palette.png", transparency=0)
    Image.new("LA", (40, 30), (200, 0)).save(folder / "la.png")  # fully transparent
    Image.new("RGBA", (40, 30), (*RED, 255)).save(folder / "rgba.png")
    frames = [Image.new("RGB", (40, 30), c) for c in (RED, GREEN, BLUE)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "animated.webp", save_all=True, append_images=frames[1:],
                   lossless=True)  # fmt: skip
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored 60×40, displayed rotated: 40×60
    Image.new("RGB", (60, 40), GREEN).save(folder / "rotated.jpg", exif=exif)

    (folder / "empty.jpg").write_bytes(b"")
    noise.save(folder / "whole.jpg", quality=90)
    whole = (folder / "whole.jpg").read_bytes()
    (folder / "whole.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "not_an_image.jpg").write_text("title,year\nStar Voyage,2001\n")
    Image.new("L", (1100, 1000), 90).save(folder / "too_many_pixels.png")
    (folder / "bomb.png").write_bytes(_png_header_only(100_000, 100_000))
    return sorted(p.name for p in folder.iterdir())


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` pixels and holds none: a decompression bomb's look."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + body


@dataclass(frozen=True)
class ImageZoo:
    """Image files of every kind (``write_image_zoo``) and what tests should expect of them."""

    folder: Path
    names: tuple[str, ...]
    unreadable: dict[str, str] = field(default_factory=lambda: dict(UNREADABLE))
    max_pixels: int = ZOO_MAX_PIXELS
    red: tuple[int, int, int] = RED
    green: tuple[int, int, int] = GREEN
    blue: tuple[int, int, int] = BLUE


@pytest.fixture()
def image_zoo(tmp_path: Path) -> ImageZoo:
    """A folder of good, odd and unreadable image files."""
    folder = tmp_path / "zoo"
    return ImageZoo(folder, tuple(write_image_zoo(folder)))
