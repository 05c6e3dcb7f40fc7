"""Choosing one artwork per title: a policy's distribution, a seeded draw, a logged Decision.

Every selector gives a full probability distribution over a title's candidates; the choice is
sampled from it with ``numpy.random.default_rng(seed)``, and the Decision records the seed and
the exact probability of what was chosen (its propensity), so the draw can be replayed and
new policies evaluated offline.
"""

from __future__ import annotations

import math
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from artwork.catalog import ArtworkCandidate, Catalog
from artwork.errors import InputError
from artwork.records import Decision, new_decision_id
from artwork.rows import Row

SEED_BITS = 63  # fits SQLite's signed 64-bit INTEGER and numpy's seed


class Selector(ABC):
    """A policy over a title's artwork candidates; subclasses give ``distribution``."""

    name: str
    version: str

    @abstractmethod
    def distribution(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
    ) -> np.ndarray:
        """Probabilities for ``candidates`` in order: non-negative, summing to 1."""

    def why(self, decision: Decision) -> str:
        """A short sentence for people: why this artwork was shown."""
        p = decision.propensity
        return f"chosen by policy {self.name} v{self.version} with probability {p:.3g}"

    def decide(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
        seed: int | None = None,
    ) -> Decision:
        """Sample one candidate from ``distribution`` and return the Decision that logs it.

        ``seed`` defaults to ``secrets.randbits(63)``; the same seed and inputs give the same
        choice. ``propensity`` is exactly ``distribution(...)[chosen]``.
        """
        if not candidates:
            raise InputError(f"title {title_id!r} has no artwork candidates", field="candidates")
        for candidate in candidates:
            if candidate.title_id != title_id:
                raise InputError(
                    f"{candidate.artwork_id!r} belongs to title {candidate.title_id!r}, "
                    f"not {title_id!r}",
                    field="candidates",
                )
        probabilities = _checked(
            self.distribution(user_id, title_id, candidates, context), len(candidates), self.name
        )
        if seed is None:
            seed = secrets.randbits(SEED_BITS)
        index = int(np.random.default_rng(seed).choice(len(candidates), p=probabilities))
        return Decision(
            decision_id=new_decision_id(),
            user_id=user_id,
            title_id=title_id,
            candidates=tuple(c.artwork_id for c in candidates),
            artwork_id=candidates[index].artwork_id,
            propensity=float(probabilities[index]),
            policy=self.name,
            policy_version=self.version,
            seed=seed,
            context=context,
            created_at=time.time(),
        )


class UniformSelector(Selector):
    """Pure exploration: every candidate with probability 1/K."""

    name = "uniform"
    version = "1"

    def distribution(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
    ) -> np.ndarray:
        """``1/K`` for each of the K candidates."""
        return np.full(len(candidates), 1.0 / len(candidates))

    def why(self, decision: Decision) -> str:
        k = len(decision.candidates)
        images = "image" if k == 1 else "images"
        return f"chosen uniformly at random among {k} {images} (exploration)"


def decide_rows(
    selector: Selector,
    catalog: Catalog,
    rows: Sequence[Row],
    user_id: str,
    context: Mapping[str, Any],
) -> list[list[Decision]]:
    """One decision per title of each row, each with ``context`` plus the title's place on the
    page (``row``, ``row_index``, ``position``), which a later policy may learn from."""
    return [
        [
            selector.decide(
                user_id,
                title_id,
                catalog.candidates(title_id),
                {**context, "row": row.name, "row_index": r, "position": p},
            )
            for p, title_id in enumerate(row.title_ids)
        ]
        for r, row in enumerate(rows)
    ]


def _checked(probabilities: np.ndarray, k: int, policy: str) -> np.ndarray:
    """The policy's distribution as float64, after checking it is one over ``k`` candidates."""
    p = np.asarray(probabilities, dtype=np.float64)
    assert p.shape == (k,), f"policy {policy}: distribution shape {p.shape}, expected ({k},)"
    assert np.all(p >= 0) and math.isclose(float(p.sum()), 1.0, abs_tol=1e-9), (
        f"policy {policy}: not a probability distribution: {p}"
    )
    return p
