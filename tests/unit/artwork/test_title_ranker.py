"""The title ranker: rows re-ranked for the request's hour and device, and the saved artifact
(save → load → the same scores; one serves a catalog that moved on; one trained on another
catalog or damaged is refused)."""

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


def make_catalog(
    root: Path, n_titles: int = 24, leaving: tuple[str, ...] = (), prefix: str = "t"
) -> Catalog:
    """Even titles are comedies, odd ones horror; every title has one image; ``leaving``
    titles are left out."""
    genres = (("Comedy",), ("Horror",))
    titles = {f"{prefix}{i:02d}": Title(f"{prefix}{i:02d}", f"Title {i}", genres[i % 2], 2000,
                                        "PG")
              for i in range(n_titles) if f"{prefix}{i:02d}" not in leaving}  # fmt: skip
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


def test_an_artifact_serves_a_catalog_that_moved_on(world, tmp_path: Path) -> None:
    """Titles arrive and leave between trainings: a new title is scored from its content (a
    genre, an image), one that left is never scored, recommended or called similar."""
    catalog, history, devices = world
    TitleRanker.fit(catalog, history, devices=devices).save(tmp_path / "saved")  # type: ignore[union-attr]
    moved = make_catalog(tmp_path, n_titles=26, leaving=("t03",))  # t24 and t25 arrive
    ranker = TitleRanker.load(moved, tmp_path / "saved")
    assert (ranker.new_titles, ranker.gone) == (("t24", "t25"), frozenset({"t03"}))
    for viewer in ("v0", "v7", "v39"):
        for hour, device in ((None, None), (22, "mobile")):
            scores = ranker.scores(viewer, ["t25"], hour, device)
            assert scores is not None and set(scores) == set(moved.titles)
            warm = [v for t, v in scores.items() if t not in ("t24", "t25")]
            assert min(warm) <= scores["t24"] <= max(warm)  # a typical title at worst
            assert scores["t25"] == -np.inf  # disliked
        assert "t03" not in ranker.similar("t04", 30) and len(ranker.similar("t04", 5)) == 5
        assert "t03" not in ranker.cluster_favourites(viewer, 30)
        rows = personal_rows(moved, history, ranker, viewer, n_rows=4, per_row=6)
        shown = {t for row in rows for t in row.title_ids}
        assert "t03" not in shown and shown <= set(moved.titles)
    assert ranker.similar("t24", 5) == []  # the recommender has not seen it


def test_a_ranking_is_the_scores_sorted_over_titles_with_artwork(world, tmp_path: Path) -> None:
    """Best first, ties by id; titles without artwork, gone from the catalog or left out are
    not ranked; each title's score is ``scores``' (also for new titles and dislikes)."""
    catalog, history, devices = world
    TitleRanker.fit(catalog, history, devices=devices).save(tmp_path / "saved")  # type: ignore[union-attr]
    moved = make_catalog(tmp_path, n_titles=26, leaving=("t03",))
    bare = dict(moved.by_title)
    del bare["t05"]  # a title without artwork
    moved = Catalog(moved.root, moved.titles, moved.artwork, bare)
    ranker = TitleRanker.load(moved, tmp_path / "saved")
    for viewer, hour, device in (("v0", None, None), ("v7", 22, "mobile"), ("v39", 8, "tv")):
        scores = ranker.scores(viewer, ["t25", "t10"], hour, device)
        ranking = ranker.ranking(viewer, ["t25", "t10"], hour, device, leave_out=["t12", "zz"])
        assert scores is not None and ranking is not None
        expected = sorted((t for t in scores if t not in ("t05", "t12")),
                          key=lambda t: (-scores[t], t))  # fmt: skip
        assert ranking.titles == expected and "t03" not in ranking.titles
        assert ranking.ranked_scores.tolist() == [scores[t] for t in expected]
        assert all(ranking.score(t) == scores[t] for t in scores)
    tied = ranker.ranking("v0", disliked=["t24", "t25"])  # two −inf titles: by id
    assert tied is not None and tied.titles[-2:] == ["t24", "t25"]
    assert ranker.ranking("nobody") is None


def test_an_artifact_of_another_catalog_is_refused(world, tmp_path: Path) -> None:
    catalog, history, _ = world
    TitleRanker.fit(catalog, history).save(tmp_path / "saved")  # type: ignore[union-attr]
    other = make_catalog(tmp_path, prefix="x")
    with pytest.raises(ArtifactError, match=r"another catalog \(none of its 24 titles"):
        TitleRanker.load(other, tmp_path / "saved")


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
