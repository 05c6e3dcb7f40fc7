"""Off-policy estimators: hand-computed logs, unbiasedness, interval coverage, validation, gate."""

from __future__ import annotations

import numpy as np
import pytest

from models.errors import ModelError
from models.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    GateDecision,
    Interval,
    LoggedBandit,
    OPEError,
    Replay,
    SelfNormalizedDR,
    promotion_gate,
)

# --- a three-round log worked by hand ------------------------------------------------------------
# Round 1 has two candidates (the third column is padding, NaN on purpose).
# w = π/μ = [0.5/0.25, 1/0.5, 0.5/0.5] = [2, 2, 1]; r = [1, 0, 1]
# Σ_k π q̂ = [0.4, 0.5, 0.4]; q̂ at the logged action = [0.6, 0.5, 0.7]
# w (r − q̂_a) = [0.8, −1.0, 0.3], summing to 0.1


def hand_log(**overrides: object) -> LoggedBandit:
    nan = np.nan
    fields = {
        "rewards": [1.0, 0.0, 1.0],
        "logged_propensity": [0.25, 0.5, 0.5],
        "target_propensity": [0.5, 1.0, 0.5],
        "target_distribution": [[0.5, 0.5, 0.0], [0.0, 1.0, nan], [0.2, 0.3, 0.5]],
        "reward_hat": [[0.6, 0.2, 0.4], [0.3, 0.5, nan], [0.1, 0.1, 0.7]],
        "action_index": np.array([0, 1, 2]),
        "candidate_mask": [[True, True, True], [True, True, False], [True, True, True]],
    }
    return LoggedBandit(**(fields | overrides))


@pytest.mark.parametrize(
    ("estimator", "expected"),
    [
        (IPS(), (2 + 0 + 1) / 3),
        (IPS(clip=1.5), (1.5 + 0 + 1) / 3),
        (SNIPS(), 3 / 5),
        (DirectMethod(), (0.4 + 0.5 + 0.4) / 3),
        (DoublyRobust(), (1.3 + 0.1) / 3),
        (SelfNormalizedDR(), 1.3 / 3 + 0.1 / 5),
    ],
    ids=["ips", "clipped-ips", "snips", "dm", "dr", "sndr"],
)
def test_estimators_match_the_hand_computed_log(estimator, expected: float) -> None:
    assert estimator.estimate(hand_log()) == pytest.approx(expected, abs=1e-12)


def test_effective_sample_size_by_hand() -> None:
    assert IPS().effective_sample_size(hand_log()) == pytest.approx(5**2 / 9)
    assert IPS(clip=1.5).effective_sample_size(hand_log()) == pytest.approx(4**2 / 5.5)
    assert DoublyRobust().effective_sample_size(hand_log()) == pytest.approx(5**2 / 9)


def test_replay_averages_rewards_where_a_deterministic_target_agrees() -> None:
    log = LoggedBandit([1.0, 0.0, 1.0, 1.0], [0.2] * 4, [1.0, 1.0, 0.0, 0.0])
    assert Replay().estimate(log) == pytest.approx(0.5)
    assert Replay().effective_sample_size(log) == pytest.approx(2.0)


def test_replay_refuses_a_stochastic_target() -> None:
    log = LoggedBandit([1.0, 0.0], [0.5, 0.5], [1.0, 0.3])
    with pytest.raises(OPEError, match=r"target_propensity: row 1 .*deterministic"):
        Replay().estimate(log)


def test_target_propensity_is_read_off_the_distribution_when_left_out() -> None:
    log = hand_log(target_propensity=None)
    np.testing.assert_array_equal(log.target_propensity, [0.5, 1.0, 0.5])
    assert not log.target_propensity.flags.writeable
    assert log.reward_hat[1, 2] == 0.0  # padding stored as 0


def test_snips_equals_ips_when_the_weights_average_one() -> None:
    # w = [0.5, 1, 1.5, 1], mean 1
    log = LoggedBandit([1.0, 0.0, 1.0, 1.0], [0.5, 0.25, 0.5, 0.25], [0.25, 0.25, 0.75, 0.25])
    assert SNIPS().estimate(log) == pytest.approx(IPS().estimate(log), abs=1e-12)


def test_effective_sample_size_is_n_on_policy() -> None:
    propensity = np.random.default_rng(0).uniform(0.05, 1.0, 500)
    log = LoggedBandit(np.zeros(500), propensity, propensity)
    for estimator in (IPS(), SNIPS(), DoublyRobust()):
        assert estimator.effective_sample_size(log) == pytest.approx(500)


