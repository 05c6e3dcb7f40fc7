"""Per-artwork state keyed by id, for the policies that keep one model per arm.

Every arm's state is a few stacked arrays (arm × ...). Row 0 always holds the prior: an id never
seen reads row 0 and so gets the prior, without being stored until it has feedback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from models.bandits.base import StateReader
from models.bandits.errors import PolicyError


class ArmTable:
    """Stacked per-arm arrays, grown by doubling; ``ids[i]`` owns row i + 1."""

    def __init__(self, prior: Mapping[str, np.ndarray]) -> None:
        self._prior = {name: np.asarray(value, np.float64) for name, value in prior.items()}
        self.ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._storage = {
            name: np.repeat(value[None], 8, axis=0) for name, value in self._prior.items()
        }

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        """Array ``name`` for the prior and every stored arm: (1 + len(self), ...), a view."""
        return self._storage[name][: len(self.ids) + 1]

    def lookup(self, arm_ids: Sequence[str]) -> np.ndarray:
        """The row of each id; 0 (the prior) for ids not stored."""
        return np.array([self._rows.get(arm_id, 0) for arm_id in arm_ids], dtype=np.intp)

    def row(self, arm_id: str) -> int:
        """The row of ``arm_id``, storing it (as a copy of the prior) if new."""
        row = self._rows.get(arm_id)
        if row is None:
            row = len(self.ids) + 1
            if row == len(next(iter(self._storage.values()))):
                for name, array in self._storage.items():
                    self._storage[name] = np.concatenate(
                        [array, np.repeat(self._prior[name][None], len(array), axis=0)]
                    )
            self.ids.append(arm_id)
            self._rows[arm_id] = row
        return row

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The stored arms' arrays (the prior row left out), for saving."""
        return {f"{prefix}{name}": self[name][1:] for name in self._storage}

    def restore(self, state: StateReader, prefix: str, arm_ids: object) -> None:
        if not (isinstance(arm_ids, list) and all(isinstance(a, str) and a for a in arm_ids)):
            raise PolicyError(f"{state.path}: the card's state.arm_ids must be a list of ids")
        if len(set(arm_ids)) != len(arm_ids):
            raise PolicyError(f"{state.path}: the card's state.arm_ids repeat an id")
        n = len(arm_ids)
        for name, prior in self._prior.items():
            stored = state.take(f"{prefix}{name}", (n, *prior.shape))
            self._storage[name] = np.concatenate([prior[None], stored])
        self.ids = list(arm_ids)
        self._rows = {arm_id: i + 1 for i, arm_id in enumerate(arm_ids)}
