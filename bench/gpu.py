"""GPU figures: the tagger, the demo encoder's training and the neural bandit's retraining on a
CUDA device, each beside the same work on this machine's CPU, in one run.

    python -m bench.gpu [--images 4096] [--model ViT-B-32] [--batch-size 64] [--workers N]
        [--clip-batch 64] [--no-ray]

In this order (the short phases first, so that a run cut off by a time limit still has them):

(a) ``training.train_clip``: seconds per step at ``--clip-batch`` on the GPU in fp32 and in bf16
    autocast and on the CPU, from the wall time of a short and a long run (20 and 120 steps on
    the GPU, 4 and 16 on the CPU: their difference leaves out start-up and evaluation);
(b) ``models.bandits.neural_linear``: one retrain (a full 4,096-row buffer, 5 epochs of
    minibatches of 64) on the CPU in fp32 and on the GPU in fp32 and bf16;
(c) tagging: ``artwork.tagging.tag_catalog`` on ``--images`` demo stills (``bench.tagging``'s
    catalog and random-weight checkpoint) with ``--workers`` decoding processes (default: every
    core but one): ``--model`` on the GPU at bf16 and fp32 and on the CPU at its fastest
    precision, and the demo encoder on the GPU at bf16. Each run gives its rate end to end, its
    rate over its later half (the decoders read ahead while the encoder loads, so the first
    chunks come faster than the job can go on; the read-ahead, 2 batches a worker, should be
    under half the images) and its start-up (seconds to the first chunk).
    Beside the bf16 runs, the job's two bounds: the encoder alone on the GPU (batches already
    in GPU memory), and decoding alone on one core (``bench.tagging_scale.decode_rate``) times
    the workers;
(d) the same job on Ray (``artwork.tagging_ray``): one GPU actor, decoding in CPU tasks (skipped
    with ``--no-ray`` or without Ray).

Target: each GPU job's later-half rate is ≥ 75 % of the lower of its two bounds (it neither
starves the GPU nor idles its decoders). Writes ``bench/results/gpu.json`` after each phase
(``"complete": false`` until the last, so a run cut off by a time limit keeps what it measured);
exits 2 without CUDA.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from artwork.tagging import TaggingSummary, tag_catalog
from bench.report import Target, write_result
from bench.tagging import WORK, demo_catalog, input_hw, random_checkpoint, tagging_parser
from bench.tagging_scale import decode_rate
from models.clip import EncoderSpec, load_encoder, resolve_precision

CHUNK_SIZE = 512
READ_AHEAD_BATCHES = 2  # a DataLoader worker's prefetch (torch's default prefetch_factor)
ACCELERATOR = "cuda"  # a smoke test sets "cpu" to run the same steps without a GPU
CLIP_STEPS = {"cpu": (4, 16), "cuda": (20, 120)}  # steps of the short and the long run


def main(argv: list[str] | None = None) -> int:
    """Run (a)–(d), print a table, write the JSON result."""
    args = _parser().parse_args(argv)
    if ACCELERATOR == "cuda" and not torch.cuda.is_available():
        print("error: bench.gpu needs a CUDA device; none is visible")
        return 2
    workers = args.workers or max(1, (os.cpu_count() or 2) - 1)
    cpu_precision = resolve_precision("auto", torch.device("cpu"))
    metrics: dict[str, float | str | int | bool] = {
        "torch": torch.__version__, "images": args.images,
        "decode_workers": workers, "cpu_precision": cpu_precision, "complete": False,
    }  # fmt: skip
    targets: list[Target] = []

    def save(complete: bool = False) -> None:
        metrics["complete"] = complete
        write_result("gpu", argv, metrics, targets)

    # The short phases first: a run cut off by its time limit still has them.
    metrics.update(clip_step_seconds(args.clip_batch))
    metrics.update(bandit_retrain_seconds())
    save()
    for name, value in metrics.items():
        if name.startswith(("train_clip_", "neural_linear_")):
            print(f"{name:<40} {value}")
    read_ahead = READ_AHEAD_BATCHES * workers * args.batch_size
    if read_ahead > args.images // 2:
        print(f"warning: the decoders read {read_ahead} images ahead, more than half of "
              f"--images {args.images}: the late rate includes read-ahead")  # fmt: skip
    catalog = demo_catalog(args.images)
    checkpoint = str(random_checkpoint(args.model))
    model = EncoderSpec(model=args.model, pretrained=checkpoint, preprocess_from="openai")
    runs = {  # (encoder, where): spec
        (args.model, "gpu_bf16"): replace(model, device=ACCELERATOR, precision="bf16"),
        (args.model, "gpu_fp32"): replace(model, device=ACCELERATOR, precision="fp32"),
        (args.model, "cpu"): replace(model, device="cpu", precision=cpu_precision),
        ("demo", "gpu_bf16"): EncoderSpec(model="demo", device=ACCELERATOR, precision="bf16"),
    }
    print(f"{'encoder':<10} {'where':<9} {'img/s':>7} {'late':>7} {'start s':>7}")
    for (name, where), spec in runs.items():
        key = f"{name.replace('-', '_').lower()}_{where}"
        rate = job_rate(catalog, spec, args.batch_size, workers)
        metrics.update({f"{key}_img_s": round(rate.whole, 1),
                        f"{key}_late_img_s": round(rate.late, 1),
                        f"{key}_first_chunk_s": round(rate.first_chunk_s, 1)})  # fmt: skip
        print(f"{name:<10} {where:<9} {rate.whole:>7.1f} {rate.late:>7.1f} "
              f"{rate.first_chunk_s:>7.1f}")  # fmt: skip
        save()
        if where != "gpu_bf16":
            continue
        encoder_alone = encoder_rate(spec, args.batch_size)
        decode = decode_rate(catalog, replace(spec, device="cpu", precision=cpu_precision),
                             limit=256)  # fmt: skip
        bound = min(encoder_alone, decode * workers)
        metrics.update({f"{key}_encoder_alone_img_s": round(encoder_alone, 1),
                        f"{key}_decode_one_core_img_s": round(decode, 1),
                        f"{key}_bound_img_s": round(bound, 1)})  # fmt: skip
        print(f"{'':<10} encoder alone {encoder_alone:,.0f} img/s; decoding {decode:.1f} img/s "
              f"a core × {workers} = {decode * workers:,.0f}")  # fmt: skip
        targets.append(Target(f"{key}_job_share_of_bound", rate.late / bound, ">=", 0.75))
        save()
    if args.ray:
        metrics.update(ray_rates(catalog, runs[(args.model, "gpu_bf16")], args.batch_size))
    save(complete=True)
    return 0


@dataclass(frozen=True)
class JobRate:
    """One tagging run: images/s end to end, over its later half (once the decoders' read-ahead
    is used up), and the seconds to its first committed chunk (start-up)."""

    whole: float
    late: float
    first_chunk_s: float


def job_rate(catalog: Path, spec: EncoderSpec, batch_size: int, workers: int) -> JobRate:
    """A run of the local tagging job, timed chunk by chunk."""
    return timed_chunks(
        lambda on_chunk: tag_catalog(catalog, WORK / "gpu.parquet", spec, batch_size=batch_size,
                                     workers=workers, chunk_size=CHUNK_SIZE, restart=True,
                                     progress=False, on_chunk=on_chunk,
                                     cache_dir=WORK / "cache")
    )  # fmt: skip


def timed_chunks(run: Callable[[Callable[[int], None]], TaggingSummary]) -> JobRate:
    """``run(on_chunk)`` timed: the late rate is CHUNK_SIZE images a chunk from the middle
    chunk to the last (NaN with fewer than 4 chunks)."""
    started = time.perf_counter()
    times: list[float] = []
    summary = run(lambda _: times.append(time.perf_counter()))
    late = float("nan")
    if len(times) >= 4:
        middle = len(times) // 2
        late = CHUNK_SIZE * (len(times) - 1 - middle) / (times[-1] - times[middle])
    first = times[0] - started if times else float("nan")
    return JobRate(summary.images_per_s, late, first)


def encoder_rate(spec: EncoderSpec, batch_size: int, batches: int = 20) -> float:
    """Images/s of ``encode_images`` alone on preprocessed batches already on the device."""
    encoder = load_encoder(spec)
    h, w = input_hw(encoder)
    pixels = torch.randn(batch_size, 3, h, w, device=spec.device)
    for _ in range(3):
        encoder.encode_images(pixels)
    _synchronize()
    started = time.perf_counter()
    for _ in range(batches):
        encoder.encode_images(pixels)
    _synchronize()
    return batches * batch_size / (time.perf_counter() - started)


def ray_rates(catalog: Path, spec: EncoderSpec, batch_size: int) -> dict[str, float]:
    """(b): the Ray engine with one GPU actor and decoding tasks on the other cores."""
    try:
        import ray
    except ImportError as exc:
        print(f"ray skipped: {exc}")
        return {}
    from artwork.tagging_ray import RayCluster, tag_catalog_ray

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), num_gpus=int(ACCELERATOR == "cuda"),
             include_dashboard=False, log_to_driver=False)  # fmt: skip
    start_s = time.perf_counter() - started
    try:
        rate = timed_chunks(
            lambda on_chunk: tag_catalog_ray(
                catalog, WORK / "gpu-ray.parquet", spec, cluster=RayCluster(workers=1),
                batch_size=batch_size, chunk_size=CHUNK_SIZE, restart=True, progress=False,
                on_chunk=on_chunk, cache_dir=WORK / "cache")
        )  # fmt: skip
    finally:
        ray.shutdown()
    return {"ray_start_s": round(start_s, 1), "ray_1_gpu_actor_img_s": round(rate.whole, 1),
            "ray_1_gpu_actor_late_img_s": round(rate.late, 1)}  # fmt: skip


def clip_step_seconds(batch: int) -> dict[str, float]:
    """(c): seconds per training step, GPU fp32 / GPU bf16 / CPU (auto precision): the wall time
    of a long and a short run, after one run that builds the training worlds."""
    from training import train_clip

    work = WORK / "train_clip"

    def wall(steps: int, *options: str) -> float:
        argv = ["--out", str(work / "out"), "--work", str(work), "--steps", str(steps),
                "--batch-size", str(batch), "--train-titles", "200", "--heldout-titles", "40",
                "--warmup", "2", "--eval-every", "10000", "--checkpoint-every", "10000",
                *options]  # fmt: skip
        (work / "checkpoint.pt").unlink(missing_ok=True)
        started = time.perf_counter()
        if train_clip.main(argv) != 0:
            raise RuntimeError(f"train_clip {argv} failed")
        return time.perf_counter() - started

    wall(1, "--device", "cpu")  # builds the worlds once
    result: dict[str, float] = {}
    for name, options in {"gpu_fp32": ("--device", ACCELERATOR, "--precision", "fp32"),
                          "gpu_bf16": ("--device", ACCELERATOR, "--precision", "bf16"),
                          "cpu": ("--device", "cpu")}.items():  # fmt: skip
        short, long = CLIP_STEPS[options[1]]
        per_step = (wall(long, *options) - wall(short, *options)) / (long - short)
        result[f"train_clip_{name}_s_per_step"] = round(per_step, 4)
        result[f"train_clip_{name}_img_s"] = round(batch / per_step, 1)
    return result


def bandit_retrain_seconds(rows: int = 4096) -> dict[str, float]:
    """(d): seconds of one neural_linear network retrain (the best of 3), at the service's
    feature sizes (``artwork.features``: 7 context and 8 artwork features)."""
    from models.bandits.neural_linear import NeuralLinearConfig, train_network
    from models.bandits.registry import make_policy

    rng = np.random.default_rng(0)
    policy = make_policy("neural_linear", 7, 8, device="cpu")
    joint = rng.normal(size=(rows, policy.layers["w1"].shape[1]))
    rewards, weights = rng.random(rows), rng.uniform(0.1, 1.0, rows)
    result = {}
    for name, device, precision in (("cpu_fp32", "cpu", "fp32"), ("gpu_fp32", ACCELERATOR, "fp32"),
                                    ("gpu_bf16", ACCELERATOR, "bf16")):  # fmt: skip
        config = NeuralLinearConfig(device=device, precision=precision)
        times = []
        for retrain in range(3):
            started = time.perf_counter()
            train_network(policy.layers, joint, rewards, weights, config, retrain)
            times.append(time.perf_counter() - started)
        result[f"neural_linear_retrain_{name}_s"] = round(min(times), 3)
    return result


def _synchronize() -> None:
    if ACCELERATOR == "cuda":
        torch.cuda.synchronize()


def _parser() -> argparse.ArgumentParser:
    parser = tagging_parser("gpu", __doc__, images=4096, batch_size=64)
    parser.add_argument("--workers", type=int, default=0, help="decoding processes (0: cores − 1)")
    parser.add_argument("--clip-batch", type=int, default=64)
    parser.add_argument("--no-ray", dest="ray", action="store_false")
    return parser


if __name__ == "__main__":
    print(f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads")
    raise SystemExit(main())
