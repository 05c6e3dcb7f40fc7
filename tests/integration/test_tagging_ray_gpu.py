"""The Ray engine's GPU layout on a local cluster holding this machine's GPU: one GPU actor, the
decoding in CPU tasks before it, the local engine's rows (skipped without CUDA or Ray)."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch

from artwork.tagging import tag_catalog
from tests.unit.artwork.test_tagging import assert_same_rows, error_report, rows

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
from artwork.tagging_ray import RayCluster, tag_catalog_ray  # noqa: E402  (needs ray)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]


@pytest.fixture(scope="module")
def gpu_cluster() -> str:
    """A local Ray cluster with one GPU and up to 4 CPUs, for the module; its address."""
    ray.init(num_cpus=min(4, os.cpu_count() or 1), num_gpus=1, include_dashboard=False,
             log_to_driver=False)  # fmt: skip
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.mark.parametrize(("precision", "atol"), [("fp32", 1e-3), ("bf16", 0.03)])
def test_a_gpu_actor_tags_what_the_local_engine_tags(
    gpu_cluster, tiny_world, tiny_clip_spec, tmp_path, precision, atol
) -> None:
    local, on_gpu = tmp_path / "local.parquet", tmp_path / "gpu.parquet"
    tag_catalog(tiny_world, local, tiny_clip_spec, workers=0, batch_size=5, progress=False)
    spec = dataclasses.replace(tiny_clip_spec, device="cuda", precision=precision)
    summary = tag_catalog_ray(tiny_world, on_gpu, spec, cluster=RayCluster(gpu_cluster, workers=1),
                              batch_size=4, chunk_size=4, progress=False)  # fmt: skip
    assert summary.failed == 0 and summary.tagged == len(rows(local))
    assert_same_rows(rows(on_gpu), rows(local), atol=atol)
    assert error_report(on_gpu) == error_report(local)
