"""A personal home page from a recommender: top picks, "Because you watched", genre rows.

``TitleRanker`` fits a registered recommender (``models.recommenders``) on a viewing history and
maps its indices back to viewer and title ids. ``personal_rows`` assembles the page:

1. "Top picks for you": the best-scored titles, re-ranked so that no genre takes more than half
   of the row (diversity);
2. "Because you watched <title>": the titles most similar to the viewer's latest viewing;
3. "Viewers like you": what the viewer's cluster (k-means on the model's viewer factors,
   ``cluster_viewers``) watches most that the viewer has not seen;
4. one row per favourite genre, its titles ranked by the viewer's scores, not by popularity;
5. "Popular now".

Rows are filled in that order from titles not yet on the page (never a title twice, never one
the viewer finished or disliked, only titles with artwork); after "Top picks", rows are ordered
by expected value (the mean of their titles' scores, scaled to 0..1 over the page's
candidates). A disliked title also lowers the titles most like it. A viewer the recommender has
never seen gets the popularity and genre rows of ``artwork.rows``.

Cold start: a title no one has watched gets a content vector (its genres, one-hot, and the mean
tag probabilities of its artwork, each block L2-normalised) and a score from how well it matches
the viewer's content profile (``score_cold_items``: from a typical title's score for no match
up to about the viewer's 10th best for a perfect one), so it can appear in rows on day one
without taking them over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from artwork.catalog import Catalog
from artwork.errors import InputError
from artwork.interactions import ViewingHistory
from artwork.rows import FINISHED_MIN_WATCHED, POPULAR_MIN_WATCHED, Row, favourite_genres, home_rows
from models.recommenders import Interactions, Recommender, make_recommender
from models.recommenders.clusters import ViewerClusters, cluster_viewers
from models.recommenders.cold_start import score_cold_items
from models.recommenders.dislikes import penalise_dislikes

DEFAULT_RECOMMENDER = "recency_ease"
MAX_CLUSTERS = 8  # "Viewers like you": k = min(MAX_CLUSTERS, viewers // VIEWERS_PER_CLUSTER)
VIEWERS_PER_CLUSTER = 10  # and no clusters when that is below 2


@dataclass(frozen=True, eq=False)
class TitleRanker:
    """A fitted recommender over a catalog's titles, with viewer and title ids for its indices,
    viewer clusters (None with too few viewers) and a content vector per title for cold start."""

    model: Recommender
    title_ids: tuple[str, ...]
    viewer_index: Mapping[str, int]
    clusters: ViewerClusters | None = None
    content: np.ndarray | None = None  # (n_titles, d): genres one-hot, then mean artwork tags
    cold: np.ndarray | None = None  # (n_titles,) bool: titles no one has watched

    @classmethod
    def fit(
        cls,
        catalog: Catalog,
        history: ViewingHistory,
        name: str = DEFAULT_RECOMMENDER,
        artwork_tags: Mapping[str, np.ndarray] | None = None,
    ) -> TitleRanker | None:
        """Fit recommender ``name`` on every viewing of a catalog title (None without any), the
        viewer clusters and the titles' content vectors (``artwork_tags``: artwork_id → tag
        probabilities, when known)."""
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
        k = min(MAX_CLUSTERS, len(viewers) // VIEWERS_PER_CLUSTER)
        clusters = cluster_viewers(model, k) if k >= 2 else None
        cold = np.bincount(interactions.items, minlength=len(titles)) == 0
        content = content_vectors(catalog, artwork_tags or {})
        return cls(model, titles, viewer_index, clusters, content, cold)

    def scores(self, viewer_id: str, disliked: Iterable[str] = ()) -> dict[str, float] | None:
        """The viewer's score of every title (None for a viewer the model has not seen); a
        ``disliked`` title scores −inf and titles like it are lowered (``penalise_dislikes``)."""
        user = self.viewer_index.get(viewer_id)
        if user is None:
            return None
        scores = self.model.score([user])[0]
        if self.content is not None and self.cold is not None:
            seen = self.model.fitted_history.of(user)
            scores = score_cold_items(scores, seen, self.content, self.cold)
        index = {t: i for i, t in enumerate(self.title_ids)}
        bad = [index[t] for t in disliked if t in index]
        if bad:
            scores = penalise_dislikes(scores, bad, self.model.item_similarity(bad))
        return dict(zip(self.title_ids, scores.tolist(), strict=True))

    def similar(self, title_id: str, k: int) -> list[str]:
        """Up to ``k`` titles most like ``title_id``, most similar first."""
        items, _ = self.model.similar_items(self.title_ids.index(title_id), k)
        return [self.title_ids[i] for i in items]

    def cluster_favourites(self, viewer_id: str, k: int) -> list[str]:
        """Up to ``k`` titles the viewer's cluster watches most that the viewer has not seen
        (none without clusters or for an unknown viewer)."""
        user = self.viewer_index.get(viewer_id)
        if self.clusters is None or user is None:
            return []
        items = self.clusters.favourites(user, k, seen=self.model.fitted_history.of(user))
        return [self.title_ids[i] for i in items]


def content_vectors(catalog: Catalog, artwork_tags: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each title's content vector (n_titles, n_genres + n_tags): its genres one-hot, then the
    mean tag probabilities of its tagged artwork; each block L2-normalised so that genres and
    tags weigh the same in a cosine (the tag block is empty without ``artwork_tags``)."""
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


