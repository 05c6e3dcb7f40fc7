"""Off-policy training of a bandit policy from the logged decisions of an event store.

    python -m training.train_bandit --from-log events.db --world DIR [--tags tags.parquet]
        --policy NAME --out FOLDER [--reward quality_play|click|watch_minutes] [--window 24h]
        [--now UNIX] [--test-fraction 0.2] [--max-weight 100] [--batch-size 1000]
        [--bootstrap 1000] [--seed 0] [--device cpu] [--precision fp32]

The decisions whose reward window (``--window``: 90s, 15m, 24h, 2d) has closed by ``--now`` are
taken in time order and split: the policy learns from the earlier 1 − f of them
(``--test-fraction`` f), except those no policy chose (an image shown again to a viewer
engaged through it: ``chosen_by_policy``), batch by batch, each row counting
w = min(1 / propensity, max_weight) times (``Policy.update(importance_weighted=True)``) so
that the candidates the logging policy favoured do not crowd out the others; then the later
part estimates its value off-policy (IPS, SNIPS, DM, DR, SNDR with bootstrap intervals, via
``training.evaluate``) against the logging policy's observed reward on the same decisions. A
time split asks what a deployment asks: how a policy trained on the past does on what followed.

Prints the estimates and the artworks with the most clicks that did not become quality plays,
with their bait index (1 − quality plays / clicks). Writes the policy to ``--out`` as one atomic
folder; its card holds the training data (store, decisions and their hash, time span, reward
policy, weights), the feature schema and the metrics (estimates, gate, every clicked artwork's
bait index). A missing store, an empty log or a bad row exits with code 2 and ``error: ...``
naming the decision and field.

A policy that trains a network (``neural_linear``) can split its retraining over several GPUs
or CPU processes under torchrun (``training.distributed``):

    torchrun --standalone --nproc_per_node N -m training.train_bandit [options as above]

Every process reads the log and feeds the policy the same rows, so each holds the same replay
buffer; each retrain splits the network's minibatches and the head's sums over the processes
(``models.bandits.neural_linear``), giving the policy one process trains, up to floating-point
noise. Rank 0 alone prints and saves. Policies without a network learn the same in every
process, so more processes only repeat their work.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from artwork.errors import ArtworkError
from artwork.event_store import store_location
from artwork.logged_features import LoggedRow, chosen_by_policy, feedback_batch, world_features
from artwork.rewards import DAY_S, ArtworkBait, RewardPolicy, bait_index
from models.artifacts import write_folder_atomically
from models.bandits import Policy, make_policy, policy_class
from models.bandits.base import CARD_FILE, DEFAULT_MAX_WEIGHT
from models.errors import ModelError
from models.precision import DEVICES, PRECISIONS
from training.distributed import SINGLE, LaunchError, Processes, process_group
from training.evaluate import (
    ClosedLog,
    EvaluationError,
    EvaluationReport,
    add_log_arguments,
    evaluate_rows,
    format_report,
    read_closed_log,
    rebuilt_rows,
    report_metrics,
)

if TYPE_CHECKING:
    import torch

log = logging.getLogger("train_bandit")

BAIT_SHOWN = 10  # artworks in the printed bait table
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY_S}


class TrainingError(Exception):
    """The settings or the log cannot support training; the message says which."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run (see the module docstring)."""

    db: Path | str
    world: Path
    policy: str
    out: Path
    tags: Path | None = None
    reward: str = "quality_play"
    window_s: float = DAY_S
    now: float | None = None
    test_fraction: float = 0.2
    max_weight: float = DEFAULT_MAX_WEIGHT
    importance_weighted: bool = True
    batch_size: int = 1000
    bootstrap: int = 1000
    seed: int = 0
    device: str = "cpu"
    precision: str = "fp32"

    def __post_init__(self) -> None:
        for name, ok, rule in (
            ("test_fraction", 0.0 < self.test_fraction < 1.0, "in (0, 1)"),
            ("max_weight", self.max_weight >= 1.0, "at least 1"),
            ("batch_size", self.batch_size >= 1, "at least 1"),
        ):
            if not ok:
                option = "--" + name.replace("_", "-")
                raise TrainingError(f"{option} {getattr(self, name)!r}: must be {rule}")


