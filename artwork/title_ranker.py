"""The recommender behind the home page, over a catalog's titles: fitted at start-up or loaded
from a saved artifact, with viewer clusters, cold-start content and the context re-ranker.

``TitleRanker`` maps a registered recommender's indices (``models.recommenders``) back to
viewer and title ids. ``scores`` gives a viewer's score of every title: the recommender's, with
titles no one watched scored from their content (``score_cold_items``), moved for the request's
hour and device by the context re-ranker (``models.recommenders.context``) and lowered for
dislikes (``penalise_dislikes``); ``ranking`` gives the same scores as a home page reads them,
the titles with artwork best first.

``TitleRanker.fit`` learns everything from the viewing history, the context re-ranker included
(its strength tuned on each viewer's latest 10%, ``learn_context``). ``TitleRanker.load`` reads
what ``python -m training.train_recommender`` saved (the recommender, the user and item ids on
its card, the re-ranker beside it when there is one); an artifact that cannot be read, or that
was trained on another catalog (no title in common), raises ``ArtifactError`` naming the folder
and what is wrong.

A catalog moves on between trainings: titles arrive and leave. A title the recommender never saw
(``new_titles``) is scored from its content like a title no one watched; a title that left the
catalog (``gone``) is never scored, recommended, or called similar.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artwork.catalog import Catalog
from artwork.errors import ArtifactError
from artwork.interactions import ViewingHistory
from models.errors import ModelError
from models.recommenders import Interactions, Recommender, load_recommender, make_recommender
from models.recommenders.base import read_card
from models.recommenders.clusters import ViewerClusters, cluster_viewers
from models.recommenders.cold_start import score_cold_items
from models.recommenders.context import ContextInputs, ContextReranker, saved_context
from models.recommenders.context_eval import learn_context
from models.recommenders.dislikes import penalise_dislikes

log = logging.getLogger(__name__)

DEFAULT_RECOMMENDER = "recency_ease"
MAX_CLUSTERS = 8  # "Viewers like you": k = min(MAX_CLUSTERS, viewers // VIEWERS_PER_CLUSTER)
VIEWERS_PER_CLUSTER = 10  # and no clusters when that is below 2


@dataclass(frozen=True, eq=False)
class TitleRanker:
    """A fitted recommender over a catalog's titles, with viewer and title ids for its indices,
    viewer clusters (None with too few viewers), a content vector per title for cold start and
    the context re-ranker (None: scores do not depend on the hour or device)."""

    model: Recommender
    title_ids: tuple[str, ...]  # the recommender's items, in its order
    viewer_index: Mapping[str, int]
    clusters: ViewerClusters | None = None
    # (n_titles + n_new, d): genres one-hot, then mean artwork tags; ``title_ids`` then
    # ``new_titles``; and which of those no one has watched
    content: np.ndarray | None = None
    cold: np.ndarray | None = None
    context: ContextReranker | None = None
    new_titles: tuple[str, ...] = ()  # catalog titles the recommender has not seen
    gone: frozenset[str] = frozenset()  # its titles no longer in the catalog
    # ``title_ids`` then ``new_titles``: which have artwork (None: all of them)
    with_artwork: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        catalog: Catalog,
        history: ViewingHistory,
        name: str = DEFAULT_RECOMMENDER,
        artwork_tags: Mapping[str, np.ndarray] | None = None,
        devices: Mapping[str, str] | None = None,
    ) -> TitleRanker | None:
        """Fit recommender ``name`` on every viewing of a catalog title (None without any), the
        viewer clusters, the titles' content vectors (``artwork_tags``: artwork_id → tag
        probabilities, when known) and the context re-ranker (``devices``: viewer → usual
        device, when known)."""
        titles = tuple(catalog.titles)
        title_index = {t: i for i, t in enumerate(titles)}
        viewings = [i for i in history.interactions if i.title_id in title_index]
        if not viewings:
            return None
        viewers = tuple(dict.fromkeys(i.viewer_id for i in viewings))
        viewer_index = {v: k for k, v in enumerate(viewers)}
        interactions = Interactions.build(
            np.array([viewer_index[i.viewer_id] for i in viewings]),
            np.array([title_index[i.title_id] for i in viewings]),
            np.array([i.timestamp for i in viewings], dtype=np.int64),
            n_users=len(viewers), n_items=len(titles),
        )  # fmt: skip
        model = make_recommender(name).fit(interactions)
        inputs = ContextInputs.from_ids(titles, _genres(catalog), viewers, devices)
        learnt = learn_context(lambda: make_recommender(name), interactions, inputs)
        if learnt is not None:
            log.info("context re-ranker: %s", learnt[1].best)
        context = learnt[0] if learnt is not None else None
        return cls.assemble(catalog, model, titles, viewer_index, artwork_tags, context)

    @classmethod
    def load(
        cls,
        catalog: Catalog,
        folder: Path | str,
        artwork_tags: Mapping[str, np.ndarray] | None = None,
    ) -> TitleRanker:
        """The recommender (and context re-ranker) saved in ``folder`` over ``catalog``;
        ``ArtifactError`` naming the folder when it cannot be read or does not fit the catalog."""
        folder = Path(folder)
        try:
            model = load_recommender(folder)
            card = read_card(folder)[0]
            context = ContextReranker.load(folder) if saved_context(folder) else None
        except ModelError as exc:
            raise ArtifactError(f"recommender artifact {folder}: {exc}") from exc
        title_ids = _card_ids(card, "item_ids", model.fitted_history.n_items, folder)
        viewer_ids = _card_ids(card, "user_ids", model.fitted_history.n_users, folder)
        gone = sorted(set(title_ids) - set(catalog.titles))
        new = sorted(set(catalog.titles) - set(title_ids))
        if len(gone) == len(title_ids):
            raise ArtifactError(
                f"recommender artifact {folder}: trained on another catalog (none of its "
                f"{len(title_ids)} titles is in the catalog, e.g. {gone[:3]})"
            )
        if gone or new:
            log.info("recommender artifact %s: %d catalog titles are new to it (scored from "
                     "their content, e.g. %s), %d of its titles left the catalog (never shown, "
                     "e.g. %s)", folder, len(new), new[:3], len(gone), gone[:3])  # fmt: skip
        if context is not None and context.n_items != len(title_ids):
            raise ArtifactError(
                f"recommender artifact {folder}: its context re-ranker has {context.n_items} "
                f"items, the recommender {len(title_ids)}"
            )
        viewer_index = {v: k for k, v in enumerate(viewer_ids)}
        return cls.assemble(catalog, model, title_ids, viewer_index, artwork_tags, context)

    def save(self, folder: Path | str, card_fields: Mapping[str, object] | None = None) -> Path:
        """Write the recommender (its card listing the viewer and title ids behind its indices,
        beside ``card_fields``) and the context re-ranker into ``folder``, as ``load`` reads
        them and ``python -m training.train_recommender`` writes them."""
        viewers = sorted(self.viewer_index, key=lambda v: self.viewer_index[v])
        ids = {"item_ids": list(self.title_ids), "user_ids": viewers}
        self.model.save(folder, card_fields={**(card_fields or {}), **ids})
        if self.context is not None:
            self.context.save(folder)
        return Path(folder)

    @classmethod
    def assemble(
        cls,
        catalog: Catalog,
        model: Recommender,
        title_ids: tuple[str, ...],
        viewer_index: Mapping[str, int],
        artwork_tags: Mapping[str, np.ndarray] | None,
        context: ContextReranker | None,
    ) -> TitleRanker:
        """A ranker around a fitted ``model`` whose items are ``title_ids``: its viewer
        clusters, the catalog titles it lacks, its titles the catalog lacks, and the content
        vectors of both kinds of title (the model's items first) are derived here."""
        n_viewers = len(viewer_index)
        k = min(MAX_CLUSTERS, n_viewers // VIEWERS_PER_CLUSTER)
        clusters = cluster_viewers(model, k) if k >= 2 else None
        known = set(title_ids)
        new_titles = tuple(t for t in catalog.titles if t not in known)
        gone = frozenset(t for t in title_ids if t not in catalog.titles)
        watched = np.bincount(model.fitted_history.items, minlength=len(title_ids)) > 0
        cold = np.concatenate([~watched, np.ones(len(new_titles), dtype=bool)])
        position = {t: n for n, t in enumerate(catalog.titles)}
        vectors = content_vectors(catalog, artwork_tags or {})
        content = np.zeros((len(title_ids) + len(new_titles), vectors.shape[1]))
        for row, title_id in enumerate((*title_ids, *new_titles)):
            if title_id in position:  # a title gone from the catalog has no content: zeros
                content[row] = vectors[position[title_id]]
        with_artwork = np.array([bool(catalog.candidates(t)) for t in (*title_ids, *new_titles)])
        return cls(model, title_ids, viewer_index, clusters, content, cold, context,
                   new_titles, gone, with_artwork)  # fmt: skip

    def scores(
        self,
        viewer_id: str,
        disliked: Iterable[str] = (),
        hour: int | None = None,
        device: str | None = None,
    ) -> dict[str, float] | None:
        """The viewer's score of every title (None for a viewer the model has not seen), moved
        for the ``hour`` and ``device`` of the request by the context re-ranker; a ``disliked``
        title scores −inf and titles like it are lowered (``penalise_dislikes``)."""
        values = self._values(viewer_id, disliked, hour, device)
        if values is None:
            return None
        every = zip(self._all_ids, values.tolist(), strict=True)
        return {t: score for t, score in every if t not in self.gone}

    def ranking(
        self,
        viewer_id: str,
        disliked: Iterable[str] = (),
        hour: int | None = None,
        device: str | None = None,
        leave_out: Iterable[str] = (),
    ) -> TitleRanking | None:
        """``scores`` as a home page reads them: the catalog's titles with artwork, best first
        (ties by id), less ``leave_out``, and each title's score. Ranked in numpy: a sort in
        Python over every title cost a 10,000-title page ~5 ms."""
        values = self._values(viewer_id, disliked, hour, device)
        if values is None:
            return None
        rankable = self._rankable.copy()
        position = self._all_position
        rankable[[position[t] for t in leave_out if t in position]] = False
        rows = np.flatnonzero(rankable)
        order = rows[np.lexsort((self._id_rank[rows], -values[rows]))]
        ids = self._all_ids
        return TitleRanking([ids[i] for i in order.tolist()], values[order], values, position)

    def _values(
        self, viewer_id: str, disliked: Iterable[str], hour: int | None, device: str | None
    ) -> np.ndarray | None:
        """The scores of ``title_ids`` then ``new_titles`` (see ``scores``; those ``gone``
        included)."""
        user = self.viewer_index.get(viewer_id)
        if user is None:
            return None
        scores = self.model.score([user])[0]
        fresh = np.full(len(self.new_titles), -np.inf)  # without content, new titles come last
        if self.content is not None and self.cold is not None:
            seen = self.model.fitted_history.of(user)
            every = score_cold_items(np.concatenate([scores, fresh]), seen, self.content, self.cold)
            n = len(self.title_ids)
            scores, fresh = every[:n], every[n:]
        if self.context is not None and (hour is not None or device is not None):
            scores = self.context.rerank_one(scores, hour, device)  # it knows the model's titles
        disliked = set(disliked)
        index = self._position
        bad = [index[t] for t in disliked if t in index]
        if bad:
            scores = penalise_dislikes(scores, bad, self.model.item_similarity(bad))
        new_disliked = [i for i, t in enumerate(self.new_titles) if t in disliked]
        if new_disliked:
            fresh = fresh.copy()
            fresh[new_disliked] = -np.inf
        return np.concatenate([scores, fresh])

    def canonical_context(
        self, hour: int | None, device: str | None
    ) -> tuple[int | None, str | None]:
        """(hour, device) as far as ``scores`` sees them (``ContextReranker.canonical``; both
        None without a re-ranker): equal forms give equal scores."""
        if self.context is None:
            return None, None
        return self.context.canonical(hour, device)

    def similar(self, title_id: str, k: int) -> list[str]:
        """Up to ``k`` titles most like ``title_id``, most similar first (none for a title the
        recommender has not seen)."""
        item = self._position.get(title_id)
        if item is None:
            return []
        items, _ = self.model.similar_items(item, k + len(self.gone))
        return self._in_catalog(items)[:k]

    def cluster_favourites(self, viewer_id: str, k: int) -> list[str]:
        """Up to ``k`` titles the viewer's cluster watches most that the viewer has not seen
        (none without clusters or for an unknown viewer)."""
        user = self.viewer_index.get(viewer_id)
        if self.clusters is None or user is None:
            return []
        seen = self.model.fitted_history.of(user)
        return self._in_catalog(self.clusters.favourites(user, k + len(self.gone), seen=seen))[:k]

    @functools.cached_property
    def _position(self) -> dict[str, int]:
        """Each of the recommender's titles' item index (made once, not per page)."""
        return {t: i for i, t in enumerate(self.title_ids)}

    @functools.cached_property
    def _all_ids(self) -> tuple[str, ...]:
        """The titles ``_values`` scores: ``title_ids`` then ``new_titles``."""
        return (*self.title_ids, *self.new_titles)

    @functools.cached_property
    def _all_position(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self._all_ids)}

    @functools.cached_property
    def _id_rank(self) -> np.ndarray:
        """Each of ``_all_ids``' place in id order (ties in a ranking go by id)."""
        rank = np.empty(len(self._all_ids), dtype=np.int64)
        rank[sorted(range(len(self._all_ids)), key=self._all_ids.__getitem__)] = np.arange(
            len(self._all_ids)
        )
        return rank

    @functools.cached_property
    def _rankable(self) -> np.ndarray:
        """Which of ``_all_ids`` a ranking may show: in the catalog, with artwork."""
        shown = np.array([t not in self.gone for t in self._all_ids], dtype=bool)
        return shown if self.with_artwork is None else shown & self.with_artwork

    def _in_catalog(self, items: Iterable[int]) -> list[str]:
        """The titles of the model's ``items``, those gone from the catalog left out."""
        return [t for t in (self.title_ids[i] for i in items) if t not in self.gone]


@dataclass(frozen=True, eq=False)
class TitleRanking:
    """A viewer's ranking (``TitleRanker.ranking``): ``titles`` best first with their
    ``ranked_scores``, and the score of any title the ranker knows (``score``)."""

    titles: list[str]
    ranked_scores: np.ndarray
    values: np.ndarray
    position: Mapping[str, int]

    def score(self, title_id: str) -> float:
        """The score of ``title_id``, any title the ranker knows (ranked or not)."""
        return float(self.values[self.position[title_id]])


def content_vectors(catalog: Catalog, artwork_tags: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each title's content vector (n_titles, n_genres + n_tags), in catalog order: its genres
    one-hot, then the mean tag probabilities of its tagged artwork; each block L2-normalised so
    that genres and tags weigh the same in a cosine (the tag block is empty without
    ``artwork_tags``)."""
    genres = sorted({g for t in catalog.titles.values() for g in t.genres})
    column = {g: i for i, g in enumerate(genres)}
    n_tags = len(next(iter(artwork_tags.values()))) if artwork_tags else 0
    onehot = np.zeros((len(catalog.titles), len(genres)))
    tags = np.zeros((len(catalog.titles), n_tags))
    for i, (title_id, title) in enumerate(catalog.titles.items()):
        onehot[i, [column[g] for g in title.genres]] = 1.0
        tagged = [artwork_tags[a.artwork_id] for a in catalog.candidates(title_id)
                  if a.artwork_id in artwork_tags]  # fmt: skip
        if tagged:
            tags[i] = np.mean(tagged, axis=0)
    return np.hstack([_unit_rows(onehot), _unit_rows(tags)])


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _card_ids(card: Mapping[str, object], field: str, n: int, folder: Path) -> tuple[str, ...]:
    """The ``n`` ids a saved recommender's card lists under ``field``."""
    ids = card.get(field)
    if not isinstance(ids, list) or len(ids) != n:
        raise ArtifactError(
            f"recommender artifact {folder}: card field {field} must list {n} ids (is it "
            "saved by python -m training.train_recommender?)"
        )
    return tuple(str(i) for i in ids)


def _genres(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    return {t: title.genres for t, title in catalog.titles.items()}
