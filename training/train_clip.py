"""Train the demo CLIP encoder on demo-world stills, with captions made from their truth tags.

    python -m training.train_clip [--steps 2000] [--device auto|cpu|cuda] [--resume]

A small open_clip CLIP (``architecture``; input size ``--image-height``/``--image-width``) learns
from two losses: CLIP's contrastive loss between stills and generated captions, and a tag loss
that teaches the zero-shot tag score used at inference, s = cos(image, tag prompt) −
cos(image, neutral prompt), to rank each still's true objects, moods and genres first (binary
cross-entropy on σ(α·s + β), α and β learned, positives of rare tags up-weighted). The
weights go to ``models/weights/demo-clip`` (fp16 safetensors, open_clip's local-dir format)
with a JSON card; checkpoints under ``--work`` make ``--resume`` continue exactly.

On several GPUs or CPU processes, under torchrun (``training.distributed``):

    torchrun --standalone --nproc_per_node N -m training.train_clip [options as above]

Each process takes ``--batch-size`` / N stills of every step's batch (the same batch, same
crops and captions as one process draws); the contrastive loss compares each process's
stills with every process's captions (features gathered with their gradients), batch norm
uses the whole batch, and DDP averages the gradients, so N processes train the weights one
process would, up to floating-point noise. Rank 0 alone evaluates and writes; ``--work``
must be on storage every machine sees for ``--resume`` on several machines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from tqdm import tqdm

from artwork.demo.world import WorldSpec, build_world
from artwork.vocabulary import GROUPS, default_vocabulary
from models.clip import (
    DEMO_DIR,
    fastest_cpu_precision,
    file_digest,
    resolve_device,
    save_encoder,
)
from models.data_parallel import (
    broadcast_object,
    gather_rows,
    share,
    sum_across,
    sync_batch_norm,
    wrap,
)
from models.precision import autocast_dtype, resolve
from training.clip_data import IMAGE_SIZE, StillSet
from training.clip_eval import evaluate, plot_curve
from training.distributed import Processes, barrier, process_group

log = logging.getLogger("train_clip")

CONTEXT_LENGTH = 32
# A small ResNet (timm's resnet10t, trained from scratch) learns object shapes from a few
# thousand stills far faster than a ViT of the same cost: at 500 steps a 6-layer ViT reached
# 0.22 held-out object mAP. Text: a 3-layer transformer over open_clip's BPE vocabulary.
EMBED_DIM = 128


def architecture(size: tuple[int, int]) -> dict:
    """The open_clip config of the demo encoder for input images of ``size`` (H, W)."""
    return {
        "embed_dim": EMBED_DIM,
        "vision_cfg": {"timm_model_name": "resnet10t", "timm_model_pretrained": False,
                       "timm_pool": "avg", "timm_proj": "linear", "image_size": list(size)},
        "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": 49408, "width": 64,
                     "heads": 2, "layers": 3},
    }  # fmt: skip


@dataclass
class TrainConfig:
    """Everything a run depends on; saved in checkpoints and in the model card."""

    out: Path = DEMO_DIR
    work: Path = Path(".cache/train_clip")
    train_world_seed: int = 101
    train_titles: int = 800
    heldout_world_seed: int = 202
    heldout_titles: int = 120
    image_height: int = IMAGE_SIZE[0]
    image_width: int = IMAGE_SIZE[1]
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 300
    weight_decay: float = 0.1
    tag_loss_weight: float = 3.0
    max_pos_weight: float = 30.0
    crop_scale: float = 0.9
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    checkpoint_every: int = 500
    eval_every: int = 500
    resume: bool = False


def main(argv: list[str] | None = None) -> int:
    """Train (or resume), evaluate on a held-out world, and write weights, card and curve;
    under torchrun, as one of its processes. Exit 2 with ``error: ...`` on a bad setting."""
    cfg = _parse(argv)
    processes = Processes.from_environment()
    logging.basicConfig(level=logging.INFO if processes.main else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")  # fmt: skip
    if cfg.batch_size % processes.world_size:
        print(f"error: --batch-size {cfg.batch_size} must be a multiple of the "
              f"{processes.world_size} processes (WORLD_SIZE)", file=sys.stderr)  # fmt: skip
        return 2
    with process_group(processes, resolve_device(cfg.device)) as device:
        train_encoder(cfg, processes, device)
    return 0


def train_encoder(cfg: TrainConfig, processes: Processes, device: torch.device) -> None:
    """The training run of ``main`` on ``device``, as process ``processes.rank``."""
    # Autocast's dtype (None: fp32); "auto" on a CPU is measured, so rank 0 decides for all.
    amp = broadcast_object(
        autocast_dtype(resolve(cfg.precision, device.type, fastest_cpu_precision))
    )
    torch.manual_seed(cfg.seed)
    vocab = default_vocabulary()
    tags = [t for g in GROUPS for t in vocab.groups[g].tags]

    size = (cfg.image_height, cfg.image_width)
    arch = architecture(size)
    worlds = [(cfg.train_world_seed, cfg.train_titles),
              (cfg.heldout_world_seed, cfg.heldout_titles)]  # fmt: skip
    if processes.main:  # one process builds missing worlds; the others wait, then read
        for seed, titles in worlds:
            _world(cfg.work, seed, titles)
    barrier()
    train = StillSet.load(_world(cfg.work, *worlds[0]), tags, size)
    mean, std = train.channel_stats()
    train = train.to(device)
    # Only rank 0 evaluates.
    heldout = StillSet.load(_world(cfg.work, *worlds[1]), tags, size).to(device) \
        if processes.main else None  # fmt: skip
    preprocess_cfg = {"size": list(size), "mean": mean, "std": std,
                      "interpolation": "bicubic", "resize_mode": "squash"}  # fmt: skip
    log.info("train %d stills, held-out %d; device %s, amp %s, %d process(es)", len(train),
             len(heldout or ()), device, amp, processes.world_size)  # fmt: skip

    model = sync_batch_norm(open_clip.CLIP(**arch).to(device))
    # σ(α·s + β) with α = exp(θ): the score s is a difference of cosines, so α must grow large
    # quickly; learning θ at ten times the base rate lets it (CLIP learns its scale in log too).
    tag_head = torch.nn.Parameter(torch.tensor([math.log(40.0), 0.0], device=device))
    encoders = wrap(_Encoders(model, tag_head))
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay, "lr_scale": 1.0},
         {"params": no_decay, "weight_decay": 0.0, "lr_scale": 1.0},
         {"params": [tag_head], "weight_decay": 0.0, "lr_scale": 10.0}],
        lr=cfg.lr, betas=(0.9, 0.98),
    )  # fmt: skip
    # Rare tags (a cactus, a castle) weigh as much as common ones: positives are up-weighted by
    # each tag's negative/positive ratio in the training set, capped.
    positives = train.labels.sum(axis=0)
    pos_weight = torch.tensor(
        np.clip((len(train) - positives) / np.maximum(positives, 1), 1, cfg.max_pos_weight),
        dtype=torch.float32, device=device,
    )  # fmt: skip
    tokenizer = open_clip.tokenizer.SimpleTokenizer(context_length=CONTEXT_LENGTH)
    normalize = _Normalize(mean, std, device)
    checkpoint = cfg.work / "checkpoint.pt"
    step, history = 0, {"step": [], "loss": [], "contrastive": [], "tag": [], "eval": []}
    if cfg.resume and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        tag_head.data.copy_(state["tag_head"])
        step, history = state["step"], state["history"]
        log.info("resumed from %s at step %d", checkpoint, step)

    started = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=step, desc="train_clip", unit="step",
               disable=None if processes.main else True)  # fmt: skip
    part = share(cfg.batch_size)  # this process's rows of every batch
    while step < cfg.steps:
        rng = np.random.default_rng([cfg.seed, step])  # per-step randomness: resumes exactly
        for group in optimizer.param_groups:
            group["lr"] = _lr(cfg, step) * group["lr_scale"]
        index = rng.choice(len(train), size=cfg.batch_size, replace=False)
        pixels = normalize(train.augmented(index, rng, cfg.crop_scale, part).to(device))
        captions = [train.caption(i, rng, vocab) for i in index]  # all: keeps rng in step
        prompts, neutral, group_of = _tag_prompts(vocab, rng)
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
            images, texts, tag_text, neutral_text = encoders(
                pixels, *(tokenizer(t).to(device) for t in (captions[part], prompts, neutral))
            )
        images, texts = images.float(), texts.float()
        contrastive = _clip_loss(images, texts, model.logit_scale.exp(), part)
        scores = images @ tag_text.float().T - (images @ neutral_text.float().T)[:, group_of]
        labels = torch.from_numpy(train.labels[index[part]]).to(device)
        tag_loss = F.binary_cross_entropy_with_logits(
            tag_head[0].exp() * scores + tag_head[1], labels, pos_weight=pos_weight
        )
        loss = contrastive + cfg.tag_loss_weight * tag_loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        step += 1
        if step % 20 == 0 or step == cfg.steps:
            # Each process's losses are means over its equal share: their mean is the batch's.
            losses = sum_across(torch.stack([loss, contrastive, tag_loss]).detach())
            losses = (losses / processes.world_size).tolist()
            for key, value in zip(("step", "loss", "contrastive", "tag"), (step, *losses),
                                  strict=True):  # fmt: skip
                history[key].append(value)
            bar.set_postfix(loss=f"{losses[0]:.3f}", tag=f"{losses[2]:.3f}")
        bar.update()
        if not processes.main:
            continue
        if step % cfg.eval_every == 0 or step == cfg.steps:
            metrics = evaluate(model, tokenizer, normalize, heldout, vocab, device)
            history["eval"].append({"step": step, **metrics})
            log.info("step %d held-out mAP %s", step, metrics)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            _save_checkpoint(checkpoint, model, optimizer, tag_head, step, history, cfg)
    bar.close()
    elapsed = time.perf_counter() - started
    if not processes.main:
        return

    model.eval()
    save_encoder(model, arch, preprocess_cfg, cfg.out, half=True)
    _write_card(cfg, train, heldout, history, elapsed, device, amp, processes)
    plot_curve(history, cfg.out / "loss_curve.png")
    log.info("wrote %s (%.1f MB) in %.0f s", cfg.out,
             (cfg.out / "open_clip_model.safetensors").stat().st_size / 1e6, elapsed)  # fmt: skip


# --- pieces ------------------------------------------------------------------------------------


class _Encoders(torch.nn.Module):
    """The CLIP model and the tag head as one module whose forward encodes a step's inputs:
    DDP averages the gradients of the module it wraps, and needs its forward called."""

    def __init__(self, model: open_clip.CLIP, tag_head: torch.nn.Parameter) -> None:
        super().__init__()
        self.model, self.tag_head = model, tag_head

    def forward(self, pixels, captions, prompts, neutral) -> tuple[torch.Tensor, ...]:
        """Normalised embeddings of the stills, their captions, the tag and neutral prompts."""
        texts = (self.model.encode_text(t, normalize=True) for t in (captions, prompts, neutral))
        return self.model.encode_image(pixels, normalize=True), *texts


class _Normalize:
    def __init__(self, mean: list[float], std: list[float], device: torch.device) -> None:
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _world(work: Path, seed: int, titles: int) -> Path:
    root = work / f"world-{seed}-{titles}"
    if not (root / "world.json").is_file():
        build_world(root, WorldSpec(seed=seed, titles=titles, viewers=10), force=True)
    return root


def _tag_prompts(vocab, rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    """One random prompt per tag, one neutral prompt per group, and each tag's group index."""
    prompts, neutral, group_of = [], [], []
    for g, name in enumerate(GROUPS):
        group = vocab.groups[name]
        for tag in group.tags:
            options = group.prompts(tag)
            prompts.append(options[int(rng.integers(len(options)))])
            group_of.append(g)
        options = group.neutral_prompts()
        neutral.append(options[int(rng.integers(len(options)))])
    return prompts, neutral, np.array(group_of)