@dataclass(frozen=True)
class TrainResult:
    """The trained policy, its off-policy report on the later decisions, the bait index of
    every artwork in the log, and the card fields it was saved with."""

    policy: Policy
    report: EvaluationReport
    bait: tuple[ArtworkBait, ...]
    card_fields: dict[str, Any]


def train(config: TrainConfig, processes: Processes = SINGLE) -> TrainResult:
    """Read the log, learn from its earlier part, estimate on its later part, save the policy;
    of several ``processes``, every one trains and estimates, rank 0 alone saves."""
    if config.out.exists() and not (config.out / CARD_FILE).is_file():
        raise TrainingError(f"--out {config.out}: exists and holds no saved policy to replace")
    features, defaults = world_features(config.world, config.tags)
    now = time.time() if config.now is None else config.now
    reward_policy = RewardPolicy(window_s=config.window_s, reward=config.reward)
    closed = read_closed_log(config.db, reward_policy, now, "--from-log")
    quiet = None if processes.main else True  # tqdm's disable: None shows bars on a terminal
    progress = tqdm(closed.complete, desc="features", unit="decision", disable=quiet)
    rows = rebuilt_rows(closed, progress, features, defaults)
    n_test = math.ceil(len(rows) * config.test_fraction)
    split, test_rows = rows[: len(rows) - n_test], rows[len(rows) - n_test :]
    train_rows = [r for r in split if chosen_by_policy(r.decision)]  # the estimate keeps all
    if not train_rows or not test_rows:
        raise TrainingError(
            f"--from-log {config.db}: {len(rows)} decisions with a closed window are too few "
            f"to split (--test-fraction {config.test_fraction})"
        )

    policy = _fresh_policy(config, features.d_ctx, features.d_arm)
    batches = range(0, len(train_rows), config.batch_size)
    for start in tqdm(batches, desc="train_bandit", unit="batch", disable=quiet):
        policy.update(
            feedback_batch(train_rows[start : start + config.batch_size]),
            importance_weighted=config.importance_weighted,
            max_weight=config.max_weight,
        )
    report = evaluate_rows(
        test_rows,
        policy,
        label=f"{policy.name} (trained on the earlier {len(train_rows)})",
        bootstrap=config.bootstrap,
        seed=config.seed,
        skipped_open=len(closed.joined) - len(closed.complete),
    )
    bait = tuple(bait_index(closed.complete))
    card_fields = {
        "training": {
            **_training_data(config, reward_policy, now, train_rows, test_rows, closed),
            "forced_decisions": len(split) - len(train_rows),  # sticky: passed over
        },
        "feature_schema": features.schema.to_dict(),
        "metrics": {
            "off_policy": report_metrics(report),
            "bait_index": [dataclasses.asdict(b) for b in bait if b.clicks],
        },
    }
    if processes.main:
        write_folder_atomically(config.out, lambda tmp: policy.save(tmp, card_fields=card_fields))
    return TrainResult(policy, report, bait, card_fields)


def _fresh_policy(config: TrainConfig, d_ctx: int, d_arm: int) -> Policy:
    """A new ``config.policy``, given the run's seed, device and precision where its config
    takes them."""
    fields = policy_class(config.policy).Config.__dataclass_fields__
    settings = {"seed": config.seed, "device": config.device, "precision": config.precision}
    settings = {name: value for name, value in settings.items() if name in fields}
    return make_policy(config.policy, d_ctx, d_arm, **settings)


def _training_data(
    config: TrainConfig,
    reward_policy: RewardPolicy,
    now: float,
    train_rows: Sequence[LoggedRow],
    test_rows: Sequence[LoggedRow],
    closed: ClosedLog,
) -> dict[str, Any]:
    """What the policy learnt from, for its card: the store, the decisions (with a SHA-256 of
    their ids, actions, rewards and propensities), their time span, the reward and weights."""
    digest = hashlib.sha256()
    for r in train_rows:
        d = r.decision
        digest.update(f"{d.decision_id}\t{d.artwork_id}\t{r.reward.reward!r}\t"
                      f"{d.propensity!r}\n".encode())  # fmt: skip
    loggers = Counter(f"{r.decision.policy}/{r.decision.policy_version}" for r in train_rows)
    return {
        "source": "event_log",
        "event_store": str(config.db),
        "train_decisions": len(train_rows),
        "test_decisions": len(test_rows),
        "open_decisions": len(closed.joined) - len(closed.complete),
        "late_events": closed.joined.late_events,
        "decisions_sha256": digest.hexdigest(),
        "first_decision_at": train_rows[0].decision.created_at,
        "split_at": test_rows[0].decision.created_at,
        "last_decision_at": test_rows[-1].decision.created_at,
        "now": now,
        "logging_policies": dict(loggers),
        "reward_policy": dataclasses.asdict(reward_policy),
        "importance_weighted": config.importance_weighted,
        "max_weight": config.max_weight,
        "test_fraction": config.test_fraction,
    }


