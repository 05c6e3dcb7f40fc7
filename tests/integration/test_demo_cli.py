"""The ``artwork demo`` commands end to end: a deterministic world on disk and its contact sheet."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from artwork.catalog import load_catalog
from artwork.cli import main
from artwork.demo.world import file_hashes, load_world

TINY = ["--titles", "5", "--viewers", "12", "--workers", "2"]


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("worlds") / "w1"
    assert main(["demo", "build", "--out", str(out), "--seed", "11", *TINY]) == 0
    return out


def test_world_is_a_valid_catalog_with_truth_for_every_still(tiny_world: Path) -> None:
    catalog = load_catalog(tiny_world)
    assert len(catalog.titles) == 5
    assert all(4 <= len(catalog.candidates(t)) <= 8 for t in catalog.titles)
    for artwork_id in catalog.artwork:
        with Image.open(catalog.image_path(artwork_id)) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            assert image.size[0] >= 384 and image.size[0] * 9 == image.size[1] * 16
    world = load_world(tiny_world)
    assert set(world.truth) == set(catalog.artwork)
    for artwork_id, plan in world.truth.items():
        assert plan.genres == catalog.titles[catalog.artwork[artwork_id].title_id].genres
    # Every viewer has some history, and the history names only known viewers and titles.
    assert set(world.history.viewers) == set(world.response.viewer_ids)
    assert {i.title_id for i in world.history.interactions} <= set(catalog.titles)
    with open(tiny_world / "viewers.csv") as f:
        assert len(list(csv.DictReader(f))) == 12


def test_same_seed_gives_byte_identical_files(tiny_world: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert (
        main(["demo", "build", "--out", str(again), "--seed", "11", *TINY[:-2], "--workers", "1"])
        == 0
    )
    assert file_hashes(again) == file_hashes(tiny_world)
    manifest = json.loads((tiny_world / "world.json").read_text())
    assert manifest["files"] == {
        k: v for k, v in file_hashes(tiny_world).items() if k != "world.json"
    }


def test_another_seed_gives_another_world(tiny_world: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert main(["demo", "build", "--out", str(other), "--seed", "12", *TINY]) == 0
    assert file_hashes(other)["titles.csv"] != file_hashes(tiny_world)["titles.csv"]


def test_existing_folder_is_not_overwritten_without_force(tiny_world: Path, capsys) -> None:
    before = file_hashes(tiny_world)
    assert main(["demo", "build", "--out", str(tiny_world), "--seed", "3", *TINY]) == 2
    assert "not empty" in capsys.readouterr().err
    assert file_hashes(tiny_world) == before


def test_contact_sheet(tiny_world: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    assert main(["demo", "sheet", str(tiny_world), "--out", str(out), "--count", "8"]) == 0
    with Image.open(out) as sheet:
        assert sheet.width > 4 * 200 and sheet.height > 200


def test_simulate_command_prints_a_summary_and_draws_the_curve(
    tiny_world: Path, tmp_path: Path, capsys
) -> None:
    curve = tmp_path / "curve.png"
    argv = ["simulate", "--world", str(tiny_world), "--policy", "linucb", "--rounds", "400",
            "--out", str(curve)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "share of oracle" in printed and "bait" in printed
    assert curve.stat().st_size > 1000
    assert main([*argv[:4], "no-such-policy", *argv[5:]]) == 2
