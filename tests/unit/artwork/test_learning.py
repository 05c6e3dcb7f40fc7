"""OnlineLearner: closed reward windows become policy updates exactly once, across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import artwork.learning
from artwork.catalog import Catalog
from artwork.demo.genre_cues import image_tags
from artwork.errors import ArtifactError
from artwork.event_store import EventStore
from artwork.features import FeatureBuilder
from artwork.interactions import ViewingHistory
from artwork.learning import STATE_FILE, OnlineLearner
from artwork.logged_features import SCHEMA_KEY
from artwork.records import Decision, FeedbackEvent
from artwork.rewards import RewardPolicy
from models.bandits import joint_features, load_policy, make_policy

T0 = 1_700_000_000.0
STEP_S = 60.0  # decision i is made at T0 + i·STEP_S
WINDOW_S = 3600.0
DEFAULT = 0.25  # the reward of a decision with no event inside its window
REWARDS = RewardPolicy(window_s=WINDOW_S, default_reward=DEFAULT)
N = 40
# decision i's feedback, by i % 4: none; a click only; a complete play; a play after the window
PATTERN_REWARD = (DEFAULT, 0.0, 1.0, DEFAULT)
USERS = ("v1", "v2", "v3", "v4", "v5", "newcomer")


def closed_until(i: int) -> float:
    """The time at which decisions 0..i have closed windows and i + 1 has not."""
    return T0 + i * STEP_S + WINDOW_S


@pytest.fixture
def features(tiny_catalog: Catalog, tiny_history: ViewingHistory) -> FeatureBuilder:
    rng = np.random.default_rng(0)
    tags = {a: rng.random(len(image_tags())) for a in tiny_catalog.artwork}
    return FeatureBuilder(tiny_catalog, tiny_history, tags)


@pytest.fixture
def logged(tmp_path: Path, tiny_catalog: Catalog, make_decision) -> tuple[EventStore, list]:
    """A store of N decisions over random titles, propensities and contexts, with feedback."""
    rng = np.random.default_rng(1)
    titles = [t for t in tiny_catalog.titles if tiny_catalog.candidates(t)]
    decisions, events = [], []
    for i in range(N):
        title = titles[int(rng.integers(len(titles)))]
        candidates = tuple(a.artwork_id for a in tiny_catalog.candidates(title))
        decision = make_decision(
            user_id=USERS[i % len(USERS)],
            title_id=title,
            candidates=candidates,
            artwork_id=candidates[int(rng.integers(len(candidates)))],
            propensity=float(rng.uniform(0.05, 1.0)),
            context={"device": ("tv", "mobile", None)[i % 3], "hour": int(rng.integers(24))},
            created_at=T0 + i * STEP_S,
        )
        decisions.append(decision)
        kind, after_s = {1: ("click", 30.0), 2: ("complete", 30.0), 3: ("play", WINDOW_S + 1)}.get(
            i % 4, (None, 0.0)
        )
        if kind:
            events.append(event(decision, f"e{i}", kind, after_s))
    store = EventStore(tmp_path / "events.db")
    store.record_decisions(decisions)
    store.record_events(events)
    yield store, decisions
    store.close()


def event(decision: Decision, event_id: str, kind: str, after_s: float) -> FeedbackEvent:
    return FeedbackEvent(
        event_id=event_id, decision_id=decision.decision_id, type=kind,
        time=decision.created_at + after_s,
    )  # fmt: skip


def learner(store, features, state: Path, policy: str = "linucb", **options) -> OnlineLearner:
    fresh = make_policy(policy, features.d_ctx, features.d_arm)
    return OnlineLearner(store, features, fresh, REWARDS, state, **options)


def expected_ridge(decisions, features, weights) -> tuple[np.ndarray, np.ndarray]:
    """A = λI + Σ w x xᵀ and b = Σ w r x over ``decisions``, with x rebuilt by hand."""
    xs, rs = [], []
    for i, d in enumerate(decisions):
        device = d.context["device"] or "web"  # the learner's fallback for an unlogged device
        context = features.context(d.user_id, d.title_id, device, d.context["hour"])
        arm = features.artwork(d.user_id, d.title_id, [d.artwork_id])[0]
        xs.append(joint_features(context, arm))
        rs.append(PATTERN_REWARD[i % 4])
    x, r, w = np.array(xs), np.array(rs), np.asarray(weights)
    return np.eye(x.shape[1]) + (x * w[:, None]).T @ x, (x * w[:, None]).T @ r


def test_it_learns_each_closed_decision_with_its_reward(logged, features, tmp_path):
    store, decisions = logged
    online = learner(store, features, tmp_path / "state")
    report = online.step(closed_until(N - 1))
    assert report.trained == N and report.rejected == () and not report.backlog
    assert report.default_rewards == N // 2  # no event (i % 4 == 0) or only a late one (3)
    assert report.late_events == N // 4
    assert report.mean_reward == pytest.approx(np.mean([PATTERN_REWARD[i % 4] for i in range(N)]))
    precision, moment = expected_ridge(decisions, features, np.ones(N))
    np.testing.assert_allclose(online.policy.model.precision, precision, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(online.policy.model.moment, moment, rtol=1e-12, atol=1e-12)


def test_decisions_no_policy_chose_are_passed_over_and_counted(
    logged, features, tmp_path, make_decision
):
    """An image shown again to an engaged viewer (``sticky``) is no policy's choice: learning
    is as if it were not in the log, and it is counted; the watermark passes it."""
    store, decisions = logged
    sticky = [
        make_decision(
            user_id=d.user_id, title_id=d.title_id, candidates=(d.artwork_id,),
            artwork_id=d.artwork_id, propensity=1.0, policy="sticky",
            context=dict(d.context), created_at=d.created_at + 1.0,
        )
        for d in decisions[::5]
    ]  # fmt: skip
    with EventStore(tmp_path / "mixed.db") as mixed:
        mixed.record_decisions([*decisions, *sticky])
        mixed.record_events(store.events())
        mixed.record_events([event(d, f"s{i}", "complete", 30.0) for i, d in enumerate(sticky)])
        both = learner(mixed, features, tmp_path / "mixed")
        report = both.step(closed_until(N - 1))
    plain = learner(store, features, tmp_path / "plain")
    plain.step(closed_until(N - 1))
    assert (report.trained, report.forced, report.rejected) == (N, len(sticky), ())
    assert (both.state.trained, both.state.forced) == (N, len(sticky))
    assert report.watermark == (decisions[-1].created_at, decisions[-1].decision_id)
    np.testing.assert_allclose(both.policy.model.precision, plain.policy.model.precision)
    np.testing.assert_allclose(both.policy.model.moment, plain.policy.model.moment)


def test_a_state_file_from_before_a_counter_reads_it_as_zero(logged, features, tmp_path):
    store, _ = logged
    learner(store, features, tmp_path / "state").step(closed_until(N - 1))
    path = tmp_path / "state" / STATE_FILE
    doc = json.loads(path.read_text())
    del doc["forced"]  # as written before the counter existed
    trained = doc["trained"]
    path.write_text(json.dumps(doc))
    state = artwork.learning.LearnerState.read(path)
    assert (state.forced, state.trained) == (0, trained)
    del doc["policy"]  # a field every file has had is still required
    path.write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="policy is None, malformed"):
        artwork.learning.LearnerState.read(path)


def test_importance_weights_count_each_row_min_of_inverse_propensity_and_cap(
    logged, features, tmp_path
):
    store, decisions = logged
    weighted = learner(store, features, tmp_path / "w", importance_weighted=True, max_weight=5.0)
    weighted.step(closed_until(N - 1))
    weights = np.minimum(1.0 / np.array([d.propensity for d in decisions]), 5.0)
    assert (weights == 5.0).any() and (weights < 5.0).any()  # the cap binds on some rows only
    precision, moment = expected_ridge(decisions, features, weights)
    np.testing.assert_allclose(weighted.policy.model.precision, precision, rtol=1e-12)
    np.testing.assert_allclose(weighted.policy.model.moment, moment, rtol=1e-12, atol=1e-12)
    plain = learner(store, features, tmp_path / "plain")
    plain.step(closed_until(N - 1))
    assert not np.allclose(plain.policy.model.theta, weighted.policy.model.theta)


def test_two_learners_in_sequence_equal_one_over_everything(logged, features, tmp_path):
    store, _ = logged
    first = learner(store, features, tmp_path / "resumed")
    assert first.step(closed_until(16)).trained == 17
    saved = first.policy.model.arrays()

    resumed = learner(store, features, tmp_path / "resumed")  # a restart: the fresh one is ignored
    for name, array in saved.items():
        np.testing.assert_array_equal(resumed.policy.model.arrays()[name], array)
    assert resumed.step(closed_until(N - 1)).trained == N - 17
    assert resumed.step(closed_until(N - 1) + 10 * WINDOW_S).trained == 0
    again = learner(store, features, tmp_path / "resumed")
    assert again.step(closed_until(N - 1)).trained == 0  # a restart does not learn them again

    whole = learner(store, features, tmp_path / "whole")
    whole.step(closed_until(N - 1))
    for name in ("precision", "moment", "theta"):
        np.testing.assert_allclose(
            getattr(again.policy.model, name), getattr(whole.policy.model, name), rtol=1e-10
        )
    assert again.policy.n_updates == whole.policy.n_updates == N
    assert again.state.trained == N and again.state.late_events == whole.state.late_events


def test_a_second_learner_on_the_same_folder_is_refused(logged, features, tmp_path):
    store, _ = logged
    first = learner(store, features, tmp_path / "state")
    second = learner(store, features, tmp_path / "state")  # e.g. another replica's
    assert first.step(closed_until(9)).trained == 10
    with pytest.raises(ArtifactError, match="another learner.*its own learner_dir"):
        second.step(closed_until(N - 1))
    assert learner(store, features, tmp_path / "state").state.trained == 10  # first's commit
    assert first.step(closed_until(N - 1)).trained == N - 10


def test_open_windows_wait_and_a_step_is_bounded(logged, features, tmp_path):
    store, _ = logged
    online = learner(store, features, tmp_path / "state", max_decisions=8)
    assert online.step(T0 + WINDOW_S - 1).trained == 0  # no window has closed yet
    reports = [online.step(closed_until(19)) for _ in range(3)]
    assert [r.trained for r in reports] == [8, 8, 4]
    assert [r.backlog for r in reports] == [True, True, False]
    folder = online.policy_folder
    assert load_policy(folder).n_updates == 20  # what a service would load
    assert sorted(p.name for p in folder.parent.glob("policy-*")) == [
        "policy-00000002", "policy-00000003",
    ]  # fmt: skip


def test_nothing_new_writes_nothing(logged, features, tmp_path):
    store, _ = logged
    online = learner(store, features, tmp_path / "state")
    online.step(closed_until(N - 1))
    state_file = tmp_path / "state" / STATE_FILE
    before = state_file.stat().st_mtime_ns, state_file.read_text()
    report = online.step(closed_until(N - 1) + 5.0)
    assert report.trained == 0 and report.checkpoint is None
    assert (state_file.stat().st_mtime_ns, state_file.read_text()) == before


def test_events_after_training_are_kept_and_counted_not_learnt(logged, features, tmp_path):
    store, decisions = logged
    online = learner(store, features, tmp_path / "state")
    online.step(closed_until(9))
    theta = online.policy.model.theta.copy()
    # In its window by its own clock, but stored after decision 0 was learnt from.
    store.record_events([event(decisions[0], "slow", "complete", 60.0)])
    store.record_events([event(decisions[30], "early", "complete", 60.0)])  # not learnt yet
    report = online.step(closed_until(9) + 1.0)
    assert (report.trained, report.after_training) == (0, 1)
    np.testing.assert_array_equal(online.policy.model.theta, theta)
    assert {e.event_id for e in store.events()} >= {"slow", "early"}  # both kept
    assert learner(store, features, tmp_path / "state").state.after_training == 1


def test_a_decision_that_cannot_be_rebuilt_is_left_out_by_name(
    logged, features, tmp_path, make_decision
):
    store, _ = logged
    other = make_decision(created_at=T0 - 2.0, context={SCHEMA_KEY: "artwork_selector/v0"})
    unknown = make_decision(created_at=T0 - 1.0, candidates=("t1_a0", "t1_zz"), artwork_id="t1_a0")
    store.record_decisions([other, unknown])
    report = learner(store, features, tmp_path / "state").step(closed_until(N - 1))
    assert report.trained == N
    assert len(report.rejected) == 2
    assert other.decision_id in report.rejected[0]
    assert f"context.{SCHEMA_KEY}" in report.rejected[0]
    assert unknown.decision_id in report.rejected[1] and "candidates" in report.rejected[1]
    assert "t1_zz" in report.rejected[1]


def test_resuming_with_another_policy_is_refused(logged, features, tmp_path):
    store, _ = logged
    learner(store, features, tmp_path / "state").step(closed_until(5))
    with pytest.raises(ArtifactError, match="policy is 'linucb'.*'epsilon_greedy'"):
        learner(store, features, tmp_path / "state", policy="epsilon_greedy")


def test_resuming_on_another_event_log_is_refused(logged, features, tmp_path):
    store, _ = logged
    learner(store, features, tmp_path / "state").step(closed_until(N - 1))
    saved = json.loads((tmp_path / "state" / STATE_FILE).read_text())
    assert saved["store_id"] == store.store_id()
    another = "the state belongs to another event log"
    # e.g. the event log deleted and the learner's state kept
    with EventStore(tmp_path / "fresh.db") as fresh:
        other = f"written against event store {store.store_id()}, this one is {fresh.store_id()}"
        with pytest.raises(ArtifactError, match=f"{other}: {another}"):
            learner(fresh, features, tmp_path / "state")
        # A state from before stores had ids: its event position gives it away.
        (tmp_path / "state" / STATE_FILE).write_text(json.dumps({**saved, "store_id": None}))
        beyond = "events up to position 30, but this event store holds 0"
        with pytest.raises(ArtifactError, match=f"{beyond}: {another}"):
            learner(fresh, features, tmp_path / "state")
    learner(store, features, tmp_path / "state")  # on its own log it resumes, and takes its id
    assert json.loads((tmp_path / "state" / STATE_FILE).read_text())["store_id"] == store.store_id()


def test_a_failed_save_keeps_the_committed_policy(logged, features, tmp_path, monkeypatch):
    store, _ = logged
    online = learner(store, features, tmp_path / "state")
    online.step(closed_until(9))
    committed = online.policy.model.theta.copy()

    def full_disk(folder, write):
        raise OSError("no space left on device")

    monkeypatch.setattr(artwork.learning, "write_folder_atomically", full_disk)
    with pytest.raises(OSError, match="no space"):
        online.step(closed_until(N - 1))
    np.testing.assert_array_equal(online.policy.model.theta, committed)
    monkeypatch.undo()
    assert online.step(closed_until(N - 1)).trained == N - 10  # learnt once, not twice
    assert online.policy.n_updates == N
