"""FeedbackBatch and Choice checks, the feature map, and the linear algebra under the policies."""

from __future__ import annotations

import numpy as np
import pytest

from models.bandits import (
    Choice,
    FeedbackBatch,
    FeedbackError,
    PolicyError,
    joint_dim,
    joint_features,
    make_policy,
)
from models.bandits.features import with_bias
from models.bandits.ridge import RidgeRegression


def batch(n: int = 4, **changes: object) -> FeedbackBatch:
    rng = np.random.default_rng(0)
    fields = {
        "contexts": rng.normal(size=(n, 3)),
        "arms": rng.normal(size=(n, 2)),
        "rewards": rng.random(n),
        "propensities": np.full(n, 0.25),
        "arm_ids": tuple(f"a{i}" for i in range(n)),
    }
    fields.update(changes)
    return FeedbackBatch(**fields)


@pytest.mark.parametrize(
    ("field", "value", "row", "message"),
    [
        ("propensities", [0.2, 0.0, 0.5, 0.1], 1, "propensities is 0.0, must be in"),
        ("propensities", [0.2, 0.5, 1.5, 0.1], 2, "propensities is 1.5"),
        ("propensities", [0.2, 0.5, 0.3, np.nan], 3, "propensities is nan"),
        ("rewards", [0.0, 1.0, np.nan, 0.5], 2, "rewards is nan"),
        ("rewards", [0.0, 1.0, 2.0, 0.5], 2, r"rewards is 2.0, must be finite and in \[0, 1\]"),
        ("contexts", [[0, 0, 0], [0, np.inf, 0], [0, 0, 0], [0, 0, 0]], 1, "contexts"),
        ("arms", [[0, 0], [0, 0], [0, 0], [np.nan, 0]], 3, "arms"),
        ("arm_ids", ("a", "b", "", "d"), 2, "arm_ids"),
    ],
)
def test_bad_rows_are_refused_naming_row_and_field(
    field: str, value: object, row: int, message: str
) -> None:
    with pytest.raises(FeedbackError, match=f"row {row}: {message}") as caught:
        batch(**{field: np.array(value) if field != "arm_ids" else value})
    assert (caught.value.row, caught.value.field) == (row, field)


def test_the_first_bad_row_is_named_and_the_others_counted() -> None:
    with pytest.raises(FeedbackError, match=r"row 0: .*\(2 more bad rows\)"):
        batch(propensities=np.array([0.0, 0.5, 0.0, 2.0]))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"arms": np.zeros((3, 2))}, "arms"),
        ({"rewards": np.zeros((4, 1))}, "rewards"),
        ({"contexts": np.zeros(4)}, "contexts"),
        ({"propensities": "high"}, "propensities"),
        ({"arm_ids": ("a", "b")}, "arm_ids"),
        ({"reward_range": (1.0, 0.0)}, "reward_range"),
    ],
)
def test_bad_shapes_are_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises(FeedbackError, match=field) as caught:
        batch(**changes)
    assert (caught.value.row, caught.value.field) == (None, field)


def test_a_batch_is_frozen_and_owns_its_arrays() -> None:
    rewards = np.array([0.0, 1.0])
    logged = batch(2, rewards=rewards, reward_range=(-1, 1))
    rewards[0] = 5.0
    assert logged.rewards[0] == 0.0 and len(logged) == 2 and logged.reward_range == (-1.0, 1.0)
    with pytest.raises(ValueError):
        logged.rewards[0] = 1.0
    one = FeedbackBatch.of_one(np.zeros(3), np.ones(2), 1.0, 0.5, "a")
    assert one.contexts.shape == (1, 3) and one.arm_ids == ("a",)


def test_beta_ts_refuses_rewards_outside_zero_one() -> None:
    policy = make_policy("beta_ts", 3, 2)
    with pytest.raises(PolicyError, match="reward_range"):
        policy.update(batch(rewards=-np.ones(4), reward_range=(-1, 0)))
    make_policy("linucb", 3, 2).update(batch(rewards=-np.ones(4), reward_range=(-1, 0)))


def test_choice_checks_its_propensity() -> None:
    p = np.array([0.25, 0.75])
    assert Choice(1, 0.75, p, 3).propensity == 0.75
    for index, propensity, probabilities in [(1, 0.7, p), (2, 0.75, p), (0, 0.5, [0.5, 0.6])]:
        with pytest.raises(PolicyError):
            Choice(index, propensity, np.array(probabilities), 0)


def test_the_feature_map_is_the_bias_augmented_outer_product() -> None:
    context, arms = np.array([2.0, 3.0]), np.array([[5.0, 7.0, 11.0], [1.0, 0.0, 0.0]])
    x = joint_features(context, arms)
    assert x.shape == (2, joint_dim(2, 3)) == (2, 12)
    np.testing.assert_array_equal(x[0], np.outer([1, 2, 3], [1, 5, 7, 11]).ravel())
    rows = joint_features(np.stack([context, context]), arms)  # one row per logged decision
    np.testing.assert_array_equal(rows, x)


