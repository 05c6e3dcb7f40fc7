"""``artwork tag`` from the command line: a catalog with one broken image, then a contact sheet."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from artwork.catalog import load_catalog
from artwork.cli import main
from artwork.tag_store import read_tags


def test_tag_command_reports_the_broken_image_and_tags_the_rest(
    tiny_world: Path, tiny_clip_spec, tmp_path: Path, capsys
) -> None:
    # Break one still: a truncated JPEG must be reported, not crash the job.
    victim = next(iter(load_catalog(tiny_world).artwork.values()))
    path = tiny_world / victim.path
    path.write_bytes(path.read_bytes()[:200])
    out = tmp_path / "tags.parquet"
    argv = ["tag", str(tiny_world), "--out", str(out), "--clip-model", tiny_clip_spec.model,
            "--device", "cpu", "--workers", "0", "--batch-size", "4"]  # fmt: skip

    assert main(argv) == 1  # something could not be read
    printed = capsys.readouterr().out
    assert "unreadable 1" in printed and "img/s" in printed
    table = read_tags(out)
    assert victim.artwork_id not in table.artwork_ids
    assert len(table.artwork_ids) == len(load_catalog(tiny_world).artwork) - 1
    with open(f"{out}.errors.csv") as f:
        errors = list(csv.DictReader(f))
    assert [e["artwork_id"] for e in errors] == [victim.artwork_id]

    # Run again: nothing is redone, and the known failure is not retried.
    assert main(argv) == 0
    total = len(load_catalog(tiny_world).artwork)
    assert f"tagged 0, already done {total}," in capsys.readouterr().out


def test_unknown_encoder_is_a_clear_error(tiny_world: Path, tmp_path: Path, capsys) -> None:
    argv = ["tag", str(tiny_world), "--out", str(tmp_path / "t.parquet"), "--clip-model", "Nope"]
    assert main(argv) == 2
    assert "unknown open_clip architecture" in capsys.readouterr().err


def test_sheet_with_predicted_tags(tmp_path: Path, tiny_clip_spec) -> None:
    world = tmp_path / "world"
    assert main(["demo", "build", "--out", str(world), "--titles", "2", "--viewers", "2",
                 "--workers", "1"]) == 0  # fmt: skip
    out = tmp_path / "tags.parquet"
    assert main(["tag", str(world), "--out", str(out), "--clip-model", tiny_clip_spec.model,
                 "--device", "cpu", "--workers", "0"]) == 0  # fmt: skip
    sheet = tmp_path / "sheet.png"
    assert main(["demo", "sheet", str(world), "--out", str(sheet), "--tags", str(out),
                 "--count", "4"]) == 0  # fmt: skip
    with Image.open(sheet) as image:
        assert image.width > 600
