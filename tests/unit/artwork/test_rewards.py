"""Rewards: events joined to decisions inside a window; quality plays; bait index."""

from __future__ import annotations

import itertools

import pytest

from artwork.errors import InputError
from artwork.event_store import EventStore
from artwork.records import FeedbackEvent
from artwork.rewards import (
    DAY_S,
    JoinedReward,
    RewardPolicy,
    bait_index,
    join_rewards,
    rewards_from_store,
)

T0 = 1_700_000_000.0
CLOSED = T0 + DAY_S + 1  # every default window opened at T0 has closed
_ids = itertools.count()


def event(decision, kind: str, value: float | None = None, after_s: float = 60.0):
    return FeedbackEvent(
        event_id=f"e{next(_ids)}",
        decision_id=decision.decision_id,
        type=kind,
        value=value,
        time=decision.created_at + after_s,
    )


def join_one(decision, events, policy: RewardPolicy | None = None, now: float = CLOSED):
    (joined,) = join_rewards([decision], events, policy or RewardPolicy(), now)
    return joined


@pytest.fixture
def decision(make_decision):
    return make_decision(created_at=T0)


def test_watch_time_at_the_bar_is_a_quality_play(decision):
    joined = join_one(
        decision,
        [event(decision, "impression"), event(decision, "click"), event(decision, "play"),
         event(decision, "watch_seconds", 400.0), event(decision, "watch_seconds", 200.0)],
    )  # fmt: skip
    assert isinstance(joined, JoinedReward)
    assert (joined.impression, joined.clicked, joined.played) == (True, True, True)
    assert joined.watch_seconds == 600.0
    assert joined.quality_play and joined.reward == 1.0 and joined.complete
    assert (joined.artwork_id, joined.propensity, joined.policy) == ("t1_a1", 1 / 3, "uniform")
    assert dict(joined.context) == {"device": "tv", "hour": 21}

    short = join_one(decision, [event(decision, "play"), event(decision, "watch_seconds", 599.0)])
    assert short.played and not short.quality_play and short.reward == 0.0


def test_complete_event_is_a_quality_play_without_watch_time(decision):
    joined = join_one(decision, [event(decision, "complete")])
    assert joined.played and joined.clicked and joined.impression
    assert joined.quality_play and joined.reward == 1.0


def test_click_without_play_earns_nothing_by_default(decision):
    joined = join_one(decision, [event(decision, "impression"), event(decision, "click")])
    assert joined.clicked and not joined.played and not joined.quality_play
    assert joined.reward == 0.0
    assert join_one(decision, [event(decision, "click")], RewardPolicy(reward="click")).reward == 1


def test_late_events_are_counted_and_not_used(decision):
    policy = RewardPolicy(window_s=3600.0)
    rewards = join_rewards(
        [decision],
        [event(decision, "click", after_s=3600.0),  # at the window's end: still inside
         event(decision, "complete", after_s=3601.0),
         event(decision, "watch_seconds", 900.0, after_s=7200.0)],
        policy,
        now=T0 + 10_000,
    )  # fmt: skip
    (joined,) = rewards
    assert joined.clicked and not joined.played and joined.watch_seconds == 0.0
    assert joined.reward == 0.0 and joined.late_events == 2
    assert rewards.late_events == 2


def test_open_window_is_incomplete(decision):
    events = [event(decision, "click")]
    assert not join_one(decision, events, now=T0 + DAY_S - 1).complete
    assert join_one(decision, events, now=T0 + DAY_S).complete


@pytest.mark.parametrize("negative", ["hide", "dislike"])
def test_hide_or_dislike_zeroes_a_played_reward(decision, negative):
    events = [event(decision, "complete"), event(decision, "watch_seconds", 3600.0),
              event(decision, negative, after_s=4000.0)]  # fmt: skip
    for kind in ("quality_play", "click", "watch_minutes"):
        joined = join_one(decision, events, RewardPolicy(reward=kind))
        assert joined.quality_play and joined.reward == 0.0
    assert (joined.hidden, joined.disliked) == (negative == "hide", negative == "dislike")
    lenient = join_one(decision, events, RewardPolicy(penalize_negative=False))
    assert lenient.reward == 1.0


def test_like_is_recorded_without_changing_the_reward(decision):
    joined = join_one(decision, [event(decision, "like")])
    assert joined.liked and joined.reward == 0.0


@pytest.mark.parametrize(
    ("kind", "seconds", "expected"),
    [
        ("quality_play", 900.0, 1.0),
        ("quality_play", 300.0, 0.0),
        ("click", 300.0, 1.0),
        ("watch_minutes", 900.0, 0.25),  # 15 of 60 minutes
        ("watch_minutes", 7200.0, 1.0),  # capped
    ],
)
def test_each_reward_kind(decision, kind, seconds, expected):
    events = [event(decision, "click"), event(decision, "play"),
              event(decision, "watch_seconds", seconds)]  # fmt: skip
    assert join_one(decision, events, RewardPolicy(reward=kind)).reward == pytest.approx(expected)


