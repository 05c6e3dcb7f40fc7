"""EASE against a brute-force solve in both forms, recency weighting, and the history arrays."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from models.recommenders import Interactions, RecommenderError, ease, make_recommender
from models.recommenders.ease import EaseWeights


def brute_force_ease(x: np.ndarray, lam: float) -> np.ndarray:
    """B column by column: ridge-regress item j's column on every other column (b_jj = 0)."""
    n_items = x.shape[1]
    b = np.zeros((n_items, n_items))
    for j in range(n_items):
        others = np.delete(np.arange(n_items), j)
        a = x[:, others]
        b[others, j] = np.linalg.solve(a.T @ a + lam * np.eye(len(others)), a.T @ x[:, j])
    return b


@pytest.mark.parametrize(("n_users", "n_items"), [(12, 7), (5, 9)])
def test_both_forms_match_a_brute_force_solve(n_users: int, n_items: int) -> None:
    rng = np.random.default_rng(n_users)
    x = (rng.random((n_users, n_items)) < 0.4).astype(float)
    expected = brute_force_ease(x, lam=2.0)
    queries = sp.csr_matrix(rng.random((4, n_items)) * (rng.random((4, n_items)) < 0.5))
    for form in ("item", "user"):
        weights = EaseWeights.fit(sp.csr_matrix(x), 2.0, form)
        np.testing.assert_allclose(weights.rows(np.arange(n_items)), expected, atol=1e-10)
        np.testing.assert_allclose(weights.apply(queries), queries.toarray() @ expected, atol=1e-10)


