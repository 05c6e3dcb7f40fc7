"""Settings.db: a SQLite file's path (default beside the world) or a database URL, kept as is."""

from __future__ import annotations

from pathlib import Path

from serve.settings import Settings


def test_the_event_log_is_a_path_by_default_and_a_url_when_given_one(tmp_path, monkeypatch):
    assert Settings(world=tmp_path).db_path == tmp_path / "events.db"
    assert Settings(world=tmp_path, db=str(tmp_path / "x.db")).db_path == tmp_path / "x.db"
    url = "postgresql+psycopg://artwork:secret@db.internal:5432/events"
    monkeypatch.setenv("ARTWORK_DB", url)
    settings = Settings(world=tmp_path)
    assert settings.db_path == url
    assert settings.learner_path == tmp_path / "learner"
    monkeypatch.setenv("ARTWORK_DB", "logs/events.db")
    assert Settings(world=tmp_path).learner_path == Path("logs/events.learner")


def test_two_event_logs_in_one_folder_have_a_learner_each(tmp_path) -> None:
    a, b = (Settings(world=tmp_path, db=str(tmp_path / f"{n}.db")) for n in ("a", "b"))
    assert (a.learner_path, b.learner_path) == (tmp_path / "a.learner", tmp_path / "b.learner")
    assert Settings(world=tmp_path).learner_path == tmp_path / "events.learner"
    given = tmp_path / "mine"
    assert Settings(world=tmp_path, learner_dir=given).learner_path == given


def test_the_viewer_cache_is_on_beside_a_file_and_off_with_a_database_server(tmp_path):
    assert Settings(world=tmp_path).viewer_cache_ttl_s == 5.0
    url = "postgresql+psycopg://artwork@db.internal/events"
    assert Settings(world=tmp_path, db=url).viewer_cache_ttl_s == 0.0
    assert Settings(world=tmp_path, db=url, viewer_cache_s=2).viewer_cache_ttl_s == 2.0
