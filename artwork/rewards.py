"""Rewards from the event log: feedback events joined to their decisions inside a window.

A decision's window is ``[created_at, created_at + window_s]``: events up to its end are used,
later ones are *late* (counted, never trained on), and a reward is final (``complete``) once the
window has closed at ``now``. Per decision, with ``W`` the in-window watch seconds summed:

- ``played``       = a ``play`` or ``complete`` event, or ``W > 0``
- ``clicked``      = a ``click`` event, or ``played`` (a play implies the person chose the title)
- ``impression``   = an ``impression`` event, or ``clicked`` (a click implies it was shown)
- ``quality_play`` = ``played`` and (``W >= quality_play_seconds`` or a ``complete`` event)

and the reward, by ``RewardPolicy.reward``:

- ``quality_play``  = 1 if ``quality_play`` else 0 (the default: bait images score below
  honest ones)
- ``click``         = 1 if ``clicked`` else 0
- ``watch_minutes`` = min(W / 60, ``watch_minutes_cap``) / ``watch_minutes_cap``, in [0, 1]

then ``default_reward`` when no event arrived in the window, and 0 when a ``hide`` or
``dislike`` arrived (with ``penalize_negative``), even if the title was played: the image led
to something the person rejected, which no amount of viewing should make a success.

The join is a pure function over ``Decision`` and ``FeedbackEvent`` records, so it works on
whatever store read them (SQLite here, PostgreSQL at scale).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from artwork.errors import InputError
from artwork.event_store import EventStore
from artwork.records import Decision, FeedbackEvent

log = logging.getLogger(__name__)

REWARD_KINDS = ("quality_play", "click", "watch_minutes")
DAY_S = 24 * 3600.0


@dataclass(frozen=True, kw_only=True)
class RewardPolicy:
    """How events become a reward: the window, the quality-play bar, the reward kind."""

    window_s: float = DAY_S
    quality_play_seconds: float = 600.0
    reward: str = "quality_play"
    watch_minutes_cap: float = 60.0  # minutes that earn the full ``watch_minutes`` reward
    default_reward: float = 0.0  # when no event arrived inside the window
    penalize_negative: bool = True  # ``hide`` or ``dislike`` sets the reward to 0

    def __post_init__(self) -> None:
        checks = (
            ("window_s", _positive(self.window_s), "must be a finite number > 0"),
            ("quality_play_seconds", _positive(self.quality_play_seconds),
             "must be a finite number > 0"),
            ("reward", self.reward in REWARD_KINDS, f"must be one of {REWARD_KINDS}"),
            ("watch_minutes_cap", _positive(self.watch_minutes_cap),
             "must be a finite number > 0"),
            ("default_reward", _number(self.default_reward) and 0.0 <= self.default_reward <= 1.0,
             "must be in [0, 1]"),
            ("penalize_negative", isinstance(self.penalize_negative, bool), "must be a bool"),
        )  # fmt: skip
        for name, ok, rule in checks:
            if not ok:
                raise InputError(f"{rule}, got {getattr(self, name)!r}", field=name)


@dataclass(frozen=True, kw_only=True)
class JoinedReward:
    """One decision with what followed it inside its window, and the reward it earned.

    ``policy`` and ``policy_version`` are the decision's (who chose the image), not the
    ``RewardPolicy``. ``complete`` is False while the window is still open at ``now``:
    the reward may still change, so trainers skip such rows.
    """

    decision_id: str
    user_id: str
    title_id: str
    artwork_id: str
    propensity: float
    policy: str
    policy_version: str
    context: Mapping[str, Any] = field(hash=False)
    impression: bool
    clicked: bool
    played: bool
    watch_seconds: float
    quality_play: bool
    liked: bool
    disliked: bool
    hidden: bool
    reward: float
    events: int  # in-window events used; 0 means the reward is ``default_reward``
    late_events: int
    complete: bool


@dataclass(frozen=True)
class JoinedRewards:
    """The joined rewards, in decision order, and what the join left out.

    ``unknown_events`` (events whose decision is not among the decisions given), ``late_events``
    (after their window) and ``duplicate_events`` (an ``event_id`` seen before; the first is
    kept) say how many events were not used. Iterating gives the rewards.
    """

    rewards: tuple[JoinedReward, ...]
    unknown_events: int = 0
    late_events: int = 0
    duplicate_events: int = 0

    def __iter__(self) -> Iterator[JoinedReward]:
        return iter(self.rewards)

    def __len__(self) -> int:
        return len(self.rewards)


@dataclass(frozen=True, kw_only=True)
class ArtworkBait:
    """Engagement with one artwork over complete decisions; rates are None when undefined."""

    artwork_id: str
    title_id: str
    decisions: int
    impressions: int
    clicks: int
    quality_plays: int
    click_through_rate: float | None  # clicks / impressions
    quality_play_rate: float | None  # quality plays / impressions
    bait_index: float | None  # 1 − quality plays / clicks


def join_rewards(
    decisions: Iterable[Decision],
    events: Iterable[FeedbackEvent],
    policy: RewardPolicy,
    now: float,
) -> JoinedRewards:
    """Join events to decisions and compute each decision's reward (formulas: module docstring).

    One pass over the events, grouped by decision id in a dict; returns one ``JoinedReward``
    per decision, in the order given. Events for unknown decisions, late events and repeated
    ``event_id``s are not used and are counted on the result (and logged).
    """
    if not _number(now):
        raise InputError(f"expected Unix seconds (a finite number), got {now!r}", field="now")
    decisions = list(decisions)
    by_id = {d.decision_id: d for d in decisions}
    if len(by_id) != len(decisions):
        raise InputError("repeated decision_id among the decisions", field="decisions")

    in_window: dict[str, list[FeedbackEvent]] = defaultdict(list)
    late: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    unknown = duplicates = 0
    for event in events:
        if event.event_id in seen:
            duplicates += 1
            continue
        seen.add(event.event_id)
        decision = by_id.get(event.decision_id)
        if decision is None:
            unknown += 1
        elif event.time > decision.created_at + policy.window_s:
            late[event.decision_id] += 1
        else:
            # An event stamped before its decision is kept: client and server clocks differ.
            in_window[event.decision_id].append(event)

    rewards = JoinedRewards(
        tuple(
            _joined(d, in_window.get(d.decision_id, ()), late.get(d.decision_id, 0), policy, now)
            for d in decisions
        ),
        unknown_events=unknown,
        late_events=sum(late.values()),
        duplicate_events=duplicates,
    )
    if unknown or rewards.late_events or duplicates:
        log.info(
            "reward join: %d decisions; events not used: %d late, %d for unknown decisions, "
            "%d repeated event ids",
            len(rewards), rewards.late_events, unknown, duplicates,
        )  # fmt: skip
    return rewards


def rewards_from_store(store: EventStore, policy: RewardPolicy, now: float) -> JoinedRewards:
    """``join_rewards`` over every decision and event in ``store`` (two reads, no per-event
    query)."""
    return join_rewards(store.decisions(), store.events(), policy, now)


def bait_index(rewards: Iterable[JoinedReward], *, include_open: bool = False) -> list[ArtworkBait]:
    """Per artwork, over complete rewards (and open ones with ``include_open``), most clicks
    first (ties by artwork id):

    click-through rate = clicks / impressions, quality-play rate = quality plays / impressions,
    bait index = 1 − quality plays / clicks (None when there are no clicks, likewise the rates
    without impressions). A bait index near 1 means clicks that rarely became viewing.

    Open windows are left out by default: a click arrives before the viewing it leads to, so
    they would make every image look baitier than it is.
    """
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    titles: dict[str, str] = {}
    for r in rewards:
        if not (r.complete or include_open):
            continue
        row = counts[r.artwork_id]
        titles[r.artwork_id] = r.title_id
        row[0] += 1
        row[1] += r.impression
        row[2] += r.clicked
        row[3] += r.quality_play
    rows = [
        ArtworkBait(
            artwork_id=artwork_id,
            title_id=titles[artwork_id],
            decisions=n,
            impressions=shown,
            clicks=clicks,
            quality_plays=quality,
            click_through_rate=_ratio(clicks, shown),
            quality_play_rate=_ratio(quality, shown),
            bait_index=None if clicks == 0 else 1.0 - quality / clicks,
        )
        for artwork_id, (n, shown, clicks, quality) in counts.items()
    ]
    rows.sort(key=lambda b: (-b.clicks, b.artwork_id))
    return rows


def _joined(
    decision: Decision,
    events: Iterable[FeedbackEvent],
    late_events: int,
    policy: RewardPolicy,
    now: float,
) -> JoinedReward:
    types: set[str] = set()
    watch_seconds = 0.0
    used = 0
    for event in events:
        used += 1
        types.add(event.type)
        if event.type == "watch_seconds":
            watch_seconds += event.value  # type: ignore[operator]  # set by FeedbackEvent
    played = bool(types & {"play", "complete"}) or watch_seconds > 0
    clicked = "click" in types or played
    quality_play = played and (watch_seconds >= policy.quality_play_seconds or "complete" in types)
    disliked, hidden = "dislike" in types, "hide" in types
    if not types:
        reward = policy.default_reward
    elif policy.penalize_negative and (disliked or hidden):
        reward = 0.0
    elif policy.reward == "quality_play":
        reward = float(quality_play)
    elif policy.reward == "click":
        reward = float(clicked)
    else:  # watch_minutes
        cap = policy.watch_minutes_cap
        reward = min(watch_seconds / 60.0, cap) / cap
    return JoinedReward(
        decision_id=decision.decision_id,
        user_id=decision.user_id,
        title_id=decision.title_id,
        artwork_id=decision.artwork_id,
        propensity=decision.propensity,
        policy=decision.policy,
        policy_version=decision.policy_version,
        context=decision.context,
        impression="impression" in types or clicked,
        clicked=clicked,
        played=played,
        watch_seconds=watch_seconds,
        quality_play=quality_play,
        liked="like" in types,
        disliked=disliked,
        hidden=hidden,
        reward=reward,
        events=used,
        late_events=late_events,
        complete=now >= decision.created_at + policy.window_s,
    )


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: object) -> bool:
    return _number(value) and value > 0  # type: ignore[operator]