def _clip_loss(
    images: torch.Tensor, texts: torch.Tensor, scale: torch.Tensor, part: slice
) -> torch.Tensor:
    """CLIP's symmetric cross-entropy over the rows ``part`` of the batch's logits and of their
    transpose, this process's stills and captions against every process's (gathered with
    gradients, as open_clip's ``ClipLoss(local_loss=True, gather_with_grad=True)``)."""
    all_images, all_texts = gather_rows(images), gather_rows(texts)
    target = torch.arange(part.start, part.stop, device=images.device)
    per_image = scale * images @ all_texts.T
    per_text = (scale * all_images @ texts.T).T  # columns of the batch's logits, as one process
    return (F.cross_entropy(per_image, target) + F.cross_entropy(per_text, target)) / 2


def _lr(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 5 % of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def _save_checkpoint(path, model, optimizer, tag_head, step, history, cfg) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "tag_head": tag_head.detach(), "step": step, "history": history,
                "config": config}, tmp)  # fmt: skip
    tmp.replace(path)


def _write_card(cfg, train: StillSet, heldout: StillSet, history, elapsed, device, amp,
                processes: Processes) -> None:  # fmt: skip
    weights = cfg.out / "open_clip_model.safetensors"
    card = {
        "kind": "clip_encoder",
        "schema_version": 1,
        "name": "demo-clip",
        "model_id": f"{cfg.out.name}@{file_digest(weights)}",
        "command": " ".join(["python -m training.train_clip", *sys.argv[1:]]),
        "architecture": architecture((cfg.image_height, cfg.image_width)),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "data": {
            "train": {"world_seed": cfg.train_world_seed, "titles": cfg.train_titles,
                      "stills": len(train), "truth_sha256": _sha(train.root / "truth.csv")},
            "heldout": {"world_seed": cfg.heldout_world_seed, "titles": cfg.heldout_titles,
                        "stills": len(heldout), "truth_sha256": _sha(heldout.root / "truth.csv")},
        },  # fmt: skip
        "metrics": {"heldout": history["eval"][-1] if history["eval"] else {},
                    "final_loss": history["loss"][-1] if history["loss"] else None},
        "training": {"seconds": round(elapsed, 1), "device": str(device),
                     "autocast": str(amp), "torch": torch.__version__,
                     "threads": torch.get_num_threads(),
                     "processes": processes.world_size},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    (cfg.out / "card.json").write_text(json.dumps(card, indent=1) + "\n")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parse(argv: list[str] | None) -> TrainConfig:
    parser = argparse.ArgumentParser(
        prog="python -m training.train_clip",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for f in fields(TrainConfig):
        default = f.default
        if isinstance(default, bool):
            parser.add_argument(f"--{f.name.replace('_', '-')}", action="store_true")
        else:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(default),
                                default=default)  # fmt: skip
    return TrainConfig(**vars(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
