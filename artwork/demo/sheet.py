"""Contact sheet: a grid of captioned thumbnails, to check by eye that stills match their tags."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from artwork.catalog import load_catalog
from artwork.demo.world import read_truth
from artwork.tag_store import TagTable

BACKGROUND = (18, 18, 22)
INK = (226, 226, 220)
GAP = 10  # pixels between cells and around the sheet


def wrap(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels.

    Breaks at " / " and newlines first, then between words, and inside words too long to fit.
    """
    lines: list[str] = []
    for part in text.replace(" / ", "\n").splitlines() or [""]:
        line = ""
        for word in part.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:  # a word too long for a line of its own is cut
                if line and font.getlength(line + ch) > width:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return lines


def contact_sheet(
    items: Sequence[tuple[Image.Image | Path, str]], columns: int = 6, thumb_width: int = 256
) -> Image.Image:
    """A dark sheet with ``items`` (image or image file, caption) laid out ``columns`` across.

    Every thumbnail is ``thumb_width`` wide; a row is as tall as its tallest thumbnail plus its
    longest wrapped caption, so captions never run into the next cell.
    """
    if columns < 1 or thumb_width < 16:
        raise ValueError(
            f"columns must be >= 1 and thumb_width >= 16, got {columns}, {thumb_width}"
        )
    font = ImageFont.load_default(size=max(10, thumb_width // 20))
    line_h = round(font.size * 1.25)
    cells = []
    for image, text in items:
        img = Image.open(image) if isinstance(image, Path) else image
        img = img.convert("RGB")
        height = max(1, round(img.height * thumb_width / img.width))
        cells.append((img.resize((thumb_width, height), Image.Resampling.LANCZOS),
                      wrap(text, font, thumb_width)))  # fmt: skip
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    heights = [max(t.height + 4 + len(lines) * line_h for t, lines in row) for row in rows]
    width = GAP + (min(columns, len(cells)) or 1) * (thumb_width + GAP)
    sheet = Image.new("RGB", (width, GAP + sum(heights) + GAP * len(rows)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = GAP
    for row, row_h in zip(rows, heights, strict=True):
        for col, (thumb, lines) in enumerate(row):
            x = GAP + col * (thumb_width + GAP)
            sheet.paste(thumb, (x, y))
            for k, line in enumerate(lines):
                draw.text((x, y + thumb.height + 4 + k * line_h), line, fill=INK, font=font)
        y += row_h + GAP
    return sheet


def world_sheet(
    world: Path,
    count: int = 36,
    seed: int = 0,
    columns: int = 6,
    tags: TagTable | None = None,
    threshold: float = 0.5,
) -> Image.Image:
    """A contact sheet of ``count`` stills of a demo world picked with ``seed``, captioned with
    their truth tags and, given a tag store, the tags it gives them (probability ≥ threshold)."""
    catalog = load_catalog(world)
    truth = read_truth(world / "truth.csv")
    ids = sorted(truth)
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(ids), size=min(count, len(ids)), replace=False))
    row_of = {a: i for i, a in enumerate(tags.artwork_ids)} if tags is not None else {}
    items = []
    for i in picked:
        plan = truth[ids[i]]
        caption = (
            f"{ids[i]} ({plan.setting}, {plan.expression})\n"
            f"objects: {', '.join(plan.objects)}\nmoods: {', '.join(plan.moods)}\n"
            f"genres: {', '.join(plan.genres)}"
        )
        if ids[i] in row_of:
            p = tags.probabilities[row_of[ids[i]]]
            found = sorted((-p[t], tag) for t, tag in enumerate(tags.tags) if p[t] >= threshold)
            caption += "\ntagged: " + (", ".join(f"{tag} {-q:.2f}" for q, tag in found) or "-")
        items.append((catalog.image_path(ids[i]), caption))
    return contact_sheet(items, columns=columns)