def test_watch_minutes_cap_is_configurable(decision):
    policy = RewardPolicy(reward="watch_minutes", watch_minutes_cap=30.0)
    assert join_one(decision, [event(decision, "watch_seconds", 900.0)], policy).reward == 0.5


def test_default_reward_when_nothing_arrived(decision):
    policy = RewardPolicy(default_reward=0.1)
    assert join_one(decision, [], policy).reward == 0.1
    late_only = join_one(decision, [event(decision, "complete", after_s=DAY_S + 5)], policy)
    assert late_only.reward == 0.1 and late_only.late_events == 1
    # something arrived, so the reward is computed rather than defaulted
    assert join_one(decision, [event(decision, "impression")], policy).reward == 0.0


def test_events_for_unknown_decisions_and_repeated_ids_are_counted(decision, make_decision):
    stranger = make_decision()
    repeated = event(decision, "complete")
    rewards = join_rewards(
        [decision],
        [event(stranger, "complete"), event(stranger, "click"), repeated, repeated,
         event(decision, "watch_seconds", 100.0)],
        RewardPolicy(),
        now=CLOSED,
    )  # fmt: skip
    assert rewards.unknown_events == 2 and rewards.duplicate_events == 1
    assert [r.decision_id for r in rewards] == [decision.decision_id]
    assert rewards.rewards[0].reward == 1.0


def test_bait_index_ranks_a_baity_artwork_above_an_honest_one(make_decision):
    def shown(artwork_id: str, n: int, clicks: int, quality: int, created_at: float = T0):
        decisions = [make_decision(artwork_id=artwork_id, created_at=created_at) for _ in range(n)]
        events = [event(d, "impression") for d in decisions]
        events += [event(d, "click") for d in decisions[:clicks]]
        events += [event(d, "complete") for d in decisions[:quality]]
        return decisions, events

    bait_d, bait_e = shown("t1_a0", n=10, clicks=8, quality=1)
    honest_d, honest_e = shown("t1_a1", n=10, clicks=4, quality=4)
    unseen_d, unseen_e = shown("t1_a2", n=2, clicks=0, quality=0)
    open_d, open_e = shown("t1_a0", n=5, clicks=5, quality=0, created_at=CLOSED)
    rewards = join_rewards(
        bait_d + honest_d + unseen_d + open_d,
        bait_e + honest_e + unseen_e + open_e,
        RewardPolicy(),
        now=CLOSED,
    )
    rows = bait_index(rewards)
    assert [r.artwork_id for r in rows] == ["t1_a0", "t1_a1", "t1_a2"]  # most clicks first
    bait, honest, unseen = rows
    assert (bait.decisions, bait.impressions, bait.clicks, bait.quality_plays) == (10, 10, 8, 1)
    assert bait.bait_index == pytest.approx(1 - 1 / 8)
    assert bait.click_through_rate == pytest.approx(0.8)
    assert bait.quality_play_rate == pytest.approx(0.1)
    assert honest.bait_index == 0.0 and honest.quality_play_rate == pytest.approx(0.4)
    assert bait.bait_index > honest.bait_index
    assert unseen.bait_index is None and unseen.click_through_rate == 0.0
    assert bait_index(rewards, include_open=True)[0].clicks == 13


def test_policy_is_validated():
    with pytest.raises(InputError, match="window_s"):
        RewardPolicy(window_s=0)
    with pytest.raises(InputError, match="reward"):
        RewardPolicy(reward="views")
    with pytest.raises(InputError, match="default_reward"):
        RewardPolicy(default_reward=float("nan"))
    with pytest.raises(InputError, match="quality_play_seconds"):
        RewardPolicy(quality_play_seconds=-1.0)


def test_round_trip_through_an_event_store(tmp_path, make_decision):
    watched, clicked = make_decision(created_at=T0), make_decision(created_at=T0 + 10)
    with EventStore(tmp_path / "events.db") as store:
        store.record_decisions([watched, clicked])
        store.record_events(
            [event(watched, "click"), event(watched, "watch_seconds", 700.0),
             event(clicked, "click"), event(clicked, "play", after_s=DAY_S + 60)]
        )  # fmt: skip
        rewards = rewards_from_store(store, RewardPolicy(), now=CLOSED)
    assert [r.decision_id for r in rewards] == [watched.decision_id, clicked.decision_id]
    assert [(r.quality_play, r.reward, r.late_events) for r in rewards] == [
        (True, 1.0, 0),
        (False, 0.0, 1),
    ]
    assert (
        rewards.rewards[0].complete and not rewards.rewards[1].complete
    )  # T0 + 10 + DAY_S > CLOSED
    assert rewards.late_events == 1 and rewards.unknown_events == 0
