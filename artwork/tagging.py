"""The batch tagging job: catalog images → CLIP embeddings, tag scores and probabilities, quality.

``tag_catalog`` decodes images in worker processes (``artwork.image_files``: odd modes handled,
unreadable files reported in ``<out>.errors.csv`` and skipped), measures their quality signals,
encodes them in batches and scores the tags, and writes the tag store (``artwork.tag_store``,
which documents the schema) in atomically committed chunks. A killed run resumes where it
stopped; a rerun on a grown catalog tags only the new artwork. Peak memory is one chunk,
whatever the catalog's size, and the output does not depend on batch size or worker count.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from artwork.catalog import load_catalog
from artwork.errors import ArtifactError, InputError
from artwork.image_files import DEFAULT_MAX_PIXELS, UnreadableImage, read_rgb
from artwork.quality import WORKING_PIXELS, check_face_detector, quality_signals
from artwork.tag_store import (
    EMBEDDING_DTYPES,
    ChunkedTagStore,
    StoreHeader,
    TaggingFailure,
    TagRecord,
)
from artwork.vocabulary import Vocabulary, default_vocabulary
from models.artifacts import write_folder_atomically
from models.clip import ClipEncoder, EncoderSpec, load_encoder
from models.tags import CARD_FILE, DEMO_TAGS_DIR, TagModel, TagModelError

log = logging.getLogger(__name__)

MAX_CLIP_LOGIT_SCALE = 100.0  # CLIP clamps its learned temperature here


@dataclass(frozen=True)
class TaggingSummary:
    """What one run did: artwork tagged, skipped as already done, failed (unreadable)."""

    tagged: int
    skipped: int
    failed: int
    elapsed_s: float
    images_per_s: float
    out: Path
    errors: Path


def tag_catalog(
    catalog_folder: Path | str,
    out: Path | str,
    spec: EncoderSpec,
    tag_model: TagModel | None = None,
    *,
    batch_size: int = 64,
    workers: int = 2,
    chunk_size: int = 512,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    embedding_dtype: str = "float32",
    restart: bool = False,
    progress: bool = True,
    on_chunk: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
) -> TaggingSummary:
    """Tag every artwork of a catalog that ``out`` (a .parquet path) does not hold yet.

    ``tag_model`` None builds an uncalibrated one from the vocabulary (kept under ``cache_dir``
    when given, see ``cached_tag_model``); a given one must belong to the encoder ``spec``
    loads. ``restart`` discards earlier output; ``on_chunk(n)`` is called after chunk n is
    committed. ``ArtifactError`` when earlier output was made with another encoder,
    vocabulary, calibration or embedding type.
    """
    started = time.perf_counter()
    for name, value in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if value < 1:
            raise InputError(f"expected at least 1, got {value}", field=name)
    if workers < 0:
        raise InputError(f"expected 0 (decode here) or more, got {workers}", field="workers")
    if embedding_dtype not in EMBEDDING_DTYPES:
        raise InputError(f"expected one of {list(EMBEDDING_DTYPES)}", field="embedding_dtype")
    check_face_detector()  # a broken OpenCV fails here, not once per image in the workers
    catalog = load_catalog(catalog_folder)
    if workers:
        # Start the workers' server now: it imports torch and OpenCV (~2.5 s) while this
        # process loads the encoder and embeds the tag prompts.
        _worker_context()
        multiprocessing.forkserver.ensure_running()
    encoder = load_encoder(spec)
    if tag_model is None:
        tag_model = cached_tag_model(encoder, cache_dir)
    elif tag_model.model_id != encoder.model_id:
        raise ArtifactError(
            f"the tag model was made for encoder {tag_model.model_id!r}, but this run uses "
            f"{encoder.model_id!r}; use that encoder, or calibrate a tag model for this one"
        )
    header = StoreHeader(
        model_id=encoder.model_id,
        vocabulary_version=tag_model.vocabulary_version,
        calibration_version=tag_model.calibration_version,
        tags=tag_model.tags,
        groups=tag_model.groups,
        embedding_dim=encoder.embed_dim,
        embedding_dtype=embedding_dtype,
    )
    store = ChunkedTagStore(Path(out), header, restart=restart)
    todo = [a for a in catalog.artwork.values() if a.artwork_id not in store.done]
    skipped = len(catalog.artwork) - len(todo)
    log.info("%d artwork to tag, %d already done", len(todo), skipped)
    images = _ArtworkImages(
        [(a.artwork_id, a.title_id, str(catalog.image_path(a.artwork_id))) for a in todo],
        encoder.preprocess,
        min_side=_input_side(encoder),
        max_pixels=max_pixels,
    )
    workers = min(workers, -(-len(todo) // batch_size))  # no process without a batch to decode
    loader = DataLoader(
        images,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=_collate,
        persistent_workers=False,
        pin_memory=encoder.device.type == "cuda",
        worker_init_fn=_single_threaded if workers else None,
        multiprocessing_context=_worker_context() if workers else None,
    )
    chunk: list[TagRecord | TaggingFailure] = []
    tagged = failed = 0
    with tqdm(total=len(todo), unit="img", desc="tagging", disable=not progress) as bar:
        for batch in loader:
            for item in _tag_batch(batch, encoder, tag_model):
                chunk.append(item)
                tagged += isinstance(item, TagRecord)
                failed += isinstance(item, TaggingFailure)
                if len(chunk) == chunk_size:
                    _commit(store, chunk, on_chunk)
            bar.update(len(batch.items))
            bar.set_postfix(failed=failed, refresh=False)
        if chunk:
            _commit(store, chunk, on_chunk)
    store.finish()
    elapsed = time.perf_counter() - started
    return TaggingSummary(
        tagged=tagged,
        skipped=skipped,
        failed=failed,
        elapsed_s=elapsed,
        images_per_s=(tagged + failed) / elapsed,
        out=store.out,
        errors=store.errors_path,
    )


def build_tag_model(encoder: ClipEncoder, vocabulary: Vocabulary | None = None) -> TagModel:
    """An uncalibrated tag model from the vocabulary's prompts, embedded by ``encoder``."""
    vocabulary = vocabulary or default_vocabulary()
    groups = vocabulary.groups.values()
    return TagModel.from_prompts(
        encoder.encode_texts,
        tags={g.name: {t: g.prompts(t) for t in g.tags} for g in groups},
        neutral_prompts={g.name: g.neutral_prompts() for g in groups},
        model_id=encoder.model_id,
        vocabulary_version=vocabulary.version,
        logit_scale=encoder_logit_scale(encoder),
    )


