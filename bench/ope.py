"""Off-policy estimators against Open Bandit Pipeline on the Open Bandit Dataset sample.

    python -m bench.ope [--data ../shared/data/obd] [--n-bootstrap 1000]

Part (b) of issue 5's measure: on each 10,000-round OBD sample, estimate a fixed evaluation
policy's click rate with our IPS, SNIPS, DM, DR and SNDR (``models/ope.py``) and with the
``obp`` package (0.4.1) on the same arrays; target: equal to 1e-9. Also reports our 95%
bootstrap intervals and effective sample sizes. The evaluation policies are fixed, not learnt:

- on the BTS log: uniform random over the 80 items (weights 1/80 ÷ the BTS propensity);
- on the random log: BTS's marginal item frequencies per position, counted in the BTS sample
  (+1 per item), i.e. "show items as often as BTS does".

The reward model, shared by both sides, is the click rate of each (item, position) in the log
being evaluated, shrunk towards the overall rate by 20 pseudo-rounds. Part (a), interval
coverage on the simulator, is its own benchmark: ``bench/ope_coverage.py``. Writes
``bench/results/ope.json``.
"""

from __future__ import annotations

import argparse
import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report import Target, write_result
from models.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    LoggedBandit,
    OffPolicyEstimator,
    SelfNormalizedDR,
)

LOG = logging.getLogger("bench.ope")
N_ITEMS, N_POSITIONS = 80, 3
SHRINK_ROUNDS = 20.0
TOLERANCE = 1e-9
OURS: dict[str, OffPolicyEstimator] = {
    "ips": IPS(),
    "snips": SNIPS(),
    "dm": DirectMethod(),
    "dr": DoublyRobust(),
    "sndr": SelfNormalizedDR(),
}


@dataclass(frozen=True)
class ObdLog:
    """One OBD sample as arrays, positions counted from 0 (obp's convention)."""

    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray


def read_obd(path: Path) -> ObdLog:
    """The columns the estimators need from an OBD ``all.csv``."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    column = {name: [row[name] for row in rows] for name in ("item_id", "position", "click")}
    return ObdLog(
        action=np.array(column["item_id"], dtype=int),
        position=np.array(column["position"], dtype=int) - 1,
        reward=np.array(column["click"], dtype=float),
        pscore=np.array([row["propensity_score"] for row in rows], dtype=float),
    )


def marginal_policy(log: ObdLog) -> np.ndarray:
    """(N_ITEMS, N_POSITIONS): how often ``log`` showed each item at each position, +1 each."""
    counts = np.ones((N_ITEMS, N_POSITIONS))
    np.add.at(counts, (log.action, log.position), 1)
    return counts / counts.sum(axis=0)


def click_model(log: ObdLog) -> np.ndarray:
    """(N_ITEMS, N_POSITIONS): each (item, position)'s click rate, shrunk to the overall rate."""
    shows = np.zeros((N_ITEMS, N_POSITIONS))
    clicks = np.zeros((N_ITEMS, N_POSITIONS))
    np.add.at(shows, (log.action, log.position), 1)
    np.add.at(clicks, (log.action, log.position), log.reward)
    return (clicks + SHRINK_ROUNDS * log.reward.mean()) / (shows + SHRINK_ROUNDS)


def evaluate(log: ObdLog, policy: np.ndarray, model: np.ndarray, n_bootstrap: int) -> dict:
    """Our estimates, intervals and ESS, and obp's estimates when it is installed."""
    data = LoggedBandit(
        rewards=log.reward,
        logged_propensity=log.pscore,
        target_distribution=policy.T[log.position],
        reward_hat=model.T[log.position],
        action_index=log.action,
    )
    result = {}
    for name, estimator in OURS.items():
        interval = estimator.interval(data, n_bootstrap=n_bootstrap, seed=0)
        result[name] = {
            "ours": interval.estimate,
            "low": interval.low,
            "high": interval.high,
            "ess": estimator.effective_sample_size(data),
        }
    for name, value in obp_estimates(log, policy, model).items():
        result[name]["obp"] = value
    return result


def obp_estimates(log: ObdLog, policy: np.ndarray, model: np.ndarray) -> dict[str, float]:
    """obp's estimates on the same arrays, in its (n, actions, positions) layout; {} without it."""
    try:
        from obp import ope
    except ImportError:
        LOG.warning("obp is not installed (pip install obp==0.4.1): no comparison")
        return {}
    n = len(log.action)
    arrays = {
        "reward": log.reward,
        "action": log.action,
        "position": log.position,
        "pscore": log.pscore,
        "action_dist": np.broadcast_to(policy, (n, N_ITEMS, N_POSITIONS)).copy(),
        "estimated_rewards_by_reg_model": np.broadcast_to(model, (n, N_ITEMS, N_POSITIONS)).copy(),
    }
    theirs = {
        "ips": ope.InverseProbabilityWeighting(),
        "snips": ope.SelfNormalizedInverseProbabilityWeighting(),
        "dm": ope.DirectMethod(),
        "dr": ope.DoublyRobust(),
        "sndr": ope.SelfNormalizedDoublyRobust(),
    }
    return {
        name: float(estimator.estimate_policy_value(**arrays)) for name, estimator in theirs.items()
    }


def main(argv: list[str] | None = None) -> int:
    """Estimate both fixed policies on both OBD samples, print the table, write the result."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    paths = {name: args.data / name / "all" / "all.csv" for name in ("random", "bts")}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        print(f"skipped: the Open Bandit Dataset sample is absent ({', '.join(missing)})")
        return 0
    logs = {name: read_obd(path) for name, path in paths.items()}
    uniform = np.full((N_ITEMS, N_POSITIONS), 1 / N_ITEMS)
    cases = {
        "bts_log_uniform_policy": (logs["bts"], uniform),
        "random_log_bts_marginal_policy": (logs["random"], marginal_policy(logs["bts"])),
    }
    metrics, targets = {}, []
    print(f"{'case':<32} {'est':<6} {'ours':>10} {'obp':>10} {'|diff|':>9} "
          f"{'95% interval':>22} {'ESS':>8}")  # fmt: skip
    for case, (log, policy) in cases.items():
        for name, row in evaluate(log, policy, click_model(log), args.n_bootstrap).items():
            key = f"{case}_{name}"
            metrics.update({f"{key}_ours": row["ours"], f"{key}_low": row["low"],
                            f"{key}_high": row["high"], f"{key}_ess": row["ess"]})  # fmt: skip
            obp_value = row.get("obp", float("nan"))
            diff = abs(row["ours"] - obp_value)
            if "obp" in row:
                metrics[f"{key}_obp"] = obp_value
                targets.append(Target(f"{key}_abs_diff_vs_obp", diff, "<=", TOLERANCE))
            print(f"{case:<32} {name:<6} {row['ours']:>10.6f} {obp_value:>10.6f} {diff:>9.1e} "
                  f"[{row['low']:>9.6f}, {row['high']:>9.6f}] {row['ess']:>8.1f}")  # fmt: skip
    write_result("ope", argv, metrics, targets)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/obd"))
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
