"""The recommender benchmark's pieces: the short-history group and the skip without data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import recommender
from models.recommenders import Interactions
from training.recommender_data import temporal_split


def test_short_history_viewers_keep_only_their_latest_interactions() -> None:
    rng = np.random.default_rng(0)
    history = Interactions.build(rng.integers(0, 40, 1500), rng.integers(0, 200, 1500),
                                 rng.integers(0, 10**6, 1500), n_users=40, n_items=200)  # fmt: skip
    split = temporal_split(history)
    cut, users = recommender.short_history(split, fraction=0.25, keep=3, seed=1)
    full = split.train_and_validation()
    assert len(users) == 10
    for user in range(40):
        if user in users:
            np.testing.assert_array_equal(cut.of(user), full.of(user)[-3:])
        else:
            np.testing.assert_array_equal(cut.of(user), full.of(user))


def test_bench_skips_cleanly_without_movielens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert recommender.main(["--movielens", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out
