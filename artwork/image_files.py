"""Reading artwork image files into RGB arrays: odd modes handled, every failure a stated reason.

``read_rgb`` opens a file with Pillow and returns 8-bit RGB pixels as a viewer would see them:

- EXIF orientation applied; animated GIF/WebP/PNG: the first frame;
- CMYK through its embedded ICC profile to sRGB (Pillow's plain conversion without one);
- 16-bit greyscale scaled to 8 bits (v / 257), not clipped at 255;
- transparency (RGBA, LA, PA, palette with a transparent index) composited on mid-grey;
- JPEGs decoded at a reduced size (DCT scaling, ``Image.draft``) when asked for a minimum size
  well below theirs — much faster for large photos.

A file that cannot be read raises ``UnreadableImage`` naming the file and why: empty, not an
image, over the pixel limit (checked on the header, before anything is decoded), truncated or
corrupt data (Pillow's ``LOAD_TRUNCATED_IMAGES`` is left False, so a truncated file fails).
Every note on how an image was read (orientation, frames, conversions) comes back with it.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from artwork.errors import InputError

# Pillow's own default (~89.5 MP, 1 GiB of 24-bit pixels over 3): 8K frames pass, bombs do not.
DEFAULT_MAX_PIXELS = 89_478_485
NEUTRAL_BACKGROUND = (128, 128, 128)  # mid-grey: biases neither dark nor bright moods
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)  # rotations by 90° that exchange width and height
_SRGB = ImageCms.createProfile("sRGB")


class UnreadableImage(InputError):
    """An image file that cannot be turned into RGB pixels; the message says why."""


@dataclass(frozen=True)
class RgbImage:
    """Decoded pixels (possibly reduced in size) and the image's full size as displayed."""

    pixels: np.ndarray  # (h, w, 3) uint8
    width: int
    height: int
    notes: tuple[str, ...] = ()


def read_rgb(
    path: Path | str,
    *,
    min_side: int = 0,
    min_pixels: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> RgbImage:
    """Read ``path`` as RGB; a JPEG may be decoded smaller, keeping its shorter side at least
    ``min_side`` and its area at least ``min_pixels`` (both 0: full size). ``UnreadableImage``
    when it cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableImage(f"cannot read the file: {exc.strerror}", file=str(path)) from exc
    if size == 0:
        raise UnreadableImage("empty file (0 bytes)", file=str(path))
    image = _open(path)
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise UnreadableImage(
                f"{width}×{height} = {width * height} pixels is over the pixel limit of "
                f"{max_pixels} (a decompression bomb, or raise max_pixels)",
                file=str(path),
            )
        notes = []
        draft = _draft_size(image.size, min_side, min_pixels)
        try:
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                notes.append(f"animated: first of {frames} frames")
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            if orientation in _SWAPPING_ORIENTATIONS:
                width, height = height, width
            if orientation != 1:
                notes.append(f"EXIF orientation {orientation} applied")
            if image.format == "JPEG" and draft is not None:
                image.draft("RGB", draft)
            image.load()
            rgb, note = _to_rgb(ImageOps.exif_transpose(image))
        except Exception as exc:  # Pillow raises many types on corrupt data; all are reported
            raise UnreadableImage(f"cannot decode: {_describe(exc)}", file=str(path)) from exc
    if note:
        notes.append(note)
    return RgbImage(np.asarray(rgb, dtype=np.uint8), width, height, tuple(notes))


def _open(path: Path) -> Image.Image:
    """Open (read the header of) an image; nothing is decoded yet."""
    with warnings.catch_warnings():
        # read_rgb applies its own pixel limit; Pillow's warning would only repeat it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as exc:
            raise UnreadableImage(f"over Pillow's pixel limit: {exc}", file=str(path)) from exc
        except UnidentifiedImageError as exc:
            raise UnreadableImage("not an image Pillow can identify", file=str(path)) from exc
        except Exception as exc:
            raise UnreadableImage(f"cannot open: {_describe(exc)}", file=str(path)) from exc


def _draft_size(size: tuple[int, int], min_side: int, min_pixels: int) -> tuple[int, int] | None:
    """The smallest size of the same aspect meeting both minimums; None when that is no smaller
    or no minimum was asked for."""
    width, height = size
    if min_side <= 0 and min_pixels <= 0:
        return None
    scale = max(min_side / min(width, height), math.sqrt(min_pixels / (width * height)))
    if scale >= 1:
        return None
    return math.ceil(width * scale), math.ceil(height * scale)


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str | None]:
    """An 8-bit RGB version of ``image`` and a note when the conversion was not plain."""
    mode = image.mode
    if mode == "RGB":
        return image, None
    if mode in _SIXTEEN_BIT_MODES or mode == "I":
        values = np.asarray(image).astype(np.float32)
        # Mode "I" (32-bit) holds 16-bit PNGs on some Pillow versions, and 8-bit data elsewhere.
        scale = 257.0 if mode in _SIXTEEN_BIT_MODES or values.max() > 255 else 1.0
        grey = np.clip(np.rint(values / scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB"), f"{mode} greyscale scaled to 8 bits"
    if mode == "F":
        values = np.asarray(image)
        scale = 255.0 if values.max() <= 1.0 else 1.0
        grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB"), "float greyscale scaled to 8 bits"
    if mode in _ALPHA_MODES or (mode in ("P", "L", "RGB") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema() == (255, 255):
            return rgba.convert("RGB"), None  # opaque after all
        background = Image.new("RGB", image.size, NEUTRAL_BACKGROUND)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background, f"{mode} transparency composited on grey"
    if mode == "CMYK":
        icc = image.info.get("icc_profile")
        if icc:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
            return rgb, "CMYK converted to sRGB with its ICC profile"
        return image.convert("RGB"), "CMYK converted without a profile"
    return image.convert("RGB"), None


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
