"""Writing artifacts safely: atomic replacement and content hashes for model cards."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the new one, never half of one.
    """
    # A fresh name rather than mkstemp, whose 0600 mode would hide the file from other readers.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_folder_atomically(folder: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write`` on a new temporary folder beside ``folder``, then rename it to ``folder``.

    Readers see the old folder or the new one, never part of one; while an existing folder is
    swapped out there is an instant with none.
    """
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
    old = tmp.with_suffix(".old")
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.mkdir()
        write(tmp)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not folder.exists():
            os.replace(old, folder)  # put the old folder back
        raise
    shutil.rmtree(old, ignore_errors=True)


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