def format_bait(bait: Sequence[ArtworkBait], top: int = BAIT_SHOWN) -> str:
    """The ``top`` artworks by clicks that did not become quality plays, with their bait index
    (1 − quality plays / clicks) and click-through rate."""
    worst = sorted(
        (b for b in bait if b.clicks),
        key=lambda b: (b.quality_plays - b.clicks, -(b.bait_index or 0.0), b.artwork_id),
    )[:top]
    lines = [
        "artworks with the most clicks that did not become quality plays",
        f"{'artwork':<16}{'title':<12}{'clicks':>8}{'quality':>9}{'CTR':>8}{'bait':>7}",
    ]
    lines += [
        f"{b.artwork_id:<16}{b.title_id:<12}{b.clicks:>8d}{b.quality_plays:>9d}"
        f"{b.click_through_rate or 0.0:>8.3f}{b.bait_index:>7.2f}"
        for b in worst
    ]
    return "\n".join(lines if worst else lines[:1] + ["(no clicks in the log)"])


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``24h`` or ``2d``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration > 0 like 90s, 15m, 24h, 2d")
    return float(match[1]) * _UNITS[match[2] or "s"]


def main(argv: list[str] | None = None) -> int:
    """Train, print the estimates and the bait table, save; exit 2 with a message on bad input."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        processes = Processes.from_environment()
        config = TrainConfig(
            db=args.from_log,
            world=args.world,
            policy=args.policy,
            out=args.out,
            tags=args.tags,
            reward=args.reward,
            window_s=args.window,
            now=args.now,
            test_fraction=args.test_fraction,
            max_weight=args.max_weight,
            importance_weighted=not args.unweighted,
            batch_size=args.batch_size,
            bootstrap=args.bootstrap,
            seed=args.seed,
            device=args.device,
            precision=args.precision,
        )
        with process_group(processes, _group_device(processes, config.device)):
            result = train(config, processes)
    except (TrainingError, EvaluationError, ArtworkError, ModelError, LaunchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not processes.main:
        return 0
    print(format_report(result.report))
    print(format_bait(result.bait))
    print(f"saved {result.policy.name} to {config.out}")
    return 0


def _group_device(processes: Processes, device: str) -> torch.device | None:
    """Where a torch policy retrains (``--device``), for the process group; None outside
    torchrun, where nothing needs torch."""
    if not processes.launched:
        return None
    import torch

    from models.bandits.neural_linear import resolve_device

    return torch.device(resolve_device(device))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-log", type=store_location, required=True,
                        help="the event store: a SQLite file or a database URL")  # fmt: skip
    parser.add_argument("--policy", required=True, help="a registered policy name")
    parser.add_argument("--out", type=Path, required=True, help="folder for the trained policy")
    parser.add_argument("--window", type=parse_duration, default=DAY_S,
                        help="the reward join window: 90s, 15m, 24h, 2d (default 24h)")  # fmt: skip
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="the latest share of decisions kept to estimate on")  # fmt: skip
    parser.add_argument("--max-weight", type=float, default=DEFAULT_MAX_WEIGHT,
                        help="cap on an importance weight 1 / propensity")  # fmt: skip
    parser.add_argument("--unweighted", action="store_true",
                        help="learn without importance weights (for comparison)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per policy update")
    parser.add_argument("--device", default="cpu", choices=DEVICES,
                        help="where a torch-based policy retrains (a GPU pays only for networks "
                             "and buffers larger than the default's)")  # fmt: skip
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS,
                        help="a torch-based policy's retraining arithmetic (autocast; auto: "
                             "bf16 or fp16 on a GPU, fp32 on a CPU)")  # fmt: skip
    add_log_arguments(parser)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
