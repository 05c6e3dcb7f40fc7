"""A personal home page from a recommender: top picks, "Because you watched", genre rows.

``personal_rows`` assembles the page from a ``TitleRanker``'s scores (``artwork.title_ranker``:
the recommender, cold-start titles, and the re-ranking for the request's hour and device):

1. "Top picks for you": the best-scored titles, re-ranked so that no genre takes more than half
   of the row (diversity);
2. "Because you watched <title>": the titles most similar to the viewer's latest viewing;
3. "Viewers like you": what the viewer's cluster (k-means on the model's viewer factors,
   ``cluster_viewers``) watches most that the viewer has not seen;
4. one row per genre the viewer chose at onboarding ("Because you like <genre>"), then per
   favourite genre, its titles ranked by the viewer's scores, not by popularity;
5. "Popular now".

Rows are filled in that order from titles not yet on the page (never a title twice, never one
the viewer finished or disliked, only titles with artwork); after "Top picks", rows are ordered
by expected value (the mean of their titles' scores, scaled to 0..1 over the page's
candidates). A disliked title also lowers the titles most like it. A viewer the recommender has
never seen gets the popularity, onboarding-genre and genre rows of ``artwork.rows``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from artwork.catalog import Catalog
from artwork.errors import InputError
from artwork.interactions import ViewingHistory
from artwork.rows import (
    FINISHED_MIN_WATCHED,
    Row,
    favourite_genres,
    genre_plan,
    genre_row,
    home_rows,
    titles_by_popularity,
)
from artwork.title_ranker import DEFAULT_RECOMMENDER, TitleRanker, content_vectors

__all__ = ["DEFAULT_RECOMMENDER", "TitleRanker", "content_vectors", "personal_rows"]


def personal_rows(
    catalog: Catalog,
    history: ViewingHistory,
    ranker: TitleRanker | None,
    viewer_id: str,
    n_rows: int = 4,
    per_row: int = 10,
    disliked: Iterable[str] = (),
    hour: int | None = None,
    device: str | None = None,
    genres: Sequence[str] = (),
) -> list[Row]:
    """At most ``n_rows`` non-empty rows of at most ``per_row`` titles (module docstring),
    ranked for the request's ``hour`` (UTC) and ``device``; ``disliked`` titles never appear
    and titles like them move down; ``genres`` chosen at onboarding get rows of their own."""
    disliked = set(disliked)
    own = history.of(viewer_id)
    finished = {i.title_id for i in own if i.watched >= FINISHED_MIN_WATCHED} | disliked
    ranking = (
        ranker.ranking(viewer_id, disliked, hour, device, leave_out=finished)
        if ranker is not None
        else None
    )
    if ranking is None:
        rows = home_rows(catalog, history, viewer_id, n_rows, per_row, chosen=genres)
        return [Row(r.name, r.reason, tuple(t for t in r.title_ids if t not in disliked))
                for r in rows]  # fmt: skip
    if n_rows < 1 or per_row < 1:
        field = "n_rows" if n_rows < 1 else "per_row"
        raise InputError(f"expected at least 1, got {min(n_rows, per_row)}", field=field)
    ranked = ranking.titles  # with artwork, not finished, best first (ties by id)
    shown: set[str] = set()

    def take(title_ids: Iterable[str], limit: int = per_row) -> tuple[str, ...]:
        """The first ``limit`` titles not on the page yet, not finished, with artwork; reads
        ``title_ids`` only as far as it needs to (a genre row stops at its tenth title)."""
        chosen: list[str] = []
        for t in title_ids:
            if t not in shown and t not in finished and catalog.candidates(t):
                shown.add(t)
                chosen.append(t)
                if len(chosen) == limit:
                    break
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
    for genre, kind in genre_plan(genres, favourite_genres(catalog, own)):
        rows.append(
            genre_row(genre, kind, take(t for t in ranked if genre in catalog.titles[t].genres))
        )
    by_popularity = titles_by_popularity(catalog, history)  # take() drops the finished
    rows.append(Row("Popular now", "Most watched by everyone", take(by_popularity)))

    rows = [r for r in rows if r.title_ids]
    finite = ranking.ranked_scores[np.isfinite(ranking.ranked_scores)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    spread = (high - low) or 1.0
    score = ranking.score

    def value(row: Row) -> float:
        return sum((score(t) - low) / spread for t in row.title_ids) / len(row.title_ids)

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