def test_ridge_updates_match_a_direct_solve_through_refreshes() -> None:
    rng = np.random.default_rng(1)
    features, targets, weights = rng.normal(size=(1300, 6)), rng.random(1300), rng.random(1300)
    incremental = RidgeRegression(6, 0.5)
    for i in range(1300):  # crosses one refresh (every 1000 rows)
        incremental.add(features[i : i + 1], targets[i : i + 1], weights[i : i + 1])
    batched = RidgeRegression(6, 0.5)
    batched.add(features, targets, weights)
    precision = 0.5 * np.eye(6) + (features * weights[:, None]).T @ features
    theta = np.linalg.solve(precision, features.T @ (weights * targets))
    for model in (incremental, batched):
        np.testing.assert_allclose(model.theta, theta, atol=1e-10)
        np.testing.assert_allclose(model.covariance, np.linalg.inv(precision), atol=1e-10)
        np.testing.assert_array_equal(model.covariance, model.covariance.T)


@pytest.mark.parametrize(
    ("name", "artwork_ridge"), [("linucb_hybrid", None), ("linucb_artwork", 4.0)]
)
def test_hybrid_linucb_matches_one_joint_ridge_regression(
    name: str, artwork_ridge: float | None
) -> None:
    """Hybrid LinUCB's UCB equals that of a ridge regression over [z, e_a ⊗ x] solved directly,
    with x = [1, c] (``linucb_hybrid``) or x = [1] under its own prior (``linucb_artwork``)."""
    rng = np.random.default_rng(2)
    d_ctx, d_arm, n, alpha, ridge = 3, 2, 80, 0.7, 0.5
    arms = ["a0", "a1", "a2", "a3"]
    extra = {} if artwork_ridge is None else {"artwork_ridge": artwork_ridge}
    policy = make_policy(name, d_ctx, d_arm, alpha=alpha, ridge=ridge, floor=0.0, **extra)
    logged = FeedbackBatch(
        rng.normal(size=(n, d_ctx)),
        rng.normal(size=(n, d_arm)),
        rng.random(n),
        rng.uniform(0.1, 1, n),
        tuple(arms[i % 4] for i in range(n)),
    )
    policy.update(logged, importance_weighted=True)
    k, known = joint_dim(d_ctx, d_arm), [*arms, "unseen"]
    d = d_ctx + 1 if artwork_ridge is None else 1

    def joint(context: np.ndarray, arm: np.ndarray, arm_id: str) -> np.ndarray:
        v = np.zeros(k + d * len(known))
        v[:k] = joint_features(context, arm)
        start = k + d * known.index(arm_id)
        v[start : start + d] = with_bias(context) if d > 1 else 1.0
        return v

    rows = np.stack(
        [
            joint(c, a, i)
            for c, a, i in zip(logged.contexts, logged.arms, logged.arm_ids, strict=True)
        ]
    )
    weights = 1.0 / logged.propensities
    prior = np.full(len(rows[0]), ridge)
    prior[k:] = ridge if artwork_ridge is None else artwork_ridge
    precision = np.diag(prior) + (rows * weights[:, None]).T @ rows
    theta = np.linalg.solve(precision, rows.T @ (weights * logged.rewards))
    context, candidates = rng.normal(size=d_ctx), rng.normal(size=(5, d_arm))
    queries = np.stack([joint(context, a, i) for a, i in zip(candidates, known, strict=True)])
    ucb = queries @ theta + alpha * np.sqrt(
        np.einsum("kd,kd->k", queries @ np.linalg.inv(precision), queries)
    )
    expected = np.zeros(5)
    expected[ucb.argmax()] = 1.0
    np.testing.assert_allclose(policy.theta, theta[:k], atol=1e-10)
    np.testing.assert_array_equal(policy.distribution(context, candidates, known), expected)


def test_linucb_artwork_learns_the_same_from_small_batches_as_from_one() -> None:
    """The batched Schur-complement update is exact: any split of the rows gives one model."""
    rng = np.random.default_rng(5)
    d_ctx, d_arm, n = 3, 2, 300
    logged = FeedbackBatch(
        rng.normal(size=(n, d_ctx)), rng.normal(size=(n, d_arm)), rng.random(n),
        rng.uniform(0.1, 1, n), tuple(f"a{i}" for i in rng.integers(0, 9, n)),
    )  # fmt: skip
    whole = make_policy("linucb_artwork", d_ctx, d_arm, floor=0.0)
    whole.update(logged, importance_weighted=True)
    pieces = make_policy("linucb_artwork", d_ctx, d_arm, floor=0.0)
    for start in range(0, n, 7):
        part = slice(start, start + 7)
        pieces.update(
            FeedbackBatch(logged.contexts[part], logged.arms[part], logged.rewards[part],
                          logged.propensities[part], logged.arm_ids[part]),
            importance_weighted=True,
        )  # fmt: skip
    np.testing.assert_allclose(pieces.theta, whole.theta, atol=1e-9)
    np.testing.assert_allclose(pieces.covariance, whole.covariance, atol=1e-9)
    context, candidates = rng.normal(size=d_ctx), rng.normal(size=(4, d_arm))
    ids = ("a0", "a3", "a8", "never")
    np.testing.assert_allclose(
        pieces.distribution(context, candidates, ids), whole.distribution(context, candidates, ids)
    )
