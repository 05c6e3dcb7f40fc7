"""The demo encoder's held-out evaluation (zero-shot tag mAP) and its training curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from artwork.vocabulary import GROUPS
from training.clip_data import StillSet


@torch.inference_mode()
def evaluate(model, tokenizer, normalize, stills: StillSet, vocab, device) -> dict[str, float]:
    """Held-out mean average precision per group of the zero-shot score (prompt-averaged)."""
    model.eval()
    images = torch.cat([
        model.encode_image(normalize(stills.pixels[i : i + 256].float().div(255).to(device)),
                           normalize=True)
        for i in range(0, len(stills), 256)
    ]).float()  # fmt: skip
    out, column = {}, 0
    for g in GROUPS:
        group = vocab.groups[g]
        neutral = _mean_text(model, tokenizer, group.neutral_prompts(), device)
        tag_text = torch.stack([_mean_text(model, tokenizer, group.prompts(t), device)
                                for t in group.tags])  # fmt: skip
        scores = (images @ tag_text.T - (images @ neutral)[:, None]).cpu().numpy()
        labels = stills.labels[:, column : column + len(group.tags)]
        column += len(group.tags)
        present = labels.sum(axis=0) > 0
        aps = [average_precision_score(labels[:, t], scores[:, t]) for t in np.flatnonzero(present)]
        out[f"map_{g}"] = round(float(np.mean(aps)), 4)
    model.train()
    return out


def plot_curve(history: dict, path: Path) -> None:
    """Loss curves (and held-out mAP) against steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "contrastive", "tag"):
        left.plot(history["step"], history[key], label=key, linewidth=1)
    left.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
    left.legend()
    for g in GROUPS:
        right.plot([e["step"] for e in history["eval"]], [e[f"map_{g}"] for e in history["eval"]],
                   marker="o", label=g)  # fmt: skip
    right.set(xlabel="step", ylabel="mAP", ylim=(0, 1), title="held-out mean average precision")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _mean_text(model, tokenizer, prompts: list[str], device) -> torch.Tensor:
    emb = model.encode_text(tokenizer(prompts).to(device), normalize=True).float().mean(0)
    return F.normalize(emb, dim=-1)
