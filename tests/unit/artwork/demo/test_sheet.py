"""Contact sheets: grid size, files or images, long captions wrapped inside their cell."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PIL import Image, ImageFont

from artwork.demo.sheet import GAP, contact_sheet, wrap


def still(colour: tuple[int, int, int], size: tuple[int, int] = (384, 216)) -> Image.Image:
    return Image.new("RGB", size, colour)


@pytest.mark.parametrize(("n", "columns"), [(1, 6), (6, 6), (7, 3), (13, 4)])
def test_grid_has_expected_columns_and_rows(n: int, columns: int) -> None:
    thumb = 100
    items = [(still((40 * (i % 6), 90, 160)), f"still {i}") for i in range(n)]
    sheet = contact_sheet(items, columns=columns, thumb_width=thumb)
    used, rows = min(n, columns), math.ceil(n / columns)
    assert sheet.width == GAP + used * (thumb + GAP)
    thumb_h = round(216 * thumb / 384)
    assert rows * (thumb_h + GAP) < sheet.height < rows * (thumb_h + 4 * GAP) + 2 * GAP


def test_files_and_images_mix(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    still((200, 30, 30)).save(path)
    sheet = contact_sheet([(path, "from a file"), (still((30, 30, 200)), "in memory")], 2, 128)
    assert sheet.mode == "RGB"
    assert sheet.getpixel((GAP + 5, GAP + 5)) == (200, 30, 30)
    assert sheet.getpixel((2 * GAP + 128 + 5, GAP + 5)) == (30, 30, 200)


def test_long_captions_wrap_within_the_cell() -> None:
    caption = (
        "objects: car, gun, explosion, person / moods: dark, tense, cold / genres: Action, "
        "Crime, Thriller, Film-Noir / " + "x" * 200
    )
    font = ImageFont.load_default(size=12)
    lines = wrap(caption, font, 120)
    assert len(lines) > 5
    assert all(font.getlength(line) <= 120 for line in lines)
    short = contact_sheet([(still((0, 0, 0)), "short")] * 2, columns=2, thumb_width=120)
    long = contact_sheet([(still((0, 0, 0)), caption)] * 2, columns=2, thumb_width=120)
    assert long.width == short.width and long.height > short.height


def test_no_items_gives_an_empty_dark_sheet() -> None:
    sheet = contact_sheet([], columns=4, thumb_width=64)
    assert sheet.size[0] > 0 and sheet.size[1] > 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        contact_sheet([(still((0, 0, 0)), "x")], columns=0)
