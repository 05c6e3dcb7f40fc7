"""The demo encoder's training data: a world's stills in memory, augmented, with captions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from artwork.demo.world import read_truth
from artwork.vocabulary import Vocabulary

IMAGE_SIZE = (96, 176)  # (H, W): 16:9 stills, squashed only slightly
CAPTION_TEMPLATES = (
    "a {moods} still from a {genres} film, showing {objects}.",
    "{objects} in a {moods} scene of a {genres} movie.",
    "a {genres} movie frame: {objects}; the mood is {moods}.",
    "{objects}. {moods}. {genres}.",
)


class StillSet:
    """A world's stills as one uint8 tensor (N, 3, H, W) at the model's input size, with labels."""

    def __init__(self, root: Path, ids: list[str], pixels: torch.Tensor, labels: np.ndarray,
                 truth: dict) -> None:  # fmt: skip
        self.root, self.ids, self.pixels, self.labels, self.truth = root, ids, pixels, labels, truth

    @classmethod
    def load(cls, root: Path, tags: list[str]) -> StillSet:
        truth = read_truth(root / "truth.csv")
        ids = sorted(truth)
        pixels = torch.empty((len(ids), 3, *IMAGE_SIZE), dtype=torch.uint8)
        for n, artwork_id in enumerate(tqdm(ids, desc=f"loading {root.name}", disable=None)):
            with Image.open(root / "images" / f"{artwork_id}.jpg") as image:
                # The same resize as open_clip's "squash" preprocessing (PIL bicubic).
                small = image.convert("RGB").resize(IMAGE_SIZE[::-1], Image.Resampling.BICUBIC)
            pixels[n] = torch.from_numpy(np.array(small)).permute(2, 0, 1)
        labels = np.array(
            [[t in (*truth[i].objects, *truth[i].moods, *truth[i].genres) for t in tags]
             for i in ids], dtype=np.float32,
        )  # fmt: skip
        return cls(root, ids, pixels, labels, truth)

    def __len__(self) -> int:
        return len(self.ids)

    def channel_stats(self) -> tuple[list[float], list[float]]:
        x = self.pixels.float() / 255
        return (x.mean(dim=(0, 2, 3)).round(decimals=4).tolist(),
                x.std(dim=(0, 2, 3)).round(decimals=4).tolist())  # fmt: skip

    def augmented(self, index: np.ndarray, rng: np.random.Generator, scale: float) -> torch.Tensor:
        """Random crops (area ≥ ``scale``, aspect kept) resized back, and horizontal flips.

        No colour jitter: colour carries the moods (warm, cold, dark, bright).
        """
        out = torch.empty((len(index), 3, *IMAGE_SIZE), dtype=torch.float32)
        h, w = IMAGE_SIZE
        for n, i in enumerate(index):
            s = math.sqrt(rng.uniform(scale, 1.0))
            ch, cw = round(h * s), round(w * s)
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            crop = self.pixels[i : i + 1, :, y : y + ch, x : x + cw].float()
            image = F.interpolate(crop, size=IMAGE_SIZE, mode="bilinear", align_corners=False)[0]
            out[n] = image.flip(-1) if rng.random() < 0.5 else image
        return out / 255

    def caption(self, i: int, rng: np.random.Generator, vocab: Vocabulary) -> str:
        """A caption naming the still's objects, moods and genres in random order and wording."""
        plan = self.truth[self.ids[i]]

        def words(group: str, tags: tuple[str, ...]) -> str:
            phrases = [str(rng.choice(vocab.groups[group].phrases[t])) for t in tags]
            phrases = [phrases[j] for j in rng.permutation(len(phrases))]
            return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + \
                phrases[-1]  # fmt: skip

        template = CAPTION_TEMPLATES[int(rng.integers(len(CAPTION_TEMPLATES)))]
        return template.format(objects=words("objects", plan.objects),
                               moods=words("moods", plan.moods),
                               genres=words("genres", plan.genres))  # fmt: skip
