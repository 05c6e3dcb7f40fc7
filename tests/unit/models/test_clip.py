"""The CLIP factory: tiny random open_clip models saved to files and loaded back the real way."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

from models import clip
from models.clip import EncoderError, EncoderSpec, load_encoder, save_encoder
from tests.conftest import TINY_CLIP, TINY_PREPROCESS


@pytest.fixture()
def images() -> list[Image.Image]:
    return [Image.new("RGB", (64, 36), c) for c in ("red", "navy", "white")]


def _embed(encoder: clip.ClipEncoder, images: list[Image.Image]) -> torch.Tensor:
    return encoder.encode_images(torch.stack([encoder.preprocess(i) for i in images]))


def test_random_model_from_an_architecture_file(tiny_clip_config: Path, images) -> None:
    encoder = load_encoder(EncoderSpec(model=str(tiny_clip_config), device="cpu", precision="fp32"))
    assert encoder.model_id.startswith("tiny-clip@random-")
    again = load_encoder(EncoderSpec(model=str(tiny_clip_config), device="cpu", precision="fp32"))
    assert again.model_id != encoder.model_id  # other random weights, another id
    assert encoder.embed_dim == 32
    emb = _embed(encoder, images)
    assert emb.shape == (3, 32) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(3))
    text = encoder.encode_texts(["a red picture", "a dark picture"])
    assert text.shape == (2, 32)


def test_saved_folder_loads_back_with_the_same_outputs(tiny_clip_config, images, tmp_path) -> None:
    original = load_encoder(
        EncoderSpec(model=str(tiny_clip_config), device="cpu", precision="fp32")
    )
    folder = save_encoder(original.model, TINY_CLIP, TINY_PREPROCESS, tmp_path / "saved")
    loaded = load_encoder(EncoderSpec(model=f"local-dir:{folder}", device="cpu", precision="fp32"))
    assert loaded.model_id.startswith("saved@") and len(loaded.model_id) == len("saved@") + 12
    assert loaded.preprocess_cfg["mean"] == tuple(TINY_PREPROCESS["mean"])
    # Images are normalised with the saved config's mean and std, not open_clip's defaults.
    pixels = loaded.preprocess(Image.new("RGB", (32, 32), (128, 128, 128)))
    assert pixels.abs().max() < 0.02
    pixels = torch.stack([loaded.preprocess(i) for i in images])
    torch.testing.assert_close(loaded.encode_images(pixels), original.encode_images(pixels))


def test_torch_checkpoint_needs_its_preprocessing_named(tiny_clip_config, images, tmp_path) -> None:
    original = load_encoder(
        EncoderSpec(model=str(tiny_clip_config), device="cpu", precision="fp32")
    )
    checkpoint = tmp_path / "weights" / "tiny.pt"
    checkpoint.parent.mkdir()
    torch.save({"state_dict": original.model.state_dict()}, checkpoint)
    spec = EncoderSpec(model=str(tiny_clip_config), pretrained=str(checkpoint), device="cpu",
                       precision="fp32")  # fmt: skip
    with pytest.raises(EncoderError, match="does not say how images were preprocessed"):
        load_encoder(spec)
    (checkpoint.parent / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": TINY_CLIP, "preprocess_cfg": TINY_PREPROCESS})
    )
    loaded = load_encoder(spec)
    assert loaded.model_id.startswith("tiny-clip@")
    pixels = torch.stack([loaded.preprocess(i) for i in images])
    torch.testing.assert_close(loaded.encode_images(pixels), original.encode_images(pixels))


def test_a_tag_can_lend_its_preprocessing_without_downloading() -> None:
    cfg = clip._preprocess_of_tag("ViT-B-32", "openai")
    assert cfg["mean"] == pytest.approx((0.48145466, 0.4578275, 0.40821073))


def test_bf16_on_cpu_gives_close_embeddings(tiny_clip_spec, images) -> None:
    fp32 = load_encoder(replace(tiny_clip_spec, precision="fp32"))
    bf16 = load_encoder(replace(tiny_clip_spec, precision="bf16"))
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    assert fp32.model_id == bf16.model_id  # the same weights, whatever the precision
    cos = (_embed(fp32, images) * _embed(bf16, images)).sum(-1)
    assert torch.all(cos > 0.98)
    assert bf16.encode_texts(["a car"]).dtype == torch.float32


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (dict(model="No-Such-Model"), "unknown open_clip architecture"),
        (dict(model="ViT-B-32", pretrained="not-a-tag"), "neither a file nor a tag"),
        (dict(model="ViT-B-32", device="tpu"), "device"),
        (dict(model="ViT-B-32", precision="fp8"), "precision"),
        (dict(model="ViT-B-32", device="cpu", precision="fp16"), "fp16 is not supported"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: dict, message: str) -> None:
    with pytest.raises(EncoderError, match=message):
        load_encoder(EncoderSpec(**spec))


def test_missing_demo_weights_say_how_to_get_them(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(clip, "DEMO_DIR", tmp_path / "nothing")
    with pytest.raises(EncoderError, match="train_clip"):
        load_encoder(EncoderSpec(model="demo", device="cpu"))


def test_incomplete_config_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": TINY_CLIP, "preprocess_cfg": {"size": 32}})
    )
    with pytest.raises(EncoderError, match="preprocess_cfg lacks mean, std"):
        load_encoder(EncoderSpec(model=f"local-dir:{folder}", device="cpu"))


def test_cpu_precision_choice_is_measured() -> None:
    assert clip.fastest_cpu_precision() in ("fp32", "bf16")
    assert clip.matmul_gflops(torch.float32, n=64, m=64, repeats=2) > 0
