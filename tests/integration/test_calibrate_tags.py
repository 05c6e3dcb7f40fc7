"""Tag calibration end to end: tag a tiny world, fit Platt scaling on its truth, report, reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from artwork.demo.world import WorldSpec, build_world
from artwork.tagging import tag_catalog
from models.tags import TagModel
from training import calibrate_tags


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory, tiny_clip_spec) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("calibrate")
    out = {}
    for name, seed in (("fit", 1), ("held", 2)):
        world = build_world(root / name, WorldSpec(seed=seed, titles=6, viewers=2), workers=1)
        tag_catalog(world, root / f"{name}.parquet", tiny_clip_spec, workers=0, progress=False)
        out[name], out[f"{name}_truth"] = root / f"{name}.parquet", world / "truth.csv"
    out["root"] = root
    return out


def test_calibration_is_fitted_reported_and_saved(tagged, tiny_clip_spec, capsys) -> None:
    out_dir, plot = tagged["root"] / "tags-model", tagged["root"] / "reliability.png"
    code = calibrate_tags.main([
        "--tags", str(tagged["fit"]), "--labels", str(tagged["fit_truth"]),
        "--eval-tags", str(tagged["held"]), "--eval-labels", str(tagged["held_truth"]),
        "--out", str(out_dir), "--plot", str(plot), "--clip-model", tiny_clip_spec.model,
    ])  # fmt: skip
    assert code == 0
    table = capsys.readouterr().out
    assert "heldout  objects" in table and "ECE before" in table
    model = TagModel.load(out_dir)
    assert model.calibration_version != "uncalibrated" and model.calibrated.any()
    held = model.metrics["heldout"]
    assert set(held) == {"objects", "moods", "genres", "all"}
    # Platt scaling fitted on the same kind of data cannot be worse calibrated than random
    # zero-shot scores pushed through the encoder's logit scale.
    assert held["all"]["ece_calibrated"] < held["all"]["ece_uncalibrated"]
    assert plot.stat().st_size > 1000
    card = json.loads((out_dir / "tag_model.json").read_text())
    assert card["kind"] == "tag_model"


def test_a_store_from_another_encoder_is_refused(tagged, tiny_clip_config, capsys) -> None:
    code = calibrate_tags.main(
        [
            "--tags",
            str(tagged["fit"]),
            "--labels",
            str(tagged["fit_truth"]),
            "--out",
            str(tagged["root"] / "x"),
            "--clip-model",
            "ViT-B-32",
        ]
    )
    assert code == 2
    assert "was made with encoder" in capsys.readouterr().err
