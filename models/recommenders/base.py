"""The one interface every recommender implements: fit on histories, score, recommend, save.

A recommender learns from ``Interactions`` (users × items, ordered by time) and keeps the
history it was fitted on: ``score(users)`` rates every item for those users from their fitted
history, ``top_k``/``recommend`` rank them (items already seen left out by default),
``item_similarity``/``similar_items`` serve "Because you watched X" and ``viewer_factors`` the
viewer clusters. Saved as ``recommender.safetensors`` (arrays, including the fitted history) and
``recommender.json`` (the card: kind, schema, model, version, config, sizes, hash), each written
atomically; no pickle.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from models.artifacts import ArtifactFormat
from models.recommenders.dislikes import DEFAULT_STRENGTH, penalise_dislikes
from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions

KIND = "recommender"
SCHEMA_VERSION = 1
WEIGHTS_FILE = "recommender.safetensors"
CARD_FILE = "recommender.json"
FORMAT = ArtifactFormat(
    KIND, SCHEMA_VERSION, WEIGHTS_FILE, CARD_FILE, "a saved recommender", RecommenderError
)
HISTORY_ARRAYS = ("history.users", "history.items", "history.times")
FACTOR_DIM = 32  # viewer factors from the history when a model has none of its own


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecommenderConfig:
    """Settings every recommender has; subclasses add their hyper-parameters (with defaults)."""

    seed: int = 0  # every random draw of fitting comes from this

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise RecommenderError(f"{type(self).__name__}.{spec.name}: {value!r} not finite")

    def require(self, name: str, ok: bool, rule: str) -> None:
        """Raise a RecommenderError naming the field when ``ok`` is false."""
        if not ok:
            raise RecommenderError(
                f"{type(self).__name__}.{name} = {getattr(self, name)!r}: {rule}"
            )


class Recommender(ABC):
    """Implicit-feedback recommender: ``fit``, ``score``, ``top_k``, ``save``/``load``."""

    name: ClassVar[str] = ""  # the registry name, set by @register_recommender
    version: ClassVar[int] = 1  # bumped when the algorithm or the saved state changes
    Config: ClassVar[type[RecommenderConfig]] = RecommenderConfig
    # The few hyper-parameters worth tuning on a validation slice, and the values to try.
    search_space: ClassVar[dict[str, tuple[Any, ...]]] = {}
    # Config fields that change scoring only, not fitting: tuning varies them without a refit.
    query_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: RecommenderConfig | None = None) -> None:
        config = self.Config() if config is None else config
        if type(config) is not self.Config:
            raise RecommenderError(
                f"{type(self).__name__} takes a {self.Config.__name__}, got {type(config).__name__}"
            )
        self.config = config
        self.history: Interactions | None = None
        self.created_at = datetime.now(UTC).isoformat(timespec="seconds")

    # ---- what a subclass provides -------------------------------------------------------------

    @abstractmethod
    def _fit(self, history: Interactions) -> None:
        """Learn the model's state from ``history`` (already stored as ``self.history``)."""

    @abstractmethod
    def _score(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for ``users``: (len(users), n_items), higher is better."""

    def _state_arrays(self) -> dict[str, np.ndarray]:
        """The learnt state as arrays for the safetensors file (the history is added here)."""
        return {}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Set the learnt state from the saved arrays (the history is already restored)."""
        self._fit(self.fitted_history)  # stateless models refit from the history

    # ---- the interface ------------------------------------------------------------------------

    @property
    def fitted_history(self) -> Interactions:
        if self.history is None:
            raise RecommenderError(f"{self.name}: not fitted (call fit first)")
        return self.history

    def fit(self, history: Interactions) -> Self:
        """Learn from ``history``; it is kept for scoring and for leaving seen items out."""
        if not isinstance(history, Interactions):
            raise RecommenderError(
                f"{self.name}.fit takes Interactions, got {type(history).__name__}"
            )
        if not len(history):
            raise RecommenderError(f"{self.name}.fit: no interactions to learn from")
        self.history = history
        self._fit(history)
        return self

    def reconfigured(self, **changes: Any) -> Self:
        """A copy that shares the fitted state, with query-time settings (``query_params``)
        changed."""
        fitted = sorted(set(changes) - self.query_params)
        if fitted:
            raise RecommenderError(f"{self.name}: changing {fitted} needs a new fit")
        twin = copy.copy(self)
        twin.config = dataclasses.replace(self.config, **changes)
        return twin

    def score(self, users: np.ndarray | list[int]) -> np.ndarray:
        """Scores of every item for ``users``: (len(users), n_items)."""
        users = self._check_users(users)
        return np.asarray(self._score(users), dtype=np.float64)

    def top_k(self, users: np.ndarray | list[int], k: int, exclude_seen: bool = True) -> np.ndarray:
        """The k best items per user, best first: (len(users), k); seen items last, if at all."""
        scores = self.score_unseen(users) if exclude_seen else self.score(users)
        return top_items(scores, k)

    def score_unseen(self, users: np.ndarray | list[int]) -> np.ndarray:
        """``score(users)`` with each user's seen items at −inf: (len(users), n_items)."""
        users = self._check_users(users)
        scores = self.score(users)
        scores[self.fitted_history.matrix()[users].nonzero()] = -np.inf
        return scores

    def recommend(
        self,
        user: int,
        k: int,
        exclude_seen: bool = True,
        disliked: np.ndarray | list[int] = (),
        dislike_strength: float = DEFAULT_STRENGTH,
    ) -> tuple[np.ndarray, np.ndarray]:
        """User ``user``'s k best items and their scores, best first: seen items left out,
        ``disliked`` ones removed and items like them lowered (``penalise_dislikes``)."""
        user = int(self._check_users([user])[0])
        scores = self.score([user])[0]
        if exclude_seen:
            scores[self.fitted_history.of(user)] = -np.inf
        disliked = self._check_items(disliked)
        if len(disliked):
            similarity = self.item_similarity(disliked)
            scores = penalise_dislikes(scores, disliked, similarity, dislike_strength)
        items = top_items(scores[None, :], k)[0]
        items = items[np.isfinite(scores[items])]
        return items, scores[items]

    def item_similarity(self, items: np.ndarray | list[int]) -> np.ndarray:
        """How much each of ``items`` makes every item likely: (len(items), n_items).

        Default: cosine similarity of the items' viewer columns in the fitted history.
        """
        items = self._check_items(items)
        columns = self.fitted_history.matrix().T.tocsr()
        norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        overlap = (columns[items] @ columns.T).toarray()
        return overlap / norms[items, None] / norms[None, :]

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k items most similar to ``item`` (itself left out) and their similarities."""
        similarity = self.item_similarity([item])[0]
        similarity[item] = -np.inf
        best = top_items(similarity[None, :], min(k, similarity.size - 1))[0]
        return best, similarity[best]

    def viewer_factors(self) -> np.ndarray:
        """A dense vector per user, (n_users, d), for clustering viewers ("Viewers like you").

        Default: a truncated SVD of the row-normalised history, U·Σ, with ``config.seed``.
        """
        from sklearn.utils.extmath import randomized_svd

        x = self.fitted_history.matrix()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        x = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x
        dim = max(1, min(FACTOR_DIM, min(x.shape) - 1))
        u, s, _ = randomized_svd(x, dim, random_state=self.config.seed)
        return u * s

    def save(self, folder: Path | str, *, card_fields: Mapping[str, Any] | None = None) -> Path:
        """Write the arrays then the card, each atomically; ``card_fields`` (JSON-ready: data,
        metrics, ids) join the card beside its own fields, which they may not replace."""
        history = self.fitted_history
        arrays = dict(zip(HISTORY_ARRAYS, (history.users, history.items, history.times),
                          strict=True))  # fmt: skip
        arrays |= {f"state.{k}": v for k, v in self._state_arrays().items()}
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        fields = {
            "model": self.name,
            "version": self.version,
            "config": dataclasses.asdict(self.config),
            "n_users": history.n_users,
            "n_items": history.n_items,
            "n_interactions": len(history),
            "created_at": self.created_at,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return FORMAT.write(folder, arrays, fields, card_fields, owner=self.name)

    @classmethod
    def load(cls, folder: Path | str) -> Recommender:
        """Read a saved recommender, checking kind, schema, model, version and that the arrays
        belong to the card."""
        from models.recommenders.registry import RECOMMENDERS  # it imports this module

        card, card_path, weights_path = read_card(Path(folder))
        kind = RECOMMENDERS.saved(card, card_path, "model", cls)
        name = kind.name
        try:
            model = kind(kind.Config(**card.get("config", {})))
        except TypeError as exc:
            raise RecommenderError(f"{card_path}: config does not fit {name} ({exc})") from exc
        arrays = FORMAT.read_arrays(card, weights_path)
        missing = [k for k in HISTORY_ARRAYS if k not in arrays]
        if missing:
            raise RecommenderError(f"{weights_path}: missing arrays {missing}")
        users, items, times = (arrays[k] for k in HISTORY_ARRAYS)
        model.history = Interactions.build(
            users, items, times, n_users=card.get("n_users"), n_items=card.get("n_items")
        )
        model._restore({k[6:]: v for k, v in arrays.items() if k.startswith("state.")})
        model.created_at = str(card.get("created_at", model.created_at))
        return model

    # ---- shared checks ------------------------------------------------------------------------

    def _check_users(self, users: np.ndarray | list[int]) -> np.ndarray:
        return _check_indices(users, self.fitted_history.n_users, f"{self.name}: users")

    def _check_items(self, items: np.ndarray | list[int]) -> np.ndarray:
        return _check_indices(items, self.fitted_history.n_items, f"{self.name}: items")


def _check_indices(indices: np.ndarray | list[int], n: int, label: str) -> np.ndarray:
    indices = np.asarray(indices)
    if indices.ndim != 1 or (len(indices) and not np.issubdtype(indices.dtype, np.integer)):
        raise RecommenderError(f"{label} must be a 1-d array of integers, got {indices!r}")
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        raise RecommenderError(
            f"{label} must lie in [0, {n}), got {indices.min()}..{indices.max()}"
        )
    return indices.astype(np.int64)


def top_items(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k highest scores per row, best first (ties in a fixed order)."""
    if k < 1:
        raise RecommenderError(f"k = {k!r}: must be at least 1")
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part.sort(axis=1)  # ties among the chosen rank by index
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def read_card(folder: Path) -> tuple[dict[str, Any], Path, Path]:
    """The card of a saved recommender (kind and schema checked) and the paths of both files."""
    return FORMAT.read_card(folder)
