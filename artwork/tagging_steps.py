"""The tagging job's steps, shared by its engines: decode one image, collate, encode a batch.

``decode_artwork`` reads one image (``artwork.image_files``) and measures its quality signals;
``collate_decoded`` stacks the encoder inputs of a batch, failures keeping their places;
``tag_batch`` encodes a batch and scores its tags. The local engine (``artwork.tagging``) runs
them in a ``DataLoader``, the Ray engine (``artwork.tagging_ray``) in an actor pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from PIL import Image

from artwork.image_files import UnreadableImage, read_rgb
from artwork.quality import WORKING_PIXELS, quality_signals
from artwork.tag_store import TaggingFailure, TagRecord
from models.clip import ClipEncoder
from models.tags import TagModel


@dataclass(frozen=True)
class DecodedArtwork:
    """An artwork whose image was read: its ids, quality signals and decode notes."""

    artwork_id: str
    title_id: str
    quality: dict[str, Any]
    notes: str


@dataclass(frozen=True)
class DecodedBatch:
    """Decoded items and failures in catalog order; ``pixels`` stacks the decoded ones' inputs."""

    items: list[DecodedArtwork | TaggingFailure]
    pixels: torch.Tensor | None

    def pin_memory(self) -> DecodedBatch:  # called by DataLoader(pin_memory=True)
        return DecodedBatch(self.items, None if self.pixels is None else self.pixels.pin_memory())


Decoded = tuple[DecodedArtwork | TaggingFailure, torch.Tensor | None]


def decode_artwork(
    artwork_id: str,
    title_id: str,
    path: str,
    preprocess: Callable[[Image.Image], torch.Tensor],
    *,
    min_side: int,
    max_pixels: int,
) -> Decoded:
    """Read one image: (``DecodedArtwork``, encoder input), or (``TaggingFailure``, None)."""
    try:
        # Decoded no smaller than the encoder's input and the quality signals' working size.
        image = read_rgb(path, min_side=min_side, min_pixels=WORKING_PIXELS,
                         max_pixels=max_pixels)  # fmt: skip
    except UnreadableImage as exc:
        return TaggingFailure(artwork_id, path, exc.reason), None
    full_size = {"width": image.width, "height": image.height,
                 "aspect": image.width / image.height}  # fmt: skip
    quality = replace(quality_signals(image.pixels), **full_size).to_dict()
    pixels = preprocess(Image.fromarray(image.pixels, "RGB"))
    return DecodedArtwork(artwork_id, title_id, quality, "; ".join(image.notes)), pixels


def collate_decoded(samples: list[Decoded]) -> DecodedBatch:
    """Failures pass through in their places; the decoded images' inputs are stacked."""
    pixels = [p for _, p in samples if p is not None]
    return DecodedBatch([item for item, _ in samples], torch.stack(pixels) if pixels else None)


def tag_batch(
    batch: DecodedBatch, encoder: ClipEncoder, tag_model: TagModel
) -> list[TagRecord | TaggingFailure]:
    """Encode a batch's decoded images and score their tags; failures keep their places."""
    if batch.pixels is None:
        return list(batch.items)  # type: ignore[arg-type]  # all failures
    embeddings = encoder.encode_images(batch.pixels).cpu().numpy()
    scores = tag_model.scores(embeddings)
    probabilities = tag_model.probabilities_from_scores(scores)
    row = iter(range(len(embeddings)))
    result: list[TagRecord | TaggingFailure] = []
    for item in batch.items:
        if isinstance(item, TaggingFailure):
            result.append(item)
            continue
        i = next(row)
        result.append(TagRecord(item.artwork_id, item.title_id, embeddings[i], scores[i],
                                probabilities[i], item.quality, item.notes))  # fmt: skip
    return result


def input_side(encoder: ClipEncoder) -> int:
    """The side of the encoder's square input (its preprocessing ``size``)."""
    size = encoder.preprocess_cfg.get("size", 224)
    return max(size) if isinstance(size, tuple | list) else int(size)
