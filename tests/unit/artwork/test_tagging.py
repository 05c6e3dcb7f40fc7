"""The tagging job: every image tagged or reported, resumable, and independent of how it is run."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from artwork import tag_store
from artwork.catalog import ArtworkCandidate, Title, write_catalog
from artwork.errors import ArtifactError
from artwork.tag_store import QUALITY_COLUMNS, read_tags
from artwork.tagging import TaggingSummary, build_tag_model, tag_catalog
from artwork.vocabulary import default_vocabulary
from models.clip import EncoderSpec, load_encoder
from models.tags import TagModel


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny encoder runs fastest on one thread, above all on a machine busy with other work."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Killed(Exception):
    """Stands for the process being killed after a chunk was committed."""


def write_stills(root: Path, names: list[str], seed: int = 0) -> list[ArtworkCandidate]:
    """Noisy RGB JPEGs under ``root/images``, one per name, all of title t1."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    artwork = []
    for name in names:
        pixels = rng.integers(0, 255, (36, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "images" / f"{name}.jpg", quality=90)
        artwork.append(ArtworkCandidate(name, "t1", f"images/{name}.jpg"))
    return artwork


def make_catalog(root: Path, count: int, broken: int = 0) -> Path:
    """A catalog of ``count`` stills, the last ``broken`` of them empty files."""
    artwork = write_stills(root, [f"a{i:02d}" for i in range(count)])
    for candidate in artwork[count - broken :]:
        (root / candidate.path).write_bytes(b"")
    write_catalog(root, [Title("t1", "Star Voyage", ("Sci-Fi",))], artwork)
    return root


def run(catalog: Path, out: Path, spec: EncoderSpec, **options) -> TaggingSummary:
    return tag_catalog(catalog, out, spec, **{"workers": 0, "progress": False, **options})


def rows(out: Path) -> pa.Table:
    return pq.read_table(out).drop(["tagged_at"])


def error_report(out: Path) -> list[dict[str, str]]:
    with open(out.with_name(out.name + ".errors.csv"), newline="") as f:
        return list(csv.DictReader(f))


def assert_same_rows(a: pa.Table, b: pa.Table, atol: float = 0.0) -> None:
    assert a.column_names == b.column_names
    assert a["artwork_id"].to_pylist() == b["artwork_id"].to_pylist()
    for name in a.column_names:
        left, right = a[name].combine_chunks(), b[name].combine_chunks()
        if pa.types.is_fixed_size_list(left.type):
            left, right = left.flatten(), right.flatten()
        if pa.types.is_floating(left.type):
            np.testing.assert_allclose(left.to_numpy(), right.to_numpy(), atol=atol, err_msg=name)
        else:
            assert left.equals(right), name


@pytest.fixture()
def zoo_catalog(image_zoo) -> Path:
    root = image_zoo.folder.parent
    artwork = [ArtworkCandidate(n.replace(".", "_"), "t1", f"zoo/{n}") for n in image_zoo.names]
    write_catalog(root, [Title("t1", "Star Voyage", ("Sci-Fi",))], artwork)
    return root


def test_every_image_is_tagged_or_reported(zoo_catalog, image_zoo, tiny_clip_spec) -> None:
    out = zoo_catalog / "tags.parquet"
    summary = run(zoo_catalog, out, tiny_clip_spec, batch_size=4, chunk_size=5,
                  max_pixels=image_zoo.max_pixels)  # fmt: skip
    bad = {name.replace(".", "_"): reason for name, reason in image_zoo.unreadable.items()}
    good = [n.replace(".", "_") for n in image_zoo.names if n.replace(".", "_") not in bad]
    assert (summary.tagged, summary.failed, summary.skipped) == (len(good), len(bad), 0)

    report = error_report(out)
    assert {r["artwork_id"] for r in report} == set(bad)
    for r in report:
        assert bad[r["artwork_id"]] in r["reason"] and Path(r["path"]).is_file()

    table = read_tags(out)
    assert table.artwork_ids == tuple(good)  # catalog order
    vocabulary = default_vocabulary()
    assert table.tags == tuple(t for g in vocabulary.groups.values() for t in g.tags)
    assert table.header.model_id == load_encoder(tiny_clip_spec).model_id
    assert table.header.calibration_version == "uncalibrated"
    np.testing.assert_allclose(np.linalg.norm(table.embeddings, axis=1), 1.0, atol=1e-5)
    tag_model = build_tag_model(load_encoder(tiny_clip_spec))
    np.testing.assert_allclose(table.scores, tag_model.scores(table.embeddings), atol=1e-5)
    np.testing.assert_allclose(
        table.probabilities, tag_model.probabilities_from_scores(table.scores), atol=1e-5
    )

    by_id = {r["artwork_id"]: r for r in pq.read_table(out).to_pylist()}
    assert (by_id["rotated_jpg"]["width"], by_id["rotated_jpg"]["height"]) == (40, 60)
    assert (by_id["big_jpg"]["width"], by_id["big_jpg"]["height"]) == (1200, 800)
    assert "EXIF orientation 6" in by_id["rotated_jpg"]["decode_notes"]
    assert "first of 3 frames" in by_id["animated_webp"]["decode_notes"]
    assert "CMYK" in by_id["cmyk_jpg"]["decode_notes"]
    assert by_id["red_jpg"]["decode_notes"] == ""
    assert not out.with_name(out.name + ".parts").exists()


def test_the_store_has_its_documented_schema(tmp_path, tiny_clip_spec) -> None:
    out = tmp_path / "tags.parquet"
    run(make_catalog(tmp_path / "catalog", 2), out, tiny_clip_spec)
    schema = pq.read_schema(out)
    tags = list(default_vocabulary().groups["objects"].tags)
    assert schema.names[:6] == ["artwork_id", "title_id", "model_id", "calibration_version",
                                "vocabulary_version", "embedding"]  # fmt: skip
    assert schema.names[6 : 6 + len(tags)] == [f"p_{t}" for t in tags]
    assert f"s_{tags[0]}" in schema.names and "s_Sci-Fi" in schema.names
    assert schema.names[-12:] == [*QUALITY_COLUMNS, "decode_notes", "tagged_at"]
    assert schema.field("embedding").type == pa.list_(pa.float32(), 32)
    assert schema.field("vocabulary_version").type == pa.int32()
    assert schema.field("tagged_at").type == pa.timestamp("ms", tz="UTC")
    assert tag_store.read_header(out).schema_version == tag_store.SCHEMA_VERSION


def test_a_killed_run_resumes_to_the_same_output(tmp_path, tiny_clip_spec) -> None:
    catalog = make_catalog(tmp_path / "catalog", 10, broken=1)
    whole, resumed = tmp_path / "whole.parquet", tmp_path / "resumed.parquet"
    part_sizes = []

    def watch(number: int) -> None:  # every chunk is on disk, and no bigger than a chunk
        part = whole.with_name(whole.name + ".parts") / f"part-{number:05d}.parquet"
        part_sizes.append(pq.read_metadata(part).num_rows)

    run(catalog, whole, tiny_clip_spec, batch_size=2, chunk_size=3, on_chunk=watch)
    assert part_sizes == [3, 3, 3, 0]  # 10 images, the last one unreadable

    def kill_after_second_chunk(number: int) -> None:
        if number == 1:
            raise Killed

    with pytest.raises(Killed):
        run(catalog, resumed, tiny_clip_spec, batch_size=2, chunk_size=3,
            on_chunk=kill_after_second_chunk)  # fmt: skip
    parts = resumed.with_name(resumed.name + ".parts")
    assert sorted(p.name for p in parts.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert not resumed.exists()
    (parts / ".part-00002.parquet.0123abcd.tmp").write_bytes(b"PAR1 half a chunk")

    summary = run(catalog, resumed, tiny_clip_spec, batch_size=2, chunk_size=3)
    assert (summary.skipped, summary.tagged, summary.failed) == (6, 3, 1)
    assert_same_rows(rows(resumed), rows(whole))
    assert error_report(resumed) == error_report(whole) and len(error_report(whole)) == 1


def test_parts_already_merged_are_not_counted_twice(tmp_path, tiny_clip_spec, monkeypatch):
    catalog = make_catalog(tmp_path / "catalog", 4)
    out = tmp_path / "tags.parquet"

    def killed_while_cleaning_up(*args, **kwargs) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(tag_store.shutil, "rmtree", killed_while_cleaning_up)
        with pytest.raises(Killed):
            run(catalog, out, tiny_clip_spec, chunk_size=2)
    assert out.exists() and out.with_name(out.name + ".parts").exists()
    summary = run(catalog, out, tiny_clip_spec, chunk_size=2)
    assert (summary.tagged, summary.skipped) == (0, 4)
    assert read_tags(out).artwork_ids == ("a00", "a01", "a02", "a03")


def test_a_grown_catalog_tags_only_the_new_artwork(tmp_path, tiny_clip_spec) -> None:
    catalog = make_catalog(tmp_path / "catalog", 3)
    out = tmp_path / "tags.parquet"
    first = run(catalog, out, tiny_clip_spec)
    artwork = write_stills(catalog, ["a00", "a01", "a02", "b00", "b01"])  # same first three
    write_catalog(catalog, [Title("t1", "Star Voyage", ("Sci-Fi",))], artwork)
    second = run(catalog, out, tiny_clip_spec)
    assert (first.tagged, second.tagged, second.skipped) == (3, 2, 3)
    assert read_tags(out).artwork_ids == ("a00", "a01", "a02", "b00", "b01")


def test_output_does_not_depend_on_batch_size_or_workers(tmp_path, tiny_clip_spec) -> None:
    catalog = make_catalog(tmp_path / "catalog", 9, broken=1)
    one, many = tmp_path / "one.parquet", tmp_path / "many.parquet"
    run(catalog, one, tiny_clip_spec, batch_size=1, workers=0, chunk_size=4)
    run(catalog, many, tiny_clip_spec, batch_size=7, workers=2, chunk_size=4)
    assert_same_rows(rows(one), rows(many), atol=1e-4)
    assert error_report(one) == error_report(many)


def test_a_tag_model_for_another_encoder_is_refused(tmp_path, tiny_clip_spec) -> None:
    other = TagModel.from_prompts(
        lambda texts: np.ones((len(texts), 32)),
        tags={"objects": {"cat": ["a cat"]}},
        neutral_prompts={"objects": ["a thing"]},
        model_id="ViT-B-32@openai",
        vocabulary_version=1,
    )
    catalog = make_catalog(tmp_path / "catalog", 1)
    with pytest.raises(ArtifactError, match=r"'ViT-B-32@openai'.*'tiny-clip\d*@[0-9a-f]{12}'"):
        run(catalog, tmp_path / "tags.parquet", tiny_clip_spec, tag_model=other)


def test_output_made_otherwise_is_refused_unless_restarted(tmp_path, tiny_clip_spec) -> None:
    catalog = make_catalog(tmp_path / "catalog", 2)
    out = tmp_path / "tags.parquet"
    run(catalog, out, tiny_clip_spec)
    newer = dataclasses.replace(build_tag_model(load_encoder(tiny_clip_spec)), vocabulary_version=2)
    with pytest.raises(ArtifactError, match=r"vocabulary_version: 1 there, 2 now.*--restart"):
        run(catalog, out, tiny_clip_spec, tag_model=newer)
    summary = run(catalog, out, tiny_clip_spec, tag_model=newer, restart=True,
                  embedding_dtype="float16")  # fmt: skip
    assert summary.tagged == 2
    table = read_tags(out)
    assert table.header.vocabulary_version == 2
    assert pq.read_schema(out).field("embedding").type == pa.list_(pa.float16(), 32)
    assert table.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(table.embeddings, axis=1), 1.0, atol=2e-3)


def test_read_tags_refuses_files_it_does_not_know(tmp_path) -> None:
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"artwork_id": ["a"]}), plain)
    with pytest.raises(ArtifactError, match="not a tag store"):
        read_tags(plain)
    future = tmp_path / "future.parquet"
    meta = {tag_store.HEADER_KEY: b'{"schema_version": 99}'}
    pq.write_table(pa.table({"artwork_id": ["a"]}).replace_schema_metadata(meta), future)
    with pytest.raises(ArtifactError, match="schema version 99"):
        read_tags(future)


