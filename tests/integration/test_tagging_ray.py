"""The Ray engine on a local Ray cluster started here: the local engine's rows and failures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from artwork.catalog import load_catalog
from artwork.cli import main
from artwork.errors import InputError
from artwork.tag_store import read_tags
from artwork.tagging import TaggingSummary, tag_catalog
from tests.unit.artwork.test_tagging import assert_same_rows, error_report, rows

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
from artwork.tagging_ray import RayCluster, tag_catalog_ray  # noqa: E402  (needs ray)

pytestmark = [
    pytest.mark.slow,
    # Ray Data's own context warns about its deprecated settings when copied.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]


class Killed(Exception):
    """Stands for the driver being killed after a chunk was committed."""


@pytest.fixture(scope="module")
def ray_address() -> str:
    """A local two-CPU Ray cluster for the whole module; its address."""
    try:
        ray.init(num_cpus=2, num_gpus=0, object_store_memory=200 * 2**20, include_dashboard=False,
                 log_to_driver=False)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - any failure to start means: skip
        pytest.skip(f"cannot start a local Ray cluster: {exc}")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture()
def broken_world(tiny_world: Path) -> tuple[Path, str]:
    """The tiny world with one still truncated (unreadable); its artwork id."""
    victim = next(iter(load_catalog(tiny_world).artwork.values()))
    path = tiny_world / victim.path
    path.write_bytes(path.read_bytes()[:200])
    return tiny_world, victim.artwork_id


def on_ray(catalog: Path, out: Path, spec, cluster: RayCluster, **options) -> TaggingSummary:
    options = {"batch_size": 3, "chunk_size": 4, "progress": False, **options}
    return tag_catalog_ray(catalog, out, spec, cluster=cluster, **options)


def test_same_output_as_the_local_engine_and_resumable(
    ray_address, broken_world, tiny_clip_spec, tmp_path
) -> None:
    catalog, victim = broken_world
    total = len(load_catalog(catalog).artwork)
    local, on_cluster = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    tag_catalog(catalog, local, tiny_clip_spec, workers=0, batch_size=5, progress=False)

    def kill_after_second_chunk(number: int) -> None:
        if number == 1:
            raise Killed

    # Killed with workers decoding their own batches; resumed with decoding in separate tasks
    # (the GPU layout): both give the local engine's rows.
    with pytest.raises(Killed):
        on_ray(catalog, on_cluster, tiny_clip_spec, RayCluster(ray_address, workers=2),
               on_chunk=kill_after_second_chunk)  # fmt: skip
    resumed = on_ray(catalog, on_cluster, tiny_clip_spec,
                     RayCluster(ray_address, workers=1, decode_tasks=True))  # fmt: skip
    assert (resumed.skipped, resumed.tagged + resumed.failed) == (8, total - 8)

    assert_same_rows(rows(on_cluster), rows(local), atol=1e-5)
    assert victim not in read_tags(on_cluster).artwork_ids
    assert error_report(on_cluster) == error_report(local)
    assert [r["artwork_id"] for r in error_report(on_cluster)] == [victim]

    again = on_ray(catalog, on_cluster, tiny_clip_spec, RayCluster(ray_address))
    assert (again.tagged, again.failed, again.skipped) == (0, 0, total)


def test_the_tag_command_on_ray(ray_address, broken_world, tiny_clip_spec, tmp_path, capsys):
    catalog, _ = broken_world
    out = tmp_path / "tags.parquet"
    argv = ["tag", str(catalog), "--out", str(out), "--clip-model", tiny_clip_spec.model,
            "--device", "cpu", "--precision", "fp32", "--batch-size", "4", "--engine", "ray",
            "--address", ray_address, "--workers", "2"]  # fmt: skip
    assert main(argv) == 1  # one image could not be read
    total = len(load_catalog(catalog).artwork)
    assert f"tagged {total - 1}, already done 0, unreadable 1" in capsys.readouterr().out
    assert main(argv) == 0
    assert f"tagged 0, already done {total}," in capsys.readouterr().out


def test_a_pool_the_cluster_cannot_hold_is_refused(
    ray_address, tiny_world, tiny_clip_spec, tmp_path
) -> None:
    out = tmp_path / "tags.parquet"
    with pytest.raises(InputError, match="3 workers × 1 CPU do not fit the cluster's 2 CPUs"):
        on_ray(tiny_world, out, tiny_clip_spec, RayCluster(ray_address, workers=3))
    on_gpus = dataclasses.replace(tiny_clip_spec, device="cuda")
    with pytest.raises(InputError, match="cuda was asked for, but the Ray cluster has no GPU"):
        on_ray(tiny_world, out, on_gpus, RayCluster(ray_address))
    with pytest.raises(InputError, match="workers"):
        RayCluster(workers=0)
