"""The service with a bandit policy: tag prior while cold, a saved policy, ``GET /v1/artwork``."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from artwork.demo.world import WorldSpec, build_world
from artwork.event_store import EventStore
from artwork.features import SCHEMA_KEY
from artwork.logged_features import world_features
from models.bandits import FeedbackBatch, make_policy
from models.errors import ModelError
from serve.app import create_app
from serve.settings import Settings


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("policy-world")
    return build_world(root / "world", WorldSpec(seed=3, titles=6, viewers=20), workers=1)


def _client(world, tmp_path, **settings):
    return TestClient(create_app(Settings(world=world, db=tmp_path / "events.db", **settings)))


def test_a_fresh_policy_serves_the_tag_prior_and_logs_its_features(world, tmp_path):
    with _client(world, tmp_path) as client:
        page = client.get("/v1/home", params={"user_id": "v0003", "device": "tv", "hour": 21})
        assert page.status_code == 200, page.text
    shown = [t["artwork"] for row in page.json()["rows"] for t in row["titles"]]
    assert shown and {a["policy"] for a in shown} == {"tag_prior"}
    with EventStore(tmp_path / "events.db") as store:
        decisions = store.decisions()
    features, _ = world_features(world)
    assert {d.context[SCHEMA_KEY] for d in decisions} == {features.schema.key}
    assert any(not np.isclose(d.propensity, 1 / len(d.candidates)) for d in decisions)


def test_a_saved_policy_that_has_learnt_is_served(world, tmp_path):
    features, _ = world_features(world)
    policy = make_policy("linucb", features.d_ctx, features.d_arm)
    rng = np.random.default_rng(0)
    n = 300
    policy.update(FeedbackBatch(rng.normal(size=(n, features.d_ctx)),
                                rng.normal(size=(n, features.d_arm)), rng.random(n) < 0.3,
                                np.full(n, 0.25)))  # fmt: skip
    policy.save(tmp_path / "policy")
    with _client(world, tmp_path, policy_dir=tmp_path / "policy") as client:
        one = client.get("/v1/artwork", params={"user_id": "v0001", "title_id": "t0002"})
        assert one.status_code == 200, one.text
        body = one.json()
        assert (body["policy"], body["policy_version"]) == ("linucb", "linucb-v1+300")
        assert "learnt from 300 views" in body["why"]
        assert body["image_url"] == f"/v1/artwork/{body['artwork_id']}/image"
    with EventStore(tmp_path / "events.db") as store:
        [decision] = store.decisions()
    assert decision.decision_id == body["decision_id"] and decision.title_id == "t0002"


def test_artwork_requests_name_what_is_wrong(world, tmp_path):
    with _client(world, tmp_path, policy="uniform") as client:
        unknown = client.get("/v1/artwork", params={"user_id": "v1", "title_id": "nope"})
        assert unknown.status_code == 404 and "nope" in unknown.text
        bad = client.get("/v1/artwork", params={"user_id": "v1", "title_id": "t0001",
                                                 "max_maturity": "X"})  # fmt: skip
        assert bad.status_code == 422 and "max_maturity" in bad.text
        missing = client.get("/v1/artwork", params={"user_id": "v1"})
        assert missing.status_code == 422 and "title_id" in missing.text


def test_an_unknown_policy_name_fails_at_start_up(world, tmp_path):
    with (
        pytest.raises(ModelError, match="no_such_policy"),
        _client(world, tmp_path, policy="no_such_policy"),
    ):
        pass


def test_the_service_learns_online_and_swaps_the_policy_in(world, tmp_path):
    settings = {"cold_start_updates": 5, "reward_window_s": 60.0, "learn_every_s": 3600.0}
    with _client(world, tmp_path, **settings) as client:
        service = client.app.state.service
        assert service.selection.selector.name == "tag_prior"
        page = client.get("/v1/home", params={"user_id": "v0002", "device": "web", "hour": 20})
        shown = [t["artwork"]["decision_id"] for row in page.json()["rows"] for t in row["titles"]]
        events = [{"event_id": f"e{i}", "decision_id": d, "type": "click"}
                  for i, d in enumerate(shown[:3])]  # fmt: skip
        assert client.post("/v1/events", json={"events": events}).status_code == 202
        report = service.learning.step(time.time() + 61)  # every window has closed
        assert report.trained == len(shown) and report.checkpoint is not None
        assert service.selection.selector.name == "linucb_artwork"  # the default policy
        assert service.selection.selector.version == f"linucb_artwork-v1+{len(shown)}"
        again = client.get("/v1/home", params={"user_id": "v0002", "session_id": "new"})
        policies = {t["artwork"]["policy"] for row in again.json()["rows"] for t in row["titles"]}
        assert policies <= {"linucb_artwork", "sticky"} and "linucb_artwork" in policies

        # A saved version that cannot be loaded is logged; the current one keeps serving.
        before = service.selection.selector
        client.get("/v1/home", params={"user_id": "v0003"})
        service.learning.make_selector = _broken
        assert service.learning.step(time.time() + 61).checkpoint is not None
        assert service.selection.selector is before


def test_a_restarted_service_resumes_its_learnt_policy(world, tmp_path):
    settings = {"cold_start_updates": 5, "reward_window_s": 60.0, "learn_every_s": 3600.0}
    with _client(world, tmp_path, **settings) as client:
        client.get("/v1/home", params={"user_id": "v0004"})
        client.app.state.service.learning.step(time.time() + 61)
        version = client.app.state.service.selection.selector.version
    with _client(world, tmp_path, **settings) as client:
        assert client.app.state.service.selection.selector.version == version


def _broken(policy):
    raise ModelError("corrupt policy file")


def test_a_known_viewer_gets_rows_from_the_recommender(world, tmp_path):
    with _client(world, tmp_path, policy="uniform") as client:
        page = client.get("/v1/home", params={"user_id": "u0003", "rows": 3, "per_row": 4})
        assert page.status_code == 200, page.text
        new = client.get("/v1/home", params={"user_id": "someone-new", "rows": 3})
    rows = page.json()["rows"]
    assert rows[0]["name"] == "Top picks for you" and len(rows) <= 3
    shown = [t["title_id"] for row in rows for t in row["titles"]]
    assert len(shown) == len(set(shown))
    assert new.json()["rows"][0]["name"] == "Popular now"  # cold start


def test_a_disliked_title_leaves_the_viewers_rows(world, tmp_path):
    params = {"user_id": "u0003", "rows": 4, "per_row": 6}
    with _client(world, tmp_path, policy="uniform") as client:
        page = client.get("/v1/home", params=params).json()
        first = page["rows"][0]["titles"][0]
        event = {"event_id": "d1", "decision_id": first["artwork"]["decision_id"],
                 "type": "dislike"}  # fmt: skip
        assert client.post("/v1/events", json={"events": [event]}).status_code == 202
        again = client.get("/v1/home", params=params).json()
    assert first["title_id"] not in [t["title_id"] for r in again["rows"] for t in r["titles"]]


def test_the_recommender_gets_the_policys_artwork_tags_for_cold_titles(world, tmp_path):
    with _client(world, tmp_path) as client:
        service = client.app.state.service
        content, catalog = service.ranker.content, service.catalog
    n_genres = len({g for t in catalog.titles.values() for g in t.genres})
    assert content.shape == (len(catalog.titles), n_genres + len(service.features.tags))
    assert np.abs(content[:, n_genres:]).sum() > 0  # the demo world's truth tags


@pytest.mark.parametrize("size", [4096, 0])
def test_home_rows_are_kept_per_viewer_and_request_and_equal_fresh_ones(world, tmp_path, size):
    from artwork.personal_rows import personal_rows

    params = {"user_id": "u0003", "rows": 4, "per_row": 6, "device": "tv", "hour": 21}
    with _client(world, tmp_path, policy="uniform", rows_cache=size) as client:
        pages = [client.get("/v1/home", params=params).json() for _ in range(3)]
        other = client.get("/v1/home", params={**params, "hour": 9}).json()
        pages.append(client.get("/v1/home", params={**params, "hour": 22}).json())  # 21's bucket
        service = client.app.state.service
        fresh = personal_rows(service.catalog, service.history, service.ranker, "u0003",
                              4, 6, (), 21, "tv")  # fmt: skip
        info = service._rows.cache_info()
    titles = [[[t["title_id"] for t in r["titles"]] for r in page["rows"]] for page in pages]
    assert titles[0] == titles[1] == titles[2] == titles[3] == [list(r.title_ids) for r in fresh]
    assert [r["name"] for r in pages[0]["rows"]] == [r.name for r in fresh]
    assert other["rows"]
    # one entry per (hour, device) as the ranker sees them: its re-ranker's buckets, if any
    forms = {service.ranker.canonical_context(hour, "tv") for hour in (21, 9, 22)}
    assert (info.hits, info.misses) == ((5 - len(forms), len(forms)) if size else (0, 5))
    later = personal_rows(service.catalog, service.history, service.ranker, "u0003", 4, 6, (),
                          22, "tv")  # fmt: skip
    assert later == fresh  # what the cache relies on: 21:00 and 22:00 rank alike
