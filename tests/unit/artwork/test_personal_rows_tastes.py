""" "Viewers like you" and cold-start titles on the personal home page."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.catalog import ArtworkCandidate, Catalog, Title
from artwork.interactions import Interaction, ViewingHistory
from artwork.personal_rows import TitleRanker, content_vectors, personal_rows

TASTES = {"s": "Sci-Fi", "c": "Comedy"}
TAGS = {"s": [1.0, 0.0, 0.2], "c": [0.0, 1.0, 0.2]}  # artwork tags: space, people, dark


@pytest.fixture
def world(tmp_path):
    """8 Sci-Fi and 8 Comedy titles, each watched by 20 viewers of that taste, and one new title
    of each genre that no one has watched; "fan" has watched one Sci-Fi title."""
    titles = {f"{g}{i}": Title(f"{g}{i}", f"{name} {i}", (name,)) for g, name in TASTES.items()
              for i in range(8)}  # fmt: skip
    titles |= {f"new-{g}": Title(f"new-{g}", f"New {name}", (name,)) for g, name in TASTES.items()}
    art = {f"a-{t}": ArtworkCandidate(f"a-{t}", t, f"{t}.jpg") for t in titles}
    catalog = Catalog(tmp_path, titles, art, {a.title_id: (a,) for a in art.values()})
    tags = {a: np.array(TAGS[c.title_id.removeprefix("new-")[0]]) for a, c in art.items()}
    viewings = [Interaction(f"{g}-viewer{v}", f"{g}{(v + k) % 8}", 100 * v + k, 1.0)
                for g in TASTES for v in range(20) for k in range(5)]  # fmt: skip
    viewings.append(Interaction("fan", "s0", 1, 1.0))
    return catalog, ViewingHistory(viewings), tags


def test_viewers_of_one_taste_share_a_cluster(world):
    catalog, history, tags = world
    ranker = TitleRanker.fit(catalog, history, artwork_tags=tags)
    labels = ranker.clusters.labels
    index = ranker.viewer_index
    scifi = {labels[index[f"s-viewer{v}"]] for v in range(20)} | {labels[index["fan"]]}
    comedy = {labels[index[f"c-viewer{v}"]] for v in range(20)}
    assert scifi.isdisjoint(comedy)
    favourites = ranker.cluster_favourites("fan", 20)
    assert favourites and "s0" not in favourites
    assert all(t.startswith("s") for t in favourites)


def test_the_viewers_like_you_row_shows_what_the_cluster_watches(world):
    catalog, history, tags = world
    ranker = TitleRanker.fit(catalog, history, artwork_tags=tags)
    rows = personal_rows(catalog, history, ranker, "fan", n_rows=6, per_row=2)
    like_you = next(r for r in rows if r.name == "Viewers like you")
    assert like_you.reason == "Viewers with tastes like yours watch these"
    assert like_you.title_ids
    assert set(like_you.title_ids) <= set(ranker.cluster_favourites("fan", 20))
    shown = [t for r in rows for t in r.title_ids]
    assert len(shown) == len(set(shown)) and "s0" not in shown


def test_too_few_viewers_means_no_clusters_and_no_row(world):
    catalog, _, tags = world
    few = ViewingHistory([Interaction(f"v{v}", f"s{v}", v, 1.0) for v in range(5)])
    ranker = TitleRanker.fit(catalog, few, artwork_tags=tags)
    assert ranker.clusters is None and ranker.cluster_favourites("v0", 5) == []
    rows = personal_rows(catalog, few, ranker, "v0", n_rows=10, per_row=3)
    assert "Viewers like you" not in [r.name for r in rows]


def test_content_vectors_weigh_genres_and_tags_alike(world):
    catalog, _, tags = world
    content = content_vectors(catalog, tags)
    assert content.shape == (len(catalog.titles), 2 + 3)
    np.testing.assert_allclose(np.linalg.norm(content[:, :2], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(content[:, 2:], axis=1), 1.0)
    assert content_vectors(catalog, {}).shape == (len(catalog.titles), 2)


def test_a_title_no_one_watched_is_scored_by_its_content(world):
    catalog, history, tags = world
    ranker = TitleRanker.fit(catalog, history, artwork_tags=tags)
    assert {t for t, c in zip(ranker.title_ids, ranker.cold, strict=True) if c} == {
        "new-s", "new-c"}  # fmt: skip
    scores = ranker.scores("fan")
    warm = [scores[t] for t in scores if not t.startswith("new") and t != "s0"]
    assert scores["new-s"] > scores["new-c"]  # the fan's genre and artwork
    assert scores["new-c"] == pytest.approx(np.median(warm), abs=0.05 * np.ptp(warm))  # typical
    assert sorted(warm)[-2] >= scores["new-s"] > sorted(warm)[-4]  # near the top, not on it


def test_a_new_title_of_the_viewers_genre_reaches_the_page(world):
    catalog, history, tags = world
    ranker = TitleRanker.fit(catalog, history, artwork_tags=tags)
    rows = personal_rows(catalog, history, ranker, "fan", n_rows=6, per_row=4)
    shown = [t for r in rows for t in r.title_ids]
    assert "new-s" in shown
    assert rows[0].title_ids[0] != "new-s"  # never the first pick
    comedy = personal_rows(catalog, history, ranker, "c-viewer0", n_rows=6, per_row=4)
    assert "new-c" in [t for r in comedy for t in r.title_ids]
