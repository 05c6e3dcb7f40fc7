"""The demo encoder's training data: a world's stills in memory, augmented, with captions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from artwork.demo.world import read_truth
from artwork.vocabulary import Vocabulary

IMAGE_SIZE = (96, 176)  # (H, W) by default: 16:9 stills, squashed only slightly
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
    def load(
        cls, root: Path, tags: list[str], size: tuple[int, int] = IMAGE_SIZE, threads: int = 8
    ) -> StillSet:
        """Read a world's stills, resized to ``size`` (H, W), and their truth labels."""
        truth = read_truth(root / "truth.csv")
        ids = sorted(truth)
        pixels = torch.empty((len(ids), 3, *size), dtype=torch.uint8)

        def read(n: int) -> None:
            with Image.open(root / "images" / f"{ids[n]}.jpg") as image:
                # The same resize as open_clip's "squash" preprocessing (PIL bicubic).
                small = image.convert("RGB").resize(size[::-1], Image.Resampling.BICUBIC)
            pixels[n] = torch.from_numpy(np.array(small)).permute(2, 0, 1)

        with ThreadPoolExecutor(threads) as pool:  # PIL releases the GIL while decoding
            for _ in tqdm(pool.map(read, range(len(ids))), total=len(ids),
                          desc=f"loading {root.name}", disable=None):  # fmt: skip
                pass
        labels = np.array(
            [[t in (*truth[i].objects, *truth[i].moods, *truth[i].genres) for t in tags]
             for i in ids], dtype=np.float32,
        )  # fmt: skip
        return cls(root, ids, pixels, labels, truth)

    def __len__(self) -> int:
        return len(self.ids)

    def channel_stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and standard deviation of the pixels in 0..1 (summed in chunks)."""
        total = torch.zeros(3, dtype=torch.float64)
        squares = torch.zeros(3, dtype=torch.float64)
        for start in range(0, len(self.ids), 1024):
            x = self.pixels[start : start + 1024].double() / 255
            total += x.sum(dim=(0, 2, 3)).cpu()
            squares += x.square().sum(dim=(0, 2, 3)).cpu()
        count = self.pixels[:, 0].numel()
        mean = total / count
        std = (squares / count - mean.square()).clamp(min=0).sqrt()
        return mean.float().round(decimals=4).tolist(), std.float().round(decimals=4).tolist()

    def to(self, device: torch.device) -> StillSet:
        """The same set with its pixels on ``device`` (augmentation then runs there)."""
        return StillSet(self.root, self.ids, self.pixels.to(device), self.labels, self.truth)

    def augmented(
        self, index: np.ndarray, rng: np.random.Generator, scale: float, part: slice = slice(None)
    ) -> torch.Tensor:
        """Random crops (area ≥ ``scale``, aspect kept) resized back, and horizontal flips, of
        the stills ``index[part]``.

        The crops and flips are drawn for all of ``index`` whatever ``part`` is, so processes
        that each take a part of a batch draw what one process taking all of it would. One
        bilinear ``grid_sample`` for the batch, on the pixels' device. No colour jitter: colour
        carries the moods (warm, cold, dark, bright).
        """
        n = len(index)
        side = np.sqrt(rng.uniform(scale, 1.0, n))  # crop side / image side
        shift = rng.uniform(-1.0, 1.0, (n, 2)) * (1 - side)[:, None]  # crop centre, in [-1, 1]
        flip = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        theta = np.zeros((n, 2, 3), dtype=np.float32)
        theta[:, 0, 0], theta[:, 1, 1] = side * flip, side
        theta[:, :, 2] = shift
        device = self.pixels.device
        batch = self.pixels[torch.from_numpy(index[part]).to(device)].float()
        grid = F.affine_grid(torch.from_numpy(theta[part]).to(device), list(batch.shape),
                             align_corners=False)  # fmt: skip
        return F.grid_sample(batch, grid, mode="bilinear", align_corners=False) / 255

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
