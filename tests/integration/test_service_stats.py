"""``GET /v1/stats`` and ``GET /admin``: the admin page's numbers over a logged world."""

from __future__ import annotations

import shutil

from fastapi.testclient import TestClient

from artwork.event_store import EventStore
from artwork.rewards import RewardPolicy, bait_index, rewards_from_store
from serve.app import create_app
from serve.settings import Settings
from tests.integration.conftest import N_DECISIONS


def _client(uniform_log, tmp_path, **settings) -> TestClient:
    db = shutil.copy(uniform_log.db, tmp_path / "events.db")
    return TestClient(create_app(Settings(world=uniform_log.world, db=db, learn_every_s=0,
                                          **settings)))  # fmt: skip


def test_stats_summarise_the_log_openly(uniform_log, tmp_path):
    with _client(uniform_log, tmp_path, api_token="a-token-of-16-chars") as client:
        response = client.get("/v1/stats")  # a read: no token needed
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        admin = client.get("/admin")
        assert admin.status_code == 200 and "admin.js" in admin.text
    stats = response.json()
    assert (stats["decisions"], stats["reward"]) == (N_DECISIONS, "quality_play")
    assert len(stats["curve"]) == 20
    assert sum(p["decisions"] for p in stats["curve"]) == N_DECISIONS
    assert all(0.0 <= p["mean_reward"] <= 1.0 for p in stats["curve"])
    with EventStore(uniform_log.db) as store:
        expected = bait_index(rewards_from_store(store, RewardPolicy(), uniform_log.now))
    assert {a["artwork_id"]: a["bait_index"] for a in stats["artwork"]} == {
        b.artwork_id: b.bait_index for b in expected
    }
    assert all(a["closed_decisions"] == a["decisions"] for a in stats["artwork"])
    coverage = stats["coverage"]
    assert coverage and all(c["tagged"] == c["images"] > 0 for c in coverage)


def test_a_uniform_policy_has_no_tag_coverage(uniform_log, tmp_path):
    with _client(uniform_log, tmp_path, policy="uniform") as client:
        stats = client.get("/v1/stats").json()
    assert stats["coverage"] is None and stats["artwork"]
