"""``python -m training.train_recommender`` end to end on a small demo world (and on MovieLens
when ../shared/data has it): tuning, a saved model with its card, named errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, build_world
from models.recommenders import load_recommender
from training.train_recommender import DEFAULT_MOVIELENS, main


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo world of 12 titles and 40 viewers (a couple of seconds)."""
    root = tmp_path_factory.mktemp("recommender-world")
    return build_world(root / "world", WorldSpec(seed=3, titles=12, viewers=40), workers=1)


def test_cli_tunes_tests_and_saves_a_described_model(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model"
    argv = ["--data", "demo", "--world", str(world), "--model", "sequence_ease",
            "--out", str(out), "--seed", "1"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "nDCG@10" in printed and f"saved sequence_ease to {out}" in printed
    card = json.loads((out / "recommender.json").read_text())
    assert card["data"]["source"] == "demo" and card["data"]["items"] == 12
    assert card["split"]["fit_on"] == "train+validation"
    assert card["split"]["train"] + card["split"]["validation"] == card["n_interactions"]
    trials = card["tuning"]["trials"]
    assert len(trials) == 36 and card["tuning"]["best"] in [t["params"] for t in trials]
    assert 0.0 <= card["metrics"]["test"]["ndcg@10"] <= 1.0
    assert len(card["item_ids"]) == 12 and len(card["user_ids"]) == card["n_users"]
    model = load_recommender(out)
    assert model.config.seed == 1
    items, _ = model.recommend(0, k=3)
    assert len(items) == 3
    # a second run replaces the saved model
    assert main(argv + ["--no-tune"]) == 0
    assert json.loads((out / "recommender.json").read_text())["tuning"]["trials"] == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "demo", "--world", "{tmp}/nowhere"], "no interactions.csv"),
        (["--data", "movielens", "--movielens", "{tmp}/ml"], "ratings.csv:3: rating"),
        (["--data", "demo", "--world", "{world}", "--test-fraction", "1.5"], "fractions"),
    ],
)
def test_cli_exits_2_naming_what_is_wrong(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list, message: str
) -> None:
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,5\n1,2,high,6\n"
    )
    extra = [e.format(tmp=tmp_path, world=world) for e in extra]
    assert main([*extra, "--model", "popularity", "--out", str(tmp_path / "m")]) == 2
    assert message in capsys.readouterr().err


def test_the_device_reaches_ease_and_a_cpu_only_model_refuses_cuda(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def argv(model: str, device: str) -> list[str]:
        return ["--data", "demo", "--world", str(world), "--model", model, "--no-tune",
                "--no-context", "--out", str(tmp_path / model), "--device", device]  # fmt: skip

    assert main(argv("ease", "cpu")) == 0
    assert load_recommender(tmp_path / "ease").config.device == "cpu"
    assert main(argv("popularity", "cuda")) == 2
    assert "--device cuda: popularity fits on the CPU only" in capsys.readouterr().err
    assert main(argv("popularity", "auto")) == 0  # auto: the CPU, for a model without a GPU


def test_cli_will_not_replace_a_folder_that_holds_no_model(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    argv = ["--data", "demo", "--world", str(world), "--model", "popularity",
            "--out", str(tmp_path / "precious")]  # fmt: skip
    assert main(argv) == 2
    assert "holds no saved recommender" in capsys.readouterr().err
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


@pytest.mark.data
@pytest.mark.skipif(not (DEFAULT_MOVIELENS / "ratings.csv").is_file(), reason="needs MovieLens")
def test_cli_on_movielens(tmp_path: Path) -> None:
    out = tmp_path / "pop"
    assert main(["--data", "movielens", "--model", "popularity", "--out", str(out)]) == 0
    card = json.loads((out / "recommender.json").read_text())
    assert card["data"]["interactions"] == 100_836 and card["split"]["test"] == 20_164
    assert np.isclose(card["metrics"]["test"]["ndcg@10"], 0.086, atol=0.002)
