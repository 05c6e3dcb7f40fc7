"""Tag quality of the demo encoder on demo worlds it never saw: mAP per group and calibration.

    python -m bench.tag_quality [--save-model models/weights/demo-tags]

Tags a calibration world (seed 303) and a held-out world (seed 404) with the demo encoder,
fits per-tag Platt calibration on the first (``training.calibrate_tags``), and reports on the
second: mean average precision per group and the expected calibration error before and after.
Targets: mAP ≥ 0.90 for objects and moods, ≥ 0.80 for genres; ECE ≤ 0.05 after calibration.
Writes ``bench/results/tag_quality.json``, a reliability diagram and a contact sheet of held-out
stills with their truth and their calibrated tags.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
from pathlib import Path

from artwork.demo.sheet import world_sheet
from artwork.demo.world import WorldSpec, build_world
from artwork.tag_store import read_tags
from artwork.tagging import tag_catalog
from bench.report import RESULTS, Target, write_result
from models.clip import EncoderSpec
from models.precision import DEVICES
from models.tags import TagModel
from training import calibrate_tags

WORK = Path(".cache/bench/tag_quality")
WORLDS = {"calibration": (303, 200), "heldout": (404, 150)}  # name: (seed, titles)


def main(argv: list[str] | None = None) -> int:
    """Tag both worlds, calibrate, evaluate, and write the result, diagram and sheet."""
    args = _parser().parse_args(argv)
    spec = EncoderSpec(model="demo", device=args.device)
    stores, truths = {}, {}
    for name, (seed, titles) in WORLDS.items():
        world = WORK / f"world-{seed}-{titles}"
        if not (world / "world.json").is_file():
            build_world(world, WorldSpec(seed=seed, titles=titles, viewers=10), force=True)
        stores[name] = WORK / f"{name}.parquet"
        tag_catalog(world, stores[name], spec, workers=args.workers, restart=True)
        truths[name] = world / "truth.csv"

    model_dir = WORK / "demo-tags"
    RESULTS.mkdir(exist_ok=True)
    code = calibrate_tags.main([
        "--tags", str(stores["calibration"]), "--labels", str(truths["calibration"]),
        "--eval-tags", str(stores["heldout"]), "--eval-labels", str(truths["heldout"]),
        "--out", str(model_dir), "--plot", str(RESULTS / "tag_reliability.png"),
    ])  # fmt: skip
    if code:
        return code
    model = TagModel.load(model_dir)
    held = model.metrics["heldout"]

    # The sheet shows calibrated tags: rescore the held-out store with the fitted model.
    table = read_tags(stores["heldout"])
    table = replace(table, probabilities=model.probabilities_from_scores(table.scores))
    sheet = world_sheet(truths["heldout"].parent, count=24, seed=1, columns=6, tags=table)
    sheet.convert("RGB").save(RESULTS / "tag_sheet.jpg", quality=85)

    metrics = {f"{g}_{k}": v for g, m in held.items() for k, v in m.items()}
    metrics["model_id"] = model.model_id
    metrics["calibration_version"] = model.calibration_version
    targets = [
        Target("map_objects", held["objects"]["map"], ">=", 0.90),
        Target("map_moods", held["moods"]["map"], ">=", 0.90),
        Target("map_genres", held["genres"]["map"], ">=", 0.80),
        Target("ece_calibrated_all", held["all"]["ece_calibrated"], "<=", 0.05),
    ]
    write_result("tag_quality", argv, metrics, targets)
    if args.save_model:
        shutil.rmtree(args.save_model, ignore_errors=True)
        shutil.copytree(model_dir, args.save_model)
        print(f"calibrated tag model saved to {args.save_model}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tag_quality",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--save-model",
        type=Path,
        default=None,
        help="also copy the calibrated tag model here (models/weights/demo-tags)",
    )
    return parser  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
