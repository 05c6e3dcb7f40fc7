"""Writing artifacts safely: atomic replacement, content hashes, and the safetensors + JSON card
format every saved model uses (``ArtifactFormat``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() gives a new file in this process


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the new one, never half of one. The file gets the mode
    ``open`` would give it (``FILE_MODE``), whatever ``write`` made: safetensors writes its
    files 0600, which hid a model from a service running as another user.
    """
    # A fresh name rather than mkstemp, whose 0600 mode would hide the file from other readers.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
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


@dataclass(frozen=True)
class ArtifactFormat:
    """A saved model's two files: arrays in ``weights_file`` (safetensors) and a JSON card in
    ``card_file`` that names ``kind`` and ``schema_version`` and hashes the arrays. ``what``
    says what a folder holding them is (for messages); errors are raised as ``error``."""

    kind: str
    schema_version: int
    weights_file: str
    card_file: str
    what: str
    error: type[Exception]

    def write(
        self,
        folder: Path | str,
        arrays: dict[str, np.ndarray],
        fields: dict[str, Any],
        extra: Mapping[str, Any] | None = None,
        owner: str = "",
    ) -> Path:
        """Write the arrays then the card (kind, schema, ``fields``, the arrays' hash), each
        atomically; ``extra`` fields join the card but may not replace its own."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / self.weights_file
        write_atomically(weights, lambda tmp: save_file(arrays, str(tmp)))
        card = {"kind": self.kind, "schema_version": self.schema_version, **fields,
                "weights_sha256": file_sha256(weights)}  # fmt: skip
        clash = sorted(set(extra or {}) & set(card))
        if clash:
            raise self.error(f"{owner}.save: card_fields may not replace {clash}")
        card.update(extra or {})
        text = json.dumps(card, indent=1) + "\n"
        write_atomically(folder / self.card_file, lambda tmp: tmp.write_text(text))
        return folder

    def read_card(self, folder: Path | str) -> tuple[dict[str, Any], Path, Path]:
        """The card (kind and schema checked) and the paths of both files."""
        folder = Path(folder)
        card_path, weights_path = folder / self.card_file, folder / self.weights_file
        for path in (card_path, weights_path):
            if not path.is_file():
                raise self.error(f"{path}: missing (is {folder} {self.what}?)")
        try:
            card = json.loads(card_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self.error(f"{card_path}: not valid JSON ({exc})") from exc
        if not isinstance(card, dict) or card.get("kind") != self.kind:
            kind = card.get("kind") if isinstance(card, dict) else card
            raise self.error(f"{card_path}: kind is {kind!r}, expected {self.kind!r}")
        if card.get("schema_version") != self.schema_version:
            raise self.error(
                f"{card_path}: schema_version {card.get('schema_version')!r}, this "
                f"code reads {self.schema_version}"
            )
        return card, card_path, weights_path

    def read_arrays(self, card: Mapping[str, Any], weights_path: Path) -> dict[str, np.ndarray]:
        """The arrays of ``weights_path`` once its hash matches the ``card`` beside it."""
        if card.get("weights_sha256") != file_sha256(weights_path):
            raise self.error(f"{weights_path}: does not match the card beside it")
        try:
            return load_file(str(weights_path))
        except Exception as exc:  # safetensors raises its own error types
            raise self.error(f"{weights_path}: not a readable safetensors file ({exc})") from exc