def test_weights_all_zero_are_refused_for_self_normalised_estimators() -> None:
    log = LoggedBandit([1.0, 0.0], [0.5, 0.5], [0.0, 0.0])
    assert IPS().estimate(log) == 0.0
    with pytest.raises(OPEError, match="every weight is 0"):
        SNIPS().estimate(log)


# --- a synthetic problem with a known value ------------------------------------------------------
# 3 equally likely contexts, 5 arms with known Bernoulli click probabilities; the logging policy
# and the target differ, every arm has positive logging probability.
CLICK = np.array([[0.1, 0.3, 0.5, 0.2, 0.6], [0.7, 0.2, 0.1, 0.4, 0.3], [0.2, 0.2, 0.8, 0.5, 0.1]])
LOGGING = np.array(
    [[0.4, 0.3, 0.1, 0.1, 0.1], [0.1, 0.2, 0.4, 0.2, 0.1], [0.3, 0.3, 0.1, 0.2, 0.1]]
)
TARGET = np.array(
    [[0.05, 0.1, 0.35, 0.1, 0.4], [0.6, 0.1, 0.05, 0.2, 0.05], [0.1, 0.1, 0.6, 0.1, 0.1]]
)
TRUE_VALUE = float((TARGET * CLICK).sum(axis=1).mean())
MODEL_BIAS = 0.15  # the wrong reward model's error on every arm


def simulate(rng: np.random.Generator, n: int, model_bias: float = MODEL_BIAS) -> LoggedBandit:
    context = rng.integers(0, len(CLICK), n)
    logging = LOGGING[context]
    draw = rng.random(n)[:, None]
    action = np.minimum((draw > logging.cumsum(axis=1)).sum(axis=1), CLICK.shape[1] - 1)
    reward = (rng.random(n) < CLICK[context, action]).astype(float)
    return LoggedBandit(
        rewards=reward,
        logged_propensity=logging[np.arange(n), action],
        target_distribution=TARGET[context],
        reward_hat=CLICK[context] + model_bias,
        action_index=action,
    )


def test_the_simulated_log_draws_actions_with_the_logged_propensities() -> None:
    log = simulate(np.random.default_rng(1), 20_000)
    # E[1/μ(a|x)] over a ~ μ is the number of arms, 5
    assert np.mean(1 / log.logged_propensity) == pytest.approx(5, rel=0.03)


def test_ips_and_dr_are_unbiased_and_dm_is_not_with_a_wrong_model() -> None:
    estimators = {"ips": IPS(), "dr": DoublyRobust(), "dm": DirectMethod()}
    estimates = {name: [] for name in estimators}
    for seed in range(300):
        log = simulate(np.random.default_rng(seed), 400)
        for name, estimator in estimators.items():
            estimates[name].append(estimator.estimate(log))
    mean = {name: np.mean(values) for name, values in estimates.items()}
    error = {
        name: np.std(values, ddof=1) / np.sqrt(len(values)) for name, values in estimates.items()
    }
    for name in ("ips", "dr"):
        assert abs(mean[name] - TRUE_VALUE) < 4 * error[name], (name, mean[name], error[name])
    # DM is off by the model's error, far beyond its noise
    assert mean["dm"] - TRUE_VALUE > 10 * error["dm"]
    assert abs(mean["dm"] - TRUE_VALUE - MODEL_BIAS) < 4 * error["dm"]


def test_intervals_cover_the_true_value() -> None:
    estimators = {"ips": IPS(), "snips": SNIPS(), "dr": DoublyRobust()}
    covered = {name: 0 for name in estimators}
    repeats = 60
    for seed in range(repeats):
        log = simulate(np.random.default_rng(1000 + seed), 2000)
        for name, estimator in estimators.items():
            interval = estimator.interval(log, n_bootstrap=200, seed=seed)
            covered[name] += interval.low <= TRUE_VALUE <= interval.high
    for name, count in covered.items():
        assert count / repeats >= 0.85, (name, count)


def test_interval_is_seeded_and_brackets_the_estimate() -> None:
    log = simulate(np.random.default_rng(3), 1000)
    first = SelfNormalizedDR().interval(log, alpha=0.1, n_bootstrap=300, seed=7)
    again = SelfNormalizedDR().interval(log, alpha=0.1, n_bootstrap=300, seed=7)
    assert first == again
    assert first.low < first.estimate < first.high
    assert first.estimate == SelfNormalizedDR().estimate(log)
    wider = SelfNormalizedDR().interval(log, alpha=0.01, n_bootstrap=300, seed=7)
    assert wider.low <= first.low and wider.high >= first.high


