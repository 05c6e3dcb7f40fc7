"""The demo encoder's in-memory still set: batched crops and flips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from training.clip_data import StillSet


def _stills(n: int = 4, size: tuple[int, int] = (8, 12)) -> StillSet:
    pixels = torch.randint(0, 256, (n, 3, *size), dtype=torch.uint8, generator=torch.Generator())
    ids = [f"a{i}" for i in range(n)]
    return StillSet(Path("."), ids, pixels, np.zeros((n, 2), dtype=np.float32), {})


def test_full_size_crops_are_the_image_or_its_mirror() -> None:
    stills = _stills()
    index = np.array([3, 1, 0, 2])
    out = stills.augmented(index, np.random.default_rng(0), scale=1.0)
    assert out.shape == (4, 3, 8, 12) and out.dtype == torch.float32
    for n, i in enumerate(index):
        image = stills.pixels[i].float() / 255
        same = torch.allclose(out[n], image, atol=1e-5)
        mirrored = torch.allclose(out[n], image.flip(-1), atol=1e-5)
        assert same or mirrored


def test_crops_stay_inside_the_image_and_vary_with_the_seed() -> None:
    stills = _stills(n=2)
    index = np.array([0, 1] * 8)
    a = stills.augmented(index, np.random.default_rng(1), scale=0.5)
    b = stills.augmented(index, np.random.default_rng(1), scale=0.5)
    c = stills.augmented(index, np.random.default_rng(2), scale=0.5)
    assert torch.equal(a, b) and not torch.equal(a, c)
    # Bilinear samples inside the image never leave the pixels' range.
    assert a.min() >= 0 and a.max() <= 1
    assert (a.flatten(1).std(dim=1) > 0).all()  # no sample is padding only


def test_channel_stats_match_a_direct_computation() -> None:
    stills = _stills(n=3)
    mean, std = stills.channel_stats()
    x = stills.pixels.double() / 255
    np.testing.assert_allclose(mean, x.mean(dim=(0, 2, 3)).numpy(), atol=1e-4)
    np.testing.assert_allclose(std, x.std(dim=(0, 2, 3), correction=0).numpy(), atol=1e-4)


def test_a_part_of_a_batch_is_those_rows_of_the_whole_batch() -> None:
    # Processes that each take a part of a batch draw the whole batch's crops and flips.
    stills = _stills(n=3)
    index = np.array([2, 0, 1, 2, 1, 0])
    whole = stills.augmented(index, np.random.default_rng(5), scale=0.6)
    part = stills.augmented(index, np.random.default_rng(5), scale=0.6, part=slice(2, 5))
    torch.testing.assert_close(part, whole[2:5])
