"""Home page rows from viewing history: "Popular now", then one row per favourite genre.

Rules:

- only titles with at least one artwork candidate appear; no title appears twice on a page;
- titles the viewer has watched to the end (``watched >= 0.9``) are left out;
- within a row, titles are ranked by popularity: viewings with ``watched >= 0.5``, ties by id;
- favourite genres are ranked by the viewer's watched fraction summed over their history;
  when they run out (or for a viewer with no history) rows for the genres most watched by
  everyone follow, and their reason says so;
- genres the viewer chose at onboarding (``chosen_genres``) get rows "Because you like <genre>":
  for a viewer with no history they lead the page, before "Popular now"; otherwise they come
  first among the genre rows;
- rows that would be empty are skipped, so a page may have fewer rows than asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from artwork.catalog import Catalog
from artwork.errors import InputError
from artwork.interactions import Interaction, ViewingHistory
from artwork.vocabulary import GENRES

POPULAR_MIN_WATCHED = 0.5  # a viewing counts towards popularity from half watched
FINISHED_MIN_WATCHED = 0.9  # a title watched this far is not recommended again

GenreKind = Literal["chosen", "favourite", "popular"]
_GENRE_ROWS: dict[GenreKind, tuple[str, str]] = {
    "chosen": ("{genre} for you", "Because you like {genre}"),
    "favourite": ("More {genre}", "Because you watch a lot of {genre}"),
    "popular": ("Popular in {genre}", "{genre} is among the most watched genres"),
}


@dataclass(frozen=True)
class Row:
    """One row of the home page: its heading, why it is there, and its titles in order."""

    name: str
    reason: str
    title_ids: tuple[str, ...]


def home_rows(
    catalog: Catalog,
    history: ViewingHistory,
    viewer_id: str,
    n_rows: int = 4,
    per_row: int = 10,
    chosen: Sequence[str] = (),
) -> list[Row]:
    """At most ``n_rows`` non-empty rows of at most ``per_row`` titles for ``viewer_id``, who
    chose the genres ``chosen`` at onboarding (module docstring)."""
    if n_rows < 1:
        raise InputError(f"expected at least 1, got {n_rows}", field="n_rows")
    if per_row < 1:
        raise InputError(f"expected at least 1, got {per_row}", field="per_row")

    ranked = titles_by_popularity(catalog, history)
    own = history.of(viewer_id)
    finished = {i.title_id for i in own if i.watched >= FINISHED_MIN_WATCHED}
    shown: set[str] = set()

    def pick(title_ids: Iterable[str]) -> tuple[str, ...]:
        chosen = []
        for title_id in title_ids:
            if len(chosen) == per_row:
                break
            if title_id not in finished and title_id not in shown:
                chosen.append(title_id)
        shown.update(chosen)
        return tuple(chosen)

    def add_genre_rows(genres: list[tuple[str, GenreKind]]) -> None:
        for genre, kind in genres:
            if len(rows) >= n_rows:
                break
            titles = pick(t for t in ranked if genre in catalog.titles[t].genres)
            if titles:
                rows.append(genre_row(genre, kind, titles))

    rows: list[Row] = []
    favourites = favourite_genres(catalog, own)
    overall = history.derived(
        "genre_ranking", catalog,
        lambda: _genre_ranking(catalog, history.interactions, include_unwatched=True),
    )  # fmt: skip
    genres = genre_plan(chosen, favourites, overall)
    if not own:  # a new viewer's chosen genres lead the page
        add_genre_rows([g for g in genres if g[1] == "chosen"])
        genres = [g for g in genres if g[1] != "chosen"]
    popular = pick(ranked)
    if popular and len(rows) < n_rows:
        rows.append(Row("Popular now", "Most watched by everyone", popular))
    add_genre_rows(genres)
    return rows[:n_rows]


def titles_by_popularity(catalog: Catalog, history: ViewingHistory) -> tuple[str, ...]:
    """The titles with artwork, most viewed first (ties by id); sorted once per history and
    catalog (``ViewingHistory.derived``)."""

    def rank() -> tuple[str, ...]:
        viewings = history.popularity(POPULAR_MIN_WATCHED)
        return tuple(sorted((t for t in catalog.titles if catalog.candidates(t)),
                            key=lambda t: (-viewings[t], t)))  # fmt: skip

    return history.derived("titles_by_popularity", catalog, rank)


def chosen_genres(text: str) -> tuple[str, ...]:
    """The genres in comma-separated ``text`` (a viewer's onboarding choice), in order, each
    once; ``InputError`` on field ``genres`` naming a genre outside the catalog's vocabulary."""
    names = tuple(dict.fromkeys(g.strip() for g in text.split(",") if g.strip()))
    for name in names:
        if name not in GENRES:
            raise InputError(f"unknown genre {name!r} (known: {', '.join(GENRES)})",
                             field="genres")  # fmt: skip
    return names


def genre_plan(
    chosen: Sequence[str], favourites: Sequence[str], others: Sequence[str] = ()
) -> list[tuple[str, GenreKind]]:
    """The genres to give rows, in order, each once: ``chosen`` at onboarding, then the
    viewer's ``favourites``, then ``others`` (the most watched by everyone)."""
    steps: tuple[tuple[Sequence[str], GenreKind], ...] = (
        (chosen, "chosen"), (favourites, "favourite"), (others, "popular"),
    )  # fmt: skip
    plan: dict[str, GenreKind] = {}
    for genres, kind in steps:
        for genre in genres:
            plan.setdefault(genre, kind)
    return list(plan.items())


def genre_row(genre: str, kind: GenreKind, title_ids: tuple[str, ...]) -> Row:
    """A genre's row, named and explained by why the genre is on the page."""
    name, reason = _GENRE_ROWS[kind]
    return Row(name.format(genre=genre), reason.format(genre=genre), title_ids)


def favourite_genres(catalog: Catalog, interactions: Iterable[Interaction]) -> list[str]:
    """The genres a viewer watched, by watched fraction summed over ``interactions``."""
    return _genre_ranking(catalog, interactions)


def _genre_ranking(
    catalog: Catalog, interactions: Iterable[Interaction], include_unwatched: bool = False
) -> list[str]:
    """Genres by watched fraction summed over ``interactions``, most first, ties by name.

    With ``include_unwatched``, every genre of the catalog is ranked, unwatched ones last.
    """
    score: Counter[str] = Counter()
    if include_unwatched:
        for title in catalog.titles.values():
            score.update({g: 0.0 for g in title.genres})
    for i in interactions:
        title = catalog.titles.get(i.title_id)
        if title is not None and i.watched > 0:
            for genre in title.genres:
                score[genre] += i.watched
    return sorted(score, key=lambda g: (-score[g], g))