def test_bca_moves_the_interval_with_the_skew_of_importance_weighted_rewards() -> None:
    """Rare large weights skew IPS's replicates right: BCa's levels move up from the plain
    percentiles' (its acceleration is positive), and it matches them on symmetric terms."""
    from models.ope import _bca_levels, _influence

    rng = np.random.default_rng(4)
    n = 3000
    mu = np.where(rng.random(n) < 0.05, 0.02, 0.5)  # a few rare actions, weight 50
    log = LoggedBandit(
        rewards=(rng.random(n) < 0.3).astype(float),
        logged_propensity=mu,
        target_propensity=np.full(n, 0.5),
    )
    bca = IPS().interval(log, n_bootstrap=2000, seed=1)
    percentile = IPS().interval(log, n_bootstrap=2000, seed=1, method="percentile")
    assert bca.estimate == percentile.estimate
    assert bca.low > percentile.low and bca.high > percentile.high
    symmetric = [(np.tile([-1.0, 1.0], 500), np.ones(1000))]
    replicates = np.random.default_rng(0).normal(size=4001)
    levels = _bca_levels(replicates, float(np.median(replicates)), _influence(symmetric), 0.05)
    np.testing.assert_allclose(levels, [0.025, 0.975], atol=1e-3)
    with pytest.raises(OPEError, match="method"):
        IPS().interval(log, method="studentized")


@pytest.mark.parametrize(
    ("alpha", "n_bootstrap", "message"),
    [
        (0.0, 100, "alpha"),
        (1.5, 100, "alpha"),
        (0.05, 1, "n_bootstrap"),
        (0.05, 2.5, "n_bootstrap"),
    ],
)
def test_interval_arguments_are_checked(alpha: float, n_bootstrap: int, message: str) -> None:
    with pytest.raises(OPEError, match=message):
        IPS().interval(hand_log(), alpha=alpha, n_bootstrap=n_bootstrap)


# --- validation at the door ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rewards": [1.0, 0.0, np.nan]}, r"rewards: row 2 is nan"),
        ({"rewards": [1.0, np.inf, 0.0]}, r"rewards: row 1 is inf"),
        ({"rewards": [[1.0, 0.0, 1.0]]}, r"rewards: expected shape \(n,\)"),
        (
            {"logged_propensity": [0.25, 0.0, 0.5]},
            r"logged_propensity: row 1 is 0; expected \(0, 1\]",
        ),
        ({"logged_propensity": [1.2, 0.5, 0.5]}, r"logged_propensity: row 0 is 1.2"),
        ({"logged_propensity": [0.25, 0.5]}, r"logged_propensity: expected shape \(3,\)"),
        ({"target_propensity": [0.5, 1.0, 1.5]}, r"target_propensity: row 2 is 1.5"),
        ({"target_propensity": [0.5, 0.9, 0.5]}, r"target_propensity: row 1 .*at action_index"),
        (
            {"target_distribution": [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.6]]},
            r"target_distribution \(sum over candidates\): row 2 is 1.1",
        ),
        (
            {"target_distribution": [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3]]},
            r"target_distribution: expected an array",
        ),
        (
            {"reward_hat": [[0.6, np.nan, 0.4], [0.3, 0.5, 0], [0, 0, 0]]},
            r"reward_hat: row 0, column 1",
        ),
        ({"reward_hat": np.zeros((3, 2))}, r"reward_hat: expected shape \(3, 3\)"),
        ({"action_index": np.array([0, 2, 2])}, r"action_index: row 1 .*candidate of its round"),
        ({"action_index": np.array([0, 1, 3])}, r"action_index: row 2 is 3; expected a column"),
        ({"action_index": np.array([0.0, 1.0, 2.0])}, r"action_index: expected integers"),
        ({"reward_hat": None}, r"given without reward_hat"),
        (
            {"candidate_mask": [[True] * 3, [False] * 3, [True] * 3]},
            r"candidate_mask: row 1 .*expected a candidate",
        ),
    ],
)
def test_bad_logs_are_refused_with_the_argument_and_row(overrides: dict, message: str) -> None:
    with pytest.raises(OPEError, match=message):
        hand_log(**overrides)


def test_model_based_estimators_say_they_need_a_reward_model() -> None:
    log = LoggedBandit([1.0], [0.5], [0.5])
    with pytest.raises(OPEError, match="needs a reward model"):
        DoublyRobust().estimate(log)
    with pytest.raises(OPEError, match="target_propensity: expected shape"):
        LoggedBandit([1.0], [0.5])


def test_errors_belong_to_the_models_hierarchy_and_clip_is_checked() -> None:
    assert issubclass(OPEError, ModelError)
    with pytest.raises(OPEError, match="clip: expected a positive number"):
        IPS(clip=0.0)


