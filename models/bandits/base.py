"""The one interface every bandit policy implements, and what all policies share.

A policy maps one decision's inputs — the viewer's ``context`` (d_ctx,) and one feature row per
eligible candidate ``candidates`` (K, d_arm), plus optional artwork ``arm_ids`` (K,) — to a full
probability distribution over the K candidates. Subclasses give the *base* distribution
(``_base_distribution``); this class mixes in the configured floor f (capped at 1/K):

    p ← f · 1 + (1 − K·f) · p_base

so every entry is ≥ f exactly and the sum stays 1. ``choose`` samples from that distribution
with ``models.sampling.sample_index(p, seed)``, and the logged propensity is the sampled entry
itself. ``distributions`` gives many decisions' distributions at once (a page), their
candidates stacked (``models.bandits.segments``): a policy whose scores vectorise gives
``_base_distributions`` and so serves one decision as a batch of one; the others give
``_base_distribution``, looped over a batch.

``update`` learns from a ``FeedbackBatch``. With ``importance_weighted=True`` each row is
weighted by w = min(1 / propensity, max_weight): the weighted rows then look as if the candidates
had been chosen uniformly, so a reward model learnt off-policy from a skewed logging policy fits
all candidates, not just the ones the logger favoured; the cap trades that correction's
variance for a little bias. Policies are saved as ``policy.safetensors`` (state arrays) and
``policy.json`` (the card), both written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from models.artifacts import ArtifactFormat
from models.bandits.errors import PolicyError
from models.bandits.features import FEATURE_MAP
from models.bandits.records import Choice, FeedbackBatch
from models.bandits.segments import Segments
from models.sampling import sample_index

KIND = "bandit_policy"
SCHEMA_VERSION = 1
WEIGHTS_FILE = "policy.safetensors"
CARD_FILE = "policy.json"
FORMAT = ArtifactFormat(
    KIND, SCHEMA_VERSION, WEIGHTS_FILE, CARD_FILE, "a saved policy", PolicyError
)
DEFAULT_MAX_WEIGHT = 100.0  # with the default floor 0.01, no propensity needs more


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    """Settings every policy has; subclasses add theirs (all with defaults, checked here)."""

    floor: float = 0.01  # the least probability of each candidate, capped at 1/K per decision

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int | float | type(None)):
                raise PolicyError(f"{type(self).__name__}.{spec.name}: {value!r} is not a number")
            if isinstance(value, float) and not math.isfinite(value):
                raise PolicyError(f"{type(self).__name__}.{spec.name}: {value!r} is not finite")
        self.require("floor", 0.0 <= self.floor <= 1.0, "must be in [0, 1]")

    def require(self, name: str, ok: bool, rule: str) -> None:
        """Raise a PolicyError naming the field when ``ok`` is false."""
        if not ok:
            raise PolicyError(f"{type(self).__name__}.{name} = {getattr(self, name)!r}: {rule}")


class Policy(ABC):
    """A contextual bandit policy: ``distribution``, ``choose``, ``update``, ``save``/``load``."""

    name: ClassVar[str] = ""  # the registry name, set by @register_policy
    version: ClassVar[int] = 1  # bumped when a policy's algorithm or saved state changes
    needs_arm_ids: ClassVar[bool] = False  # whether distribution/update require artwork ids
    Config: ClassVar[type[PolicyConfig]] = PolicyConfig

    def __init__(self, d_ctx: int, d_arm: int, config: PolicyConfig | None = None) -> None:
        for label, dim in (("d_ctx", d_ctx), ("d_arm", d_arm)):
            if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
                raise PolicyError(f"{type(self).__name__}: {label} = {dim!r}, must be an int ≥ 1")
        kind = type(self)
        if (kind._base_distribution, kind._base_distributions) == (
            Policy._base_distribution, Policy._base_distributions,
        ):  # fmt: skip
            raise TypeError(f"{kind.__name__} gives neither _base_distribution nor "
                            "_base_distributions")  # fmt: skip
        config = self.Config() if config is None else config
        if type(config) is not self.Config:
            raise PolicyError(
                f"{type(self).__name__} takes a {self.Config.__name__}, got {type(config).__name__}"
            )
        self.d_ctx, self.d_arm, self.config = int(d_ctx), int(d_arm), config
        self.n_updates = 0  # feedback rows learnt from
        self.created_at = datetime.now(UTC).isoformat(timespec="seconds")

    # ---- what a subclass provides -------------------------------------------------------------

    def _base_distribution(
        self, context: np.ndarray, candidates: np.ndarray, arm_ids: tuple[str, ...] | None
    ) -> np.ndarray:
        """The policy's distribution before the floor: (K,), ≥ 0, summing to 1 (by default
        ``_base_distributions`` for a batch of one)."""
        segments = Segments.of([len(candidates)])
        return self._base_distributions(context[None], candidates, segments, arm_ids)

    def _base_distributions(
        self,
        contexts: np.ndarray,
        candidates: np.ndarray,
        segments: Segments,
        arm_ids: tuple[str, ...] | None,
    ) -> np.ndarray:
        """The base distributions of n decisions at once: contexts (n, d_ctx), candidates
        (N, d_arm) stacked as ``segments`` says → (N,) (by default one decision at a time)."""
        return np.concatenate([
            self._base_distribution(contexts[i], candidates[rows],
                                    None if arm_ids is None else arm_ids[rows])
            for i, rows in enumerate(segments.slices())
        ])  # fmt: skip

    @abstractmethod
    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        """Fold the batch's rows, row i counting ``weights[i]`` times, into the state."""

    def _state_arrays(self) -> dict[str, np.ndarray]:
        """The learnt state, as arrays for the safetensors file."""
        return {}

    def _state_card(self) -> dict[str, Any]:
        """Learnt state that is not numeric (e.g. artwork ids), for the JSON card."""
        return {}

    def _restore(self, state: StateReader) -> None:
        """Set the learnt state from a saved file (read it with ``state.take``); by default
        there is none, and the file must hold no arrays."""
        state.finish()

    # ---- the interface ------------------------------------------------------------------------

    def distribution(
        self, context: np.ndarray, candidates: np.ndarray, arm_ids: Sequence[str] | None = None
    ) -> np.ndarray:
        """The probability of choosing each of the K candidates: (K,), ≥ floor, summing to 1."""
        context, candidates, ids = self._check_decision(context, candidates, arm_ids)
        return apply_floor(self._base_distribution(context, candidates, ids), self.config.floor)

    def distributions(
        self,
        contexts: np.ndarray,
        candidates: np.ndarray,
        counts: Sequence[int],
        arm_ids: Sequence[str] | None = None,
    ) -> list[np.ndarray]:
        """``distribution`` for n decisions at once: ``contexts`` (n, d_ctx), their candidates
        one decision after another in ``candidates`` (N, d_arm), ``counts[i]`` of them for
        decision i, and ``arm_ids`` (N,). Equal to n calls of ``distribution`` up to
        floating-point rounding, and much cheaper for a page of decisions."""
        contexts = np.asarray(contexts, dtype=np.float64)
        segments = Segments.of(counts)
        if contexts.shape != (len(segments), self.d_ctx):
            raise PolicyError(
                f"{self.name}: contexts have shape {contexts.shape}, expected "
                f"({len(segments)}, {self.d_ctx}) for {len(segments)} candidate counts"
            )
        candidates, ids = self._check_candidates(contexts, candidates, arm_ids)
        if len(candidates) != segments.rows:
            raise PolicyError(
                f"{self.name}: {len(candidates)} candidate rows, the counts add up to "
                f"{segments.rows}"
            )
        base = self._base_distributions(contexts, candidates, segments, ids)
        return segments.split(segments.apply_floor(base, self.config.floor))

    def choose(
        self,
        context: np.ndarray,
        candidates: np.ndarray,
        seed: int,
        arm_ids: Sequence[str] | None = None,
    ) -> Choice:
        """Sample a candidate from ``distribution`` with ``seed`` (``models.sampling``)."""
        probabilities = self.distribution(context, candidates, arm_ids)
        index = sample_index(probabilities, seed)
        return Choice(index, float(probabilities[index]), probabilities, seed)

    def update(
        self,
        batch: FeedbackBatch,
        *,
        importance_weighted: bool = False,
        max_weight: float = DEFAULT_MAX_WEIGHT,
    ) -> None:
        """Learn from ``batch``; with ``importance_weighted`` row i counts
        min(1 / propensity_i, max_weight) times (see the module docstring)."""
        if not isinstance(batch, FeedbackBatch):
            raise PolicyError(
                f"{self.name}.update takes a FeedbackBatch, got {type(batch).__name__}"
            )
        for field, expected, got in (
            ("contexts", self.d_ctx, batch.contexts.shape[1]),
            ("arms", self.d_arm, batch.arms.shape[1]),
        ):
            if got != expected:
                raise PolicyError(
                    f"{self.name}.update: FeedbackBatch.{field} has {got} columns, "
                    f"this policy was built for {expected}"
                )
        if self.needs_arm_ids and batch.arm_ids is None:
            raise PolicyError(f"{self.name}.update: FeedbackBatch.arm_ids is required")
        if not max_weight >= 1.0:
            raise PolicyError(f"{self.name}.update: max_weight = {max_weight!r}, must be ≥ 1")
        if importance_weighted:
            weights = np.minimum(1.0 / batch.propensities, max_weight)
        else:
            weights = np.ones(len(batch))
        if len(batch):
            self._learn(batch, weights)
            self.n_updates += len(batch)

    def save(self, folder: Path | str, *, card_fields: Mapping[str, Any] | None = None) -> Path:
        """Write ``policy.safetensors`` then its card ``policy.json``, each atomically;
        ``card_fields`` (JSON-ready: training data, feature schema, metrics) join the card
        beside its own fields, which they may not replace."""
        arrays = {k: np.ascontiguousarray(v) for k, v in self._state_arrays().items()}
        fields = {
            "policy": self.name,
            "version": self.version,
            "config": dataclasses.asdict(self.config),
            "d_ctx": self.d_ctx,
            "d_arm": self.d_arm,
            "feature_map": FEATURE_MAP,
            "n_updates": self.n_updates,
            "created_at": self.created_at,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "state": self._state_card(),
        }
        return FORMAT.write(folder, arrays, fields, card_fields, owner=self.name)

    @classmethod
    def load(
        cls, folder: Path | str, *, d_ctx: int | None = None, d_arm: int | None = None
    ) -> Policy:
        """Read a saved policy, checking kind, schema, name, version, feature map and dims
        (against ``d_ctx``/``d_arm`` when given) and that the two files belong together."""
        from models.bandits.registry import POLICIES  # the registry imports this module

        folder = Path(folder)
        card, card_path, weights_path = read_card(folder)
        kind = POLICIES.saved(card, card_path, "policy", cls)
        name = kind.name
        if card.get("feature_map") != FEATURE_MAP:
            raise PolicyError(
                f"{card_path}: feature map {card.get('feature_map')!r}, this code "
                f"uses {FEATURE_MAP!r}"
            )
        for label, expected in (("d_ctx", d_ctx), ("d_arm", d_arm)):
            got = card.get(label)
            if not isinstance(got, int) or isinstance(got, bool) or got < 1:
                raise PolicyError(f"{card_path}: {label} is {got!r}, expected an int ≥ 1")
            if expected is not None and got != expected:
                raise PolicyError(f"{card_path}: {label} is {got}, expected {expected}")
        config = card.get("config")
        if not isinstance(config, dict):
            raise PolicyError(f"{card_path}: config is {config!r}, expected an object")
        try:
            policy = kind(card["d_ctx"], card["d_arm"], kind.Config(**config))
        except TypeError as exc:
            raise PolicyError(f"{card_path}: config does not fit {name} ({exc})") from exc
        arrays = FORMAT.read_arrays(card, weights_path)
        state = StateReader(weights_path, arrays, card.get("state") or {})
        policy._restore(state)
        state.finish()
        n_updates = card.get("n_updates")
        if not isinstance(n_updates, int) or n_updates < 0:
            raise PolicyError(f"{card_path}: n_updates is {n_updates!r}, expected an int ≥ 0")
        policy.n_updates = n_updates
        policy.created_at = str(card.get("created_at", policy.created_at))
        return policy

    # ---- shared checks ------------------------------------------------------------------------

    def _check_decision(
        self, context: np.ndarray, candidates: np.ndarray, arm_ids: Sequence[str] | None
    ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...] | None]:
        context = np.asarray(context, dtype=np.float64)
        if context.shape != (self.d_ctx,):
            raise PolicyError(
                f"{self.name}: context has shape {context.shape}, expected ({self.d_ctx},)"
            )
        return (context, *self._check_candidates(context, candidates, arm_ids))

    def _check_candidates(
        self, context: np.ndarray, candidates: np.ndarray, arm_ids: Sequence[str] | None
    ) -> tuple[np.ndarray, tuple[str, ...] | None]:
        candidates = np.asarray(candidates, dtype=np.float64)
        if candidates.ndim != 2 or candidates.shape[1] != self.d_arm or not len(candidates):
            raise PolicyError(
                f"{self.name}: candidates have shape {candidates.shape}, "
                f"expected (K, {self.d_arm}) with K ≥ 1"
            )
        if not (np.isfinite(context).all() and np.isfinite(candidates).all()):
            raise PolicyError(f"{self.name}: context and candidates must be finite")
        ids = None
        if arm_ids is not None:
            ids = tuple(arm_ids)
            if len(ids) != len(candidates):
                raise PolicyError(
                    f"{self.name}: {len(ids)} arm_ids for {len(candidates)} candidates"
                )
        elif self.needs_arm_ids:
            raise PolicyError(f"{self.name}: arm_ids (one artwork id per candidate) are required")
        return candidates, ids

    def _decision_rng(
        self,
        context: np.ndarray,
        candidates: np.ndarray,
        arm_ids: tuple[str, ...] | None,
        seed: int,
    ) -> np.random.Generator:
        """A generator seeded from the state's update count, ``seed`` and the inputs' bytes, so
        that Monte Carlo estimates are a pure function of state and inputs."""
        digest = hashlib.blake2b(digest_size=16, person=b"bandit-decision")
        digest.update(np.array([self.n_updates, seed], dtype=np.int64).tobytes())
        digest.update(context.tobytes())
        digest.update(candidates.tobytes())
        if arm_ids is not None:
            digest.update("\x1f".join(arm_ids).encode())
        return np.random.default_rng(int.from_bytes(digest.digest(), "little"))


