"""Off-policy evaluation of a candidate artwork policy on the logged decisions of an event store.

    python -m training.evaluate --db events.db --world DIR [--tags tags.parquet]
        --policy FOLDER|NAME [--reward quality_play] [--window-hours 24] [--now UNIX]
        [--bootstrap 1000] [--seed 0]

Each logged decision whose reward window has closed (``complete``) is one round: its features
are rebuilt from its user, title and logged context (``artwork.logged_features``: when the
service logged no device or hour, the viewer's usual ones), the candidate policy's distribution
over the logged candidates gives the target propensity π(a_i|x_i), and the logged propensity is
μ_i.
``--policy`` names a saved policy folder, or else a registered policy, built fresh (untrained).

The reward model q̂(x, k) for DM, DR and SNDR is a ridge regression (λ = ``RIDGE_PENALTY``,
intercept unpenalised: features and rewards centred on the training fold's means) of the logged
reward on the joint features vec([1, c] ⊗ [1, a]) of the logged action, cross-fitted in two
folds: rounds are split at random (``--seed``) and each fold is predicted by the model fitted on
the other, so no round's q̂ has seen its own reward (an in-sample fit pulls DR's correction
r − q̂ towards 0 and so towards DM's bias). Predictions are not clipped: clipping a linear
model's negative predictions of a rare 0/1 reward at 0 biases DM upwards.

Prints one table: per estimator the estimate, its 95% bootstrap interval (BCa) and ESS; the
logging policy's on-policy value (the log's mean reward); and the promotion gate's decision on
the DR interval against it. Bad input exits with code 2 and a message naming the decision or
field. ``evaluate_rows`` serves ``training.train_bandit`` too.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artwork.errors import ArtworkError, InputErrors
from artwork.event_store import EventStore, missing_sqlite_file, store_location
from artwork.features import FeatureBuilder
from artwork.logged_features import ContextDefaults, LoggedRow, logged_rows, world_features
from artwork.records import Decision
from artwork.rewards import JoinedReward, JoinedRewards, RewardPolicy, join_rewards
from models.bandits import Policy, joint_features, load_policy, make_policy
from models.errors import ModelError
from models.logged_bandit import LoggedBandit
from models.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    GateDecision,
    Interval,
    OffPolicyEstimator,
    Replay,
    SelfNormalizedDR,
    promotion_gate,
)

log = logging.getLogger("evaluate")

RIDGE_PENALTY = 10.0
ALPHA = 0.05  # a 95% interval
REWARDS = ("quality_play", "click", "watch_minutes")


class EvaluationError(Exception):
    """The log, world or policy cannot support an evaluation; the message says where."""


@dataclass(frozen=True)
class EvaluationConfig:
    """What to evaluate, on which log, with which reward."""

    db: Path | str
    world: Path
    policy: str
    tags: Path | None = None
    reward: str = "quality_play"
    window_hours: float = 24.0
    now: float | None = None
    bootstrap: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class EstimatorResult:
    """One estimator's value with its bootstrap interval and ESS, or why it does not apply."""

    name: str
    interval: Interval | None
    ess: float | None
    note: str = ""


@dataclass(frozen=True)
class EvaluationReport:
    """Everything the table shows."""

    policy: str
    rounds: int
    skipped_open: int
    estimators: tuple[EstimatorResult, ...]
    on_policy: Interval
    gate: GateDecision

    def result(self, name: str) -> EstimatorResult:
        return next(r for r in self.estimators if r.name == name)


# --- building the rounds ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rounds:
    """The logged rounds as arrays, padded to K_max candidates."""

    rewards: np.ndarray  # (n,)
    logged_propensity: np.ndarray  # (n,)
    action_index: np.ndarray  # (n,) int
    target_distribution: np.ndarray  # (n, K_max), 0 outside the mask
    mask: np.ndarray  # (n, K_max) bool
    joint: np.ndarray  # (n, K_max, D) joint features, 0 outside the mask


@dataclass(frozen=True)
class ClosedLog:
    """An event store's decisions and joined rewards, and those whose window has closed."""

    decisions: dict[str, Decision]
    joined: JoinedRewards
    complete: list[JoinedReward]


def read_closed_log(
    db: Path | str, reward_policy: RewardPolicy, now: float, option: str
) -> ClosedLog:
    """Join every decision of the store ``db`` (a SQLite file or a database URL, named by CLI
    ``option`` in errors) to its events at ``now``; ``EvaluationError`` when the file is
    missing or no window has closed."""
    if missing_sqlite_file(db):
        raise EvaluationError(f"{option} {db}: no such event store")
    store = EventStore(db)
    try:
        decisions = store.decisions()
        events = store.events()
    finally:
        store.close()
    if not decisions:
        raise EvaluationError(f"{option} {db}: the log holds no decisions")
    joined = join_rewards(decisions, events, reward_policy, now)
    complete = [r for r in joined.rewards if r.complete]
    if not complete:
        hours = reward_policy.window_s / 3600.0
        raise EvaluationError(
            f"{option} {db}: none of its {len(decisions)} decisions has a complete reward "
            f"(window {hours:g} h before now {now:.0f})"
        )
    return ClosedLog({d.decision_id: d for d in decisions}, joined, complete)


