"""A logged decision's features, rebuilt as its policy saw them, for training and evaluation.

A decision logs its user, title, candidates and a context snapshot: ``device``, ``hour``, its
place on the page and, when a policy decided on features, ``feature_schema`` (``SCHEMA_KEY``),
the key of their schema (``FeatureSchema.key``). Rebuilding asks the ``FeatureBuilder`` for the
context row and the candidates' rows; a device or hour the service did not log is the viewer's
usual one (``ContextDefaults``). A decision that cannot be rebuilt is an ``InputError`` naming
it and the field, e.g. ``decisions['<id>'].context.feature_schema``; a decision without a
``feature_schema`` (a uniform logger's) is taken to match the builder's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from artwork.demo.response import ResponseModel
from artwork.demo.world import load_world
from artwork.errors import InputError, NotFoundError
from artwork.features import (
    SCHEMA_KEY,
    FeatureBuilder,
    quality_from_table,
    tags_from_table,
    tags_from_truth,
)
from artwork.records import Decision
from artwork.rewards import JoinedReward
from artwork.selection import StickySelector
from models.bandits import FeedbackBatch, FeedbackError

FALLBACK_CONTEXT = ("web", 20)  # a browser in the evening, when nothing is known of a viewer


@dataclass(frozen=True)
class ContextDefaults:
    """The device and hour assumed when a decision logged none: the viewer's usual ones (from
    ``usual``), else ``fallback``."""

    usual: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    fallback: tuple[str, int] = FALLBACK_CONTEXT

    @classmethod
    def from_response(cls, model: ResponseModel) -> ContextDefaults:
        """Each demo viewer's usual (device, hour); for others the most common device and the
        median hour."""
        usual = {
            v: (model.viewer_device[i], int(model.viewer_hour[i]))
            for i, v in enumerate(model.viewer_ids)
        }
        device = Counter(model.viewer_device).most_common(1)[0][0]
        return cls(usual, (device, int(np.median(model.viewer_hour))))

    def device_hour(self, user_id: str, context: Mapping[str, Any]) -> tuple[str, int]:
        """The logged device and hour, each the default when absent or None; ``InputError``
        naming ``context.device`` or ``context.hour`` when malformed."""
        default_device, default_hour = self.usual.get(user_id, self.fallback)
        device, hour = context.get("device"), context.get("hour")
        device = default_device if device is None else device
        hour = default_hour if hour is None else hour
        if not isinstance(device, str):
            raise InputError(f"{device!r}, expected a device name", field="context.device")
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise InputError(f"{hour!r}, expected an int 0..23", field="context.hour")
        return device, hour


@dataclass(frozen=True, eq=False)
class LoggedRow:
    """One logged decision, its joined reward and its features as rebuilt."""

    decision: Decision
    reward: JoinedReward
    context: np.ndarray  # (d_ctx,)
    candidates: np.ndarray  # (K, d_arm), in the decision's candidate order
    action: int  # the index of the chosen artwork among the candidates

    @property
    def arm(self) -> np.ndarray:
        """The chosen artwork's features (d_arm,)."""
        return self.candidates[self.action]


def logged_row(
    decision: Decision, reward: JoinedReward, features: FeatureBuilder, defaults: ContextDefaults
) -> LoggedRow:
    """Rebuild one decision's features; ``InputError`` naming ``decisions['<id>'].<field>``."""
    try:
        schema = decision.context.get(SCHEMA_KEY, features.schema.key)
        if schema != features.schema.key:
            raise InputError(
                f"{schema!r}, but the features are {features.schema.key!r}",
                field=f"context.{SCHEMA_KEY}",
            )
        device, hour = defaults.device_hour(decision.user_id, decision.context)
        try:
            context = features.context(decision.user_id, decision.title_id, device, hour)
        except NotFoundError as exc:
            raise InputError(str(exc), field="title_id") from None
        try:
            candidates = features.artwork(decision.user_id, decision.title_id, decision.candidates)
        except (NotFoundError, InputError) as exc:  # unknown, or another title's, artwork
            raise InputError(getattr(exc, "reason", str(exc)), field="candidates") from None
    except InputError as exc:
        raise InputError(exc.reason, field=_where(decision.decision_id, exc.field)) from None
    action = decision.candidates.index(decision.artwork_id)
    return LoggedRow(decision, reward, context, candidates, action)


def chosen_by_policy(decision: Decision) -> bool:
    """Whether a policy chose ``decision``'s image, rather than it being shown again because
    the viewer had engaged through it (``sticky``: one candidate, probability 1).

    Policies learn only from chosen ones. A sticky decision's reward says how a viewer who is
    already engaged responds to the image they engaged through; no feature tells that apart
    from a fresh choice, so learning from it would credit the image and favour whichever
    images won early. Off-policy estimates keep every decision: a deployed policy would be
    overridden in the same way, and its value is the value of what viewers would see."""
    return decision.policy != StickySelector.name


def logged_rows(
    decisions: Mapping[str, Decision],
    rewards: Iterable[JoinedReward],
    features: FeatureBuilder,
    defaults: ContextDefaults,
) -> tuple[list[LoggedRow], list[InputError]]:
    """The rows of ``rewards`` (each joined to its decision in ``decisions``), in order, and an
    ``InputError`` for each decision that could not be rebuilt (left out of the rows)."""
    rows: list[LoggedRow] = []
    errors: list[InputError] = []
    for reward in rewards:
        try:
            rows.append(logged_row(decisions[reward.decision_id], reward, features, defaults))
        except InputError as exc:
            errors.append(exc)
    return rows, errors


def feedback_batch(rows: Sequence[LoggedRow]) -> FeedbackBatch:
    """What a policy learns from ``rows``: each viewer's context, the shown artwork's features
    and id, the reward and the logged propensity. A row the batch refuses is an ``InputError``
    naming its decision and field."""
    try:
        return FeedbackBatch(
            np.stack([r.context for r in rows]),
            np.stack([r.arm for r in rows]),
            np.array([r.reward.reward for r in rows], dtype=np.float64),
            np.array([r.decision.propensity for r in rows], dtype=np.float64),
            tuple(r.decision.artwork_id for r in rows),
        )
    except FeedbackError as exc:
        if exc.row is None:
            raise InputError(str(exc), field=exc.field) from exc
        where = _where(rows[exc.row].decision.decision_id, exc.field)
        raise InputError(str(exc), field=where) from exc


def world_features(world: Path, tags: Path | None = None) -> tuple[FeatureBuilder, ContextDefaults]:
    """Features for a demo world folder, from its truth tags or, given ``tags``, from that tag
    store (tags and quality signals); and its viewers' usual device and hour."""
    from artwork.tag_store import read_tags  # pyarrow, only when a tag store is given

    loaded = load_world(world)
    defaults = ContextDefaults.from_response(loaded.response)
    if tags is None:
        artwork_tags, quality = tags_from_truth(loaded.truth), None
    else:
        table = read_tags(tags)
        artwork_tags, quality = tags_from_table(table), quality_from_table(table)
    builder = FeatureBuilder(loaded.catalog, loaded.history, artwork_tags, quality=quality)
    return builder, defaults


def _where(decision_id: str, field_name: str | None) -> str:
    return f"decisions[{decision_id!r}]" + (f".{field_name}" if field_name else "")
