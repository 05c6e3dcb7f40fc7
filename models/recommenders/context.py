"""Context re-ranking: how genre preferences shift with the hour of day and the device, learnt
from viewing history.

Each viewing's weight is spread evenly over its title's genres. For a context value c (an hour
bucket of ``bucket_hours`` hours, UTC, or a device) and a genre g:

    O(g, c) = the weight g gets from the viewings in c
    E(g, c) = what g would get in c if context changed nothing:
              reference "overall": n(c)·p(g)              p(g): g's share of all viewings
              reference "viewer":  Σ_u n_u(c)·p_u(g)      p_u(g): viewer u's own share
    lift(g, c) = log((O(g, c) + α·p(g)) / (E(g, c) + α·p(g)))      α = ``smoothing``

"viewer" keeps who happens to watch at an hour out of the lift (a viewer's own tastes are the
recommender's job); with one device per viewer its device lift is zero by construction. A
title's lift in context (hour h, device d) is the mean over its genres of
lift(g, bucket(h)) + lift(g, d) (an unknown hour or device adds nothing), and a viewer's scores
are re-ranked as

    s'_t = s_t + β · max_t'|s_t'| · lift(t, h, d)        β = ``strength`` (tuned on validation)

so that β means the same for any recommender's score scale. Saved as ``context.safetensors``
(the lift tables and the items' genres) and ``context.json`` (kind, schema, config, genre and
device names, hash), beside the recommender it re-ranks; no pickle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from models.artifacts import ArtifactFormat
from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions

FORMAT = ArtifactFormat(
    "context_reranker", 1, "context.safetensors", "context.json", "a saved context re-ranker",
    RecommenderError,
)  # fmt: skip
ARRAYS = ("item_genres", "hour_lift", "device_lift")
REFERENCES = ("overall", "viewer")
HOURS = 24


def hour_of_day(times: np.ndarray) -> np.ndarray:
    """The UTC hour (0..23) of Unix timestamps in seconds."""
    return (np.asarray(times, dtype=np.int64) // 3600) % HOURS


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContextConfig:
    """The re-ranker's settings (module docstring)."""

    bucket_hours: int = 3  # hours per bucket; divides 24
    smoothing: float = 100.0  # α, pseudo-viewings pulling each lift towards 0
    reference: str = "viewer"  # what a context's genre shares are compared with
    strength: float = 0.0  # β, the lift's weight in the re-ranked score

    def __post_init__(self) -> None:
        checks = (
            ("bucket_hours", self.bucket_hours >= 1 and HOURS % self.bucket_hours == 0,
             "must divide 24"),
            ("smoothing", self.smoothing > 0 and np.isfinite(self.smoothing), "must be positive"),
            ("reference", self.reference in REFERENCES, f"must be one of {REFERENCES}"),
            ("strength", self.strength >= 0 and np.isfinite(self.strength), "must be ≥ 0"),
        )  # fmt: skip
        for name, ok, rule in checks:
            if not ok:
                raise RecommenderError(f"ContextConfig.{name} = {getattr(self, name)!r}: {rule}")


@dataclasses.dataclass(frozen=True, eq=False)
class ContextInputs:
    """What the re-ranker knows besides the viewings' times: each item's genres and each user's
    usual device, over the same indices as the ``Interactions`` it learns from."""

    genres: tuple[str, ...]
    item_genres: np.ndarray  # (n_items, n_genres): 1 where the item has the genre
    devices: tuple[str, ...] = ()
    user_devices: np.ndarray | None = None  # (n_users,): index into devices, −1 unknown

    def __post_init__(self) -> None:
        if self.item_genres.ndim != 2 or self.item_genres.shape[1] != len(self.genres):
            raise RecommenderError(f"item_genres must be (n_items, {len(self.genres)}), "
                                   f"got {self.item_genres.shape}")  # fmt: skip
        devices = self.user_devices
        if devices is not None and (
            devices.ndim != 1
            or (devices.size and (devices.min() < -1 or devices.max() >= len(self.devices)))
        ):
            raise RecommenderError(
                f"user_devices must be a 1-d array of indices into {len(self.devices)} devices "
                "(−1 unknown)"
            )

    @classmethod
    def from_ids(
        cls,
        item_ids: Sequence[str],
        genres_of: Mapping[str, Iterable[str]],
        user_ids: Sequence[str] = (),
        device_of: Mapping[str, str] | None = None,
    ) -> ContextInputs:
        """Index form of each item's genres (``genres_of``: item id → genres, missing ones have
        none) and each user's device (``device_of``: user id → device, missing ones unknown)."""
        genres = tuple(sorted({g for i in item_ids for g in genres_of.get(i, ())}))
        column = {g: n for n, g in enumerate(genres)}
        item_genres = np.zeros((len(item_ids), len(genres)), dtype=np.float32)
        for row, item in enumerate(item_ids):
            item_genres[row, [column[g] for g in genres_of.get(item, ())]] = 1.0
        if not device_of:
            return cls(genres, item_genres)
        devices = tuple(sorted(set(device_of.values())))
        index = {d: n for n, d in enumerate(devices)}
        user_devices = np.array([index.get(device_of.get(u, ""), -1) for u in user_ids])
        return cls(genres, item_genres, devices, user_devices.astype(np.int64))


