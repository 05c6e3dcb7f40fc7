"""Reading viewing data for the recommenders and splitting it by time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artwork.errors import InputError, InputErrors
from models.recommenders import Interactions, RecommenderError
from training.recommender_data import load_demo, load_movielens, temporal_split

MOVIELENS = Path("../shared/data/ml-latest-small")

RATINGS = """userId,movieId,rating,timestamp
1,10,4.0,100
1,20,3.5,90
2,10,5,120
"""


def write_ratings(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.csv").write_text(text)
    return folder


def test_every_rating_is_an_interaction_in_time_order(tmp_path: Path) -> None:
    data = load_movielens(write_ratings(tmp_path / "ml", RATINGS))
    assert (data.user_ids, data.item_ids) == (("1", "2"), ("10", "20"))
    history = data.interactions
    np.testing.assert_array_equal(history.of(0), [1, 0])  # movie 20 was rated first
    np.testing.assert_array_equal(history.times, [90, 100, 120])
    assert data.describe()["interactions"] == 3 and len(data.sha256) == 64


def test_bad_ratings_rows_are_named_by_file_line_and_field(tmp_path: Path) -> None:
    text = RATINGS + "2,x,4.0,130\n3,30,9,140\n3,30\n4,40,3.0,-5\n"
    with pytest.raises(InputErrors) as caught:
        load_movielens(write_ratings(tmp_path / "ml", text))
    messages = [str(e) for e in caught.value.errors]
    assert messages == [
        "ratings.csv:5: movieId: not a whole number ≥ 0: 'x'",
        "ratings.csv:6: rating: not a rating in 0.5..5.0: '9'",
        "ratings.csv:7: expected 4 cells, found 2",
        "ratings.csv:8: timestamp: not a whole number ≥ 0: '-5'",
    ]
    with pytest.raises(InputError, match="ratings.csv:1: expected columns"):
        load_movielens(write_ratings(tmp_path / "ml2", "user,movie\n1,2\n"))
    with pytest.raises(InputError, match="missing"):
        load_movielens(tmp_path / "nowhere")


def test_the_split_holds_out_each_viewers_latest_interactions() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    history = Interactions.build(rng.integers(0, 50, n), rng.integers(0, 300, n),
                                 rng.integers(0, 10_000, n), n_users=52, n_items=300)  # fmt: skip
    split = temporal_split(history, 0.2, 0.1)
    assert len(split.train) + len(split.validation) + len(split.test) == len(history)
    for user in range(history.n_users):
        slices = [s.times[s.users == user] for s in (split.train, split.validation, split.test)]
        train, validation, test = slices
        count = sum(len(s) for s in slices)
        if not count:
            continue
        assert len(train) >= 1
        assert len(test) == int(np.floor(0.2 * count + 0.5))
        assert len(validation) == int(np.floor(0.1 * count + 0.5))
        # no held-out interaction is earlier than the same viewer's training ones
        if len(test):
            assert test.min() >= max(train.max(), validation.max(initial=0))
        if len(validation):
            assert validation.min() >= train.max()


def test_a_viewer_always_keeps_a_training_interaction() -> None:
    history = Interactions.build(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([1, 1, 2]))
    split = temporal_split(history, 0.5, 0.4)
    np.testing.assert_array_equal(split.train.counts(), [1, 1])
    np.testing.assert_array_equal(split.test.counts(), [0, 1])
    with pytest.raises(RecommenderError, match="leave some training data"):
        temporal_split(history, 0.6, 0.4)


def test_demo_history_knows_every_catalog_title(tiny_world: Path) -> None:
    data = load_demo(tiny_world)
    assert data.item_ids == ("t1", "t2", "t3", "t4", "t5", "t6", "t7")
    assert data.user_ids == ("v1", "v2", "v3", "v4", "v5")
    assert len(data.interactions) == 14


@pytest.mark.data
@pytest.mark.skipif(not (MOVIELENS / "ratings.csv").is_file(), reason="needs ../shared/data")
def test_movielens_split_sizes() -> None:
    split = temporal_split(load_movielens(MOVIELENS).interactions)
    assert (len(split.train), len(split.validation), len(split.test)) == (70550, 10122, 20164)


def test_movie_genres_come_from_movies_csv_when_it_is_there(tmp_path: Path) -> None:
    folder = write_ratings(tmp_path / "ml", RATINGS)
    assert load_movielens(folder).context is None  # no movies.csv: no context re-ranker
    (folder / "movies.csv").write_text('movieId,title,genres\n10,"Up, Down (1999)",Comedy|Drama\n'
                                       "20,Nothing (2000),(no genres listed)\n")  # fmt: skip
    context = load_movielens(folder).context
    assert context is not None and context.genres == ("Comedy", "Drama")
    np.testing.assert_array_equal(context.item_genres, [[1, 1], [0, 0]])
    assert context.devices == () and context.user_devices is None
    (folder / "movies.csv").write_text("movieId,title,genres\nten,Up,Comedy\n")
    with pytest.raises(InputErrors, match="movies.csv:2: movieId"):
        load_movielens(folder)


def test_the_demo_worlds_context_has_the_catalog_genres_and_viewer_devices(
    tiny_world: Path,
) -> None:
    (tiny_world / "viewers.csv").write_text("viewer_id,device,hour\nv1,tv,21\nv2,mobile,8\n")
    context = load_demo(tiny_world).context
    assert context is not None and "Sci-Fi" in context.genres
    assert context.item_genres.shape == (7, len(context.genres))
    assert context.devices == ("mobile", "tv")
    np.testing.assert_array_equal(context.user_devices, [1, 0, -1, -1, -1])
