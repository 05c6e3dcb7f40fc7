"""Serving a saved recommender: ``train_recommender --refit-all`` writes it, the service loads it
(``ARTWORK_RECOMMENDER_ARTIFACT``) at start-up and on reload instead of fitting, refuses a
damaged one and keeps serving the previous state, and passes the request's context to it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from artwork.catalog import load_catalog
from artwork.demo.world import WorldSpec, build_world
from artwork.errors import ArtifactError
from artwork.interactions import load_history
from artwork.title_ranker import TitleRanker
from serve.app import create_app
from serve.settings import Settings
from serve.state import ServiceState
from training.train_recommender import main as train


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A demo world of 12 titles and 40 viewers and a recommender refitted on all of it."""
    root = tmp_path_factory.mktemp("served-recommender")
    world = build_world(root / "world", WorldSpec(seed=3, titles=12, viewers=40), workers=1)
    out = root / "model"
    assert train(["--data", "demo", "--world", str(world), "--model", "recency_ease",
                  "--out", str(out), "--refit-all"]) == 0  # fmt: skip
    return world, out


@pytest.fixture
def artifact(trained, tmp_path) -> Path:
    """A copy each test may damage."""
    return shutil.copytree(trained[1], tmp_path / "model")


def _client(world: Path, tmp_path: Path, artifact: Path) -> TestClient:
    settings = Settings(world=world, db=tmp_path / "events.db", policy="uniform",
                        recommender_artifact=artifact, admin_open=True)  # fmt: skip
    return TestClient(create_app(settings))


def test_refit_all_saves_a_model_of_all_the_history_with_its_context(trained):
    world, out = trained
    card = json.loads((out / "recommender.json").read_text())
    assert card["split"]["fit_on"] == "train+validation+test"
    assert card["n_interactions"] == card["data"]["interactions"]
    assert 0.0 <= card["metrics"]["test"]["ndcg@10"] <= 1.0
    context = json.loads((out / "context.json").read_text())
    assert context["devices"] == ["mobile", "tablet", "tv", "web"]
    assert {"without", "with"} <= set(context["metrics"]["test_by_hour"])


def test_the_service_serves_the_saved_model_instead_of_fitting(trained, artifact, tmp_path,
                                                               monkeypatch):  # fmt: skip
    world, _ = trained

    def no_fitting(*args, **kwargs):
        raise AssertionError("the service fitted a recommender although it was given one")

    monkeypatch.setattr(TitleRanker, "fit", no_fitting)
    catalog = load_catalog(world)
    saved = TitleRanker.load(catalog, artifact)
    asked = []
    scores = TitleRanker.scores

    def spy(self, viewer_id, disliked=(), hour=None, device=None):
        asked.append((viewer_id, hour, device))
        return scores(self, viewer_id, disliked, hour, device)

    monkeypatch.setattr(TitleRanker, "scores", spy)
    with _client(world, tmp_path, artifact) as client:
        ranker = client.app.state.service.ranker
        viewer = load_history(world / "interactions.csv").viewers[0]
        for hour, device in ((None, None), (21, "tv"), (7, "mobile")):
            assert ranker.scores(viewer, (), hour, device) == saved.scores(viewer, (), hour, device)
        page = client.get("/v1/home", params={"user_id": viewer, "device": "tv", "hour": 21})
        assert page.status_code == 200, page.text
    assert page.json()["rows"][0]["name"] == "Top picks for you"
    assert (viewer, 21, "tv") in asked


def test_a_damaged_artifact_is_refused_on_reload_and_the_previous_state_serves_on(
    trained, artifact, tmp_path, caplog
):
    world, _ = trained
    with _client(world, tmp_path, artifact) as client:
        before = client.app.state.service
        weights = artifact / "recommender.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
        with caplog.at_level(logging.ERROR, logger="serve.reload"):
            response = client.post("/v1/admin/reload")
        assert response.status_code == 500
        assert "recommender.safetensors: does not match the card" in response.json()["detail"]
        logged = [r.getMessage() for r in caplog.records if r.name == "serve.reload"]
        assert len(logged) == 1 and "reload failed" in logged[0]
        assert f"recommender artifact {artifact}" in logged[0]
        assert client.app.state.service is before
        viewer = load_history(world / "interactions.csv").viewers[0]
        page = client.get("/v1/home", params={"user_id": viewer})
        assert page.status_code == 200 and page.json()["rows"][0]["name"] == "Top picks for you"


def test_a_damaged_artifact_stops_start_up_naming_it(trained, artifact, tmp_path):
    world, _ = trained
    (artifact / "recommender.json").write_text("{")
    settings = Settings(world=world, db=tmp_path / "events.db", policy="uniform",
                        recommender_artifact=artifact)  # fmt: skip
    with pytest.raises(ArtifactError, match=r"recommender artifact .*recommender.json: not valid"):
        ServiceState.load(settings)


def test_the_artifact_setting_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTWORK_WORLD", str(tmp_path))
    monkeypatch.setenv("ARTWORK_RECOMMENDER_ARTIFACT", str(tmp_path / "model"))
    assert Settings().recommender_artifact == tmp_path / "model"  # type: ignore[call-arg]
