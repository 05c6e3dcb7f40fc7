"""A bandit policy as a selector: the tag prior while cold, the policy once it has learnt."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.demo.genre_cues import image_tags
from artwork.errors import InputError
from artwork.features import SCHEMA_KEY, FeatureBuilder
from artwork.policy_selection import PolicySelector, tag_prior, taste_tags, taste_tags_many
from artwork.selection import DecisionRequest
from models.bandits import FeedbackBatch, make_policy

TAGS = image_tags()


def _tags(*names: str) -> np.ndarray:
    return np.array([1.0 if t in names else 0.0 for t in TAGS])


@pytest.fixture
def features(tiny_catalog, tiny_history) -> FeatureBuilder:
    # Sci-Fi titles show spaceships, the others faces: v1 (a Sci-Fi fan) likes spaceships.
    artwork_tags = {}
    for a in tiny_catalog.artwork.values():
        scifi = "Sci-Fi" in tiny_catalog.titles[a.title_id].genres
        artwork_tags[a.artwork_id] = _tags("spaceship", "dark") if scifi else _tags("face")
    # t3's first still shows a spaceship too, its others a face.
    artwork_tags["t3_a0"] = _tags("spaceship", "dark")
    return FeatureBuilder(tiny_catalog, tiny_history, artwork_tags)


def test_tag_prior_puts_matching_images_first_and_keeps_the_floor():
    taste = _tags("spaceship") - 0.1
    tags = np.stack([_tags("face"), _tags("spaceship"), _tags("face", "dark")])
    p = tag_prior(tags, taste, temperature=0.5, floor=0.05)
    assert p.argmax() == 1 and p.sum() == pytest.approx(1.0)
    assert p.min() >= 0.05 / 3 - 1e-12
    same = tag_prior(np.stack([_tags("face")] * 4), taste, 0.5, 0.05)
    np.testing.assert_allclose(same, 0.25)


def test_a_fresh_policy_is_cold_and_the_tag_prior_decides(features, tiny_catalog):
    policy = make_policy("linucb", features.d_ctx, features.d_arm)
    selector = PolicySelector(policy, features, cold_start_updates=10)
    assert selector.cold and selector.name == "tag_prior"
    candidates = tiny_catalog.candidates("t3")
    p = selector.distribution("v1", "t3", candidates, {"device": "tv", "hour": 21})
    assert candidates[int(p.argmax())].artwork_id == "t3_a0"  # the spaceship, for v1
    decision = selector.decide("v1", "t3", candidates, {"device": "tv", "hour": 21}, seed=1)
    assert decision.context[SCHEMA_KEY] == features.schema.key
    assert decision.propensity == p[candidates.index(tiny_catalog.artwork[decision.artwork_id])]
    assert "chosen by your tastes" in selector.why(decision)


def test_a_viewer_without_history_gets_the_mean_viewers_tastes(features):
    mean = np.mean([features.taste(v) for v in ("v1", "v2", "v3", "v4", "v5")], axis=0)
    np.testing.assert_allclose(features.taste("nobody"), mean)


def test_a_policy_that_has_learnt_decides_itself(features, tiny_catalog):
    policy = make_policy("linucb", features.d_ctx, features.d_arm)
    rng = np.random.default_rng(0)
    n = 12
    policy.update(FeedbackBatch(rng.normal(size=(n, features.d_ctx)),
                                rng.normal(size=(n, features.d_arm)), rng.random(n) < 0.5,
                                np.full(n, 0.5)))  # fmt: skip
    selector = PolicySelector(policy, features, cold_start_updates=10)
    assert not selector.cold and selector.name == "linucb"
    assert selector.version == "linucb-v1+12"
    candidates = tiny_catalog.candidates("t1")
    context = {"device": "mobile", "hour": 9}
    p = selector.distribution("v1", "t1", candidates, context)
    ids = [c.artwork_id for c in candidates]
    expected = policy.distribution(features.context("v1", "t1", "mobile", 9),
                                   features.artwork("v1", "t1", ids))  # fmt: skip
    np.testing.assert_array_equal(p, expected)
    assert "learnt from 12 views" in selector.why(selector.decide("v1", "t1", candidates,
                                                                  context, seed=2))  # fmt: skip


@pytest.mark.parametrize("tags", ["random", "alike"])
@pytest.mark.parametrize("name", ["linucb", "linucb_artwork", "linear_ts", None])
def test_a_page_decided_at_once_equals_one_title_at_a_time(
    features, tiny_catalog, tiny_history, name, tags
):
    if tags == "random":  # no two images alike; "alike": a title's images share their tags
        rng = np.random.default_rng(3)
        features = FeatureBuilder(tiny_catalog, tiny_history, {
            a: (rng.random(len(TAGS)) < 0.3) * rng.random(len(TAGS)) for a in tiny_catalog.artwork
        })  # fmt: skip
    policy = make_policy(name or "linucb", features.d_ctx, features.d_arm)
    if name is not None:  # None: a fresh policy, so the tag prior decides
        rng = np.random.default_rng(1)
        n, ids = 30, list(tiny_catalog.artwork)
        policy.update(FeedbackBatch(rng.normal(size=(n, features.d_ctx)),
                                    rng.normal(size=(n, features.d_arm)), rng.random(n) < 0.5,
                                    np.full(n, 0.5), tuple(rng.choice(ids, n))))  # fmt: skip
    selector = PolicySelector(policy, features, cold_start_updates=10)
    assert selector.cold is (name is None)
    titles = [t for t in sorted(tiny_catalog.titles) if tiny_catalog.candidates(t)]
    requests = [
        DecisionRequest(t, tiny_catalog.candidates(t),
                        {"device": ("tv", "mobile", "web")[i % 3], "hour": (3 * i) % 24}, seed=i)
        for i, t in enumerate(titles * 2)
    ]  # fmt: skip
    for viewer in ("v1", "v2", "someone-new"):
        page = selector.decide_many(viewer, requests, now=1000.0)
        for request, decision, p in zip(requests, page, selector.distributions(viewer, requests),
                                        strict=True):  # fmt: skip
            alone = selector.distribution(viewer, request.title_id, request.candidates,
                                          request.context)  # fmt: skip
            np.testing.assert_allclose(p, alone, rtol=0, atol=1e-12)
            one = selector.decide(viewer, request.title_id, request.candidates, request.context,
                                  seed=request.seed, now=1000.0)  # fmt: skip
            assert (decision.artwork_id, decision.seed) == (one.artwork_id, one.seed)
            assert decision.propensity == pytest.approx(one.propensity, abs=1e-12)
            assert decision.context == one.context and decision.policy == one.policy


def test_why_names_the_tags_the_viewer_likes(features):
    assert taste_tags(features, "v1", "t1_a0")[0] == "spaceship"
    assert taste_tags(features, "v2", "t1_a0") == []  # a drama viewer does not like spaceships


def test_the_batched_tags_and_sentences_equal_one_at_a_time(tiny_catalog, tiny_history):
    rng = np.random.default_rng(3)
    random_tags = {a: (rng.random(len(TAGS)) < 0.3) * rng.random(len(TAGS))
                   for a in tiny_catalog.artwork}  # fmt: skip
    features = FeatureBuilder(tiny_catalog, tiny_history, random_tags)
    ids = sorted(tiny_catalog.artwork)
    for viewer in ("v1", "v2", "someone-new"):
        taste = features.taste(viewer)
        for artwork_id, got in zip(ids, taste_tags_many(features, viewer, ids), strict=True):
            x = features.artwork_tag_row(artwork_id)  # the definition, one image at a time
            liked = [i for i in range(len(TAGS)) if x[i] >= 0.5 and x[i] * taste[i] > 0]
            liked.sort(key=lambda i: -x[i] * taste[i])  # stable: vocabulary order on ties
            assert got == [TAGS[i] for i in liked[:3]]
    selector = PolicySelector(make_policy("linucb", features.d_ctx, features.d_arm), features)
    decisions = [selector.decide(v, "t1", tiny_catalog.candidates("t1"),
                                 {"device": "tv", "hour": 20}, seed=s)
                 for s, v in enumerate(["v1", "v2", "v1", "someone-new"])]  # fmt: skip
    sentences = selector.explain(decisions)
    assert sentences == [selector.explain([d])[0] for d in decisions]
    assert all(s.startswith("chosen by your tastes") for s in sentences)


def test_a_policy_for_other_features_is_refused(features):
    with pytest.raises(InputError, match="policy"):
        PolicySelector(make_policy("linucb", 3, 4), features)
