"""``GET /v1/policies`` and ``POST /v1/admin/reload``: what is served, and swapping it safely."""

from __future__ import annotations

import logging
import shutil
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from artwork.demo.world import WorldSpec, build_world
from artwork.logged_features import world_features
from models.bandits import FeedbackBatch, make_policy
from serve.app import create_app
from serve.settings import Settings

LEARNING = {"cold_start_updates": 5, "reward_window_s": 60.0, "learn_every_s": 3600.0}


@pytest.fixture(scope="module")
def built_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("admin-world")
    return build_world(root / "world", WorldSpec(seed=3, titles=6, viewers=20), workers=1)


@pytest.fixture
def world(built_world, tmp_path):
    """A copy each test may break."""
    return shutil.copytree(built_world, tmp_path / "world")


def _client(world, tmp_path, **settings) -> TestClient:
    settings = {"admin_open": True, **settings}
    return TestClient(create_app(Settings(world=world, db=tmp_path / "events.db", **settings)))


def _save_policy(world, folder, n: int, **card_fields):
    features, _ = world_features(world)
    policy = make_policy("linucb", features.d_ctx, features.d_arm)
    rng = np.random.default_rng(n)
    policy.update(FeedbackBatch(rng.normal(size=(n, features.d_ctx)),
                                rng.normal(size=(n, features.d_arm)), rng.random(n) < 0.3,
                                np.full(n, 0.25)))  # fmt: skip
    policy.save(folder, card_fields=card_fields)
    return folder


