"""Atomic writes: a file or a folder is replaced whole or not at all, files with the usual mode."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from models.artifacts import FILE_MODE, write_atomically, write_folder_atomically
from models.bandits import make_policy


def test_a_folder_is_replaced_whole_or_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "policy"

    def write(text: str):
        return lambda folder: (folder / "a.txt").write_text(text)

    write_folder_atomically(target, write("one"))
    write_folder_atomically(target, write("two"))
    assert (target / "a.txt").read_text() == "two"

    def fail(folder: Path) -> None:
        (folder / "a.txt").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_folder_atomically(target, fail)
    assert (target / "a.txt").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["policy"]  # no temporary folder left


def test_an_artifact_file_gets_the_mode_open_gives_whatever_its_writer_chose(
    tmp_path: Path,
) -> None:
    """safetensors writes 0600; a saved model must be as readable as any file written here."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert plain.stat().st_mode & 0o777 == FILE_MODE
    weights = tmp_path / "weights.safetensors"
    write_atomically(weights, lambda tmp: save_file({"a": np.zeros(3)}, str(tmp)))
    assert weights.stat().st_mode & 0o777 == FILE_MODE
    old = os.umask(0o077)  # a writer that asked for 0600 on its own is still normalised
    try:
        write_atomically(tmp_path / "x.bin", lambda tmp: tmp.write_bytes(b"x"))
    finally:
        os.umask(old)
    assert (tmp_path / "x.bin").stat().st_mode & 0o777 == FILE_MODE
    folder = make_policy("linucb", 2, 3).save(tmp_path / "policy")  # a model, end to end
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {
        "policy.safetensors": FILE_MODE, "policy.json": FILE_MODE,
    }  # fmt: skip
