"""The demo world's response model: probabilities, tastes, bait, context, outcomes, persistence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.response import (
    QUALITY_PLAY_MINUTES,
    WATCH_CAP_MINUTES,
    Response,
    ResponseModel,
)
from artwork.demo.world import WorldPlan, WorldSpec, plan_world
from artwork.errors import ArtifactError
from artwork.rewards import RewardPolicy


@pytest.fixture(scope="module")
def world() -> WorldPlan:
    return plan_world(WorldSpec(seed=3, titles=40, viewers=200))


def _by_title(world: WorldPlan) -> dict[str, list[str]]:
    out = defaultdict(list)
    for a in world.artwork:
        out[a.title_id].append(a.artwork_id)
    return out


def test_probabilities_are_valid(world: WorldPlan) -> None:
    model = world.response
    ids = list(model.artwork_ids)
    r = model.respond(model.viewer_ids[0], ids)
    for p in (r.click, r.play_given_click, r.quality_play):
        assert p.shape == (len(ids),)
        assert np.all((p > 0) & (p < 1))
    assert np.all(r.quality_play <= r.click)


def test_viewers_respond_more_to_titles_of_genres_they_love(world: WorldPlan) -> None:
    model = world.response
    v = 0
    match = model.genre_match(v, model.artwork_title)
    r = model.respond(model.viewer_ids[v], list(model.artwork_ids))
    loved, disliked = match > np.quantile(match, 0.75), match < np.quantile(match, 0.25)
    assert r.quality_play[loved].mean() > 1.5 * r.quality_play[disliked].mean()


def test_salience_raises_clicks_but_not_viewing(world: WorldPlan) -> None:
    model = world.response
    ids = list(model.artwork_ids[:5])
    louder = replace(model, salience=model.salience + 1.0)
    base, loud = model.respond("u0001", ids), louder.respond("u0001", ids)
    assert np.all(loud.click > base.click)
    np.testing.assert_allclose(loud.play_given_click, base.play_given_click)


def test_images_that_misrepresent_their_title_are_watched_less(world: WorldPlan) -> None:
    model = world.response
    r = model.respond("u0002", list(model.artwork_ids))
    honest, misleading = model.fit > 0.75, model.fit < 0.45
    assert honest.any() and misleading.any()
    assert r.play_given_click[honest].mean() > r.play_given_click[misleading].mean() + 0.1


def test_some_images_are_bait_and_choosing_well_matters(world: WorldPlan) -> None:
    """The most clicked image is often not the most watched; the best image beats a random one."""
    model, rng = world.response, np.random.default_rng(0)
    groups = [g for g in _by_title(world).values() if len(g) >= 4]
    bait = oracle = uniform = 0.0
    for _ in range(500):
        viewer = model.viewer_ids[rng.integers(len(model.viewer_ids))]
        r = model.respond(viewer, groups[rng.integers(len(groups))])
        bait += r.click.argmax() != r.quality_play.argmax()
        oracle += r.quality_play.max()
        uniform += r.quality_play.mean()
    assert bait / 500 > 0.1
    assert oracle / uniform > 1.3


def test_context_faces_on_small_screens(world: WorldPlan) -> None:
    model = world.response
    faces = [a for a, x in zip(model.artwork_ids, model.artwork_tags, strict=True)
             if x[model.tags.index("face")]]  # fmt: skip
    assert faces
    on_tv = model.respond("u0003", faces, device="tv", hour=20).click
    on_phone = model.respond("u0003", faces, device="mobile", hour=20).click
    assert np.all(on_phone > on_tv)


def test_bad_context_is_rejected(world: WorldPlan) -> None:
    model = world.response
    with pytest.raises(ValueError, match="device"):
        model.respond("u0001", ["t0001-a1"], device="fridge")
    with pytest.raises(ValueError, match="hour"):
        model.respond("u0001", ["t0001-a1"], hour=24)
    with pytest.raises(KeyError):
        model.respond("nobody", ["t0001-a1"])


def test_save_and_load_give_the_same_answers(world: WorldPlan, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    world.response.save(path)
    loaded = ResponseModel.load(path)
    ids = list(world.response.artwork_ids)
    a, b = world.response.respond("u0004", ids), loaded.respond("u0004", ids)
    np.testing.assert_array_equal(a.click, b.click)
    np.testing.assert_array_equal(a.play_given_click, b.play_given_click)
    assert loaded.to_json() == world.response.to_json()


def test_loading_another_kind_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text('{"kind": "something_else", "version": 1}')
    with pytest.raises(ArtifactError, match="expected kind 'demo_response_model'"):
        ResponseModel.load(path)
    with pytest.raises(ArtifactError, match="not found"):
        ResponseModel.load(tmp_path / "missing.json")


def test_an_outcome_watches_at_least_the_bar_just_for_a_quality_play() -> None:
    p_click, q = 0.4, 0.7
    r = Response(click=np.array([0.9, p_click]), play_given_click=np.array([0.5, q]))
    u = (np.arange(400) + 0.5) / 400  # a grid standing in for uniforms
    outcomes = [r.outcome(1, u_click, u_play) for u_click in u for u_play in u]
    clicked = np.array([o.clicked for o in outcomes])
    played = np.array([o.quality_play for o in outcomes])
    watched = np.array([o.watched for o in outcomes])
    bar = QUALITY_PLAY_MINUTES / WATCH_CAP_MINUTES
    assert clicked.mean() == pytest.approx(p_click) and played.mean() == pytest.approx(p_click * q)
    assert (watched[~clicked] == 0).all()
    assert (watched[played] > bar).all() and (watched[played] <= 1).all()
    assert (watched[clicked & ~played] < bar).all() and (watched[clicked] >= 0).all()
    expected = p_click * bar / 2 + p_click * q / 2  # the module docstring's E[w]
    assert watched.mean() == pytest.approx(expected, abs=1e-3)
    assert r.outcome(1, 0.1, 0.3) == r.outcome(1, 0.1, 0.3)


def test_the_watch_bar_is_the_services_quality_play() -> None:
    policy = RewardPolicy()
    assert policy.quality_play_seconds == QUALITY_PLAY_MINUTES * 60
    assert policy.watch_minutes_cap == WATCH_CAP_MINUTES
