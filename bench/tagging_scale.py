"""Tagging throughput across workers: the Ray engine with 1 and 2 actors, the local engine beside.

    python -m bench.tagging_scale [--images 512] [--model ViT-B-32] [--batch-size 16]

On ``--images`` demo-world stills (``bench.tagging``'s catalog) with the same encoder
(``bench.tagging``'s random-weight checkpoint: speed does not depend on the weights), at the
precision the local engine picks on this CPU, in one run:

(a) local: ``artwork.tagging.tag_catalog``, 2 decoding processes, inference on every core;
(b) ray ×1 and ray ×2: ``artwork.tagging_ray.tag_catalog_ray`` with 1 and 2 actors of one CPU
    (one torch thread) each, each actor decoding and tagging its own batches, on one local Ray
    started here (its start-up time is reported apart);
(c) decoding alone on one core (read, quality signals with face detection, preprocessing:
    ``artwork.tagging_steps.decode_artwork``), what each CPU core can feed a GPU; and the tag
    store's bytes per image.

Each is timed end to end and in its steady state (first to last committed chunk: without the
encoder loading in each actor), with the 1-minute load average after it: on a machine shared
with other work, the wall-clock rates and the gain of a second worker shrink with that load.
The per-worker rate is ray ×1's steady rate; it is what the arithmetic in ``docs/scaling.md``
scales. Target: ray ×2 ≥ 1.6 × ray ×1 (steady), the driver sharing the cores with the
workers. Images per CPU-second count the CPU time of this process and all its descendants
(``/proc``): on Linux with autogroup scheduling a session gets a fair share of the machine
whatever it starts, so while other sessions are busy a second worker may find no second core;
the images per CPU-second then still say what each worker costs. Writes
``bench/results/tagging_scale.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import torch

from artwork.catalog import load_catalog
from artwork.image_files import DEFAULT_MAX_PIXELS
from artwork.tagging import TaggingSummary, tag_catalog
from artwork.tagging_steps import decode_artwork, input_side
from bench.report import Target, write_result
from bench.tagging import WORK, demo_catalog, random_checkpoint, tagging_parser, timed_run
from models.clip import EncoderSpec, load_encoder, resolve_precision

CHUNK_SIZE = 64
LABELS = {"local": "2 decode + 1 main", "ray_1": "1 actor × 1 CPU", "ray_2": "2 actors × 1 CPU"}


@dataclass(frozen=True)
class Rates:
    """One run: images/s end to end and steady, images per CPU-second (steady), load after."""

    whole: float
    steady: float
    per_cpu_s: float
    load: float


def main(argv: list[str] | None = None) -> int:
    """Run (a), (b) and (c), print a table, write the JSON result."""
    args = _parser().parse_args(argv)
    import ray  # the dev extra's: imported here so that --help works without it

    from artwork.tagging_ray import RayCluster, tag_catalog_ray

    catalog = demo_catalog(args.images)
    precision = resolve_precision("auto", torch.device("cpu"))
    spec = EncoderSpec(model=args.model, pretrained=str(random_checkpoint(args.model)),
                       device="cpu", precision=precision, preprocess_from="openai")  # fmt: skip
    out, cache = WORK / "scale.parquet", WORK / "cache"
    options = {"batch_size": args.batch_size, "chunk_size": CHUNK_SIZE, "restart": True,
               "progress": False, "cache_dir": cache}  # fmt: skip

    rates = {"local": measured_run(lambda on_chunk: tag_catalog(
        catalog, out, spec, workers=2, on_chunk=on_chunk, **options))}  # fmt: skip
    started = time.perf_counter()
    # Ray runs its workers at niceness 15; here they would lose the cores to any other work on
    # the machine, which the local engine (niceness 0) does not: compare like with like.
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             _system_config={"worker_niceness": 0})  # fmt: skip
    ray_start = time.perf_counter() - started
    try:
        for workers in (1, 2):
            cluster = RayCluster(workers=workers, cpus_per_worker=1)
            rates[f"ray_{workers}"] = measured_run(
                lambda on_chunk, cluster=cluster: tag_catalog_ray(
                    catalog, out, spec, cluster=cluster, on_chunk=on_chunk, **options
                )
            )
    finally:
        ray.shutdown()
    decode = decode_rate(catalog, spec, limit=args.decode_images)

    one, two = rates["ray_1"], rates["ray_2"]
    metrics: dict[str, float | str | int] = {"model": args.model, "precision": precision,
                                             "images": args.images,
                                             "ray_start_s": round(ray_start, 1)}  # fmt: skip
    for name, r in rates.items():
        metrics.update({f"{name}_img_s": round(r.whole, 1),
                        f"{name}_steady_img_s": round(r.steady, 1),
                        f"{name}_img_per_cpu_s": round(r.per_cpu_s, 2),
                        f"{name}_load_1min": round(r.load, 2)})  # fmt: skip
    gain = two.steady / one.steady
    metrics.update({"per_worker_steady_img_s": round(one.steady, 1),
                    "decode_one_core_img_s": round(decode, 1),
                    "store_bytes_per_image": round(out.stat().st_size / args.images),
                    "speedup_2_vs_1_workers": round(two.whole / one.whole, 2),
                    "speedup_2_vs_1_workers_steady": round(gain, 2)})  # fmt: skip
    targets = [Target("ray_2_vs_1_workers_steady", gain, ">=", 1.6)]

    print(f"{'engine':<6} {'workers':>18} {'img/s':>7} {'steady':>7} {'img/CPU·s':>9} {'load':>5}")
    for name, r in rates.items():
        print(f"{name.split('_')[0]:<6} {LABELS[name]:>18} {r.whole:>7.1f} {r.steady:>7.1f} "
              f"{r.per_cpu_s:>9.2f} {r.load:>5.1f}")  # fmt: skip
    print(f"decoding alone, one core: {decode:.1f} img/s; tag store: "
          f"{metrics['store_bytes_per_image']} bytes/image")  # fmt: skip
    print(f"{args.model} at {precision}, {args.images} images; Ray started in {ray_start:.1f} s; "
          f"2 vs 1 workers: ×{gain:.2f} steady, "
          f"×{two.whole / one.whole:.2f} end to end")  # fmt: skip
    write_result("tagging_scale", argv, metrics, targets)
    return 0


def measured_run(run: Callable[[Callable[[int], None]], TaggingSummary]) -> Rates:
    """``timed_run`` of ``run(on_chunk)``, with the CPU time this process and its descendants
    (decoding processes, Ray's processes and actors) spent between the first and last chunk."""
    samples: list[dict[int, float]] = []

    def sampled(on_chunk: Callable[[int], None]) -> TaggingSummary:
        def on_chunk_sampled(number: int) -> None:
            on_chunk(number)
            samples.append(process_tree_cpu_s())

        return run(on_chunk_sampled)

    whole, steady = timed_run(sampled, CHUNK_SIZE)
    per_cpu_s = float("nan")
    if len(samples) >= 2 and samples[-1]:
        first, last = samples[0], samples[-1]
        cpu_s = sum(t - first.get(pid, 0.0) for pid, t in last.items())
        per_cpu_s = CHUNK_SIZE * (len(samples) - 1) / cpu_s
    return Rates(whole, steady, per_cpu_s, os.getloadavg()[0])


def process_tree_cpu_s() -> dict[int, float]:
    """User + system CPU seconds of this process and each descendant, by pid, from Linux's
    /proc (empty where there is none)."""
    parents, cpu_s = {}, {}
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (name) "
        pid = int(stat.parent.name)
        parents[pid], cpu_s[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {os.getpid()}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    return {pid: cpu_s[pid] for pid in tree if pid in cpu_s}


def decode_rate(catalog: Path, spec: EncoderSpec, limit: int) -> float:
    """(c): images/s of ``decode_artwork`` alone over the catalog's first ``limit`` images, on
    one core (one torch and one OpenCV thread)."""
    encoder = load_encoder(spec)
    items = [(a.artwork_id, a.title_id, str(catalog / a.path))
             for a in load_catalog(catalog).artwork.values()][:limit]  # fmt: skip
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        start = time.perf_counter()
        for item in items:
            decode_artwork(*item, encoder.preprocess, min_side=input_side(encoder),
                           max_pixels=DEFAULT_MAX_PIXELS)  # fmt: skip
        return len(items) / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv_threads)


def _parser() -> argparse.ArgumentParser:
    parser = tagging_parser("tagging_scale", __doc__, images=512, batch_size=16)
    parser.add_argument("--decode-images", type=int, default=256, help="images timed in (c)")
    return parser


if __name__ == "__main__":
    print(f"{platform.machine()}, {torch.get_num_threads()} torch threads")
    raise SystemExit(main())