def _truncate(path) -> None:
    """Cut ``path`` off halfway, as a copy interrupted mid-write leaves it."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _artwork(client) -> dict:
    response = client.get("/v1/artwork", params={"user_id": "v0001", "title_id": "t0002"})
    assert response.status_code == 200, response.text
    return response.json()


def test_policies_describe_a_saved_policy_with_its_offline_estimates(world, tmp_path):
    estimates = {"rounds": 120, "estimators": {"snips": {"estimate": 0.31}}}
    folder = _save_policy(world, tmp_path / "policy", 300, metrics={"off_policy": estimates})
    with _client(world, tmp_path, policy_dir=folder, learn_every_s=0) as client:
        body = client.get("/v1/policies").json()
    policy = body["policy"]
    assert (policy["name"], policy["serving"], policy["version"]) == (
        "linucb", "linucb", "linucb-v1+300",
    )  # fmt: skip
    assert policy["n_updates"] == 300 and policy["cold"] is False
    assert policy["source"] == "policy_dir" and policy["offline_estimates"] == estimates
    assert policy["feature_schema"]["name"] and policy["feature_schema"]["context_fields"]
    assert body["learning"] is None


def test_policies_show_the_online_learner_and_uniform_has_no_model(world, tmp_path):
    with _client(world, tmp_path, **LEARNING) as client:
        client.get("/v1/home", params={"user_id": "v0002"})
        client.app.state.service.learning.step(time.time() + 61)
        body = client.get("/v1/policies").json()
        store_id = client.app.state.service.store.store_id()
    assert body["policy"]["source"] == "learner" and body["policy"]["cold"] is False
    learning = body["learning"]
    assert learning["store_id"] == store_id
    assert learning["checkpoint"] == "policy-00000001" and learning["trained"] > 0
    assert learning["watermark"] is not None and learning["last_step"]["trained"] > 0
    with _client(world, tmp_path / "u", policy="uniform") as client:
        body = client.get("/v1/policies").json()
    assert body["policy"] == {
        "name": "uniform", "serving": "uniform", "version": "1", "n_updates": None,
        "cold": False, "feature_schema": None, "source": "uniform", "offline_estimates": None,
    }  # fmt: skip
    assert body["learning"] is None


def test_a_reload_swaps_in_a_new_policy_and_old_requests_can_finish(world, tmp_path):
    folder = _save_policy(world, tmp_path / "policy", 300)
    with _client(world, tmp_path, policy_dir=folder, learn_every_s=0) as client:
        assert _artwork(client)["policy_version"] == "linucb-v1+300"
        old = client.app.state.service
        _save_policy(world, folder, 400)
        response = client.post("/v1/admin/reload")
        assert response.status_code == 200, response.text
        assert response.json()["policy"]["version"] == "linucb-v1+400"
        assert _artwork(client)["policy_version"] == "linucb-v1+400"
        new = client.app.state.service
        assert new is not old and new.store is old.store and new.loaded_at >= old.loaded_at
        # A request that began on the old state finishes on it: its store is still open.
        late = old.selection.decide_title("v0001", "t0003", {"device": "tv", "hour": 20})
        old.store.record_decisions([late])
        assert late.policy_version == "linucb-v1+300"
        assert 'artwork_reloads_total{outcome="ok"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda world, policy: (policy / "policy.safetensors").write_bytes(b"half-written"),
         "policy.safetensors"),
        (lambda world, policy: _truncate(policy / "policy.safetensors"), "policy.safetensors"),
        (lambda world, policy: _truncate(policy / "policy.json"), "policy.json"),
        (lambda world, policy: (world / "titles.csv").write_text("garbage\n"), "titles.csv"),
    ],
    ids=["garbage-weights", "half-written-weights", "half-written-card", "garbage-catalog"],
)  # fmt: skip
def test_a_failing_reload_says_why_and_the_previous_state_serves_on(
    world, tmp_path, caplog, damage, reason
):
    folder = _save_policy(world, tmp_path / "policy", 300)
    with _client(world, tmp_path, policy_dir=folder, learn_every_s=0) as client:
        before = client.app.state.service
        damage(world, folder)
        with caplog.at_level(logging.ERROR, logger="serve.reload"):
            response = client.post("/v1/admin/reload")
        assert response.status_code == 500
        detail = response.json()["detail"]
        assert detail.startswith("reload failed, still serving linucb-v1+300") and reason in detail
        logged = [r.getMessage() for r in caplog.records if r.name == "serve.reload"]
        assert len(logged) == 1 and logged[0].startswith(
            "reload failed; still serving linucb-v1+300"
        ) and reason in logged[0]  # fmt: skip
        assert client.app.state.service is before
        assert _artwork(client)["policy_version"] == "linucb-v1+300"
        assert client.get("/readyz").status_code == 200
        assert 'artwork_reloads_total{outcome="failed"} 1.0' in client.get("/metrics").text


def test_a_reload_resumes_the_learner_and_a_failed_one_keeps_it_learning(world, tmp_path):
    with _client(world, tmp_path, **LEARNING) as client:
        client.get("/v1/home", params={"user_id": "v0002"})
        client.app.state.service.learning.step(time.time() + 61)
        learnt = client.app.state.service.selection.selector.version
        assert client.post("/v1/admin/reload").status_code == 200
        state = client.app.state.service
        assert state.selection.selector.version == learnt
        assert state.learning.learner.state.trained > 0  # resumed, not restarted
        loop, started = state.learning, state.learning.last_step_at
        (world / "titles.csv").write_text("garbage\n")
        assert client.post("/v1/admin/reload").status_code == 500
        # The old learner was stopped for the attempt and started again: it steps at once.
        deadline = time.monotonic() + 10
        while loop.last_step_at == started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop.last_step_at != started and client.app.state.service.learning is loop


def test_requests_in_flight_during_reloads_are_all_answered(world, tmp_path):
    folder = _save_policy(world, tmp_path / "policy", 300)
    with _client(world, tmp_path, policy_dir=folder, learn_every_s=0) as client:
        statuses: list[int] = []

        def browse() -> None:
            for _ in range(15):
                statuses.append(client.get("/v1/home", params={"user_id": "v0003"}).status_code)

        threads = [threading.Thread(target=browse) for _ in range(4)]
        for thread in threads:
            thread.start()
        reloads = [client.post("/v1/admin/reload").status_code for _ in range(3)]
        for thread in threads:
            thread.join()
    assert reloads == [200] * 3 and statuses == [200] * 60