# --- the promotion gate --------------------------------------------------------------------------


def test_promotion_gate_accepts_only_a_lower_bound_above_the_current_value() -> None:
    candidate = Interval(low=0.052, high=0.070, estimate=0.061)
    accepted = promotion_gate(candidate, current_estimate=0.050)
    assert accepted.accepted and "accepted" in accepted.reason
    rejected = promotion_gate(candidate, current_estimate=0.055)
    assert rejected == GateDecision(False, rejected.reason) and "lower bound" in rejected.reason
    assert not promotion_gate(candidate, current_estimate=0.050, margin=0.005).accepted


def test_promotion_gate_refuses_undefined_values() -> None:
    with pytest.raises(OPEError, match="finite"):
        promotion_gate(Interval(0.1, 0.2, 0.15), current_estimate=float("nan"))
    with pytest.raises(OPEError, match="low <= high"):
        Interval(0.3, 0.2, 0.25)


# --- resampled logs and refitted reward models ---------------------------------------------------


def test_take_selects_rounds_with_repeats_and_may_replace_the_model() -> None:
    log = hand_log()
    taken = log.take(np.array([2, 0, 2]))
    np.testing.assert_array_equal(taken.rewards, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(taken.logged_propensity, [0.5, 0.25, 0.5])
    np.testing.assert_array_equal(taken.action_index, [2, 0, 2])
    np.testing.assert_array_equal(taken.reward_hat, log.reward_hat[[2, 0, 2]])
    refitted = log.take(np.array([1]), reward_hat=np.array([[0.0, 0.9, np.nan]]))
    assert DirectMethod().estimate(refitted) == pytest.approx(0.9)
    plain = LoggedBandit([1.0, 0.0], [0.5, 0.5], [0.5, 1.0]).take(np.array([1, 1]))
    np.testing.assert_array_equal(plain.target_propensity, [1.0, 1.0])


@pytest.mark.parametrize(
    ("log", "rows", "reward_hat", "message"),
    [
        (hand_log(), [0, 3], None, r"rows: row 1 is 3; expected a round in \[0, 3\)"),
        (hand_log(), [0.0], None, r"rows: expected integers"),
        (hand_log(), [0, 1], np.zeros((2, 2)), r"reward_hat: expected shape \(2, 3\)"),
        (LoggedBandit([1.0], [0.5], [0.5]), [0], np.zeros((1, 1)), "no reward model to replace"),
    ],
)
def test_take_refuses_bad_rows_and_models(log, rows, reward_hat, message: str) -> None:
    with pytest.raises(OPEError, match=message):
        log.take(np.array(rows), reward_hat)


def test_refitting_the_same_model_reproduces_the_fixed_interval(monkeypatch) -> None:
    monkeypatch.setattr("models.ope._BOOTSTRAP_CHUNK", 500 * 4 * 7)  # several resample chunks
    log = simulate(np.random.default_rng(4), 500)
    calls = []

    def same_model(rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return log.reward_hat[rows]

    for estimator in (DirectMethod(), DoublyRobust(), SelfNormalizedDR()):
        calls.clear()
        fixed = estimator.interval(log, n_bootstrap=30, seed=3)
        refitted = estimator.interval(log, n_bootstrap=30, seed=3, refit=same_model)
        assert calls == [500] * 30
        assert (refitted.low, refitted.high) == pytest.approx((fixed.low, fixed.high), rel=1e-12)
        assert refitted.estimate == fixed.estimate


def test_refitting_the_model_per_resample_widens_the_direct_method_interval() -> None:
    log = simulate(np.random.default_rng(5), 2000)
    arms = log.reward_hat.shape[1]

    def arm_means(rows: np.ndarray) -> np.ndarray:
        """A context-free model: each arm's mean reward over the rounds ``rows``."""
        action, reward = log.action_index[rows], log.rewards[rows]
        shown = np.maximum(np.bincount(action, minlength=arms), 1)
        means = np.bincount(action, reward, minlength=arms) / shown
        return np.tile(means, (len(rows), 1))

    everything = np.arange(log.n_rounds)
    fitted = log.take(everything, arm_means(everything))
    fixed = DirectMethod().interval(fitted, n_bootstrap=200, seed=0)
    refitted = DirectMethod().interval(fitted, n_bootstrap=200, seed=0, refit=arm_means)
    assert refitted.high - refitted.low > 2 * (fixed.high - fixed.low)


def test_refit_needs_a_reward_model() -> None:
    with pytest.raises(OPEError, match="no reward model to refit"):
        IPS().interval(LoggedBandit([1.0, 0.0], [0.5, 0.5], [0.5, 1.0]), refit=lambda rows: rows)
