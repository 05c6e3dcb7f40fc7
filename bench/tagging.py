"""Tagging throughput: a naive per-image loop against our batch job, and the CPU's ceiling.

    python -m bench.tagging [--images 512] [--model ViT-B-32] [--workers 2] [--batch-size 64]

On ``--images`` demo-world JPEG stills, with the same encoder (random weights, saved once to a
checkpoint file and loaded through the real checkpoint path: speed does not depend on them), in
one run:

(a) naive: open each file with PIL, preprocess, ``encode_image`` one at a time in fp32;
(b) ours: ``artwork.tagging.tag_catalog`` end to end (decode workers, quality signals with face
    detection, batched inference at the fastest precision, Parquet chunks), as a user runs it:
    the tag model's prompt embeddings cached from an earlier run with this encoder
    (``cached_tag_model``); also the first run, which builds that cache (``first_run``), and the
    steady state (between the first and the last committed chunk, without start-up);
(c) ceiling: the better of the CPU's measured fp32 and bf16 matrix-multiply rates divided by
    the encoder's forward FLOPs per image (counted by torch's FlopCounterMode).

Targets: (b) ≥ 2 × (a) and (b) ≥ 75 % of (c). Writes ``bench/results/tagging.json``.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import save_file
from torch.utils.flop_counter import FlopCounterMode

from artwork.catalog import load_catalog, write_catalog
from artwork.demo.world import WorldSpec, build_world
from artwork.tagging import TaggingSummary, tag_catalog
from bench.report import Target, write_result
from models.clip import (
    ClipEncoder,
    EncoderSpec,
    load_encoder,
    matmul_gflops,
    resolve_precision,
)

WORK = Path(".cache/bench/tagging")


def main(argv: list[str] | None = None) -> int:
    """Run (a), (b), (c) for each encoder asked for, print a table, write the JSON result."""
    args = _parser().parse_args(argv)
    catalog = demo_catalog(args.images)
    rates = {"fp32": matmul_gflops(torch.float32), "bf16": matmul_gflops(torch.bfloat16)}
    best_precision = resolve_precision("auto", torch.device("cpu"))
    metrics: dict[str, float | str] = {"matmul_gflops_fp32": round(rates["fp32"], 1),
                                       "matmul_gflops_bf16": round(rates["bf16"], 1),
                                       "precision": best_precision}  # fmt: skip
    targets: list[Target] = []
    rows = []
    for name, spec in _encoders(args.model, best_precision):
        gflops = forward_gflops(spec)
        naive = naive_rate(catalog, spec, limit=args.naive_images)
        shutil.rmtree(WORK / "cache", ignore_errors=True)
        first, _ = batch_job_rate(catalog, spec, args.batch_size, args.workers)
        ours, steady = batch_job_rate(catalog, spec, args.batch_size, args.workers)
        ceiling = max(rates.values()) / gflops
        key = name.replace("-", "_").lower()
        metrics.update({f"{key}_gflop_per_image": round(gflops, 3),
                        f"{key}_naive_img_s": round(naive, 1),
                        f"{key}_ours_img_s": round(ours, 1),
                        f"{key}_ours_first_run_img_s": round(first, 1),
                        f"{key}_ours_steady_img_s": round(steady, 1),
                        f"{key}_ceiling_img_s": round(ceiling, 1)})  # fmt: skip
        targets += [Target(f"{key}_speedup_vs_naive", ours / naive, ">=", 2.0),
                    Target(f"{key}_share_of_ceiling", ours / ceiling, ">=", 0.75)]  # fmt: skip
        rows.append((name, gflops, naive, first, ours, steady, ceiling))

    print(f"{'encoder':<12} {'GFLOP/img':>9} {'(a) naive':>10} {'first run':>9} {'(b) ours':>9} "
          f"{'steady':>7} {'(c) ceil':>9} {'b/a':>5} {'b/c':>5}   img/s")  # fmt: skip
    for name, gflops, naive, first, ours, steady, ceiling in rows:
        print(f"{name:<12} {gflops:>9.2f} {naive:>10.1f} {first:>9.1f} {ours:>9.1f} {steady:>7.1f} "
              f"{ceiling:>9.1f} {ours / naive:>5.2f} {ours / ceiling:>5.2f}")  # fmt: skip
    print(f"CPU matmul: fp32 {rates['fp32']:.0f} GFLOP/s, bf16 {rates['bf16']:.0f} GFLOP/s; "
          f"batch job precision {best_precision}")  # fmt: skip
    write_result("tagging", argv, metrics, targets)
    return 0


def forward_gflops(spec: EncoderSpec) -> float:
    """Forward FLOPs of ``encode_image`` for one image, in GFLOP (a multiply-add counts 2)."""
    encoder = load_encoder(replace(spec, device="cpu", precision="fp32"))
    h, w = input_hw(encoder)
    # Train mode with gradients on: in inference, nn.MultiheadAttention takes a fused fast path
    # that FlopCounterMode does not see (it would count 5.9 instead of ViT-B-32's 8.8 GFLOP).
    encoder.model.train()
    with FlopCounterMode(display=False) as counter:
        encoder.model.encode_image(torch.zeros(1, 3, h, w))
    return counter.get_total_flops() / 1e9


def input_hw(encoder: ClipEncoder) -> tuple[int, int]:
    """The (height, width) of the encoder's input (its preprocessing ``size``)."""
    size = encoder.preprocess_cfg["size"]
    return (size, size) if isinstance(size, int) else tuple(size)