def rebuilt_rows(
    log: ClosedLog,
    rewards: Iterable[JoinedReward],
    features: FeatureBuilder,
    defaults: ContextDefaults,
) -> list[LoggedRow]:
    """``logged_rows`` of ``rewards``; ``InputErrors`` naming every decision that is bad."""
    rows, errors = logged_rows(log.decisions, rewards, features, defaults)
    if errors:
        raise InputErrors(errors)
    return rows


def _policy(spec: str, d_ctx: int, d_arm: int) -> Policy:
    """A saved policy when ``spec`` is a folder, else a fresh one of that registered name."""
    try:
        if Path(spec).is_dir():
            return load_policy(spec, d_ctx=d_ctx, d_arm=d_arm)
        return make_policy(spec, d_ctx, d_arm)
    except ModelError as exc:
        raise EvaluationError(f"--policy {spec}: {exc}") from exc


def build_rounds(rows: Sequence[LoggedRow], policy: Policy) -> Rounds:
    """Joint features, ``policy``'s distributions and the logged actions of ``rows``, in order."""
    n = len(rows)
    k_max = max(len(r.candidates) for r in rows)
    d_joint = (policy.d_ctx + 1) * (policy.d_arm + 1)
    target = np.zeros((n, k_max))
    mask = np.zeros((n, k_max), dtype=bool)
    joint = np.zeros((n, k_max, d_joint))
    for i, r in enumerate(rows):
        ids = r.decision.candidates if type(policy).needs_arm_ids else None
        try:
            p = policy.distribution(r.context, r.candidates, ids)
        except ModelError as exc:
            where = f"row {i} (decision {r.decision.decision_id})"
            raise EvaluationError(f"{where}: policy {policy.name}: {exc}") from exc
        k = len(r.candidates)
        target[i, :k], mask[i, :k] = p, True
        joint[i, :k] = joint_features(r.context, r.candidates)
    return Rounds(
        rewards=np.array([r.reward.reward for r in rows], dtype=np.float64),
        logged_propensity=np.array([r.decision.propensity for r in rows], dtype=np.float64),
        action_index=np.array([r.action for r in rows], dtype=np.int64),
        target_distribution=target,
        mask=mask,
        joint=joint,
    )


# --- the reward model ---------------------------------------------------------------------------


def ridge_fit(x: np.ndarray, y: np.ndarray, penalty: float = RIDGE_PENALTY) -> np.ndarray:
    """θ = (XᵀX + λI)⁻¹ Xᵀy."""
    return np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ y)


def logged_bandit(rounds: Rounds, seed: int) -> LoggedBandit:
    """The estimators' input for ``rounds``, with the reward model cross-fitted with ``seed``."""
    return LoggedBandit(
        rewards=rounds.rewards,
        logged_propensity=rounds.logged_propensity,
        target_distribution=rounds.target_distribution,
        reward_hat=cross_fitted_reward_hat(rounds, seed),
        action_index=rounds.action_index,
        candidate_mask=rounds.mask,
    )


def cross_fitted_reward_hat(rounds: Rounds, seed: int) -> np.ndarray:
    """q̂(x_i, k) for every round and candidate, (n, K_max): on each of two random folds,
    ȳ + (x − x̄)ᵀθ with θ the ridge fit of r − ȳ on x − x̄ over the *other* fold's logged actions
    (in-sample when there is a single round); 0 outside the candidate mask."""
    n = len(rounds.rewards)
    logged = rounds.joint[np.arange(n), rounds.action_index]  # (n, D)
    fold = np.random.default_rng(seed).permutation(n) % 2
    reward_hat = np.zeros(rounds.mask.shape)
    for f in (0, 1):
        predict, train = fold == f, fold != f
        if not train.any():
            train = predict  # n == 1: nothing held out to fit on
        x_mean, y_mean = logged[train].mean(axis=0), rounds.rewards[train].mean()
        theta = ridge_fit(logged[train] - x_mean, rounds.rewards[train] - y_mean)
        reward_hat[predict] = y_mean + (rounds.joint[predict] - x_mean) @ theta
    return np.where(rounds.mask, reward_hat, 0.0)


# --- evaluation ---------------------------------------------------------------------------------


def _estimators() -> tuple[tuple[str, OffPolicyEstimator], ...]:
    return (
        ("IPS", IPS()),
        ("SNIPS", SNIPS()),
        ("DM", DirectMethod()),
        ("DR", DoublyRobust()),
        ("SNDR", SelfNormalizedDR()),
        ("Replay", Replay()),
    )


