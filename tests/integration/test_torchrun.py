"""The torch trainers under ``torchrun``: two processes train what one process trains (up to
floating-point noise), rank 0 alone writes, and a run's checkpoint resumes under torchrun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from safetensors.numpy import load_file

from tests.integration.conftest import UniformLog
from training import train_bandit, train_clip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (dist.is_available() and dist.is_gloo_available()),
        reason="needs torch.distributed with gloo",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
CLIP = ["--train-titles", "3", "--heldout-titles", "2", "--batch-size", "8", "--warmup", "2",
        "--image-height", "48", "--image-width", "88", "--eval-every", "100",
        "--checkpoint-every", "2", "--precision", "fp32"]  # fmt: skip
CLIP_LR = train_clip.TrainConfig.lr


def torchrun(module: str, *args: str, processes: int = 2) -> str:
    """Run ``python -m module args`` as ``processes`` local processes; their output."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", "-m", module, *args]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread a process: 2 processes, 2 cores
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def clip_run(out: Path, work: Path, steps: int, *extra: str) -> list[str]:
    return ["--out", str(out), "--work", str(work), "--steps", str(steps), *CLIP, *extra]


def assert_same_clip_training(one: Path, two: Path, steps: int) -> None:
    """The checkpoints under ``one`` and ``two`` hold the same losses and weights."""
    a, b = (torch.load(w / "checkpoint.pt", weights_only=True) for w in (one, two))
    assert a["step"] == b["step"] == steps
    # The final step's loss (a resumed run's history also holds the steps before it).
    np.testing.assert_allclose(a["history"]["loss"][-1], b["history"]["loss"][-1], rtol=1e-5)
    torch.testing.assert_close(a["tag_head"], b["tag_head"], rtol=0, atol=1e-5)
    for name, weight in a["model"].items():
        other = b["model"][name]
        if name.endswith("attn.in_proj_bias"):
            # The key bias has an exactly zero gradient (softmax ignores a shift shared by
            # every key), so Adam turns rounding noise there into steps of up to lr each.
            keys = slice(len(weight) // 3, 2 * len(weight) // 3)
            torch.testing.assert_close(weight[keys], other[keys], rtol=0, atol=steps * CLIP_LR)
            weight, other = weight[: keys.start], other[: keys.start]
        torch.testing.assert_close(weight, other, rtol=0, atol=1e-4, msg=name)


def test_train_clip_on_two_processes_trains_what_one_does_and_resumes(tmp_path: Path) -> None:
    assert train_clip.main(clip_run(tmp_path / "one", tmp_path / "work-one", 3)) == 0
    assert not dist.is_initialized()  # without torchrun: one process, no group
    work = tmp_path / "work-two"
    for world in (tmp_path / "work-one").glob("world-*"):  # built once, read by both
        shutil.copytree(world, work / world.name)
    torchrun("training.train_clip", *clip_run(tmp_path / "two", work, 2))
    torchrun("training.train_clip", *clip_run(tmp_path / "two", work, 3), "--resume")
    assert_same_clip_training(tmp_path / "work-one", work, 3)
    card = json.loads((tmp_path / "two" / "card.json").read_text())
    assert card["training"]["processes"] == 2 and card["config"]["batch_size"] == 8


def test_train_clip_refuses_a_batch_that_does_not_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "3"}.items():
        monkeypatch.setenv(name, value)
    assert train_clip.main(clip_run(tmp_path / "o", tmp_path / "w", 1)) == 2
    assert "--batch-size 8 must be a multiple of the 3 processes" in capsys.readouterr().err
    assert not dist.is_initialized()


def test_neural_linear_on_two_processes_learns_what_one_does(
    uniform_log: UniformLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def argv(out: Path) -> list[str]:
        return ["--from-log", str(uniform_log.db), "--world", str(uniform_log.world),
                "--policy", "neural_linear", "--out", str(out), "--now", str(uniform_log.now),
                "--bootstrap", "50", "--device", "cpu"]  # fmt: skip

    assert train_bandit.main(argv(tmp_path / "one")) == 0
    one_printed = capsys.readouterr().out
    printed = torchrun("training.train_bandit", *argv(tmp_path / "two"))
    assert printed.count("saved neural_linear") == 1  # rank 0 alone prints and saves
    assert printed.split("\n")[:3] == one_printed.split("\n")[:3]  # the same estimates' header
    a, b = (load_file(tmp_path / d / "policy.safetensors") for d in ("one", "two"))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-5, err_msg=name)
    card = json.loads((tmp_path / "two" / "policy.json").read_text())
    assert card["state"]["retrains"] >= 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_train_clip_under_torchrun_on_gpus_with_nccl(tmp_path: Path) -> None:
    # NCCL takes one GPU per process: as many processes as GPUs, up to two.
    processes = min(2, torch.cuda.device_count())
    extra = ("--device", "cuda")
    assert train_clip.main(clip_run(tmp_path / "one", tmp_path / "work-one", 2, *extra)) == 0
    torchrun("training.train_clip", *clip_run(tmp_path / "two", tmp_path / "work-two", 2, *extra),
             processes=processes)  # fmt: skip
    a, b = (torch.load(tmp_path / w / "checkpoint.pt", weights_only=True)
            for w in ("work-one", "work-two"))  # fmt: skip
    np.testing.assert_allclose(a["history"]["loss"], b["history"]["loss"], rtol=1e-3)
    card = json.loads((tmp_path / "two" / "card.json").read_text())
    assert card["training"]["processes"] == processes
    assert card["training"]["device"] == "cuda:0"
