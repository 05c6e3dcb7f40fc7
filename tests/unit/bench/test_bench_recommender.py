"""The recommender benchmark's pieces: the short-history group and the skip without data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import recommender
from models.recommenders import Interactions, make_recommender
from models.recommenders.context import ContextInputs
from training.recommender_data import temporal_split
from training.train_recommender import train_context


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


def test_the_context_comparison_scores_ours_with_and_without_the_re_ranker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    users, items = rng.integers(0, 60, n), rng.integers(0, 40, n)
    hours = np.where(items < 20, 8, 20)  # the first 20 items are watched in the morning
    history = Interactions.build(users, items, rng.integers(0, 90, n) * 86_400 + hours * 3600,
                                 n_users=60, n_items=40)  # fmt: skip
    split = temporal_split(history)
    genres = {f"i{i}": ("A",) if i < 20 else ("B",) for i in range(40)}
    inputs = ContextInputs.from_ids(list(genres), genres)
    fitted = make_recommender("popularity").fit(split.train_and_validation())
    result = train_context("popularity", {}, split, inputs, fitted)
    metrics = recommender.context_metrics(result, seconds=1.0)
    recommender.print_context("popularity", result, metrics)
    assert metrics["ours"]["users"] == metrics["ours_context"]["users"] > 0
    assert metrics["tuned"]["strength"] > 0  # the hour tells which half comes next
    gain = metrics["ours_context_minus_ours"]
    assert gain["ndcg@10"] > 2 * gain["paired_se"]
    printed = capsys.readouterr().out
    assert "ours + context" in printed and "top setting forced on" in printed