@pytest.mark.parametrize("form", ["item", "user"])
def test_auto_device_without_a_gpu_inverts_on_the_cpu(form: str) -> None:
    x = sp.csr_matrix((np.random.default_rng(1).random((9, 6)) < 0.4).astype(float))
    cpu, auto = (EaseWeights.fit(x, 2.0, form, device) for device in ("cpu", "auto"))
    for name, array in cpu.arrays().items():
        if torch.cuda.is_available():  # "auto" took the GPU: float64 rounding apart
            np.testing.assert_allclose(auto.arrays()[name], array, rtol=1e-9, atol=1e-12)
        else:
            np.testing.assert_array_equal(auto.arrays()[name], array)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(RecommenderError, match="device 'cuda': torch sees no CUDA device"):
        EaseWeights.fit(sp.csr_matrix(np.eye(3)), 1.0, device="cuda")
    with pytest.raises(RecommenderError, match="device"):
        make_recommender("ease", device="tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize(("n_users", "n_items"), [(12, 7), (5, 9)])
def test_the_gpu_solves_what_the_brute_force_does(n_users: int, n_items: int) -> None:
    rng = np.random.default_rng(n_users)
    x = (rng.random((n_users, n_items)) < 0.4).astype(float)
    for form in ("item", "user"):
        weights = EaseWeights.fit(sp.csr_matrix(x), 2.0, form, device="cuda")
        np.testing.assert_allclose(weights.rows(np.arange(n_items)), brute_force_ease(x, 2.0),
                                   atol=1e-10)  # fmt: skip


def test_auto_picks_the_smaller_inverse() -> None:
    wide = sp.csr_matrix(np.eye(3, 8))
    assert EaseWeights.fit(wide, 1.0).m is not None  # fewer users than items: user side
    assert EaseWeights.fit(wide.T.tocsr(), 1.0).b is not None


def history_of_one(items: list[int], n_items: int = 6) -> Interactions:
    return Interactions.build(np.zeros(len(items), dtype=int), np.array(items),
                              np.arange(len(items)) * 60, n_users=1, n_items=n_items)  # fmt: skip


def test_recency_weighting_counts_recent_viewing_most() -> None:
    history = Interactions.build(
        np.array([0, 0, 0, 1, 1, 2, 2, 2]), np.array([0, 1, 2, 2, 3, 1, 3, 4]),
        np.array([5, 1, 9, 2, 1, 3, 3, 3]), n_items=6,
    )  # fmt: skip
    np.testing.assert_array_equal(history.of(0), [1, 0, 2])  # by time
    np.testing.assert_array_equal(history.ages(), [2, 1, 0, 1, 0, 2, 1, 0])
    tau = 2.0
    ease = make_recommender("ease", lam=1.0).fit(history)
    recent = make_recommender("recency_ease", lam=1.0, tau=tau).fit(history)
    weights = np.exp(-np.array([2, 1, 0]) / tau)  # user 0 watched 1, 0, 2 in that order
    b = ease.item_similarity(np.arange(6))
    np.testing.assert_allclose(recent.score([0])[0], weights @ b[[1, 0, 2]], atol=1e-10)
    np.testing.assert_allclose(ease.score([0])[0], b[[1, 0, 2]].sum(axis=0), atol=1e-10)
    # As τ grows every viewing counts the same and the scores become EASE's.
    flat = make_recommender("recency_ease", lam=1.0, tau=1e9).fit(history)
    np.testing.assert_allclose(flat.score([0, 1, 2]), ease.score([0, 1, 2]), atol=1e-6)


def test_build_keeps_the_latest_of_repeated_viewings() -> None:
    history = Interactions.build(np.array([0, 0, 0, 1]), np.array([2, 1, 2, 0]),
                                 np.array([10, 20, 30, 5]))  # fmt: skip
    np.testing.assert_array_equal(history.of(0), [1, 2])
    np.testing.assert_array_equal(history.times[history.users == 0], [20, 30])
    assert (history.n_users, history.n_items, len(history)) == (2, 3, 3)


@pytest.mark.parametrize(
    ("users", "items", "message"),
    [([0, -1], [0, 1], "users must lie"), ([0, 1], [0], "differ in length"),
     ([0.5, 1.0], [0, 1], "integers")],
)  # fmt: skip
def test_build_refuses_bad_arrays(users: list, items: list, message: str) -> None:
    with pytest.raises(RecommenderError, match=message):
        Interactions.build(np.array(users), np.array(items), np.arange(len(users)))


@pytest.mark.parametrize(("name", "n_users", "n_items", "refused"), [
    ("ease", 50, 20, "EASE on 50 users × 20 items \\(a dense 20² inverse\\) needs about"),
    ("ease", 20, 50, "EASE on 20 users × 50 items \\(a dense 20² inverse\\)"),
])  # fmt: skip
def test_a_fit_larger_than_the_memory_available_is_refused_before_it_starts(
    monkeypatch, name: str, n_users: int, n_items: int, refused: str
) -> None:
    x = sp.csr_matrix(np.random.default_rng(0).random((n_users, n_items)) < 0.3, dtype=float)
    monkeypatch.setattr(ease, "available_memory", lambda: 8 * 3 * 20 * 20 - 1)
    with pytest.raises(RecommenderError, match=refused + ".*use als or bpr"):
        EaseWeights.fit(x, 1.0)
    monkeypatch.setattr(ease, "available_memory", lambda: None)  # unknown: not checked
    assert EaseWeights.fit(x, 1.0).apply(x[:1]).shape == (1, n_items)


def test_the_memory_available_is_read_on_linux() -> None:
    available = ease.available_memory()
    assert available is None or 0 < available < 2**50


def test_sequence_ease_checks_its_own_dense_solve(monkeypatch) -> None:
    # 10 viewers × 40 items: EASE inverts on the user side (10²), the sequence part on 40² items.
    rng = np.random.default_rng(0)
    users, items = np.repeat(np.arange(10), 12), rng.integers(0, 40, 120)
    history = Interactions.build(users, items, n_items=40)
    kept = int((np.bincount(history.items, minlength=40) >= 1).sum())
    monkeypatch.setattr(ease, "available_memory", lambda: 8 * (3 * 10 * 10 + 10 * 40))
    with pytest.raises(RecommenderError, match=f"sequence EASE on {kept} items"):
        make_recommender("sequence_ease", min_count=1).fit(history)
    make_recommender("sequence_ease", min_count=10**6).fit(history)  # no sequence items: fits
