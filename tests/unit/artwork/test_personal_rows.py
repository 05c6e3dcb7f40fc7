"""The personal home page: top picks, "Because you watched", genre rows, popularity; no repeats."""

from __future__ import annotations

import pytest

from artwork.catalog import ArtworkCandidate, Catalog, Title
from artwork.interactions import Interaction, ViewingHistory
from artwork.personal_rows import TitleRanker, personal_rows
from artwork.rows import home_rows

GENRES = ("Drama", "Comedy", "Sci-Fi", "Horror")


@pytest.fixture
def world(tmp_path):
    """12 titles of 4 genres; viewers who like Sci-Fi watch Sci-Fi titles in order."""
    titles = {f"t{i:02d}": Title(f"t{i:02d}", f"Title {i}", (GENRES[i % 4],), 2000, "PG")
              for i in range(12)}  # fmt: skip
    art = {f"a{t}": ArtworkCandidate(f"a{t}", t, f"{t}.jpg") for t in titles if t != "t11"}
    by_title = {a.title_id: (a,) for a in art.values()}
    catalog = Catalog(tmp_path, titles, art, by_title)
    scifi = [t for t in titles if titles[t].genres == ("Sci-Fi",)]  # t02, t06, t10
    viewings = []
    for v in range(30):
        seen = scifi if v % 2 else [t for t in titles if titles[t].genres == ("Comedy",)]
        viewings += [Interaction(f"v{v}", t, 1000 * v + k, 1.0 if k else 0.6)
                     for k, t in enumerate(seen)]  # fmt: skip
    viewings += [Interaction("fan", "t02", 1, 1.0), Interaction("fan", "t06", 2, 0.3)]
    return catalog, ViewingHistory(viewings)


def test_a_known_viewer_gets_personal_rows_without_repeats(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    rows = personal_rows(catalog, history, ranker, "fan", n_rows=4, per_row=3)
    assert rows[0].name == "Top picks for you"
    assert rows[0].title_ids[0] == "t10"  # the Sci-Fi title the fan has not seen
    names = [r.name for r in rows]
    assert "Because you watched Title 6" in names  # t06 is the fan's latest viewing
    shown = [t for r in rows for t in r.title_ids]
    assert len(shown) == len(set(shown))
    assert "t02" not in shown  # finished
    assert "t11" not in shown  # no artwork
    assert all(r.reason for r in rows) and len(rows) <= 4


def test_top_picks_keep_any_genre_to_half_the_row(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    top = personal_rows(catalog, history, ranker, "v1", n_rows=1, per_row=4)[0].title_ids
    genres = [catalog.titles[t].genres[0] for t in top]
    assert max(genres.count(g) for g in set(genres)) <= 2


def test_an_unknown_viewer_gets_the_cold_start_rows(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    rows = personal_rows(catalog, history, ranker, "new-viewer", n_rows=3, per_row=2)
    assert rows == home_rows(catalog, history, "new-viewer", n_rows=3, per_row=2)


def test_more_rows_than_exist_returns_what_exists(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    rows = personal_rows(catalog, history, ranker, "fan", n_rows=20, per_row=50)
    shown = [t for r in rows for t in r.title_ids]
    assert sorted(shown) == sorted(t for t in catalog.titles if t not in ("t02", "t11"))


def test_no_history_means_no_ranker(world):
    catalog, _ = world
    assert TitleRanker.fit(catalog, ViewingHistory(())) is None


def test_a_disliked_title_leaves_the_page_and_its_likes_move_down(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    before = ranker.scores("fan")
    after = ranker.scores("fan", disliked=["t10"])
    assert after["t10"] == float("-inf")
    drops = {t: before[t] - after[t] for t in before if t != "t10"}
    assert drops["t06"] > 0 and drops["t06"] >= max(drops.values()) - 1e-12  # Sci-Fi like t10
    rows = personal_rows(catalog, history, ranker, "fan", n_rows=5, per_row=5, disliked=["t10"])
    assert "t10" not in [t for r in rows for t in r.title_ids]
    cold = personal_rows(catalog, history, ranker, "new", n_rows=5, disliked=["t00"])
    assert "t00" not in [t for r in cold for t in r.title_ids]


def test_onboarding_genres_add_rows_without_changing_the_personal_ones(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    plain = personal_rows(catalog, history, ranker, "fan", n_rows=20, per_row=2)
    chosen = personal_rows(catalog, history, ranker, "fan", n_rows=20, per_row=2,
                           genres=("Horror",))  # fmt: skip
    assert chosen[0] == plain[0] and chosen[0].name == "Top picks for you"
    assert [r for r in chosen if r.name.startswith("Because you watched")] == [
        r for r in plain if r.name.startswith("Because you watched")
    ]  # fmt: skip
    horror = [r for r in chosen if r.name == "Horror for you"]
    assert horror and horror[0].reason == "Because you like Horror"
    assert all(catalog.titles[t].genres == ("Horror",) for t in horror[0].title_ids)
    shown = [t for r in chosen for t in r.title_ids]
    assert len(shown) == len(set(shown))


def test_a_new_viewer_gets_onboarding_genre_rows_then_popular(world):
    catalog, history = world
    ranker = TitleRanker.fit(catalog, history)
    rows = personal_rows(catalog, history, ranker, "new-viewer", n_rows=3, per_row=2,
                         genres=("Drama", "Horror"))  # fmt: skip
    assert [r.name for r in rows] == ["Drama for you", "Horror for you", "Popular now"]
    assert [r.reason for r in rows[:2]] == ["Because you like Drama", "Because you like Horror"]
