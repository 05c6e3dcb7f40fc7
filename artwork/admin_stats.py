"""What the admin page shows: tag coverage per title, each artwork's take rate and bait index,
and the serving policy's learning curve, read from the event log and the features.

Per artwork, over every logged decision for it:

- ``take_rate``  = clicks / impressions (a click implies the image was shown; open reward
  windows count, since a click comes at once)
- ``bait_index`` = 1 − quality plays / clicks over *closed* windows only (``rewards.bait_index``:
  a click comes before the viewing it leads to, so open windows would look baitier)

The learning curve cuts the decisions, in time order, into ``bins`` groups of equal size and
gives each group's mean reward (open windows count with the reward earned so far).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from artwork.catalog import Catalog
from artwork.errors import InputError
from artwork.event_store import EventStore
from artwork.features import FeatureBuilder
from artwork.rewards import JoinedReward, RewardPolicy, bait_index, join_rewards

CURVE_BINS = 20
CONFIDENT = 0.5  # a tag the image likely shows


@dataclass(frozen=True, kw_only=True)
class TitleTagCoverage:
    """How many of a title's images carry tags, and how many confident tags they average."""

    title_id: str
    name: str
    images: int
    tagged: int  # images with any tag probability above 0
    mean_confident_tags: float | None  # tags with p ≥ 0.5 per tagged image; None: none tagged


@dataclass(frozen=True, kw_only=True)
class ArtworkTakeRate:
    """One artwork's engagement (formulas: module docstring); rates are None when undefined."""

    artwork_id: str
    title_id: str
    decisions: int
    impressions: int
    clicks: int
    take_rate: float | None
    closed_decisions: int  # decisions whose reward window has closed
    quality_plays: int  # over closed windows
    bait_index: float | None


@dataclass(frozen=True, kw_only=True)
class CurvePoint:
    """Mean reward of the decisions made between ``start`` and ``end`` (Unix seconds)."""

    start: float
    end: float
    decisions: int
    closed: int
    mean_reward: float


@dataclass(frozen=True, kw_only=True)
class AdminSummary:
    """Everything the admin page draws; ``coverage`` is None when no features are loaded."""

    at: float
    decisions: int
    events: int
    reward: str
    coverage: list[TitleTagCoverage] | None
    artwork: list[ArtworkTakeRate]
    curve: list[CurvePoint]


def admin_summary(
    store: EventStore,
    catalog: Catalog,
    features: FeatureBuilder | None,
    policy: RewardPolicy,
    now: float,
    *,
    bins: int = CURVE_BINS,
) -> AdminSummary:
    """The summary over every decision and event in ``store`` (two reads; fine at demo scale,
    an aggregate query's job beyond it)."""
    decisions, events = store.decisions(), store.events()
    rewards = list(join_rewards(decisions, events, policy, now))
    return AdminSummary(
        at=now,
        decisions=len(decisions),
        events=len(events),
        reward=policy.reward,
        coverage=None if features is None else tag_coverage(catalog, features),
        artwork=take_rates(rewards),
        curve=learning_curve([d.created_at for d in decisions], rewards, bins),
    )


def tag_coverage(catalog: Catalog, features: FeatureBuilder) -> list[TitleTagCoverage]:
    """Per title in catalog order: its images, how many carry tags, and their confident tags."""
    rows = []
    for title_id, title in catalog.titles.items():
        ids = [c.artwork_id for c in catalog.candidates(title_id)]
        x = features.artwork_tags(ids) if ids else np.zeros((0, 0))
        tagged = x.any(axis=1) if ids else np.zeros(0, dtype=bool)
        confident = (x[tagged] >= CONFIDENT).sum(axis=1)
        rows.append(TitleTagCoverage(
            title_id=title_id, name=title.name, images=len(ids), tagged=int(tagged.sum()),
            mean_confident_tags=float(confident.mean()) if confident.size else None,
        ))  # fmt: skip
    return rows


def take_rates(rewards: Sequence[JoinedReward]) -> list[ArtworkTakeRate]:
    """Per artwork, most clicks first: take rate over all decisions, bait index over closed
    ones (see the module docstring)."""
    closed = {b.artwork_id: b for b in bait_index(rewards)}
    rows = []
    for b in bait_index(rewards, include_open=True):
        c = closed.get(b.artwork_id)
        rows.append(ArtworkTakeRate(
            artwork_id=b.artwork_id, title_id=b.title_id, decisions=b.decisions,
            impressions=b.impressions, clicks=b.clicks, take_rate=b.click_through_rate,
            closed_decisions=c.decisions if c else 0, quality_plays=c.quality_plays if c else 0,
            bait_index=c.bait_index if c else None,
        ))  # fmt: skip
    return rows


def learning_curve(
    times: Sequence[float], rewards: Sequence[JoinedReward], bins: int = CURVE_BINS
) -> list[CurvePoint]:
    """Mean reward per group of decisions in time order: ``min(bins, len(rewards))`` groups of
    (nearly) equal size; ``times[i]`` is when ``rewards[i]``'s decision was made."""
    if bins < 1:
        raise InputError(f"must be >= 1, got {bins!r}", field="bins")
    if len(times) != len(rewards):
        raise InputError(f"{len(times)} times for {len(rewards)} rewards", field="times")
    order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
    points = []
    for group in np.array_split(order, min(bins, len(order))) if len(order) else []:
        chosen = [rewards[i] for i in group]
        points.append(CurvePoint(
            start=float(times[group[0]]), end=float(times[group[-1]]), decisions=len(chosen),
            closed=sum(r.complete for r in chosen),
            mean_reward=float(np.mean([r.reward for r in chosen])),
        ))  # fmt: skip
    return points