def test_the_tag_model_is_built_once_per_encoder_and_cached(tmp_path, tiny_clip_spec, monkeypatch):
    from artwork import tagging

    encoder = load_encoder(tiny_clip_spec)
    built = tagging.cached_tag_model(encoder, tmp_path)
    [entry] = (tmp_path / "tag-models").iterdir()
    assert entry.name.startswith(encoder.model_id.replace("@", "_"))

    def fail(*args, **kwargs):
        raise AssertionError("the cached tag model should have been used")

    monkeypatch.setattr(tagging, "build_tag_model", fail)
    again = tagging.cached_tag_model(encoder, tmp_path)
    np.testing.assert_array_equal(again.tag_embeddings, built.tag_embeddings)
    assert again.calibration_version == built.calibration_version

    monkeypatch.undo()
    (entry / "tag_model.safetensors").write_bytes(b"not safetensors")  # a damaged entry
    rebuilt = tagging.cached_tag_model(encoder, tmp_path)
    np.testing.assert_allclose(rebuilt.tag_embeddings, built.tag_embeddings, atol=1e-6)


def test_random_weights_are_never_cached(tmp_path, tiny_clip_config):
    from artwork import tagging

    encoder = load_encoder(EncoderSpec(model=str(tiny_clip_config), device="cpu", precision="fp32"))
    assert "@random" in encoder.model_id
    tagging.cached_tag_model(encoder, tmp_path)
    assert not (tmp_path / "tag-models").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize(("precision", "atol"), [("fp32", 1e-3), ("bf16", 0.03), ("fp16", 0.01)])
def test_the_gpu_tags_what_the_cpu_tags(tmp_path, tiny_clip_spec, precision, atol) -> None:
    catalog = make_catalog(tmp_path / "catalog", 9, broken=1)
    cpu, gpu = tmp_path / "cpu.parquet", tmp_path / "gpu.parquet"
    run(catalog, cpu, tiny_clip_spec, batch_size=4, chunk_size=4)
    on_gpu = dataclasses.replace(tiny_clip_spec, device="cuda", precision=precision)
    summary = run(catalog, gpu, on_gpu, batch_size=4, workers=2, chunk_size=4)
    assert (summary.tagged, summary.failed) == (8, 1)
    assert_same_rows(rows(cpu), rows(gpu), atol=atol)
    assert error_report(cpu) == error_report(gpu)
