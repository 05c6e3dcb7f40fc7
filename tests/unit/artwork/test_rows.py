"""Home rows: popular first, then favourite genres; no repeats, nothing finished, none empty."""

from __future__ import annotations

import copy

import pytest

from artwork.errors import InputError
from artwork.interactions import ViewingHistory
from artwork.rows import Row, chosen_genres, home_rows


def test_a_known_viewer_gets_popular_then_favourite_genres(tiny_catalog, tiny_history):
    rows = home_rows(tiny_catalog, tiny_history, "v1", n_rows=4, per_row=2)
    assert rows == [
        Row("Popular now", "Most watched by everyone", ("t3", "t5")),  # t1 finished
        Row("More Sci-Fi", "Because you watch a lot of Sci-Fi", ("t2",)),
        # Adventure (t1 only, finished) would be empty, so it is skipped
        Row("More Drama", "Because you watch a lot of Drama", ("t4",)),
        Row("Popular in Horror", "Horror is among the most watched genres", ("t6",)),
    ]


def test_an_unknown_viewer_gets_popular_and_the_most_watched_genres(tiny_catalog, tiny_history):
    rows = home_rows(tiny_catalog, tiny_history, "someone-new", n_rows=4, per_row=2)
    assert [r.name for r in rows] == [
        "Popular now", "Popular in Sci-Fi", "Popular in Drama", "Popular in Comedy",
    ]  # fmt: skip
    assert rows[0].title_ids == ("t1", "t3")  # 3 viewings, then 2 (t3 before t5 by id)
    assert "most watched" in rows[1].reason


def test_no_title_repeats_none_is_finished_and_all_have_artwork(tiny_catalog, tiny_history):
    for viewer in ("v1", "v2", "v3", "v4", "v5", "nobody"):
        rows = home_rows(tiny_catalog, tiny_history, viewer, n_rows=10, per_row=3)
        shown = [t for row in rows for t in row.title_ids]
        assert len(shown) == len(set(shown))
        finished = {i.title_id for i in tiny_history.of(viewer) if i.watched >= 0.9}
        assert not finished & set(shown)
        assert all(tiny_catalog.candidates(t) for t in shown)
        assert all(0 < len(row.title_ids) <= 3 for row in rows)


def test_asking_for_more_than_exists_returns_what_exists(tiny_catalog, tiny_history):
    rows = home_rows(tiny_catalog, tiny_history, "nobody", n_rows=20, per_row=50)
    assert len(rows) == 1
    assert set(rows[0].title_ids) == {"t1", "t2", "t3", "t4", "t5", "t6"}


def test_an_empty_history_still_gives_a_page(tiny_catalog):
    rows = home_rows(tiny_catalog, ViewingHistory(()), "v1", n_rows=3, per_row=2)
    assert rows[0].title_ids == ("t1", "t2")  # all tied at zero viewings: by id
    assert len(rows) == 3 and all(r.title_ids for r in rows)


@pytest.mark.parametrize(("n_rows", "per_row", "field"), [(0, 5, "n_rows"), (3, 0, "per_row")])
def test_non_positive_sizes_are_refused(tiny_catalog, tiny_history, n_rows, per_row, field):
    with pytest.raises(InputError) as caught:
        home_rows(tiny_catalog, tiny_history, "v1", n_rows=n_rows, per_row=per_row)
    assert caught.value.field == field


def test_popularity_is_counted_once_and_each_caller_gets_its_own_copy(tiny_history):
    first = tiny_history.popularity(0.5)
    assert first == {t: sum(1 for i in tiny_history.interactions
                            if i.title_id == t and i.watched >= 0.5) for t in first}  # fmt: skip
    first["t1"] += 100
    assert tiny_history.popularity(0.5) != first
    assert tiny_history.popularity(0.0).total() == len(tiny_history.interactions)


def test_what_is_derived_from_the_history_is_computed_once_per_source(tiny_catalog, tiny_history):
    calls = []

    def compute():
        calls.append(1)
        return ("t1",)

    assert tiny_history.derived("x", tiny_catalog, compute) == ("t1",)
    assert tiny_history.derived("x", tiny_catalog, compute) == ("t1",)
    assert len(calls) == 1
    other = copy.copy(tiny_catalog)  # another source object: computed for it afresh
    tiny_history.derived("x", other, compute)
    assert len(calls) == 2
    first = home_rows(tiny_catalog, tiny_history, "someone-new", n_rows=3, per_row=2)
    assert home_rows(tiny_catalog, tiny_history, "someone-new", n_rows=3, per_row=2) == first


def test_a_new_viewers_onboarding_genres_lead_the_page(tiny_catalog, tiny_history):
    rows = home_rows(tiny_catalog, tiny_history, "someone-new", n_rows=4, per_row=2,
                     chosen=("Comedy", "Romance"))  # fmt: skip
    assert rows == [
        Row("Comedy for you", "Because you like Comedy", ("t5",)),  # t7 has no artwork
        Row("Romance for you", "Because you like Romance", ("t4",)),
        Row("Popular now", "Most watched by everyone", ("t1", "t3")),
        Row("Popular in Sci-Fi", "Sci-Fi is among the most watched genres", ("t2",)),
    ]
    assert home_rows(tiny_catalog, tiny_history, "someone-new", n_rows=1, per_row=2,
                     chosen=("Horror",))[0].name == "Horror for you"  # fmt: skip


def test_a_known_viewers_onboarding_genres_come_first_among_genre_rows(tiny_catalog, tiny_history):
    rows = home_rows(tiny_catalog, tiny_history, "v1", n_rows=3, per_row=2, chosen=("Horror",))
    assert [r.name for r in rows] == ["Popular now", "Horror for you", "More Sci-Fi"]
    assert rows[1].reason == "Because you like Horror"


def test_onboarding_genres_are_read_from_text_and_checked_against_the_vocabulary():
    assert chosen_genres(" Comedy,Drama,,Comedy ") == ("Comedy", "Drama")
    assert chosen_genres("") == ()
    with pytest.raises(InputError, match="genres: unknown genre 'Soap'") as caught:
        chosen_genres("Comedy,Soap")
    assert caught.value.field == "genres"
