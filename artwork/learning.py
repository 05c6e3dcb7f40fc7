"""Online learning: decisions whose reward window has closed become policy updates, exactly once.

Each ``OnlineLearner.step(now)`` reads the decisions after its *watermark*, the (created_at,
decision_id) of the last decision it took, whose join window (``RewardPolicy.window_s``) has
closed by ``now``: oldest first, at most ``max_decisions``. It joins their events
(``join_rewards``: a decision with no event inside its window gets ``default_reward``, an event
after the window is late and left out), rebuilds their features (``artwork.logged_features``)
and updates the policy with one ``FeedbackBatch``. A decision no policy chose (an image shown
again to a viewer engaged through it: ``chosen_by_policy``) is passed over and counted, not
learnt from. A decision that cannot be rebuilt (made on another feature schema, an unknown
artwork) is left out; the report names it and the field.
An event stored after its decision was learnt from is kept in the store but never learnt from;
each step counts such events among those stored since the step before.

The state lives in ``state_dir``; writing ``learner.json`` (atomically, after the policy it
names) commits a step:

    learner.json        kind, version, policy name, feature schema key, reward policy, the
                        event store's id (``EventStore.store_id``), the watermark, the event
                        position (``EventStore.events_since``), the current checkpoint and
                        running counts
    policy-NNNNNNNN/    the policy after its N-th update (``Policy.save``; the last two are kept)
    learner.lock        locked while a step commits (empty)

So a restart resumes a policy and the watermark it was trained to, together: it neither learns a
decision twice nor skips one. (A decision stored only after the watermark passed its
``created_at``, i.e. by a writer more than a window late, is never learnt from.) A step is plain
synchronous code whose work is bounded by ``max_decisions`` and which writes nothing when there
is nothing new, so a background task may call it often; one call at a time.

One learner per state folder: two (two service replicas left on one ``learner_dir``) would each
overwrite the other's checkpoints, pairing one's watermark with the other's policy. So a commit
holds the folder's lock (``learner.lock``) and is refused with an ``ArtifactError`` when
``learner.json`` is no longer what this learner last committed or read. And one event log per
state folder: a state written against another store (another id, or a position beyond every
event this one holds) is refused, since its watermark would skip this log's older decisions; a
state from before stores had ids takes this store's id when it is resumed.
"""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import json
import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from artwork.errors import ArtifactError, InputError
from artwork.event_store import EventStore
from artwork.features import FeatureBuilder, FeatureSchema
from artwork.logged_features import (
    ContextDefaults,
    chosen_by_policy,
    feedback_batch,
    logged_rows,
)
from artwork.records import FeedbackEvent
from artwork.rewards import RewardPolicy, join_rewards
from models.artifacts import write_atomically, write_folder_atomically
from models.bandits import Policy, PolicyError, load_policy
from models.bandits.base import DEFAULT_MAX_WEIGHT, read_card

log = logging.getLogger(__name__)

KIND = "online_learner"
VERSION = 1
STATE_FILE = "learner.json"
LOCK_FILE = "learner.lock"
CHECKPOINT_PREFIX = "policy-"
MAX_DECISIONS = 5000  # per step: bounds the time one call takes

Watermark = tuple[float, str]  # (created_at, decision_id) of the last decision taken


@dataclass(frozen=True)
class LearnReport:
    """What one step did."""

    trained: int  # decisions learnt from
    forced: int  # closed decisions no policy chose (sticky): passed over, not learnt from
    default_rewards: int  # ... of which had no event inside their window
    mean_reward: float | None  # over the decisions learnt from
    late_events: int  # events after their decision's window: kept, not learnt from
    after_training: int  # events stored after their decision was learnt from: likewise
    rejected: tuple[str, ...]  # decisions left out, each message naming it and the field
    backlog: bool  # more closed windows are waiting: call again
    watermark: Watermark | None
    checkpoint: Path | None  # the policy this step saved (None when it learnt nothing)