@dataclasses.dataclass(frozen=True, eq=False)
class ContextReranker:
    """Genre lifts per hour bucket and per device, and the items' genre weights (module
    docstring); ``rerank`` applies them to a viewer's scores."""

    config: ContextConfig
    genres: tuple[str, ...]
    devices: tuple[str, ...]
    item_genres: np.ndarray  # (n_items, n_genres), each row sums to 1 (0 without genres)
    hour_lift: np.ndarray  # (24 / bucket_hours, n_genres)
    device_lift: np.ndarray  # (n_devices, n_genres)
    created_at: str = dataclasses.field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    @classmethod
    def fit(
        cls, history: Interactions, inputs: ContextInputs, config: ContextConfig | None = None
    ) -> ContextReranker:
        """Learn the lift tables from ``history`` (its times give the hours)."""
        config = config or ContextConfig()
        if inputs.item_genres.shape[0] != history.n_items:
            raise RecommenderError(f"item_genres has {inputs.item_genres.shape[0]} rows, the "
                                   f"history {history.n_items} items")  # fmt: skip
        counts = inputs.item_genres.sum(axis=1, keepdims=True)
        weights = np.divide(inputs.item_genres, counts, out=np.zeros_like(inputs.item_genres,
                            dtype=np.float64), where=counts > 0)  # fmt: skip
        spread = weights[history.items]  # (n_interactions, n_genres)
        buckets = hour_of_day(history.times) // config.bucket_hours
        hour_lift = _lift(history, spread, buckets, HOURS // config.bucket_hours, config)
        user_devices = inputs.user_devices
        devices = inputs.devices if user_devices is not None else ()
        device_lift = np.zeros((len(devices), len(inputs.genres)))
        if user_devices is not None and devices:
            if user_devices.shape != (history.n_users,):
                raise RecommenderError(f"user_devices has {user_devices.size} entries, the "
                                       f"history {history.n_users} users")  # fmt: skip
            device_lift = _lift(history, spread, user_devices[history.users], len(devices),
                                config)  # fmt: skip
        return cls(config, inputs.genres, devices, weights.astype(np.float32),
                   hour_lift.astype(np.float32), device_lift.astype(np.float32))  # fmt: skip

    @property
    def n_items(self) -> int:
        return self.item_genres.shape[0]

    def with_strength(self, strength: float) -> ContextReranker:
        """The same lifts with ``strength`` β (what tuning varies without a refit)."""
        return dataclasses.replace(self, config=dataclasses.replace(self.config,
                                                                    strength=strength))  # fmt: skip

    def canonical(self, hour: int | None, device: str | None) -> tuple[int | None, str | None]:
        """The context as far as re-ranking sees it: the first hour of ``hour``'s bucket and
        the device when it is one the re-ranker knows (None for what adds nothing; both None at
        strength 0). Contexts with the same canonical form are re-ranked alike, so a cache may
        key on it."""
        bucket = self.config.bucket_hours
        if self.config.strength == 0:  # tuned off: no context moves a score
            return None, None
        return (
            None if hour is None else int(hour) // bucket * bucket,
            device if device in self.devices else None,
        )

    def lift(self, hour: int | None, device: str | None) -> np.ndarray:
        """Every item's lift in context (hour, device): (n_items,); unknown parts add 0."""
        device_index = self.devices.index(device) if device in self.devices else -1
        hours = np.array([-1 if hour is None else int(hour)])
        return self.lifts(hours, np.array([device_index]))[0]

    def lifts(self, hours: np.ndarray, devices: np.ndarray) -> np.ndarray:
        """Lifts for n contexts: ``hours`` (0..23, −1 unknown) and ``devices`` (indices into
        ``devices``, −1 unknown), each (n,): (n, n_items)."""
        hours, devices = np.asarray(hours, dtype=np.int64), np.asarray(devices, dtype=np.int64)
        if hours.size and (hours.min() < -1 or hours.max() >= HOURS):
            raise RecommenderError(f"hours must lie in 0..23 (−1 unknown), got {hours}")
        genre_lift = np.zeros((len(hours), len(self.genres)))
        known = hours >= 0
        genre_lift[known] += self.hour_lift[hours[known] // self.config.bucket_hours]
        known = (devices >= 0) & (devices < len(self.devices))
        genre_lift[known] += self.device_lift[devices[known]]
        return genre_lift @ self.item_genres.T.astype(np.float64)

    def rerank(
        self, scores: np.ndarray, lifts: np.ndarray, scale: np.ndarray | None = None
    ) -> np.ndarray:
        """``scores`` (n, n_items) moved by β·max|s|·lift, row by row (module docstring);
        ``scale`` (n, 1): each row's max|s| over finite scores, when already known. Infinite
        scores (items left out) stay as they are."""
        if scores.shape != lifts.shape:
            raise RecommenderError(f"scores {scores.shape} and lifts {lifts.shape} differ")
        scale = score_scale(scores) if scale is None else scale
        return scores + (self.config.strength * scale) * lifts

    def rerank_one(self, scores: np.ndarray, hour: int | None, device: str | None) -> np.ndarray:
        """One viewer's ``scores`` (n_items,) re-ranked for (hour, device)."""
        return self.rerank(np.asarray(scores)[None, :], self.lift(hour, device)[None, :])[0]

    # ---- the artifact ---------------------------------------------------------------------------

    def save(self, folder: Path | str, *, card_fields: Mapping[str, Any] | None = None) -> Path:
        """Write ``context.safetensors`` then ``context.json`` into ``folder``, each atomically."""
        arrays = {k: np.ascontiguousarray(getattr(self, k)) for k in ARRAYS}
        fields = {"config": dataclasses.asdict(self.config), "genres": list(self.genres),
                  "devices": list(self.devices), "n_items": self.n_items,
                  "created_at": self.created_at}  # fmt: skip
        return FORMAT.write(folder, arrays, fields, card_fields, owner="context_reranker")

    @classmethod
    def load(cls, folder: Path | str) -> ContextReranker:
        """Read a saved re-ranker, checking kind, schema, hash, config and array shapes."""
        card, card_path, weights_path = FORMAT.read_card(folder)
        try:
            config = ContextConfig(**card.get("config", {}))
            genres, devices = tuple(card["genres"]), tuple(card["devices"])
        except (TypeError, KeyError) as exc:
            raise RecommenderError(f"{card_path}: config, genres or devices missing or bad "
                                   f"({exc})") from exc  # fmt: skip
        arrays = FORMAT.read_arrays(card, weights_path)
        expected = {"item_genres": (card.get("n_items"), len(genres)),
                    "hour_lift": (HOURS // config.bucket_hours, len(genres)),
                    "device_lift": (len(devices), len(genres))}  # fmt: skip
        for name, shape in expected.items():
            if name not in arrays or arrays[name].shape != shape:
                found = arrays[name].shape if name in arrays else "missing"
                raise RecommenderError(f"{weights_path}: {name} is {found}, expected {shape}")
        return cls(config, genres, devices, *(arrays[k] for k in ARRAYS),
                   created_at=str(card.get("created_at", "")))  # fmt: skip


def score_scale(scores: np.ndarray) -> np.ndarray:
    """Each row's largest finite |score|: (n, 1), what β is measured against."""
    return np.where(np.isfinite(scores), np.abs(scores), 0.0).max(axis=1, keepdims=True)


def saved_context(folder: Path | str) -> bool:
    """Whether ``folder`` holds a saved context re-ranker (its card)."""
    return (Path(folder) / FORMAT.card_file).is_file()


def _lift(
    history: Interactions, spread: np.ndarray, context: np.ndarray, n_context: int,
    config: ContextConfig,
) -> np.ndarray:  # fmt: skip
    """log((O + α·p) / (E + α·p)) per (context value, genre): (n_context, n_genres); viewings
    with context −1 count towards p only."""
    known = context >= 0
    onehot = sp.csr_matrix(
        (np.ones(int(known.sum())), (np.flatnonzero(known), context[known])),
        shape=(len(context), n_context),
    )
    observed = np.asarray(onehot.T @ spread)  # (n_context, n_genres)
    total = spread.sum(axis=0)
    share = total / max(total.sum(), 1e-12)
    if config.reference == "overall":
        expected = observed.sum(axis=1, keepdims=True) * share[None, :]
    else:
        by_user = sp.csr_matrix(
            (np.ones(len(context)), (history.users, np.arange(len(context)))),
            shape=(history.n_users, len(context)),
        )
        own = np.asarray(by_user @ spread)  # (n_users, n_genres)
        own_share = own / np.maximum(own.sum(axis=1, keepdims=True), 1e-12)
        with_genres = (spread.sum(axis=1) > 0).astype(np.float64)
        per_context = np.asarray((by_user @ onehot.multiply(with_genres[:, None])).todense())
        expected = per_context.T @ own_share  # (n_context, n_genres)
    prior = config.smoothing * share[None, :]
    lift = np.log((observed + prior) / np.maximum(expected + prior, 1e-12))
    return np.where(share[None, :] > 0, lift, 0.0)
