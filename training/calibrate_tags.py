"""Fit per-tag Platt calibration from labelled examples, and report how well tags are calibrated.

    python -m training.calibrate_tags --tags cal.parquet --labels truth.csv [--labels people.csv]
        --out models/weights/demo-tags [--eval-tags heldout.parquet --eval-labels truth.csv]

``--tags`` is a tag store made by ``artwork tag`` (its raw scores are refitted; nothing is
encoded again); ``--labels`` are the demo world's truth and/or human labels (``artwork_id, tag,
label``), later files overriding earlier ones. The held-out pair measures mean average precision
per group and the expected calibration error before and after, with a reliability diagram.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from artwork.labels import load_labels
from artwork.tag_store import TagTable, read_tags
from artwork.tagging import build_tag_model
from models.clip import EncoderSpec, load_encoder
from models.tag_metrics import (
    expected_calibration_error,
    mean_average_precision_per_group,
    reliability_table,
)
from models.tags import TagModel

log = logging.getLogger("calibrate_tags")


def main(argv: list[str] | None = None) -> int:
    """Fit, evaluate, save; print a table of mAP and ECE per group."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    fit_table = read_tags(args.tags)
    spec = EncoderSpec(model=args.clip_model, pretrained=args.clip_pretrained, device="cpu",
                       precision="fp32")  # fmt: skip
    base = build_tag_model(load_encoder(spec))
    if base.model_id != fit_table.header.model_id or base.tags != fit_table.tags:
        print(f"error: {args.tags} was made with encoder {fit_table.header.model_id!r}, "
              f"not {base.model_id!r} (--clip-model)", file=sys.stderr)  # fmt: skip
        return 2
    fit_labels = load_labels(args.labels, fit_table.artwork_ids, fit_table.tags)
    calibrated = base.fit_calibration(fit_table.scores, fit_labels.labels, fit_labels.known)
    log.info("fitted %d of %d tags on %s labels", int(calibrated.calibrated.sum()),
             len(calibrated.tags), fit_labels.counts())  # fmt: skip

    metrics = {"fit": evaluate(base, calibrated, fit_table, fit_labels.labels, fit_labels.known)}
    if args.eval_tags:
        if not args.eval_labels:
            print("error: --eval-tags needs --eval-labels", file=sys.stderr)
            return 2
        held = read_tags(args.eval_tags)
        held_labels = load_labels(args.eval_labels, held.artwork_ids, held.tags)
        metrics["heldout"] = evaluate(base, calibrated, held, held_labels.labels,
                                      held_labels.known)  # fmt: skip
        if args.plot:
            plot_reliability(base, calibrated, held, held_labels.labels, held_labels.known,
                             args.plot)  # fmt: skip
    metrics["data"] = {"fit_tags": str(args.tags), "labels": [str(p) for p in args.labels],
                       "eval_tags": str(args.eval_tags) if args.eval_tags else None}  # fmt: skip
    calibrated.with_metrics(metrics).save(args.out)
    print(format_table(metrics))
    log.info("calibrated tag model %s written to %s", calibrated.calibration_version, args.out)
    return 0


def evaluate(
    base: TagModel, calibrated: TagModel, table: TagTable, labels: np.ndarray, known: np.ndarray
) -> dict[str, dict[str, float]]:
    """Per group (and "all"): mAP of the scores, ECE before (zero-shot) and after calibration."""
    before = base.probabilities_from_scores(table.scores)
    after = calibrated.probabilities_from_scores(table.scores)
    m_ap = mean_average_precision_per_group(labels, after, known, calibrated.groups)
    out = {}
    for group in [*dict.fromkeys(calibrated.groups), "all"]:
        cols = np.array([group in (g, "all") for g in calibrated.groups])
        mask = known[:, cols]
        y = labels[:, cols][mask]
        out[group] = {
            "map": round(m_ap[group], 4),
            "ece_uncalibrated": round(expected_calibration_error(y, before[:, cols][mask]), 4),
            "ece_calibrated": round(expected_calibration_error(y, after[:, cols][mask]), 4),
            "labels": int(mask.sum()),
        }
    return out


def format_table(metrics: dict) -> str:
    """The metrics as a fixed-width table, one row per split and group."""
    lines = [f"{'split':<8} {'group':<8} {'mAP':>6} {'ECE before':>11} {'ECE after':>10} "
             f"{'labels':>8}"]  # fmt: skip
    for split in ("fit", "heldout"):
        for group, m in metrics.get(split, {}).items():
            lines.append(f"{split:<8} {group:<8} {m['map']:>6.3f} {m['ece_uncalibrated']:>11.4f} "
                         f"{m['ece_calibrated']:>10.4f} {m['labels']:>8}")  # fmt: skip
    return "\n".join(lines)


def plot_reliability(base, calibrated, table, labels, known, path: Path) -> None:
    """Reliability diagrams (fraction positive against mean probability) before and after."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(calibrated.groups))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        cols = np.array([g == group for g in calibrated.groups])
        mask = known[:, cols]
        y = labels[:, cols][mask]
        for name, model in (("zero-shot", base), ("calibrated", calibrated)):
            p = model.probabilities_from_scores(table.scores)[:, cols][mask]
            bins = [b for b in reliability_table(y, p) if b.count]
            ece = expected_calibration_error(y, p)
            ax.plot([b.mean_probability for b in bins], [b.fraction_positive for b in bins],
                    marker="o", label=f"{name} (ECE {ece:.3f})")  # fmt: skip
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(title=group, xlabel="predicted probability", ylabel="fraction positive",
               xlim=(0, 1), ylim=(0, 1))  # fmt: skip
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.calibrate_tags",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tags", type=Path, required=True, help="tag store to fit on")
    parser.add_argument(
        "--labels",
        type=Path,
        action="append",
        required=True,
        help="truth.csv or human labels CSV; repeat, later files win",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the tag model")
    parser.add_argument("--eval-tags", type=Path, help="held-out tag store")
    parser.add_argument("--eval-labels", type=Path, action="append", help="its labels")
    parser.add_argument("--plot", type=Path, help="reliability diagram PNG (held-out)")
    parser.add_argument("--clip-model", default="demo")
    parser.add_argument("--clip-pretrained", default=None)
    return parser  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
