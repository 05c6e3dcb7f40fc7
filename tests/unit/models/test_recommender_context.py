"""The context re-ranker: lifts learnt from viewing by hour and device, re-ranking, tuning that
stays off without a signal, and the saved artifact."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from models.recommenders import Interactions, RecommenderError, make_recommender
from models.recommenders.context import (
    ContextConfig,
    ContextInputs,
    ContextReranker,
    hour_of_day,
    saved_context,
)
from models.recommenders.context_eval import context_scores, learn_context, tune_context
from models.recommenders.metrics import evaluate
from models.recommenders.split import temporal_split

DAY = 86_400
GENRES_OF = {f"i{n}": ("Comedy",) if n < 10 else ("Horror",) for n in range(20)}
ITEMS = tuple(GENRES_OF)


def viewings(n_users: int, hour_matters: bool, seed: int = 0) -> Interactions:
    """Each viewer watches 16 titles over 16 days; with ``hour_matters`` comedies in the
    morning (8 h) and horror at night (22 h), else at random hours of either."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for user in range(n_users):
        for day in range(16):
            horror = rng.random() < 0.5
            item = int(rng.integers(10, 20) if horror else rng.integers(0, 10))
            hour = (22 if horror else 8) if hour_matters else int(rng.choice([8, 22]))
            users.append(user), items.append(item), times.append(day * DAY + hour * 3600)
    return Interactions.build(np.array(users), np.array(items), np.array(times),
                              n_users=n_users, n_items=len(ITEMS))  # fmt: skip


def inputs(n_users: int = 0, devices: dict[str, str] | None = None) -> ContextInputs:
    return ContextInputs.from_ids(ITEMS, GENRES_OF, [f"u{n}" for n in range(n_users)], devices)


def test_the_hour_of_day_is_utc() -> None:
    assert hour_of_day(np.array([0, 3599, 3600, 23 * 3600 + 5, DAY + 7200])).tolist() == [
        0, 0, 1, 23, 2,
    ]  # fmt: skip


def test_lifts_learn_which_genre_each_hour_favours() -> None:
    reranker = ContextReranker.fit(viewings(30, True), inputs(), ContextConfig(strength=0.5))
    morning, night = reranker.lift(8, None), reranker.lift(22, None)
    assert (morning[:10] > 0).all() and (morning[10:] < 0).all()
    assert (night[10:] > 0).all() and (night[:10] < 0).all()
    assert np.allclose(reranker.lift(None, None), 0.0)  # no context, no change
    assert np.allclose(reranker.lift(14, "fridge"), 0.0)  # nothing seen at 14 h, unknown device
    flat = np.zeros(len(ITEMS))
    flat[[3, 13]] = 1.0  # a tie between a comedy and a horror title
    assert reranker.rerank_one(flat, 8, None)[3] > reranker.rerank_one(flat, 8, None)[13]
    assert reranker.rerank_one(flat, 22, None)[13] > reranker.rerank_one(flat, 22, None)[3]


def test_the_viewer_reference_ignores_who_watches_when() -> None:
    """Morning viewers like comedy, night viewers horror, each at one hour: the "overall" lift
    credits the hour, the "viewer" lift (each viewer's own tastes expected) does not; with one
    device per viewer the same holds for devices."""
    users, days = np.repeat(np.arange(20), 10), np.tile(np.arange(10), 20)
    items = np.where(users < 10, days, 10 + days)
    times = np.where(users < 10, 8, 22) * 3600 + days * DAY
    history = Interactions.build(users, items, times, n_users=20, n_items=len(ITEMS))
    devices = {f"u{n}": "tv" if n < 10 else "mobile" for n in range(20)}
    overall = ContextReranker.fit(history, inputs(20, devices), ContextConfig(reference="overall"))
    viewer = ContextReranker.fit(history, inputs(20, devices), ContextConfig(reference="viewer"))
    assert overall.lift(8, None)[0] > 0.3 and overall.lift(None, "tv")[0] > 0.3
    assert np.allclose(viewer.lift(8, None), 0.0) and np.allclose(viewer.lift(None, "tv"), 0.0)


def test_infinite_scores_stay_left_out_and_strength_scales_with_the_scores() -> None:
    reranker = ContextReranker.fit(viewings(30, True), inputs(), ContextConfig(strength=0.5))
    scores = np.linspace(0.0, 1.0, len(ITEMS))
    scores[0] = -np.inf
    moved = reranker.rerank_one(scores, 8, None)
    assert moved[0] == -np.inf
    assert np.allclose(reranker.rerank_one(10 * scores, 8, None)[1:], 10 * moved[1:])


def test_tuning_switches_the_re_ranker_on_for_a_real_signal_and_off_without_one() -> None:
    for hour_matters in (True, False):
        history = viewings(60, hour_matters, seed=1)
        split = temporal_split(history, 0.2, 0.2)
        model = make_recommender("popularity").fit(split.train)
        tuning = tune_context(model, split.validation, inputs())
        assert len(tuning.trials) == 1 + 3 * 2 * 2 * 5
        if hour_matters:
            assert tuning.best.strength > 0 and tuning.gain > 2 * tuning.gain_se
        else:
            assert tuning.best.strength == 0.0


