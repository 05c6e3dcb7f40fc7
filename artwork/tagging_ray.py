"""The batch tagging job on Ray Data: the local engine's steps in an actor pool, across a cluster.

``tag_catalog_ray`` plans the run as ``artwork.tagging.tag_catalog`` does (``plan_tagging``:
same checks, same store, same artwork left to tag), then hands the list of images to Ray Data:

    blocks of ``batch_size`` (artwork_id, title_id, path) rows
      → [decoding tasks on the CPUs: ``decode_artwork``, only when the workers hold GPUs]
      → ``map_batches(_Tagger, compute=ActorPoolStrategy(size=workers))``: an actor pool,
        each actor holding the encoder and tag model, decoding its batch (unless decoded
        above) and tagging it (``collate_decoded``, ``tag_batch``)
      → back to this process in catalog order, committed in chunks by ``write_tagged``.

So the store, its resumption, the error report and the rows are those of the local engine;
only where the work runs differs. The driver receives ~3.5 KB per image (embedding, scores,
quality); images and encoder inputs stay on the workers. ``ray`` is imported here only, so the
local engine does not need it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import torch

from artwork.errors import InputError
from artwork.image_files import DEFAULT_MAX_PIXELS
from artwork.tagging import TaggingJob, TaggingSummary, plan_tagging, write_tagged
from artwork.tagging_steps import Decoded, collate_decoded, decode_artwork, tag_batch
from models.clip import EncoderSpec, load_encoder
from models.tags import TagModel

log = logging.getLogger(__name__)

ROW_COLUMNS = ("artwork_id", "title_id", "path")


@dataclass(frozen=True)
class RayCluster:
    """Where the Ray engine runs and how wide.

    ``address`` None starts a local Ray for the run (and stops it after), unless this process
    is already connected to one, which is then used as it is. ``gpus_per_worker`` None gives
    each worker one GPU when the cluster has GPUs and the device allows CUDA. ``decode_tasks``
    None decodes in separate CPU tasks exactly when the workers hold GPUs (a GPU should not
    wait for JPEG decoding); otherwise each worker decodes its own batch.
    """

    address: str | None = None
    workers: int = 2
    cpus_per_worker: float = 1.0
    gpus_per_worker: float | None = None
    decode_tasks: bool | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InputError(f"expected at least 1 worker, got {self.workers}", field="workers")
        if self.cpus_per_worker <= 0:
            raise InputError(f"expected > 0, got {self.cpus_per_worker}", field="cpus_per_worker")
        if self.gpus_per_worker is not None and self.gpus_per_worker < 0:
            raise InputError(f"expected ≥ 0, got {self.gpus_per_worker}", field="gpus_per_worker")


def tag_catalog_ray(
    catalog_folder: Path | str,
    out: Path | str,
    spec: EncoderSpec,
    tag_model: TagModel | None = None,
    *,
    cluster: RayCluster = RayCluster(),
    batch_size: int = 64,
    chunk_size: int = 512,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    embedding_dtype: str = "float32",
    restart: bool = False,
    progress: bool = True,
    on_chunk: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
) -> TaggingSummary:
    """``artwork.tagging.tag_catalog`` on a Ray cluster: same arguments, store and output.

    ``InputError`` when Ray is not installed or the cluster cannot be reached.
    """
    started = time.perf_counter()
    ray = _import_ray()
    # The driver only needs the encoder's id, preprocessing and tag prompts: it loads it on its
    # CPU (a head node often has no GPU); the workers load it where they compute.
    on_driver = replace(spec, device="cpu", precision="auto" if spec.precision == "fp16"
                        else spec.precision)  # fmt: skip
    job = plan_tagging(catalog_folder, out, on_driver, tag_model, batch_size=batch_size,
                       chunk_size=chunk_size, max_pixels=max_pixels,
                       embedding_dtype=embedding_dtype, restart=restart,
                       cache_dir=cache_dir)  # fmt: skip
    options = {"started": started, "chunk_size": chunk_size, "progress": progress,
               "on_chunk": on_chunk}  # fmt: skip
    if not job.todo:  # nothing to do: no cluster needed
        return write_tagged(job, [], **options)
    with _connected(ray, cluster):
        dataset = _pipeline(ray, job, spec, cluster, batch_size, max_pixels)
        # closing: a driver that stops early (an error, Ctrl-C) stops the actor pool at once
        with closing(iter(dataset.iter_batches(batch_size=None, batch_format="numpy"))) as batches:
            return write_tagged(job, (list(b["tagged"]) for b in batches), **options)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise InputError(
            "the Ray engine needs Ray: pip install 'ray[data]' (or the dev extra)", field="engine"
        ) from exc
    return ray


@contextmanager
def _connected(ray: Any, cluster: RayCluster) -> Iterator[None]:
    """Connected to the cluster for the block: an existing connection is kept as it is; one
    made here (to ``address``, or a new local Ray) is closed after."""
    if ray.is_initialized():
        log.info("using the Ray cluster this process is connected to")
        yield
        return
    try:
        if cluster.address is not None:
            ray.init(address=cluster.address, log_to_driver=False)
        else:  # room for every actor, and a decoding task, even on a small machine
            needed = math.ceil(cluster.workers * cluster.cpus_per_worker) + 1
            cpus = max(os.cpu_count() or 1, needed)
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = cluster.address or "a local Ray"
        raise InputError(f"cannot start or reach {where}: {exc}", field="address") from exc
    log.info("Ray cluster: %s", ray.cluster_resources())
    try:
        yield
    finally:
        ray.shutdown()


def _pipeline(
    ray: Any,
    job: TaggingJob,
    spec: EncoderSpec,
    cluster: RayCluster,
    batch_size: int,
    max_pixels: int,
) -> Any:
    """The Ray Dataset of tagged batches (column ``tagged``: TagRecord or TaggingFailure)."""
    gpus, decode_tasks = _placement(ray.cluster_resources(), cluster, spec)
    # The workers compute as this process would: on a CPU, at the precision measured here once
    # (a busy machine could otherwise measure differently in each actor); on GPUs, as asked.
    if gpus:
        worker_spec = replace(spec, device="cuda")
    else:
        worker_spec = replace(spec, device="cpu", precision=job.encoder.precision)
    decoding = {"preprocess": job.encoder.preprocess, "min_side": job.min_side,
                "max_pixels": max_pixels}  # fmt: skip
    rows = pa.table({name: [item[i] for item in job.todo] for i, name in enumerate(ROW_COLUMNS)})
    blocks = [rows.slice(start, batch_size) for start in range(0, rows.num_rows, batch_size)]
    dataset = ray.data.from_arrow(blocks)
    if decode_tasks:
        dataset = dataset.map_batches(_decode_rows, fn_kwargs=decoding, batch_size=batch_size,
                                      batch_format="numpy", num_cpus=1)  # fmt: skip
    dataset = dataset.map_batches(
        _Tagger,
        fn_constructor_kwargs={
            "spec": worker_spec,
            "tag_model": job.tag_model,
            "threads": max(1, int(cluster.cpus_per_worker)),
            **({} if decode_tasks else {"decoding": decoding}),
        },
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=cluster.workers),
        num_cpus=cluster.cpus_per_worker,
        num_gpus=gpus,
    )
    context = dataset.context
    context.execution_options.preserve_order = True  # rows in catalog order, as locally
    context.enable_progress_bars = False  # write_tagged shows the progress
    return dataset


def _placement(
    resources: dict[str, float], cluster: RayCluster, spec: EncoderSpec
) -> tuple[float, bool]:
    """GPUs each actor takes, and whether decoding runs in tasks of its own; ``InputError`` when
    the cluster cannot hold the pool (Ray would wait for resources that never come)."""
    have_gpus, have_cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
    gpus = cluster.gpus_per_worker
    if gpus is None:
        gpus = 1.0 if spec.device != "cpu" and have_gpus > 0 else 0.0
    if spec.device == "cuda" and not gpus:
        raise InputError("cuda was asked for, but the Ray cluster has no GPU", field="device")
    if cluster.workers * gpus > have_gpus:
        raise InputError(f"{cluster.workers} workers × {gpus} GPU do not fit the cluster's "
                         f"{have_gpus:g} GPUs", field="workers")  # fmt: skip
    decode_tasks = cluster.decode_tasks if cluster.decode_tasks is not None else gpus > 0
    needed = cluster.workers * cluster.cpus_per_worker + (1 if decode_tasks else 0)
    if needed > have_cpus:
        raise InputError(f"{cluster.workers} workers × {cluster.cpus_per_worker:g} CPU"
                         f"{' and a decoding task' if decode_tasks else ''} do not fit the "
                         f"cluster's {have_cpus:g} CPUs", field="workers")  # fmt: skip
    return gpus, decode_tasks


class _Tagger:
    """A worker of the actor pool: loads the encoder once, then tags one batch per call."""

    def __init__(
        self,
        spec: EncoderSpec,
        tag_model: TagModel,
        threads: int,
        decoding: dict[str, Any] | None = None,
    ) -> None:
        torch.set_num_threads(threads)
        cv2.setNumThreads(1)
        self.encoder, self.tag_model, self.decoding = load_encoder(spec), tag_model, decoding

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.decoding is not None:
            decoded = _decode(batch, **self.decoding)
        else:  # decoded by the tasks before, encoder inputs as arrays
            decoded = [(item, None if p is None else torch.from_numpy(p))
                       for item, p in batch["decoded"]]  # fmt: skip
        return {"tagged": _objects(tag_batch(collate_decoded(decoded), self.encoder,
                                             self.tag_model))}  # fmt: skip


def _decode(batch: dict[str, np.ndarray], **decoding: Any) -> list[Decoded]:
    return [decode_artwork(str(a), str(t), str(p), **decoding)
            for a, t, p in zip(*(batch[c] for c in ROW_COLUMNS), strict=True)]  # fmt: skip


def _decode_rows(batch: dict[str, np.ndarray], **decoding: Any) -> dict[str, np.ndarray]:
    """The decoding tasks: rows → (item, encoder input as an array, or None)."""
    cv2.setNumThreads(1)
    decoded = _decode(batch, **decoding)
    return {"decoded": _objects([(i, None if p is None else p.numpy()) for i, p in decoded])}


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array (Ray Data keeps such columns as pickled Python objects)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # not array[:] = values: that would unpack tuples
        array[i] = value
    return array
