"""The conformance suite every registered recommender must pass (walks the whole registry)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.recommenders import (
    Interactions,
    Recommender,
    RecommenderError,
    available_recommenders,
    load_recommender,
    make_recommender,
    recommender_class,
)
from tests.unit.models.conftest import grouped_history

USERS = np.arange(0, 45, 4)


@pytest.fixture(params=available_recommenders())
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def fitted(name: str, history: Interactions, seed: int = 3) -> Recommender:
    return make_recommender(name, seed=seed).fit(history)


def test_registry_holds_every_model_of_the_issue() -> None:
    expected = {"popularity", "als", "bpr", "item_knn", "ease", "recency_ease", "sequence_ease"}
    assert expected <= set(available_recommenders())


def test_scores_have_one_row_per_user_and_one_column_per_item(
    name: str, grouped: Interactions
) -> None:
    scores = fitted(name, grouped).score(USERS)
    assert scores.shape == (len(USERS), grouped.n_items)
    assert np.isfinite(scores).all()


def test_fitting_is_deterministic_with_a_seed(name: str, grouped: Interactions) -> None:
    first, second = fitted(name, grouped), fitted(name, grouped)
    np.testing.assert_array_equal(first.score(USERS), second.score(USERS))


def test_seen_items_are_left_out_of_recommendations(name: str, grouped: Interactions) -> None:
    model = fitted(name, grouped)
    for user in USERS:
        seen = grouped.of(user)
        items, scores = model.recommend(int(user), k=grouped.n_items)
        assert len(items) == grouped.n_items - len(seen)
        assert not np.isin(items, seen).any()
        assert (np.diff(scores) <= 0).all()
        top = model.top_k([user], grouped.n_items - len(seen))[0]
        assert not np.isin(top, seen).any()
    everything = model.recommend(int(USERS[0]), k=grouped.n_items, exclude_seen=False)[0]
    assert sorted(everything) == list(range(grouped.n_items))


def test_save_load_round_trip_predicts_identically(
    name: str, grouped: Interactions, tmp_path: Path
) -> None:
    model = fitted(name, grouped)
    model.save(tmp_path / "m", card_fields={"metrics": {"ndcg@10": 0.5}})
    loaded = load_recommender(tmp_path / "m")
    assert type(loaded) is type(model)
    assert loaded.config == model.config
    np.testing.assert_array_equal(loaded.score(USERS), model.score(USERS))
    np.testing.assert_array_equal(loaded.top_k(USERS, 5), model.top_k(USERS, 5))
    for a, b in zip(loaded.similar_items(3, 5), model.similar_items(3, 5), strict=True):
        np.testing.assert_array_equal(a, b)
    card = json.loads((tmp_path / "m" / "recommender.json").read_text())
    assert (card["model"], card["n_users"], card["metrics"]) == (name, 45, {"ndcg@10": 0.5})


def test_similar_items_leave_the_item_out_and_find_its_group(
    name: str, grouped: Interactions
) -> None:
    model = fitted(name, grouped)
    items, similarity = model.similar_items(12, 5)
    assert len(items) == 5 and 12 not in items
    assert (np.diff(similarity) <= 1e-12).all()
    if name != "popularity":  # popularity has no notion of likeness beyond co-viewing counts
        assert 10 <= items[0] < 20


def test_viewer_factors_have_one_row_per_viewer(name: str, grouped: Interactions) -> None:
    factors = fitted(name, grouped).viewer_factors()
    assert factors.shape[0] == grouped.n_users and np.isfinite(factors).all()


def test_reconfigured_changes_only_query_settings(name: str, grouped: Interactions) -> None:
    model = fitted(name, grouped)
    cls = recommender_class(name)
    for key in cls.query_params:
        value = cls.search_space[key][0]
        twin = model.reconfigured(**{key: value})
        assert getattr(twin.config, key) == value
        np.testing.assert_array_equal(
            twin.score(USERS), make_recommender(name, seed=3, **{key: value}).fit(grouped)
            .score(USERS),
        )  # fmt: skip
    fitted_keys = [k for k in cls.search_space if k not in cls.query_params]
    if fitted_keys:
        with pytest.raises(RecommenderError, match="needs a new fit"):
            model.reconfigured(**{fitted_keys[0]: cls.search_space[fitted_keys[0]][0]})


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"kind": "bandit_policy"}, "kind"),
        ({"schema_version": 99}, "schema_version"),
        ({"version": 99}, "version"),
        ({"model": "no_such_model"}, "unknown recommender"),
        ({"config": {"no_such_setting": 1}}, "config"),
    ],
)
def test_load_refuses_a_mismatched_card(tmp_path: Path, edit: dict, message: str) -> None:
    folder = fitted("ease", grouped_history()).save(tmp_path / "m")
    card = json.loads((folder / "recommender.json").read_text())
    (folder / "recommender.json").write_text(json.dumps({**card, **edit}))
    with pytest.raises(RecommenderError, match=message):
        load_recommender(folder)


def test_load_refuses_corrupt_or_missing_files(tmp_path: Path) -> None:
    folder = fitted("popularity", grouped_history()).save(tmp_path / "m")
    with pytest.raises(RecommenderError, match="expected 'ease'"):
        recommender_class("ease").load(folder)
    weights = folder / "recommender.safetensors"
    weights.write_bytes(weights.read_bytes()[:-3] + b"xyz")
    with pytest.raises(RecommenderError, match="does not match the card"):
        load_recommender(folder)
    weights.unlink()
    with pytest.raises(RecommenderError, match="missing"):
        load_recommender(folder)


def test_bad_use_is_refused_with_a_reason(grouped: Interactions) -> None:
    with pytest.raises(RecommenderError, match="not fitted"):
        make_recommender("ease").score([0])
    with pytest.raises(RecommenderError, match="lam"):
        make_recommender("ease", lam=-1.0)
    with pytest.raises(RecommenderError, match="config fields are"):
        make_recommender("ease", gamma=1.0)
    model = fitted("popularity", grouped)
    with pytest.raises(RecommenderError, match=r"users must lie in \[0, 45\)"):
        model.score([45])
    with pytest.raises(RecommenderError, match="k = 0"):
        model.top_k([0], 0)
