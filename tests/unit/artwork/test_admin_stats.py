"""The admin page's numbers: tag coverage, take rate and bait index, the learning curve."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from artwork.admin_stats import learning_curve, tag_coverage, take_rates
from artwork.demo.genre_cues import image_tags
from artwork.errors import InputError
from artwork.features import FeatureBuilder
from artwork.records import FeedbackEvent
from artwork.rewards import DAY_S, RewardPolicy, join_rewards

T0 = 1_700_000_000.0
_ids = itertools.count()


def feedback(decision, *kinds: str, watch_s: float | None = None) -> list[FeedbackEvent]:
    events = [FeedbackEvent(event_id=f"e{next(_ids)}", decision_id=decision.decision_id,
                            type=kind, value=None, time=decision.created_at + 1)
              for kind in kinds]  # fmt: skip
    if watch_s is not None:
        events.append(FeedbackEvent(event_id=f"e{next(_ids)}", decision_id=decision.decision_id,
                                    type="watch_seconds", value=watch_s,
                                    time=decision.created_at + 2))  # fmt: skip
    return events


def test_take_rate_counts_open_windows_and_bait_index_only_closed_ones(make_decision):
    old = [make_decision(artwork_id="t1_a1", created_at=T0 + i) for i in range(4)]
    new = make_decision(artwork_id="t1_a1", created_at=T0 + 2 * DAY_S)
    other = make_decision(artwork_id="t1_a2", created_at=T0)
    events = (feedback(old[0], "impression", "click", "play", watch_s=900.0)
              + feedback(old[1], "impression", "click") + feedback(old[2], "impression")
              + feedback(new, "impression", "click") + feedback(other, "impression"))  # fmt: skip
    rewards = list(join_rewards([*old, new, other], events, RewardPolicy(), T0 + 2 * DAY_S + 5))
    by_id = {a.artwork_id: a for a in take_rates(rewards)}
    liked = by_id["t1_a1"]
    assert (liked.decisions, liked.impressions, liked.clicks) == (5, 4, 3)
    assert liked.take_rate == pytest.approx(3 / 4)
    assert (liked.closed_decisions, liked.quality_plays) == (4, 1)
    assert liked.bait_index == pytest.approx(1 - 1 / 2)  # two closed clicks, one quality play
    shown = by_id["t1_a2"]
    assert (shown.take_rate, shown.bait_index) == (0.0, None)
    assert list(by_id) == ["t1_a1", "t1_a2"]  # most clicks first


def test_the_learning_curve_is_mean_reward_per_group_in_time_order(make_decision):
    decisions = [make_decision(created_at=T0 + 10 - i) for i in range(6)]  # logged newest first
    events = [e for d in decisions[:3] for e in feedback(d, "play", watch_s=900.0)]
    rewards = list(join_rewards(decisions, events, RewardPolicy(), T0 + 2 * DAY_S))
    curve = learning_curve([d.created_at for d in decisions], rewards, bins=2)
    assert [p.mean_reward for p in curve] == [0.0, 1.0]  # the newest three played
    assert [(p.start, p.end, p.decisions, p.closed) for p in curve] == [
        (T0 + 5, T0 + 7, 3, 3), (T0 + 8, T0 + 10, 3, 3),
    ]  # fmt: skip
    assert len(learning_curve([T0], rewards[:1], bins=20)) == 1
    assert learning_curve([], [], bins=3) == []
    with pytest.raises(InputError, match="bins"):
        learning_curve([], [], bins=0)


def test_tag_coverage_counts_each_titles_tagged_images(tiny_catalog, tiny_history):
    tags = image_tags()
    vector = np.zeros(len(tags))
    vector[:3] = [0.9, 0.7, 0.2]
    features = FeatureBuilder(tiny_catalog, tiny_history, {"t1_a0": vector, "t1_a2": vector / 4})
    coverage = {c.title_id: c for c in tag_coverage(tiny_catalog, features)}
    star = coverage["t1"]
    assert (star.name, star.images, star.tagged) == ("Star Voyage", 3, 2)
    assert star.mean_confident_tags == pytest.approx(1.0)  # two tags ≥ 0.5 on one, none on one
    assert (coverage["t2"].tagged, coverage["t2"].mean_confident_tags) == (0, None)
    assert (coverage["t7"].images, coverage["t7"].tagged) == (0, 0)