def naive_rate(catalog: Path, spec: EncoderSpec, limit: int) -> float:
    """(a): images/s of a one-at-a-time fp32 loop over the catalog's files."""
    encoder = load_encoder(replace(spec, device="cpu", precision="fp32"))
    paths = [catalog / a.path for a in load_catalog(catalog).artwork.values()][:limit]
    with torch.inference_mode():
        encoder.model.encode_image(encoder.preprocess(Image.open(paths[0])).unsqueeze(0))
        start = time.perf_counter()
        for path in paths:
            with Image.open(path) as image:
                pixels = encoder.preprocess(image.convert("RGB")).unsqueeze(0)
            encoder.model.encode_image(pixels)
    return len(paths) / (time.perf_counter() - start)


def batch_job_rate(
    catalog: Path, spec: EncoderSpec, batch_size: int, workers: int
) -> tuple[float, float]:
    """(b): images/s of the whole tagging job, and between its first and last chunk."""
    chunk_size = 128
    return timed_run(
        lambda on_chunk: tag_catalog(catalog, WORK / "tags.parquet", spec, batch_size=batch_size,
                                     workers=workers, chunk_size=chunk_size, restart=True,
                                     progress=False, on_chunk=on_chunk,
                                     cache_dir=WORK / "cache"),
        chunk_size,
    )  # fmt: skip


def timed_run(
    run: Callable[[Callable[[int], None]], TaggingSummary], chunk_size: int
) -> tuple[float, float]:
    """Images/s of ``run(on_chunk)`` end to end, and in its steady state: between its first and
    last committed chunk of ``chunk_size`` (NaN with fewer than two chunks)."""
    chunk_times: list[float] = []
    summary = run(lambda _: chunk_times.append(time.perf_counter()))
    steady = float("nan")
    if len(chunk_times) >= 2:
        steady = chunk_size * (len(chunk_times) - 1) / (chunk_times[-1] - chunk_times[0])
    return summary.images_per_s, steady


def _encoders(model: str, precision: str) -> list[tuple[str, EncoderSpec]]:
    encoders = [(model, EncoderSpec(model=model, pretrained=str(random_checkpoint(model)),
                                    device="cpu", precision=precision,
                                    preprocess_from="openai"))]  # fmt: skip
    demo = EncoderSpec(model="demo", device="cpu", precision=precision)
    try:
        load_encoder(demo)
    except Exception as exc:  # noqa: BLE001 - the demo encoder is optional here
        print(f"demo encoder skipped: {exc}")
    else:
        encoders.append(("demo", demo))
    return encoders


def random_checkpoint(model: str) -> Path:
    """``model`` with random weights, saved once as a safetensors checkpoint (a stable id)."""
    path = WORK / f"{model}-random.safetensors"
    if not path.is_file():
        encoder = load_encoder(EncoderSpec(model=model, device="cpu", precision="fp32"))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in encoder.model.state_dict().items()}, str(path))
    return path


def demo_catalog(n: int) -> Path:
    """A catalog of exactly ``n`` demo stills (copied from a world large enough to hold them)."""
    folder = WORK / f"catalog-{n}"
    if (folder / "artwork.csv").is_file():
        return folder
    world = WORK / "world"
    titles = max(1, n // 5)
    while True:
        if not (world / "world.json").is_file() or len(load_catalog(world).artwork) < n:
            build_world(world, WorldSpec(seed=7, titles=titles, viewers=10), force=True)
        source = load_catalog(world)
        if len(source.artwork) >= n:
            break
        titles *= 2
    artwork = list(source.artwork.values())[:n]
    keep = {a.title_id for a in artwork}
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for a in artwork:
        shutil.copyfile(source.image_path(a.artwork_id), folder / a.path)
    write_catalog(folder, [t for t in source.titles.values() if t.title_id in keep], artwork)
    return folder


def tagging_parser(module: str, doc: str | None, images: int, batch_size: int
                   ) -> argparse.ArgumentParser:  # fmt: skip
    """The parser of a tagging bench (``python -m bench.MODULE``, ``doc`` as its help) with the
    options they share: ``--images``, ``--model`` and ``--batch-size``."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bench.{module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--images", type=int, default=images)
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = tagging_parser("tagging", __doc__, images=512, batch_size=64)
    parser.add_argument("--naive-images", type=int, default=128,
                        help="images timed in the naive loop (its rate is steady)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    return parser


if __name__ == "__main__":
    print(f"{platform.machine()}, {torch.get_num_threads()} torch threads")
    raise SystemExit(main())
