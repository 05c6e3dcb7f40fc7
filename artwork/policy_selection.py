"""A bandit policy as a ``Selector``: features per decision, a tag prior while it is cold.

``PolicySelector`` builds each decision's context and candidate rows with a ``FeatureBuilder``
and asks the policy for its distribution. A policy that has learnt from fewer than
``cold_start_updates`` rows knows nothing yet, so until then a *tag prior* decides instead:

    score_k = (u · x_k) / sqrt(Σ x_k)  standardised over the title's candidates
    p_k     ∝ exp(score_k / temperature), then the probability floor

with x_k the image's tag probabilities and u the viewer's tag affinity (for a viewer without
history, the mean viewer's: what most people like), so images whose tags match the viewer's
tastes come first. Both log their exact probabilities; the decision's ``policy`` says which
decided (``tag_prior`` or the policy's name) and its context carries the feature schema key, so
a learner can refuse decisions made on other features.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artwork.catalog import ArtworkCandidate, Catalog
from artwork.errors import InputError
from artwork.features import (
    SCHEMA_KEY,
    FeatureBuilder,
    quality_from_table,
    tags_from_table,
    tags_from_truth,
)
from artwork.interactions import ViewingHistory
from artwork.records import Decision
from artwork.selection import DecisionRequest, Selector, SelectorDescription
from models.bandits import Policy
from models.bandits.segments import Segments

log = logging.getLogger(__name__)

COLD_START_UPDATES = 200  # rows a policy learns from before it replaces the tag prior
PRIOR_TEMPERATURE = 0.5
PRIOR_FLOOR = 0.02
WHY_TAGS = 3


class PolicySelector(Selector):
    """``policy`` over ``features``; the tag prior while ``policy.n_updates`` is below
    ``cold_start_updates``. Immutable: a new policy version is a new selector."""

    def __init__(
        self,
        policy: Policy,
        features: FeatureBuilder,
        *,
        cold_start_updates: int = COLD_START_UPDATES,
        prior_temperature: float = PRIOR_TEMPERATURE,
        prior_floor: float = PRIOR_FLOOR,
    ) -> None:
        if (policy.d_ctx, policy.d_arm) != (features.d_ctx, features.d_arm):
            raise InputError(
                f"policy {policy.name} takes ({policy.d_ctx}, {policy.d_arm}) features, schema "
                f"{features.schema.key} gives ({features.d_ctx}, {features.d_arm})",
                field="policy",
            )
        if not prior_temperature > 0:
            raise InputError(f"must be > 0, got {prior_temperature!r}", field="prior_temperature")
        self.policy, self.features = policy, features
        self.cold = policy.n_updates < cold_start_updates
        self.temperature, self.floor = prior_temperature, prior_floor
        self.name = "tag_prior" if self.cold else policy.name
        self.version = f"{policy.name}-v{policy.version}+{policy.n_updates}"

    def snapshot(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The context to log: ``context`` plus the feature schema key."""
        return {**context, SCHEMA_KEY: self.features.schema.key}

    def describe(self) -> SelectorDescription:
        """The policy's name, version, updates learnt from, coldness and feature schema."""
        return SelectorDescription(
            name=self.policy.name, serving=self.name, version=self.version,
            n_updates=self.policy.n_updates, cold=self.cold,
            feature_schema=self.features.schema.to_dict(),
        )  # fmt: skip

    def distribution(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
    ) -> np.ndarray:
        """The policy's (or, while cold, the tag prior's) probabilities for ``candidates``;
        ``context`` must hold ``device`` and ``hour``."""
        return self.distributions(user_id, [DecisionRequest(title_id, candidates, context)])[0]

    def distributions(self, user_id: str, requests: Sequence[DecisionRequest]) -> list[np.ndarray]:
        """``distribution`` for each of the viewer's requests, from one feature build and one
        policy (or tag prior) call for all their candidates."""
        ids = [c.artwork_id for r in requests for c in r.candidates]
        counts = [len(r.candidates) for r in requests]
        if self.cold:
            return tag_priors(
                self.features.artwork_tags(ids), self.features.taste(user_id), Segments.of(counts),
                self.temperature, self.floor,
            )  # fmt: skip
        titles = [r.title_id for r in requests]
        contexts = self.features.contexts(
            user_id, titles, [r.context["device"] for r in requests],
            [r.context["hour"] for r in requests],
        )  # fmt: skip
        arms = self.features.artworks(user_id, titles, ids, counts)
        arm_ids = ids if self.policy.needs_arm_ids else None
        return self.policy.distributions(contexts, arms, counts, arm_ids)

    def why(self, decision: Decision) -> str:
        """Which policy chose, with what probability, and the image's tags this viewer likes."""
        return self.explain([decision])[0]

    def explain(self, decisions: Sequence[Decision]) -> list[str]:
        """``why`` for each decision, the liked tags found for all of one viewer's at once."""
        liked: list[list[str]] = [[] for _ in decisions]
        by_viewer: dict[str, list[int]] = {}
        for i, d in enumerate(decisions):
            by_viewer.setdefault(d.user_id, []).append(i)
        for user_id, indices in by_viewer.items():
            found = taste_tags_many(self.features, user_id,
                                    [decisions[i].artwork_id for i in indices])  # fmt: skip
            for i, tags in zip(indices, found, strict=True):
                liked[i] = tags
        return [self._sentence(d, tags) for d, tags in zip(decisions, liked, strict=True)]

    def _sentence(self, decision: Decision, liked: list[str]) -> str:
        p = decision.propensity
        if self.cold:
            head = f"your tastes, before the policy has learnt (probability {p:.2g})"
        else:
            head = (f"policy {self.policy.name}, learnt from {self.policy.n_updates} views, "
                    f"with probability {p:.2g}")  # fmt: skip
        shows = f"; it shows {', '.join(liked)}" if liked else ""
        device, hour = decision.context.get("device"), decision.context.get("hour")
        return f"chosen by {head}{shows} (on {device} at {hour}:00)"