def evaluate(config: EvaluationConfig) -> EvaluationReport:
    """Join the log's rewards, rebuild its rounds, and run every estimator and the gate."""
    if config.reward not in REWARDS:
        raise EvaluationError(f"--reward {config.reward!r}: expected one of {REWARDS}")
    features, defaults = world_features(config.world, config.tags)
    now = time.time() if config.now is None else config.now
    reward_policy = RewardPolicy(window_s=config.window_hours * 3600.0, reward=config.reward)
    log = read_closed_log(config.db, reward_policy, now, "--db")
    rows = rebuilt_rows(log, log.complete, features, defaults)
    policy = _policy(config.policy, features.d_ctx, features.d_arm)
    return evaluate_rows(
        rows,
        policy,
        label=config.policy,
        bootstrap=config.bootstrap,
        seed=config.seed,
        skipped_open=len(log.joined) - len(log.complete),
    )


def evaluate_rows(
    rows: Sequence[LoggedRow],
    policy: Policy,
    *,
    label: str,
    bootstrap: int,
    seed: int,
    skipped_open: int = 0,
) -> EvaluationReport:
    """Every estimator of ``policy``'s value on the logged ``rows``, the logging policy's
    observed value on them, and the promotion gate (DR's interval against it)."""
    rounds = build_rounds(rows, policy)
    data = logged_bandit(rounds, seed)
    results = []
    for name, estimator in _estimators():
        try:
            interval = estimator.interval(data, ALPHA, bootstrap, seed)
            results.append(EstimatorResult(name, interval, estimator.effective_sample_size(data)))
        except ModelError as exc:  # e.g. Replay of a stochastic target, or no weight at all
            results.append(EstimatorResult(name, None, None, str(exc)))
    # The logging policy on its own log: every weight is 1, so IPS is the mean reward.
    on_policy_data = LoggedBandit(
        rewards=rounds.rewards,
        logged_propensity=rounds.logged_propensity,
        target_propensity=rounds.logged_propensity,
    )
    on_policy = IPS().interval(on_policy_data, ALPHA, bootstrap, seed)
    dr = next(r for r in results if r.name == "DR")
    if dr.interval is None:
        raise EvaluationError(f"DR could not be estimated: {dr.note}")
    return EvaluationReport(
        policy=label,
        rounds=len(rows),
        skipped_open=skipped_open,
        estimators=tuple(results),
        on_policy=on_policy,
        gate=promotion_gate(dr.interval, on_policy.estimate),
    )


def report_metrics(report: EvaluationReport) -> dict[str, Any]:
    """The report as JSON-ready metrics, for model cards."""
    return {
        "rounds": report.rounds,
        "estimators": {
            r.name: {**dataclasses.asdict(r.interval), "ess": r.ess}
            if r.interval is not None
            else {"note": r.note}
            for r in report.estimators
        },
        "logging": dataclasses.asdict(report.on_policy),
        "gate": dataclasses.asdict(report.gate),
    }


def format_report(report: EvaluationReport) -> str:
    """The table: one line per estimator, then the logging policy and the gate."""
    lines = [
        f"policy {report.policy}: {report.rounds} complete rounds "
        f"({report.skipped_open} still open, left out)",
        f"{'estimator':<12}{'estimate':>10}{'low':>10}{'high':>10}{'ESS':>10}",
    ]
    for r in report.estimators:
        if r.interval is None:
            lines.append(f"{r.name:<12}{'n/a':>10}  {r.note.splitlines()[0][:70]}")
        else:
            i = r.interval
            lines.append(f"{r.name:<12}{i.estimate:>10.4f}{i.low:>10.4f}{i.high:>10.4f}"
                         f"{r.ess:>10.1f}")  # fmt: skip
    o = report.on_policy
    lines.append(f"{'logging':<12}{o.estimate:>10.4f}{o.low:>10.4f}{o.high:>10.4f}"
                 f"{report.rounds:>10d}")  # fmt: skip
    lines.append(f"gate (DR vs logging): {report.gate.reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Evaluate and print the table; exit 2 with a message on bad input."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    config = EvaluationConfig(
        db=args.db,
        world=args.world,
        policy=args.policy,
        tags=args.tags,
        reward=args.reward,
        window_hours=args.window_hours,
        now=args.now,
        bootstrap=args.bootstrap,
        seed=args.seed,
    )
    try:
        report = evaluate(config)
    except (EvaluationError, ArtworkError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every script reading a decision log shares: world, tags, reward, clock,
    bootstrap and seed."""
    parser.add_argument("--world", type=Path, required=True, help="the demo world folder")
    parser.add_argument("--tags", type=Path, help="a tag store (default: the world's truth)")
    parser.add_argument("--reward", default="quality_play", choices=REWARDS)
    parser.add_argument("--now", type=float, help="Unix seconds (default: the clock)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--seed", type=int, default=0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=store_location, required=True,
                        help="the event store: a SQLite file or a database URL")  # fmt: skip
    parser.add_argument("--policy", required=True, help="a saved policy folder or a policy name")
    parser.add_argument("--window-hours", type=float, default=24.0)
    add_log_arguments(parser)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