def test_hour_grouped_scores_match_evaluate_when_each_viewer_has_one_hour() -> None:
    history = viewings(40, False, seed=2)
    split = temporal_split(history, 0.2, 0.0)
    one_hour = Interactions.build(split.test.users, split.test.items,
                                  split.test.times - hour_of_day(split.test.times) * 3600,
                                  n_users=40, n_items=len(ITEMS))  # fmt: skip
    model = make_recommender("recency_ease").fit(split.train)
    [score] = context_scores(model, one_hour, [None])
    expected = evaluate(model, one_hour)
    assert score.groups == score.users == expected.users
    assert score.ndcg_at_10 == pytest.approx(expected.ndcg_at_10)


def test_learn_context_fits_on_all_history_and_needs_some_to_validate_on() -> None:
    history = viewings(30, True)
    reranker, tuning = learn_context(lambda: make_recommender("popularity"), history, inputs())
    assert reranker.config == tuning.best and reranker.n_items == len(ITEMS)
    few = Interactions.build(np.array([0, 1]), np.array([0, 1]), np.array([0, 1]))
    few_inputs = ContextInputs.from_ids(ITEMS[:2], GENRES_OF)
    assert learn_context(lambda: make_recommender("popularity"), few, few_inputs) is None


def test_save_and_load_give_the_same_lifts(tmp_path: Path) -> None:
    devices = {f"u{n}": ("tv", "mobile")[n % 2] for n in range(30)}
    reranker = ContextReranker.fit(viewings(30, True), inputs(30, devices),
                                   ContextConfig(strength=0.25, reference="overall"))  # fmt: skip
    assert not saved_context(tmp_path)
    reranker.save(tmp_path, card_fields={"metrics": {"note": "test"}})
    assert saved_context(tmp_path)
    loaded = ContextReranker.load(tmp_path)
    assert loaded.config == reranker.config and loaded.devices == ("mobile", "tv")
    for hour, device in ((8, "tv"), (22, "mobile"), (None, "tv"), (3, None)):
        np.testing.assert_array_equal(loaded.lift(hour, device), reranker.lift(hour, device))
    assert json.loads((tmp_path / "context.json").read_text())["metrics"] == {"note": "test"}


def test_a_damaged_artifact_is_refused_naming_the_file(tmp_path: Path) -> None:
    ContextReranker.fit(viewings(10, True), inputs()).save(tmp_path)
    weights = tmp_path / "context.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(RecommenderError, match="context.safetensors: does not match the card"):
        ContextReranker.load(tmp_path)
    card = tmp_path / "context.json"
    card.write_text(card.read_text().replace('"context_reranker"', '"policy"'))
    with pytest.raises(RecommenderError, match="kind is"):
        ContextReranker.load(tmp_path)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"bucket_hours": 5}, "bucket_hours"), ({"smoothing": 0.0}, "smoothing"),
     ({"reference": "nobody"}, "reference"), ({"strength": -1.0}, "strength")],
)  # fmt: skip
def test_bad_settings_name_their_field(change: dict, field: str) -> None:
    with pytest.raises(RecommenderError, match=f"ContextConfig.{field}"):
        dataclasses.replace(ContextConfig(), **change)


def test_inputs_must_fit_the_history() -> None:
    with pytest.raises(RecommenderError, match="item_genres has 20 rows, the history 3 items"):
        few = Interactions.build(np.array([0]), np.array([2]), np.array([0]), n_items=3)
        ContextReranker.fit(few, inputs())
    with pytest.raises(RecommenderError, match="item_genres must be"):
        ContextInputs(("Comedy",), np.zeros((3, 2)))


def test_contexts_of_one_canonical_form_are_re_ranked_alike() -> None:
    devices = {f"u{n}": ("tv", "mobile")[n % 2] for n in range(30)}
    history = viewings(30, True)
    reranker = ContextReranker.fit(history, inputs(30, devices), ContextConfig(strength=0.5))
    scores = np.random.default_rng(0).normal(size=len(ITEMS))
    forms: dict = {}
    for hour in (None, *range(24)):
        for device in (None, "tv", "mobile", "fridge"):
            form = reranker.canonical(hour, device)
            moved = reranker.rerank_one(scores, hour, device)
            np.testing.assert_array_equal(moved, reranker.rerank_one(scores, *form))
            np.testing.assert_array_equal(moved, forms.setdefault(form, moved))
    assert reranker.canonical(22, "fridge") == (21, None)  # 3-hour buckets; unknown device
    assert len(forms) == (24 // 3 + 1) * 3  # buckets and no hour × tv, mobile and none
    off = ContextReranker.fit(history, inputs(30, devices), ContextConfig(strength=0.0))
    assert {off.canonical(h, d) for h in (None, 3, 22) for d in (None, "tv")} == {(None, None)}