def tag_prior(tags: np.ndarray, taste: np.ndarray, temperature: float, floor: float) -> np.ndarray:
    """Softmax of the standardised taste match of each candidate's tags (see the module
    docstring), with ``floor``: (K,), summing to 1."""
    return tag_priors(tags, taste, Segments.of([len(tags)]), temperature, floor)[0]


def tag_priors(
    tags: np.ndarray, taste: np.ndarray, segments: Segments, temperature: float, floor: float
) -> list[np.ndarray]:
    """``tag_prior`` for several titles at once: their candidates' tags stacked (N, len(tags))
    as ``segments`` says; one distribution per title."""
    tags = np.asarray(tags, dtype=np.float64)
    counts, expand = segments.counts, segments.expand
    score = tags @ taste / np.sqrt(np.maximum(tags.sum(axis=1), 1.0))
    centred = score - expand(segments.sum(score) / counts)
    spread = np.sqrt(segments.sum(centred * centred) / counts)
    spread[spread <= 1e-12] = np.inf  # all equal: z = 0, the uniform
    z = centred / expand(spread)
    weights = np.exp((z - expand(segments.max(z))) / temperature)
    return segments.split(segments.apply_floor(weights / expand(segments.sum(weights)), floor))


def taste_tags(features: FeatureBuilder, user_id: str, artwork_id: str) -> list[str]:
    """Up to ``WHY_TAGS`` tags the image likely shows (p ≥ 0.5) that the viewer likes most."""
    return taste_tags_many(features, user_id, [artwork_id])[0]


def taste_tags_many(
    features: FeatureBuilder, user_id: str, artwork_ids: Sequence[str]
) -> list[list[str]]:
    """``taste_tags`` for each of ``artwork_ids`` (one viewer): a liking of ``x · taste`` per
    tag, kept where the image likely shows it (p ≥ 0.5) and the viewer likes it, the best
    ``WHY_TAGS`` first (ties: vocabulary order). In Python over the few tags each image shows
    (``FeatureBuilder.shown_tags``): one title's in ~2 µs, a third of what numpy's calls on
    arrays this small cost (a page's ~65 µs either way)."""
    if not artwork_ids:
        return []
    taste = features.taste(user_id).tolist()
    tags = features.tags
    found = []
    for shown in features.shown_tags(artwork_ids):
        liked = [(-liking, c) for c, p in shown if (liking := p * taste[c]) > 0]
        found.append([tags[c] for _, c in sorted(liked)[:WHY_TAGS]])
    return found


def catalog_features(
    catalog: Catalog, history: ViewingHistory, *, tags: Path | None, truth: Path | None
) -> FeatureBuilder:
    """Features over ``catalog``: image tags and quality from the tag store ``tags`` when given,
    else the demo world's ``truth`` labels when that file exists, else none (every image
    tagless: the policy still learns from the other features)."""
    from artwork.demo.world import read_truth  # the demo's labels, only when used
    from artwork.tag_store import read_tags  # pyarrow, only when a tag store is used

    if tags is not None:
        table = read_tags(tags)
        log.info("features from tag store %s (%s)", tags, table.header.model_id)
        artwork_tags, quality = tags_from_table(table), quality_from_table(table)
    elif truth is not None and truth.is_file():
        log.info("features from the demo world's truth labels %s", truth)
        artwork_tags, quality = tags_from_truth(read_truth(truth)), None
    else:
        log.warning("no tag store and no truth labels: the features have no image tags")
        artwork_tags, quality = {}, None
    return FeatureBuilder(catalog, history, artwork_tags, quality=quality)
