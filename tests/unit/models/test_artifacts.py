"""Atomic writes: a file or a folder is replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.artifacts import write_folder_atomically


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
