"""Reading image files: odd modes come out as the RGB a viewer sees; bad files say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import ImageFile

from artwork.image_files import NEUTRAL_BACKGROUND, UnreadableImage, read_rgb


def _middle_row(path: Path) -> np.ndarray:
    image = read_rgb(path)
    return image.pixels[image.pixels.shape[0] // 2].astype(int)


def test_unreadable_files_raise_with_their_reason(image_zoo) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    for name, reason in image_zoo.unreadable.items():
        path = image_zoo.folder / name
        with pytest.raises(UnreadableImage, match=reason) as caught:
            read_rgb(path, max_pixels=image_zoo.max_pixels)
        assert caught.value.file == str(path)


def test_cmyk_becomes_the_same_colour_in_rgb(image_zoo) -> None:
    image = read_rgb(image_zoo.folder / "cmyk.jpg")
    assert image.pixels.shape == (30, 40, 3) and image.pixels.dtype == np.uint8
    np.testing.assert_allclose(image.pixels.mean(axis=(0, 1)), (255, 0, 0), atol=12)
    assert any("CMYK" in note for note in image.notes)


def test_sixteen_bit_grey_is_scaled_not_clipped(image_zoo) -> None:
    row = read_rgb(image_zoo.folder / "grey16.png").pixels[..., 0].ravel()
    assert row.min() == 0 and row.max() == 255
    assert 100 < np.median(row) < 156  # a linear ramp: half the pixels above the middle grey


def test_transparency_is_composited_on_grey(image_zoo) -> None:
    palette = _middle_row(image_zoo.folder / "palette.png")
    np.testing.assert_array_equal(palette[0], NEUTRAL_BACKGROUND)
    np.testing.assert_array_equal(palette[-1], image_zoo.blue)
    np.testing.assert_array_equal(_middle_row(image_zoo.folder / "la.png")[0], NEUTRAL_BACKGROUND)
    opaque = read_rgb(image_zoo.folder / "rgba.png")
    np.testing.assert_array_equal(opaque.pixels[0, 0], image_zoo.red)
    assert opaque.notes == ()  # an alpha channel that hides nothing is not worth a note


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_animations_give_their_first_frame(image_zoo, name: str) -> None:
    image = read_rgb(image_zoo.folder / name)
    np.testing.assert_allclose(image.pixels.mean(axis=(0, 1)), image_zoo.red, atol=3)
    assert image.notes == ("animated: first of 3 frames",)


def test_exif_orientation_is_applied(image_zoo) -> None:
    image = read_rgb(image_zoo.folder / "rotated.jpg")
    assert (image.width, image.height) == (40, 60)
    assert image.pixels.shape == (60, 40, 3)
    np.testing.assert_allclose(image.pixels.mean(axis=(0, 1)), image_zoo.green, atol=4)


def test_large_jpegs_decode_smaller_but_report_their_full_size(image_zoo) -> None:
    full = read_rgb(image_zoo.folder / "big.jpg")
    reduced = read_rgb(image_zoo.folder / "big.jpg", min_side=200, min_pixels=300 * 200)
    assert full.pixels.shape == (800, 1200, 3)
    assert (reduced.width, reduced.height) == (1200, 800)
    assert 200 <= reduced.pixels.shape[0] < 800 and reduced.pixels.shape[1] >= 300


def test_pixel_limit_is_checked_before_decoding(image_zoo) -> None:
    with pytest.raises(UnreadableImage, match="1100×1000 = 1100000 pixels"):
        read_rgb(image_zoo.folder / "too_many_pixels.png", max_pixels=1_000_000)
    assert read_rgb(image_zoo.folder / "too_many_pixels.png", max_pixels=2_000_000).width == 1100
