"""The batch tagging job: catalog images → CLIP embeddings, tag scores and probabilities, quality.

``tag_catalog`` decodes images in worker processes (``artwork.image_files``: odd modes handled,
unreadable files reported in ``<out>.errors.csv`` and skipped), measures their quality signals,
encodes them in batches and scores the tags (``artwork.tagging_steps``), and writes the tag
store (``artwork.tag_store``, which documents the schema) in atomically committed chunks. A
killed run resumes where it stopped; a rerun on a grown catalog tags only the new artwork. Peak
memory is one chunk, whatever the catalog's size, and the output does not depend on batch size
or worker count. ``plan_tagging`` and ``write_tagged`` are the job's start and end, shared with
the Ray engine (``artwork.tagging_ray``).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from artwork.catalog import load_catalog
from artwork.errors import ArtifactError, InputError
from artwork.image_files import DEFAULT_MAX_PIXELS
from artwork.quality import check_face_detector
from artwork.tag_store import (
    EMBEDDING_DTYPES,
    ChunkedTagStore,
    StoreHeader,
    TaggingFailure,
    TagRecord,
)
from artwork.tagging_steps import Decoded, collate_decoded, decode_artwork, input_side, tag_batch
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
    if workers < 0:
        raise InputError(f"expected 0 (decode here) or more, got {workers}", field="workers")
    if workers:
        # Start the workers' server now: it imports torch and OpenCV (~2.5 s) while this
        # process loads the encoder and embeds the tag prompts.
        _worker_context()
        multiprocessing.forkserver.ensure_running()
    job = plan_tagging(catalog_folder, out, spec, tag_model, batch_size=batch_size,
                       chunk_size=chunk_size, max_pixels=max_pixels,
                       embedding_dtype=embedding_dtype, restart=restart,
                       cache_dir=cache_dir)  # fmt: skip
    encoder = job.encoder
    images = _ArtworkImages(job.todo, encoder.preprocess, min_side=job.min_side,
                            max_pixels=max_pixels)  # fmt: skip
    workers = min(workers, -(-len(job.todo) // batch_size))  # no process without a batch to decode
    loader = DataLoader(
        images,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=collate_decoded,
        persistent_workers=False,
        pin_memory=encoder.device.type == "cuda",
        worker_init_fn=_single_threaded if workers else None,
        multiprocessing_context=_worker_context() if workers else None,
    )
    tagged = (tag_batch(batch, encoder, job.tag_model) for batch in loader)
    return write_tagged(job, tagged, started=started, chunk_size=chunk_size, progress=progress,
                        on_chunk=on_chunk)  # fmt: skip


@dataclass(frozen=True)
class TaggingJob:
    """What both engines share before tagging: the encoder, tag model, store and what is left.

    ``todo`` holds (artwork_id, title_id, image path) in catalog order; ``min_side`` is the
    smallest side images are decoded at (the encoder's input size).
    """

    encoder: ClipEncoder
    tag_model: TagModel
    store: ChunkedTagStore
    todo: list[tuple[str, str, str]]
    skipped: int
    min_side: int


def plan_tagging(
    catalog_folder: Path | str,
    out: Path | str,
    spec: EncoderSpec,
    tag_model: TagModel | None,
    *,
    batch_size: int,
    chunk_size: int,
    max_pixels: int,
    embedding_dtype: str,
    restart: bool,
    cache_dir: Path | None,
) -> TaggingJob:
    """Check the options, load the catalog, the encoder and the tag model, open the store, and
    list the artwork it does not hold yet (see ``tag_catalog`` for the arguments)."""
    for name, value in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if value < 1:
            raise InputError(f"expected at least 1, got {value}", field=name)
    if embedding_dtype not in EMBEDDING_DTYPES:
        raise InputError(f"expected one of {list(EMBEDDING_DTYPES)}", field="embedding_dtype")
    check_face_detector()  # a broken OpenCV fails here, not once per image in the workers
    catalog = load_catalog(catalog_folder)
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
    todo = [(a.artwork_id, a.title_id, str(catalog.image_path(a.artwork_id)))
            for a in catalog.artwork.values() if a.artwork_id not in store.done]  # fmt: skip
    skipped = len(catalog.artwork) - len(todo)
    log.info("%d artwork to tag, %d already done", len(todo), skipped)
    return TaggingJob(encoder, tag_model, store, todo, skipped, input_side(encoder))


def write_tagged(
    job: TaggingJob,
    batches: Iterable[list[TagRecord | TaggingFailure]],
    *,
    started: float,
    chunk_size: int,
    progress: bool = True,
    on_chunk: Callable[[int], None] | None = None,
) -> TaggingSummary:
    """Commit tagged batches (in the order given) to the job's store in chunks of
    ``chunk_size``, showing progress, then merge the store; ``started`` is the run's
    ``time.perf_counter()`` at its start."""
    chunk: list[TagRecord | TaggingFailure] = []
    tagged = failed = 0
    with tqdm(total=len(job.todo), unit="img", desc="tagging", disable=not progress) as bar:
        for batch in batches:
            for item in batch:
                chunk.append(item)
                tagged += isinstance(item, TagRecord)
                failed += isinstance(item, TaggingFailure)
                if len(chunk) == chunk_size:
                    _commit(job.store, chunk, on_chunk)
            bar.update(len(batch))
            bar.set_postfix(failed=failed, refresh=False)
        if chunk:
            _commit(job.store, chunk, on_chunk)
    job.store.finish()
    elapsed = time.perf_counter() - started
    return TaggingSummary(
        tagged=tagged,
        skipped=job.skipped,
        failed=failed,
        elapsed_s=elapsed,
        images_per_s=(tagged + failed) / elapsed,
        out=job.store.out,
        errors=job.store.errors_path,
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


# --- the local engine's decoding worker processes -----------------------------------------------


class _ArtworkImages(Dataset):
    """(id, title id, path) → ``decode_artwork``'s result, for a ``DataLoader``."""

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

    def __getitem__(self, index: int) -> Decoded:
        return decode_artwork(*self.items[index], self.preprocess, min_side=self.min_side,
                              max_pixels=self.max_pixels)  # fmt: skip


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