class StateReader:
    """A saved policy's state: its arrays and card ``state``, taken out with shape checks."""

    def __init__(self, path: Path, arrays: dict[str, np.ndarray], card: Mapping[str, Any]):
        self.path, self._arrays, self.card = path, dict(arrays), card

    def take(self, key: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """The array ``key``, which must have ``shape`` (a writable copy as ``dtype``)."""
        if key not in self._arrays:
            raise PolicyError(f"{self.path}: missing array {key!r}")
        array = self._arrays.pop(key)
        if array.shape != shape:
            raise PolicyError(
                f"{self.path}: {key!r} has shape {array.shape}, expected {shape} "
                f"(do the card's dims match the file?)"
            )
        return np.array(array, dtype=dtype)

    def finish(self) -> None:
        if self._arrays:
            raise PolicyError(f"{self.path}: unexpected arrays {sorted(self._arrays)}")


def read_card(folder: Path) -> tuple[dict[str, Any], Path, Path]:
    """The card of a saved policy (kind and schema checked) and the paths of both files."""
    return FORMAT.read_card(folder)


# ---- distributions shared by several policies ---------------------------------------------------


def apply_floor(base: np.ndarray, floor: float) -> np.ndarray:
    """f · 1 + (1 − K·f) · base with f = min(floor, 1/K): every entry ≥ f, the sum kept."""
    k = base.size
    f = min(floor, 1.0 / k)
    return f + max(0.0, 1.0 - k * f) * base


def argmax_distribution(scores: np.ndarray) -> np.ndarray:
    """All mass on the highest score, split evenly between ties (``Segments.best``)."""
    return Segments.of([scores.size]).argmax_distribution(scores)


def gaussian_argmax(
    mean: np.ndarray, covariance: np.ndarray, scale: float, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """P(each of K scores is the largest) under s ~ N(mean, scale²·covariance), by ``draws``
    Monte Carlo draws; the (K, K) covariance is factored by eigh so it may be singular."""
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    root = eigenvectors * (scale * np.sqrt(np.maximum(eigenvalues, 0.0)))
    noise = rng.standard_normal((draws, len(mean)))
    return monte_carlo_argmax(mean + noise @ root.T)


def monte_carlo_argmax(samples: np.ndarray) -> np.ndarray:
    """How often each of K columns is the largest across M sampled rows: (K,), sums to 1."""
    m, k = samples.shape
    return np.bincount(samples.argmax(axis=1), minlength=k) / m
