"""The demo encoder's training script: a few steps on tiny worlds, exact resume, loadable output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from models.clip import EncoderSpec, load_encoder
from training import train_clip

TINY = ["--train-titles", "3", "--heldout-titles", "2", "--batch-size", "8",
        "--eval-every", "2", "--checkpoint-every", "2", "--warmup", "2"]  # fmt: skip


def _train(out: Path, work: Path, steps: int, *extra: str) -> None:
    argv = ["--out", str(out), "--work", str(work), "--steps", str(steps), *TINY, *extra]
    assert train_clip.main(argv) == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("train_clip")
    _train(root / "straight", root / "work-straight", 4)
    return root, root / "straight"


def test_writes_a_loadable_encoder_with_card_and_curve(trained) -> None:
    _, out = trained
    card = json.loads((out / "card.json").read_text())
    assert card["kind"] == "clip_encoder" and card["config"]["steps"] == 4
    assert set(card["metrics"]["heldout"]) >= {"map_objects", "map_moods", "map_genres"}
    assert (out / "loss_curve.png").stat().st_size > 1000
    encoder = load_encoder(EncoderSpec(model=f"local-dir:{out}", device="cpu", precision="fp32"))
    assert encoder.model_id == card["model_id"]
    assert encoder.preprocess_cfg["resize_mode"] == "squash"
    assert encoder.encode_texts(["a car"]).shape == (1, train_clip.EMBED_DIM)


def test_resume_continues_exactly(trained) -> None:
    root, straight = trained
    work = root / "work-resumed"
    _train(root / "resumed", work, 2)
    _train(root / "resumed", work, 4, "--resume")
    a = load_file(straight / "open_clip_model.safetensors")
    b = load_file(root / "resumed" / "open_clip_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_the_gpu(tmp_path: Path) -> None:
    _train(tmp_path / "gpu", tmp_path / "work", 2, "--device", "cuda")
    card = json.loads((tmp_path / "gpu" / "card.json").read_text())
    assert card["training"]["device"].startswith("cuda")