def personal_rows(
    catalog: Catalog,
    history: ViewingHistory,
    ranker: TitleRanker | None,
    viewer_id: str,
    n_rows: int = 4,
    per_row: int = 10,
    disliked: Iterable[str] = (),
) -> list[Row]:
    """At most ``n_rows`` non-empty rows of at most ``per_row`` titles (module docstring);
    ``disliked`` titles never appear and titles like them move down."""
    disliked = set(disliked)
    scores = ranker.scores(viewer_id, disliked) if ranker is not None else None
    if scores is None:
        rows = home_rows(catalog, history, viewer_id, n_rows=n_rows, per_row=per_row)
        return [Row(r.name, r.reason, tuple(t for t in r.title_ids if t not in disliked))
                for r in rows]  # fmt: skip
    if n_rows < 1 or per_row < 1:
        field = "n_rows" if n_rows < 1 else "per_row"
        raise InputError(f"expected at least 1, got {min(n_rows, per_row)}", field=field)
    own = history.of(viewer_id)
    finished = {i.title_id for i in own if i.watched >= FINISHED_MIN_WATCHED} | disliked
    open_titles = [t for t in catalog.titles if catalog.candidates(t) and t not in finished]
    ranked = sorted(open_titles, key=lambda t: (-scores[t], t))
    shown: set[str] = set()

    def take(title_ids: Iterable[str], limit: int = per_row) -> tuple[str, ...]:
        chosen = [t for t in title_ids if t not in shown and t not in finished]
        chosen = [t for t in dict.fromkeys(chosen) if catalog.candidates(t)][:limit]
        shown.update(chosen)
        return tuple(chosen)

    top = take(_diverse(catalog, ranked, per_row))
    rows = [Row("Top picks for you", "Ranked for you from everything you watched", top)]
    latest = max(own, key=lambda i: i.timestamp, default=None)
    if latest is not None and latest.title_id in catalog.titles:
        name = catalog.titles[latest.title_id].name
        similar = take(ranker.similar(latest.title_id, 4 * per_row))  # type: ignore[union-attr]
        rows.append(Row(f"Because you watched {name}",
                        f"Viewers who watched {name} also watched these", similar))  # fmt: skip
    like_you = take(ranker.cluster_favourites(viewer_id, 4 * per_row))  # type: ignore[union-attr]
    rows.append(Row("Viewers like you", "Viewers with tastes like yours watch these", like_you))
    for genre in favourite_genres(catalog, own):
        titles = take(t for t in ranked if genre in catalog.titles[t].genres)
        rows.append(Row(f"More {genre}", f"Because you watch a lot of {genre}", titles))
    popular = history.popularity(POPULAR_MIN_WATCHED)
    by_popularity = sorted(open_titles, key=lambda t: (-popular[t], t))
    rows.append(Row("Popular now", "Most watched by everyone", take(by_popularity)))

    rows = [r for r in rows if r.title_ids]
    finite = [scores[t] for t in ranked if np.isfinite(scores[t])] or [0.0]
    low, high = min(finite), max(finite)
    spread = (high - low) or 1.0

    def value(row: Row) -> float:
        return float(np.mean([(scores[t] - low) / spread for t in row.title_ids]))

    return (rows[:1] + sorted(rows[1:], key=value, reverse=True))[:n_rows]


def _diverse(catalog: Catalog, ranked: list[str], k: int) -> list[str]:
    """The best ``k`` of ``ranked`` with no genre in more than half of them (when possible)."""
    cap = max(1, k // 2)
    counts: Counter[str] = Counter()
    chosen, held_back = [], []
    for title_id in ranked:
        if len(chosen) == k:
            break
        genres = catalog.titles[title_id].genres
        if any(counts[g] >= cap for g in genres):
            held_back.append(title_id)
            continue
        chosen.append(title_id)
        counts.update(genres)
    return chosen + held_back[: k - len(chosen)]
