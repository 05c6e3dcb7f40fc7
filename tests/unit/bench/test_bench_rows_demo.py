"""The rows benchmark's core on a tiny built world: every page scored, the result's shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, build_world, load_world
from bench import report, rows_demo


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("rows_demo") / "world"
    return load_world(build_world(folder, WorldSpec(seed=3, titles=6, viewers=30), workers=1))


def test_discount_starts_at_one_and_falls() -> None:
    w = rows_demo.discount(40)
    assert w[0] == 1.0 and np.all(np.diff(w) < 0)


def test_every_page_is_scored_against_the_popularity_page(world) -> None:
    metrics = rows_demo.run(world, viewers=10, seed=0)
    assert metrics["viewers_sampled"] == 10
    pages = metrics["pages"]
    names = {f"ours_{n}" for n in rows_demo.RANKERS} | {rows_demo.BASELINE, "popular_40",
                                                        "ceiling"}  # fmt: skip
    assert set(pages) == names
    for page in pages.values():
        assert 0 < page["page_titles"] <= 6
        for kind in ("discounted", "total"):
            assert set(page[kind]) == {"mean", "se", "ratio", "diff", "diff_se"}
            assert page[kind]["mean"] > 0 and page[kind]["se"] >= 0
        assert page["discounted"]["mean"] <= page["total"]["mean"]
    assert pages[rows_demo.BASELINE]["discounted"]["ratio"] == 1.0
    assert pages[rows_demo.BASELINE]["discounted"]["diff"] == 0.0
    ceiling = pages["ceiling"]["total"]["mean"]
    assert all(p["total"]["mean"] <= ceiling + 1e-4 for p in pages.values())
    assert "ceiling" in rows_demo.format_table(metrics)


def test_main_writes_the_result_file(world, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    assert rows_demo.main(["--world", str(world.root), "--viewers", "5"]) == 0
    doc = json.loads((tmp_path / "rows_demo.json").read_text())
    assert doc["bench"] == "rows_demo" and doc["metrics"]["viewers_sampled"] == 5
    (target,) = doc["targets"]
    assert target["op"] == ">=" and target["target"] == 1.0 and isinstance(target["met"], bool)