@dataclass(frozen=True)
class LearnerState:
    """The contents of ``learner.json`` (see the module docstring)."""

    policy: str
    feature_schema: str
    reward_policy: dict[str, Any]
    checkpoint: int
    watermark: Watermark | None
    event_position: int
    trained: int = 0
    rejected: int = 0
    late_events: int = 0
    after_training: int = 0
    forced: int = 0  # passed over: no policy chose them (``chosen_by_policy``)
    store_id: str | None = None  # the event store's (None: written before stores had ids)

    @classmethod
    def read(cls, path: Path) -> LearnerState:
        """Read ``path``; ``ArtifactError`` naming the file and the field that is wrong."""
        try:
            doc = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{path}: unreadable learner state ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("kind") != KIND or doc.get("version") != VERSION:
            found = (doc.get("kind"), doc.get("version")) if isinstance(doc, dict) else doc
            raise ArtifactError(f"{path}: kind and version {found!r}, expected {(KIND, VERSION)}")
        fields = {  # a counter added since the file was written starts at its default
            f.name: doc.get(f.name, None if f.default is dataclasses.MISSING else f.default)
            for f in dataclasses.fields(cls)
        }
        for name, value in fields.items():
            kind = {"policy": str, "feature_schema": str, "reward_policy": dict}.get(name, int)
            if name == "store_id":
                ok = value is None or isinstance(value, str)
            elif name == "watermark":
                ok = value is None or (
                    isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)
                    and isinstance(value[0], int | float) and not isinstance(value[0], bool)
                )  # fmt: skip
            else:
                ok = isinstance(value, kind) and not isinstance(value, bool)
            if not ok:
                raise ArtifactError(f"{path}: {name} is {value!r}, malformed")
        mark = fields["watermark"]
        fields["watermark"] = None if mark is None else (float(mark[0]), mark[1])
        return cls(**fields)

    def to_json(self) -> str:
        """The file's text."""
        doc = {"kind": KIND, "version": VERSION, **dataclasses.asdict(self)}
        doc["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return json.dumps(doc, indent=1) + "\n"


class OnlineLearner:
    """Turns an event store's closed reward windows into updates of one policy (module doc).

    ``policy`` is where learning starts when ``state_dir`` holds no state; otherwise the saved
    policy is resumed, and it must be of the same kind and feature schema. With
    ``importance_weighted`` a row counts min(1 / propensity, ``max_weight``) times (see
    ``Policy.update``); by default every row counts once, as a policy learning from its own
    decisions should. ``step`` updates ``policy`` in place: a service should serve its own copy,
    loaded from ``policy_folder`` (hot reload), rather than share this object across threads.
    """

    def __init__(
        self,
        store: EventStore,
        features: FeatureBuilder,
        policy: Policy,
        reward_policy: RewardPolicy,
        state_dir: Path | str,
        *,
        defaults: ContextDefaults | None = None,
        importance_weighted: bool = False,
        max_weight: float = DEFAULT_MAX_WEIGHT,
        max_decisions: int = MAX_DECISIONS,
    ) -> None:
        if (policy.d_ctx, policy.d_arm) != (features.d_ctx, features.d_arm):
            raise InputError(
                f"{policy.name} takes ({policy.d_ctx}, {policy.d_arm}) features, schema "
                f"{features.schema.key} gives ({features.d_ctx}, {features.d_arm})",
                field="policy",
            )
        if max_decisions < 1:
            raise InputError(f"must be at least 1, got {max_decisions!r}", field="max_decisions")
        self.store, self.features, self.reward_policy = store, features, reward_policy
        self.defaults = defaults or ContextDefaults()
        self.importance_weighted, self.max_weight = importance_weighted, max_weight
        self.max_decisions = max_decisions
        self.state_dir = Path(state_dir)
        path = self.state_dir / STATE_FILE
        if path.is_file():
            self._state = LearnerState.read(path)
            self._check_resumable(path, policy)
            self._policy = self._load_checkpoint()
            if self._state.store_id is None:  # written before stores had ids: this one's now
                adopted = dataclasses.replace(self._state, store_id=store.store_id())
                self._commit(adopted, save_policy=False)
                self._state = adopted
        else:
            self._policy = policy
            self._state = LearnerState(
                policy=policy.name,
                feature_schema=features.schema.key,
                reward_policy=dataclasses.asdict(reward_policy),
                checkpoint=0,
                watermark=None,
                event_position=store.event_position(),  # nothing learnt: no event is late yet
                store_id=store.store_id(),
            )
            self._commit(self._state, save_policy=True)

    @property
    def policy(self) -> Policy:
        """The policy as of the last committed step."""
        return self._policy

    @property
    def policy_folder(self) -> Path:
        """Where the current policy is saved (what a service loads)."""
        return self.state_dir / _checkpoint_name(self._state.checkpoint)

    @property
    def state(self) -> LearnerState:
        """The last committed state (watermark, event position, running counts)."""
        return self._state

    def step(self, now: float) -> LearnReport:
        """Learn from the decisions whose window closed by ``now`` since the last step, commit
        the policy and the watermark together, and say what was done."""
        self._check_sole_writer()  # again when committing, under the lock
        state = self._state
        decisions = self.store.decisions_after(
            state.watermark, until=now - self.reward_policy.window_s, limit=self.max_decisions + 1
        )
        backlog = len(decisions) > self.max_decisions
        decisions = decisions[: self.max_decisions]
        events = self.store.events_for(d.decision_id for d in decisions)
        joined = join_rewards(decisions, events, self.reward_policy, now)
        # The join's own test of a closed window decides at the boundary (float rounding).
        closed = list(itertools.takewhile(lambda r: r.complete, joined))
        by_id = {d.decision_id: d for d in decisions}
        chosen = [r for r in closed if chosen_by_policy(by_id[r.decision_id])]
        forced = len(closed) - len(chosen)
        rows, errors = logged_rows(by_id, chosen, self.features, self.defaults)
        for error in errors:
            log.warning("online learner: decision left out: %s", error)
        watermark = state.watermark
        if closed:
            watermark = (by_id[closed[-1].decision_id].created_at, closed[-1].decision_id)
        # Read after this step's events, so an event stored meanwhile is counted, not lost.
        fresh, position = self.store.events_since(state.event_position)
        used = {e.event_id for e in events}
        after = self._learnt_before([e for e in fresh if e.event_id not in used], watermark)
        late = sum(r.late_events for r in closed)
        if late or after:
            log.info("online learner: %d late events, %d after training, not learnt from",
                     late, after)  # fmt: skip
        new_state = dataclasses.replace(
            state,
            reward_policy=dataclasses.asdict(self.reward_policy),
            checkpoint=state.checkpoint + (1 if rows else 0),
            watermark=watermark,
            event_position=position,
            trained=state.trained + len(rows),
            rejected=state.rejected + len(errors),
            late_events=state.late_events + late,
            after_training=state.after_training + after,
            forced=state.forced + forced,
        )
        if rows:
            try:
                self._policy.update(
                    feedback_batch(rows),
                    importance_weighted=self.importance_weighted,
                    max_weight=self.max_weight,
                )
                self._commit(new_state, save_policy=True)
            except BaseException:
                self._policy = self._load_checkpoint()  # the committed policy: nothing half-learnt
                raise
        elif new_state != state:
            self._commit(new_state, save_policy=False)
        self._state = new_state
        rewards = [r.reward.reward for r in rows]
        return LearnReport(
            trained=len(rows),
            forced=forced,
            default_rewards=sum(r.reward.events == 0 for r in rows),
            mean_reward=sum(rewards) / len(rewards) if rewards else None,
            late_events=late,
            after_training=after,
            rejected=tuple(str(e) for e in errors),
            backlog=backlog,
            watermark=watermark,
            checkpoint=self.policy_folder if rows else None,
        )

    # ---- internals ----------------------------------------------------------------------------

    def _learnt_before(self, events: Sequence[FeedbackEvent], watermark: Watermark | None) -> int:
        """How many of ``events`` belong to decisions at or before ``watermark`` (learnt from,
        or left out), so that they came too late to be learnt from."""
        if watermark is None or not events:
            return 0
        times = self.store.decision_times(e.decision_id for e in events)
        return sum((times[e.decision_id], e.decision_id) <= watermark for e in events)

    def _check_resumable(self, path: Path, policy: Policy) -> None:
        state = self._state
        for name, saved, given in (
            ("policy", state.policy, policy.name),
            ("feature_schema", state.feature_schema, self.features.schema.key),
        ):
            if saved != given:
                raise ArtifactError(
                    f"{path}: {name} is {saved!r}, this learner was given {given!r}; "
                    "use another state folder to start afresh"
                )
        store_id, stored = self.store.store_id(), self.store.event_position()
        if state.store_id not in (None, store_id):
            mismatch = f"was written against event store {state.store_id}, this one is {store_id}"
        elif state.event_position > stored:
            mismatch = (f"has read the events up to position {state.event_position}, but this "
                        f"event store holds {stored}")  # fmt: skip
        else:
            mismatch = None
        if mismatch:
            raise ArtifactError(
                f"{path}: {mismatch}: the state belongs to another event log (its watermark "
                "would skip this log's older decisions); give this log its own state folder "
                f"(learner_dir), starting from {self.policy_folder} (policy_dir) to keep the "
                "policy learnt so far"
            )
        if state.reward_policy != dataclasses.asdict(self.reward_policy):
            log.warning("%s: the reward policy changed from %s to %s", path, state.reward_policy,
                        self.reward_policy)  # fmt: skip

    def _load_checkpoint(self) -> Policy:
        folder = self.policy_folder
        try:
            policy = load_policy(folder, d_ctx=self.features.d_ctx, d_arm=self.features.d_arm)
            card = read_card(folder)[0]
        except PolicyError as exc:
            raise ArtifactError(f"{folder}: cannot resume the learner's policy: {exc}") from exc
        self.features.schema.check(FeatureSchema.from_dict(card.get("feature_schema") or {}))
        if policy.name != self._state.policy:
            raise ArtifactError(f"{folder}: holds {policy.name!r}, expected {self._state.policy!r}")
        return policy

    def _commit(self, state: LearnerState, *, save_policy: bool) -> None:
        """Save the policy (when asked) under the state's checkpoint, then write the state; all
        under the folder's lock, once no other learner has committed since this one."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.state_dir / LOCK_FILE):
            self._check_sole_writer()
            self._write(state, save_policy=save_policy)

    def _check_sole_writer(self) -> None:
        """``ArtifactError`` when the saved state is not the one this learner holds."""
        path = self.state_dir / STATE_FILE
        if path.is_file() and LearnerState.read(path) != self._state:
            raise ArtifactError(
                f"{path}: another learner has committed here since this one last did; each "
                "service replica needs its own learner_dir"
            )

    def _write(self, state: LearnerState, *, save_policy: bool) -> None:
        """The policy (when asked), then the state; checkpoints but the last two removed."""
        if save_policy:
            fields = {
                "training": {
                    "source": "online",
                    "event_store": self.store.location,
                    "watermark": state.watermark,
                    "decisions": state.trained,
                    "reward_policy": state.reward_policy,
                    "importance_weighted": self.importance_weighted,
                },
                "feature_schema": self.features.schema.to_dict(),
            }
            write_folder_atomically(
                self.state_dir / _checkpoint_name(state.checkpoint),
                lambda tmp: self._policy.save(tmp, card_fields=fields),
            )
        text = state.to_json()
        write_atomically(self.state_dir / STATE_FILE, lambda tmp: tmp.write_text(text))
        keep = {_checkpoint_name(state.checkpoint), _checkpoint_name(state.checkpoint - 1)}
        for folder in self.state_dir.glob(f"{CHECKPOINT_PREFIX}*"):
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created when missing) for the block; the operating
    system releases it when the file is closed or the process dies."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _checkpoint_name(number: int) -> str:
    return f"{CHECKPOINT_PREFIX}{number:08d}"
