"""Multi-label tag probabilities from CLIP image embeddings: zero-shot prompts + Platt calibration.

A tag t of group g has a text embedding e_t (the normalised mean of its prompts' embeddings) and
the group has a neutral embedding n_g (the same, over neutral prompts such as "a picture of
something."). For an L2-normalised image embedding x:

    raw score       s_t = cos(x, e_t) − cos(x, n_g)
    probability     p_t = σ(a_t · s_t + b_t)

Uncalibrated, a_t = logit_scale (the encoder's, ~100 for CLIP) and b_t = 0: the zero-shot
softmax over the two prompts {tag, neutral}. ``fit_calibration`` replaces (a_t, b_t) by a
per-tag Platt fit on labelled scores. The model is numpy only (no torch), so a service can
load it; it is saved as ``tag_model.safetensors`` (arrays) + ``tag_model.json`` (the card).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from models.artifacts import ArtifactFormat
from models.errors import ModelError

KIND = "tag_model"
SCHEMA_VERSION = 1
WEIGHTS_FILE = "tag_model.safetensors"
CARD_FILE = "tag_model.json"
DEMO_TAGS_DIR = Path(__file__).with_name("weights") / "demo-tags"  # calibrated for the demo encoder
UNCALIBRATED = "uncalibrated"
# Platt fits need both classes and enough labels; fewer keep the zero-shot default.
MIN_LABELS = 10
# Strength of the L2 prior that pulls (a_t / logit_scale, b_t) towards the default (1, 0):
# about one pseudo-observation's worth, so a few labels move a tag only a little.
PRIOR_STRENGTH = 1.0
TEXT_BATCH = 256


class TagModelError(ModelError):
    """A tag model cannot be built, fitted or loaded as asked; the message says why."""


FORMAT = ArtifactFormat(
    KIND, SCHEMA_VERSION, WEIGHTS_FILE, CARD_FILE, "a tag model folder", TagModelError
)


@dataclass(frozen=True)
class TagModel:
    """Tag text embeddings, group neutrals and per-tag calibration (see the module docstring)."""

    tags: tuple[str, ...]
    groups: tuple[str, ...]  # the group of each tag, in tag order
    tag_embeddings: np.ndarray = field(repr=False)  # (T, D) float32, rows L2-normalised
    group_names: tuple[str, ...]  # one per neutral embedding
    neutral_embeddings: np.ndarray = field(repr=False)  # (G, D) float32
    logit_scale: float
    model_id: str  # the encoder the text embeddings were made with
    vocabulary_version: int
    slopes: np.ndarray = field(repr=False)  # a_t, (T,) float64
    intercepts: np.ndarray = field(repr=False)  # b_t, (T,) float64
    label_counts: np.ndarray = field(repr=False)  # (T, 2) int64: known positives, negatives
    calibrated: np.ndarray = field(repr=False)  # (T,) bool: a_t, b_t were fitted
    calibration_version: str = UNCALIBRATED
    metrics: Mapping[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def __post_init__(self) -> None:
        t, g = len(self.tags), len(self.group_names)
        if len(set(self.tags)) != t:
            raise TagModelError("tags: a tag name appears twice")
        if len(self.groups) != t or not set(self.groups) <= set(self.group_names):
            raise TagModelError(f"groups: expected one of {self.group_names} for each of {t} tags")
        expected = {
            "tag_embeddings": (t, self.tag_embeddings.shape[-1]),
            "neutral_embeddings": (g, self.tag_embeddings.shape[-1]),
            "slopes": (t,),
            "intercepts": (t,),
            "label_counts": (t, 2),
            "calibrated": (t,),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise TagModelError(
                    f"{name}: expected shape {shape}, got {getattr(self, name).shape}"
                )
        if not self.logit_scale > 0:
            raise TagModelError(f"logit_scale: expected > 0, got {self.logit_scale}")

    @classmethod
    def from_prompts(
        cls,
        encode_texts: Callable[[list[str]], Any],
        tags: Mapping[str, Mapping[str, Sequence[str]]],
        neutral_prompts: Mapping[str, Sequence[str]],
        model_id: str,
        vocabulary_version: int,
        logit_scale: float = 100.0,
    ) -> TagModel:
        """An uncalibrated model: ``tags`` is group → tag → prompts, ``neutral_prompts`` group →
        prompts; ``encode_texts`` maps texts to (n, D) embeddings (numpy or torch)."""
        missing = [g for g in tags if not neutral_prompts.get(g)]
        if missing:
            raise TagModelError(f"neutral_prompts: no prompts for group(s) {missing}")
        names = [(g, t) for g in tags for t in tags[g]]
        empty = [t for g, t in names if not tags[g][t]]
        if empty:
            raise TagModelError(f"tags: no prompts for {empty}")
        prompt_lists = [list(tags[g][t]) for g, t in names]
        group_names = tuple(tags)
        prompt_lists += [list(neutral_prompts[g]) for g in group_names]
        embeddings = _mean_embeddings(encode_texts, prompt_lists)
        n = len(names)
        return cls(
            tags=tuple(t for _, t in names),
            groups=tuple(g for g, _ in names),
            tag_embeddings=embeddings[:n],
            group_names=group_names,
            neutral_embeddings=embeddings[n:],
            logit_scale=float(logit_scale),
            model_id=model_id,
            vocabulary_version=int(vocabulary_version),
            **_default_calibration(n, float(logit_scale)),
        )

    def scores(self, image_embeddings: Any) -> np.ndarray:
        """Raw scores s = cos(x, e_t) − cos(x, n_group(t)), (N, T) float32, of (N, D) embeddings."""
        x = _as_float32(image_embeddings)
        if x.ndim != 2 or x.shape[1] != self.tag_embeddings.shape[1]:
            raise TagModelError(
                f"image_embeddings: expected (N, {self.tag_embeddings.shape[1]}), got {x.shape}"
            )
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        neutral = x @ self.neutral_embeddings.T
        return x @ self.tag_embeddings.T - neutral[:, self._group_index]

    def probabilities_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """p = σ(a_t · s + b_t), (N, T) float32."""
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape[1] != len(self.tags):
            raise TagModelError(f"scores: expected (N, {len(self.tags)}), got {scores.shape}")
        return _sigmoid(self.slopes * scores + self.intercepts).astype(np.float32)

    def probabilities(self, image_embeddings: Any) -> np.ndarray:
        """Tag probabilities (N, T) of (N, D) image embeddings."""
        return self.probabilities_from_scores(self.scores(image_embeddings))

    def fit_calibration(
        self,
        scores: np.ndarray,
        labels: np.ndarray,
        known: np.ndarray | None = None,
        min_labels: int = MIN_LABELS,
        prior_strength: float = PRIOR_STRENGTH,
    ) -> TagModel:
        """A new model with per-tag Platt scaling fitted on (N, T) scores and {0, 1} labels.

        Only labels where ``known`` is true count. Targets are Platt's smoothed
        t₊ = (N₊ + 1)/(N₊ + 2), t₋ = 1/(N₋ + 2); the fit minimises the cross-entropy to them plus
        ½ λ ((a/logit_scale − 1)² + b²), a prior towards the zero-shot default. A tag with fewer
        than ``min_labels`` known labels, or without both classes, keeps the default.
        """
        scores = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(labels)
        known = np.ones(labels.shape, dtype=bool) if known is None else np.asarray(known, bool)
        expected = (scores.shape[0], len(self.tags))
        for name, array in (("scores", scores), ("labels", labels), ("known", known)):
            if array.shape != expected:
                raise TagModelError(f"{name}: expected shape {expected}, got {array.shape}")
        if not np.all((labels[known] == 0) | (labels[known] == 1)):
            raise TagModelError("labels: expected 0 or 1 where known")
        fit = _default_calibration(len(self.tags), self.logit_scale)
        slopes, intercepts = fit["slopes"], fit["intercepts"]
        counts, fitted = fit["label_counts"], fit["calibrated"]
        for t in range(len(self.tags)):
            y = labels[known[:, t], t].astype(np.float64)
            counts[t] = int(y.sum()), int(len(y) - y.sum())
            if len(y) < min_labels or counts[t].min() == 0:
                continue
            z = self.logit_scale * scores[known[:, t], t]
            slope, intercepts[t] = _platt_fit(z, y, prior_strength)
            slopes[t] = slope * self.logit_scale
            fitted[t] = True
        version = _digest(self.tags, slopes, intercepts, fitted) if fitted.any() else UNCALIBRATED
        return replace(self, **fit, calibration_version=version, metrics={},
                       created_at=datetime.now(UTC).isoformat())  # fmt: skip

    def uncalibrated(self) -> TagModel:
        """This model with every tag back at the zero-shot default a_t = logit_scale, b_t = 0."""
        n = len(self.tags)
        return replace(self, **_default_calibration(n, self.logit_scale),
                       calibration_version=UNCALIBRATED, metrics={})  # fmt: skip

    def with_metrics(self, metrics: Mapping[str, Any]) -> TagModel:
        """This model with ``metrics`` (e.g. held-out ECE and mAP) to be written on its card."""
        return replace(self, metrics=dict(metrics))

    def save(self, folder: Path | str) -> Path:
        """Write ``tag_model.safetensors`` then its card ``tag_model.json``, each atomically."""
        arrays = {
            "tag_embeddings": np.ascontiguousarray(self.tag_embeddings, dtype=np.float32),
            "neutral_embeddings": np.ascontiguousarray(self.neutral_embeddings, dtype=np.float32),
            "slopes": np.ascontiguousarray(self.slopes, dtype=np.float64),
            "intercepts": np.ascontiguousarray(self.intercepts, dtype=np.float64),
            "label_counts": np.ascontiguousarray(self.label_counts, dtype=np.int64),
            "calibrated": self.calibrated.astype(np.uint8),
        }
        fields = {
            "model_id": self.model_id,
            "vocabulary_version": self.vocabulary_version,
            "tags": list(self.tags),
            "groups": list(self.groups),
            "group_names": list(self.group_names),
            "logit_scale": self.logit_scale,
            "calibration_version": self.calibration_version,
            "label_counts": {
                t: {"positives": int(p), "negatives": int(n), "calibrated": bool(c)}
                for t, (p, n), c in zip(self.tags, self.label_counts, self.calibrated, strict=True)
            },  # fmt: skip
            "metrics": dict(self.metrics),
            "created_at": self.created_at,
        }
        return FORMAT.write(folder, arrays, fields)

    @classmethod
    def load(cls, folder: Path | str) -> TagModel:
        """Read a saved model, checking its kind, schema version and that the files belong."""
        folder = Path(folder)
        card, _, weights_path = FORMAT.read_card(folder)
        arrays = FORMAT.read_arrays(card, weights_path)
        try:
            return cls(
                tags=tuple(card["tags"]),
                groups=tuple(card["groups"]),
                group_names=tuple(card["group_names"]),
                logit_scale=float(card["logit_scale"]),
                model_id=card["model_id"],
                vocabulary_version=int(card["vocabulary_version"]),
                calibration_version=card["calibration_version"],
                metrics=card.get("metrics", {}),
                created_at=card["created_at"],
                tag_embeddings=arrays["tag_embeddings"],
                neutral_embeddings=arrays["neutral_embeddings"],
                slopes=arrays["slopes"],
                intercepts=arrays["intercepts"],
                label_counts=arrays["label_counts"],
                calibrated=arrays["calibrated"].astype(bool),
            )
        except KeyError as exc:
            raise TagModelError(f"{folder}: missing field {exc}") from exc

    @property
    def _group_index(self) -> np.ndarray:
        position = {g: i for i, g in enumerate(self.group_names)}
        return np.array([position[g] for g in self.groups], dtype=np.int64)


def _default_calibration(n: int, logit_scale: float) -> dict[str, np.ndarray]:
    return {
        "slopes": np.full(n, logit_scale),
        "intercepts": np.zeros(n),
        "label_counts": np.zeros((n, 2), dtype=np.int64),
        "calibrated": np.zeros(n, dtype=bool),
    }


def _platt_fit(z: np.ndarray, y: np.ndarray, prior_strength: float) -> tuple[float, float]:
    """Newton's method for (α, b) minimising Σ CE(t_i, σ(α z_i + b)) + ½ λ ((α − 1)² + b²)."""
    n_pos = y.sum()
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (len(y) - n_pos + 2))
    design = np.stack([z, np.ones_like(z)], axis=1)
    prior = np.array([1.0, 0.0])

    def loss(theta: np.ndarray) -> float:
        logits = design @ theta
        # CE = log(1 + e^u) − t·u, written stably
        return float(np.sum(np.logaddexp(0, logits) - target * logits)
                     + 0.5 * prior_strength * np.sum((theta - prior) ** 2))  # fmt: skip

    theta = prior.copy()
    for _ in range(100):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (p - target) + prior_strength * (theta - prior)
        hessian = (design * (p * (1 - p))[:, None]).T @ design + prior_strength * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        current, size = loss(theta), 1.0
        while loss(theta - size * step) > current and size > 1e-6:  # backtracking line search
            size /= 2
        theta = theta - size * step
        if np.max(np.abs(size * step)) < 1e-9:
            break
    return float(theta[0]), float(theta[1])


def _mean_embeddings(encode_texts: Callable[[list[str]], Any], prompt_lists: list[list[str]]):
    """Normalised mean embedding of each list of prompts, (len(prompt_lists), D) float32."""
    flat = [text for prompts in prompt_lists for text in prompts]
    encoded = np.concatenate(
        [
            _as_float32(encode_texts(flat[i : i + TEXT_BATCH]))
            for i in range(0, len(flat), TEXT_BATCH)
        ]
    )
    encoded /= np.maximum(np.linalg.norm(encoded, axis=1, keepdims=True), 1e-12)
    bounds = np.cumsum([0, *map(len, prompt_lists)])
    means = np.stack(
        [encoded[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    )
    return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)


def _as_float32(array: Any) -> np.ndarray:
    if hasattr(array, "detach"):  # a torch tensor, without importing torch here
        array = array.detach().float().cpu().numpy()
    return np.asarray(array, dtype=np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


def _digest(tags: Sequence[str], *arrays: np.ndarray, length: int = 12) -> str:
    digest = hashlib.sha256("\n".join(tags).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:length]