def cached_tag_model(
    encoder: ClipEncoder, cache_dir: Path | None, vocabulary: Vocabulary | None = None
) -> TagModel:
    """``build_tag_model``, kept in ``cache_dir/tag-models/`` per encoder id and vocabulary
    version: embedding every prompt costs seconds (3.7 s for ViT-B-32 on 2 cores), once per
    encoder. Encoders with random weights, and ``cache_dir`` None, are never cached; an
    unreadable cache entry is rebuilt."""
    vocabulary = vocabulary or default_vocabulary()
    if cache_dir is None or "@random" in encoder.model_id:
        return build_tag_model(encoder, vocabulary)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{encoder.model_id}-{vocabulary.version}")
    folder = Path(cache_dir) / "tag-models" / name
    if (folder / CARD_FILE).is_file():
        try:
            cached = TagModel.load(folder)
        except TagModelError as exc:
            log.warning("rebuilding the cached tag model %s: %s", folder, exc)
        else:
            if cached.model_id == encoder.model_id:
                return cached
    model = build_tag_model(encoder, vocabulary)
    write_folder_atomically(folder, model.save)
    log.info("tag model for %s cached in %s", encoder.model_id, folder)
    return model


def encoder_logit_scale(encoder: ClipEncoder) -> float:
    """exp(logit_scale) of a CLIP model, at most 100; 100 when the model has none."""
    raw = getattr(encoder.model, "logit_scale", None)
    if raw is None:
        return MAX_CLIP_LOGIT_SCALE
    return min(float(raw.detach().exp()), MAX_CLIP_LOGIT_SCALE)


