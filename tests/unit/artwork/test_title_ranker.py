"""The title ranker: rows re-ranked for the request's hour and device, and the saved artifact
(save → load → the same scores; one trained on another catalog or damaged is refused)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artwork.catalog import ArtworkCandidate, Catalog, Title
from artwork.errors import ArtifactError
from artwork.interactions import Interaction, ViewingHistory
from artwork.personal_rows import personal_rows
from artwork.title_ranker import TitleRanker

DAY = 86_400


def make_catalog(root: Path, n_titles: int = 24) -> Catalog:
    """Even titles are comedies, odd ones horror; every title has one image."""
    genres = (("Comedy",), ("Horror",))
    titles = {f"t{i:02d}": Title(f"t{i:02d}", f"Title {i}", genres[i % 2], 2000, "PG")
              for i in range(n_titles)}  # fmt: skip
    art = {f"a{t}": ArtworkCandidate(f"a{t}", t, f"{t}.jpg") for t in titles}
    return Catalog(root, titles, art, {a.title_id: (a,) for a in art.values()})


@pytest.fixture
def world(tmp_path: Path) -> tuple[Catalog, ViewingHistory, dict[str, str]]:
    """40 viewers who each watch 16 titles, comedies at 8 h and horror at 22 h (UTC), over 16
    days in a random order; half of them on TV, half on mobile."""
    catalog = make_catalog(tmp_path)
    rng = np.random.default_rng(0)
    viewings = []
    for v in range(40):
        for day, i in enumerate(rng.choice(24, size=16, replace=False)):
            hour = 8 if i % 2 == 0 else 22
            viewings.append(Interaction(f"v{v}", f"t{i:02d}", day * DAY + hour * 3600, 0.5))
    devices = {f"v{v}": ("tv", "mobile")[v % 2] for v in range(40)}
    return catalog, ViewingHistory(viewings), devices


def test_rows_are_re_ranked_for_the_hour_of_the_request(world) -> None:
    catalog, history, devices = world
    ranker = TitleRanker.fit(catalog, history, artwork_tags=None, devices=devices)
    assert ranker is not None and ranker.context is not None
    assert ranker.context.config.strength > 0  # learnt: the hour says which genre is next
    for hour, genre in ((8, "Comedy"), (22, "Horror")):
        for viewer in ("v1", "v2", "v3"):
            top = personal_rows(catalog, history, ranker, viewer, n_rows=1, per_row=4,
                                hour=hour, device="tv")[0]  # fmt: skip
            assert top.name == "Top picks for you"
            assert catalog.titles[top.title_ids[0]].genres == (genre,)
    plain = personal_rows(catalog, history, ranker, "v1", n_rows=3, per_row=4)
    assert plain == personal_rows(catalog, history, ranker, "v1", n_rows=3, per_row=4,
                                  hour=None, device=None)  # fmt: skip


def test_save_then_load_gives_identical_scores(world, tmp_path: Path) -> None:
    catalog, history, devices = world
    ranker = TitleRanker.fit(catalog, history, "sequence_ease", devices=devices)
    assert ranker is not None
    ranker.save(tmp_path / "saved")
    loaded = TitleRanker.load(catalog, tmp_path / "saved")
    assert loaded.title_ids == ranker.title_ids and dict(loaded.viewer_index) == dict(
        ranker.viewer_index
    )  # fmt: skip
    assert loaded.context is not None and loaded.context.config == ranker.context.config
    for viewer in ("v0", "v7", "v39"):
        for hour, device in ((None, None), (8, "tv"), (22, "mobile"), (3, "web")):
            assert loaded.scores(viewer, ["t03"], hour, device) == ranker.scores(
                viewer, ["t03"], hour, device
            )  # fmt: skip
        assert loaded.cluster_favourites(viewer, 5) == ranker.cluster_favourites(viewer, 5)
    assert loaded.similar("t04", 5) == ranker.similar("t04", 5)


def test_an_artifact_of_another_catalog_is_refused(world, tmp_path: Path) -> None:
    catalog, history, _ = world
    TitleRanker.fit(catalog, history).save(tmp_path / "saved")  # type: ignore[union-attr]
    bigger = make_catalog(tmp_path, n_titles=25)
    with pytest.raises(ArtifactError, match=r"trained on another catalog .*\['t24'\]"):
        TitleRanker.load(bigger, tmp_path / "saved")


@pytest.mark.parametrize(
    ("damage", "message"),
    [("recommender.safetensors", "recommender.safetensors: does not match the card"),
     ("context.safetensors", "context.safetensors: does not match the card"),
     ("recommender.json", "recommender.json: not valid JSON")],
)  # fmt: skip
def test_a_damaged_artifact_is_refused_naming_the_file(world, tmp_path: Path, damage, message):
    catalog, history, devices = world
    TitleRanker.fit(catalog, history, devices=devices).save(tmp_path / "saved")  # type: ignore[union-attr]
    path = tmp_path / "saved" / damage
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=f"recommender artifact .*saved: .*{message}"):
        TitleRanker.load(catalog, tmp_path / "saved")