def default_tag_model_dir(spec: EncoderSpec) -> Path | None:
    """The shipped calibrated tag model when ``spec`` is the demo encoder, else ``None``."""
    if spec.model == "demo" and (DEMO_TAGS_DIR / CARD_FILE).is_file():
        return DEMO_TAGS_DIR
    return None


def load_tag_model(folder: Path | str) -> TagModel:
    """``TagModel.load`` with its errors raised as ``ArtifactError`` (what the CLI reports)."""
    try:
        return TagModel.load(folder)
    except TagModelError as exc:
        raise ArtifactError(str(exc)) from exc


def _commit(
    store: ChunkedTagStore,
    chunk: list[TagRecord | TaggingFailure],
    on_chunk: Callable[[int], None] | None,
) -> None:
    number = store.commit(chunk)
    chunk.clear()
    if on_chunk is not None:
        on_chunk(number)


# --- decoding, in worker processes -------------------------------------------------------------


@dataclass(frozen=True)
class _Decoded:
    artwork_id: str
    title_id: str
    quality: dict[str, Any]
    notes: str


@dataclass(frozen=True)
class _Batch:
    """Decoded items and failures in catalog order; ``pixels`` stacks the decoded ones' inputs."""

    items: list[_Decoded | TaggingFailure]
    pixels: torch.Tensor | None

    def pin_memory(self) -> _Batch:  # called by DataLoader(pin_memory=True)
        return _Batch(self.items, None if self.pixels is None else self.pixels.pin_memory())


class _ArtworkImages(Dataset):
    """(id, title id, path) → (``_Decoded``, encoder input) or (``TaggingFailure``, None)."""

    def __init__(
        self,
        items: list[tuple[str, str, str]],
        preprocess: Callable[[Image.Image], torch.Tensor],
        *,
        min_side: int,
        max_pixels: int,
    ) -> None:
        self.items, self.preprocess = items, preprocess
        self.min_side, self.max_pixels = min_side, max_pixels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[_Decoded | TaggingFailure, torch.Tensor | None]:
        artwork_id, title_id, path = self.items[index]
        try:
            # Decoded no smaller than the encoder's input and the quality signals' working size.
            image = read_rgb(path, min_side=self.min_side, min_pixels=WORKING_PIXELS,
                             max_pixels=self.max_pixels)  # fmt: skip
        except UnreadableImage as exc:
            return TaggingFailure(artwork_id, path, exc.reason), None
        full_size = {"width": image.width, "height": image.height,
                     "aspect": image.width / image.height}  # fmt: skip
        quality = replace(quality_signals(image.pixels), **full_size).to_dict()
        pixels = self.preprocess(Image.fromarray(image.pixels, "RGB"))
        return _Decoded(artwork_id, title_id, quality, "; ".join(image.notes)), pixels


def _collate(samples: list[tuple[_Decoded | TaggingFailure, torch.Tensor | None]]) -> _Batch:
    """Failures pass through in their places; the decoded images' inputs are stacked."""
    pixels = [p for _, p in samples if p is not None]
    return _Batch([item for item, _ in samples], torch.stack(pixels) if pixels else None)


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a clean server process that has imported this module once.

    A plain fork would copy this process's thread pools (OpenCV's, OpenMP's, CUDA's) in a
    broken state: a worker touching them hangs. Spawning is clean but imports torch and
    open_clip again in every worker, for seconds each.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _single_threaded(_: int) -> None:
    # Each worker is one of several processes: OpenCV's own thread pool would oversubscribe.
    cv2.setNumThreads(1)


def _input_side(encoder: ClipEncoder) -> int:
    size = encoder.preprocess_cfg.get("size", 224)
    return max(size) if isinstance(size, tuple | list) else int(size)


def _tag_batch(
    batch: _Batch, encoder: ClipEncoder, tag_model: TagModel
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
