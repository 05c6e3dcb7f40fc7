"""Choosing one artwork per title: eligibility, stickiness, a policy's seeded draw, a Decision.

Every selector gives a full probability distribution over a title's candidates; the choice is
sampled from it with ``models.sampling.sample_index(p, seed)``, and the Decision records the
seed and the exact probability of what was chosen (its propensity), so the draw can be
replayed and new policies evaluated offline.

``SelectionPipeline`` runs the steps for a page or one title:

1. eligible candidates: available now and within the viewer's maturity limit
   (``Catalog.eligible``); a title with none is left out;
2. stickiness: once the viewer engaged with the title through an image (a click, play, like …
   within ``sticky_s``), that image again, logged as a choice among one candidate (policy
   ``sticky``, propensity 1: what was actually done);
3. otherwise the selector's distribution, drawn with a seed derived from the viewer's session
   and the title, so the choice is stable within a session (a reload shows the same images)
   while the propensity stays the exact probability of that draw. A session is the client's
   ``session_id``, else it continues while the viewer's decisions are less than
   ``session_gap_s`` apart. A page's titles are scored in one ``Selector.distributions`` call
   (one feature build and one policy call for all their candidates), which gives each title
   what ``distribution`` gives it alone.

The viewer's last session and engaged images come from the event store through a short-lived
per-process cache (``artwork.viewer_activity``, ``activity_ttl_s``; 0 reads the store on every
request).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from artwork.catalog import ArtworkCandidate, Catalog
from artwork.errors import InputError
from artwork.event_store import EventStore
from artwork.records import Decision, new_decision_id
from artwork.rows import Row
from artwork.viewer_activity import DEFAULT_TTL_S, ViewerActivity, ViewerActivityCache
from models.sampling import sample_index

SEED_BITS = 63  # fits SQLite's signed 64-bit INTEGER and numpy's seed


@dataclass(frozen=True)
class SelectorDescription:
    """What a selector serves: ``name`` is the policy's registry name (``serving`` says who
    decides now: the tag prior while the policy is cold), ``n_updates`` the rows it has learnt
    from, ``feature_schema`` the features it reads (None for selectors without features)."""

    name: str
    serving: str
    version: str
    n_updates: int | None = None
    cold: bool = False
    feature_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class DecisionRequest:
    """One title to decide for: its eligible ``candidates``, the decision's ``context`` and the
    draw's ``seed`` (None: a fresh random one)."""

    title_id: str
    candidates: Sequence[ArtworkCandidate]
    context: Mapping[str, Any]
    seed: int | None = None


class Selector(ABC):
    """A policy over a title's artwork candidates; subclasses give ``distribution``."""

    name: str
    version: str

    @abstractmethod
    def distribution(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
    ) -> np.ndarray:
        """Probabilities for ``candidates`` in order: non-negative, summing to 1."""

    def distributions(self, user_id: str, requests: Sequence[DecisionRequest]) -> list[np.ndarray]:
        """``distribution`` for each of one viewer's ``requests`` (a page); a selector may score
        them all at once."""
        return [self.distribution(user_id, r.title_id, r.candidates, r.context) for r in requests]

    def why(self, decision: Decision) -> str:
        """A short sentence for people: why this artwork was shown."""
        p = decision.propensity
        return f"chosen by policy {self.name} v{self.version} with probability {p:.3g}"

    def explain(self, decisions: Sequence[Decision]) -> list[str]:
        """``why`` for each of ``decisions`` (a selector may find them all at once)."""
        return [self.why(d) for d in decisions]

    def snapshot(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The context a decision logs (a feature-based selector adds its schema key)."""
        return dict(context)

    def describe(self) -> SelectorDescription:
        """Name and version (a policy-based selector adds its learning state)."""
        return SelectorDescription(name=self.name, serving=self.name, version=self.version)

    def decide(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
        seed: int | None = None,
        now: float | None = None,
    ) -> Decision:
        """Sample one candidate from ``distribution`` and return the Decision that logs it.

        ``seed`` defaults to ``secrets.randbits(63)``; the same seed and inputs give the same
        choice. ``propensity`` is exactly ``distribution(...)[chosen]``.
        """
        request = DecisionRequest(title_id, candidates, context, seed)
        return self.decide_many(user_id, [request], now)[0]

    def decide_many(
        self, user_id: str, requests: Sequence[DecisionRequest], now: float | None = None
    ) -> list[Decision]:
        """``decide`` for each of one viewer's ``requests``, their distributions found in one
        ``distributions`` call."""
        for request in requests:
            if not request.candidates:
                raise InputError(f"title {request.title_id!r} has no artwork candidates",
                                 field="candidates")  # fmt: skip
            for candidate in request.candidates:
                if candidate.title_id != request.title_id:
                    raise InputError(
                        f"{candidate.artwork_id!r} belongs to title {candidate.title_id!r}, "
                        f"not {request.title_id!r}",
                        field="candidates",
                    )
        if not requests:
            return []
        created_at = time.time() if now is None else now
        decisions = []
        for request, p in zip(requests, self.distributions(user_id, requests), strict=True):
            candidates = request.candidates
            probabilities = _checked(p, len(candidates), self.name)
            seed = secrets.randbits(SEED_BITS) if request.seed is None else request.seed
            index = sample_index(probabilities, seed)
            decisions.append(Decision(
                decision_id=new_decision_id(), user_id=user_id, title_id=request.title_id,
                candidates=tuple(c.artwork_id for c in candidates),
                artwork_id=candidates[index].artwork_id,
                propensity=probabilities[index], policy=self.name,
                policy_version=self.version, seed=seed,
                context=self.snapshot(request.context), created_at=created_at,
            ))  # fmt: skip
        return decisions


class UniformSelector(Selector):
    """Pure exploration: every candidate with probability 1/K."""

    name = "uniform"
    version = "1"

    def distribution(
        self,
        user_id: str,
        title_id: str,
        candidates: Sequence[ArtworkCandidate],
        context: Mapping[str, Any],
    ) -> np.ndarray:
        """``1/K`` for each of the K candidates."""
        return np.full(len(candidates), 1.0 / len(candidates))

    def why(self, decision: Decision) -> str:
        k = len(decision.candidates)
        images = "image" if k == 1 else "images"
        return f"chosen uniformly at random among {k} {images} (exploration)"


class StickySelector(Selector):
    """The one image a viewer engaged through, shown again: one candidate, probability 1."""

    name = "sticky"
    version = "1"

    def distribution(self, user_id, title_id, candidates, context) -> np.ndarray:  # noqa: ANN001
        """Probability 1 for the single candidate."""
        if len(candidates) != 1:
            raise InputError(f"expected one candidate, got {len(candidates)}", field="candidates")
        return np.ones(1)

    def why(self, decision: Decision) -> str:
        return "the image you engaged with for this title, kept so that it stays familiar"


@dataclass(frozen=True)
class SelectionConfig:
    """Stickiness and session settings (see the module docstring)."""

    sticky_s: float = 7 * 24 * 3600.0
    session_gap_s: float = 30 * 60.0
    engagement: tuple[str, ...] = ("click", "play", "complete", "like")
    dismissals: tuple[str, ...] = ("dislike", "hide")  # a title dismissed leaves the rows
    default_device: str = "web"
    activity_ttl_s: float = DEFAULT_TTL_S  # how long a viewer's activity read is reused
    # viewer id -> the viewer's usual (device, hour), used when a request gives none
    usual_context: Mapping[str, tuple[str, int]] = field(default_factory=dict)


class SelectionPipeline:
    """Eligible candidates → stickiness → the selector, for one viewer's request."""

    def __init__(
        self,
        catalog: Catalog,
        selector: Selector,
        store: EventStore,
        config: SelectionConfig | None = None,
    ) -> None:
        self.catalog, self.selector, self.store = catalog, selector, store
        self.config = config or SelectionConfig()
        self._sticky = StickySelector()
        self.activity = ViewerActivityCache(
            store, self.config.activity_ttl_s, dismissals=self.config.dismissals
        )

    def decide_page(
        self,
        user_id: str,
        rows: Sequence[Row],
        context: Mapping[str, Any],
        *,
        max_maturity: str | None = None,
        session_id: str | None = None,
        now: float | None = None,
        activity: ViewerActivity | None = None,
    ) -> tuple[list[Row], list[list[Decision]]]:
        """One decision per title of each row (``context`` plus the title's place: ``row``,
        ``row_index``, ``position``); titles with no eligible image are left out of the rows
        returned. Nothing is stored: the caller records the decisions before answering.
        ``activity``: the viewer's, when the caller already read it (``viewer_activity``)."""
        now = time.time() if now is None else now
        activity = self._activity(user_id, now) if activity is None else activity
        base = self._base_context(user_id, context, session_id, now, activity)
        choosers = {True: self._sticky, False: self.selector}  # one version for the whole page
        kept_rows: list[list[str]] = [[] for _ in rows]
        slots: list[tuple[int, bool, DecisionRequest]] = []  # (row, sticky, request) in order
        for r, row in enumerate(rows):
            for title_id in row.title_ids:
                where = {"row": row.name, "row_index": r, "position": len(kept_rows[r])}
                found = self._request(title_id, {**base, **where}, activity.engaged,
                                      max_maturity, now)  # fmt: skip
                if found is not None:
                    kept_rows[r].append(title_id)
                    slots.append((r, *found))
        made = {
            sticky: iter(chooser.decide_many(
                user_id, [request for _, s, request in slots if s is sticky], now
            ))
            for sticky, chooser in choosers.items()
        }  # fmt: skip
        decisions: list[list[Decision]] = [[] for _ in rows]
        for r, sticky, _ in slots:
            decisions[r].append(next(made[sticky]))
        self.activity.decided(user_id, base["session"], now)
        kept = [
            Row(row.name, row.reason, tuple(ids)) for row, ids in zip(rows, kept_rows, strict=True)
        ]
        return kept, decisions

    def decide_title(
        self,
        user_id: str,
        title_id: str,
        context: Mapping[str, Any],
        *,
        max_maturity: str | None = None,
        session_id: str | None = None,
        now: float | None = None,
        activity: ViewerActivity | None = None,
    ) -> Decision | None:
        """One decision for one title (None when it has no eligible image); ``activity`` as
        for ``decide_page``."""
        now = time.time() if now is None else now
        activity = self._activity(user_id, now) if activity is None else activity
        base = self._base_context(user_id, context, session_id, now, activity)
        found = self._request(title_id, base, activity.engaged, max_maturity, now)
        self.activity.decided(user_id, base["session"], now)
        if found is None:
            return None
        sticky, request = found
        return (self._sticky if sticky else self.selector).decide_many(user_id, [request], now)[0]

    def viewer_activity(self, user_id: str, now: float | None = None) -> ViewerActivity:
        """The viewer's session, engaged images and dismissed titles (one cached read)."""
        return self._activity(user_id, time.time() if now is None else now)

    def cached_activity(self, user_id: str, now: float) -> ViewerActivity | None:
        """The viewer's activity when the cache holds it fresh, else None (no store read)."""
        return self.activity.peek(user_id, now - self.config.sticky_s, now)

    def forget_viewers(self, user_ids: Iterable[str]) -> None:
        """Events of these viewers were just stored: read their activity afresh next time."""
        self.activity.forget(user_ids)

    def why(self, decision: Decision) -> str:
        """The sentence for people of whichever selector made ``decision``."""
        return self.explain([decision])[0]

    def explain(self, decisions: Sequence[Decision]) -> list[str]:
        """``why`` for each of ``decisions``, in order; the selector's in one batch."""
        sticky = [d.policy == StickySelector.name for d in decisions]
        sentences = [
            self._sticky.why(d) if kept else "" for d, kept in zip(decisions, sticky, strict=True)
        ]
        chosen = [i for i, s in enumerate(sticky) if not s]
        batch = self.selector.explain([decisions[i] for i in chosen])
        for i, sentence in zip(chosen, batch, strict=True):
            sentences[i] = sentence
        return sentences

    def _request(
        self,
        title_id: str,
        context: Mapping[str, Any],
        engaged: Mapping[str, tuple[str, float]],
        max_maturity: str | None,
        now: float,
    ) -> tuple[bool, DecisionRequest] | None:
        """What to decide for ``title_id``: (True, its engaged image alone) when it is sticky,
        (False, its eligible images) otherwise; None when it has no eligible image."""
        eligible = self.catalog.eligible(title_id, now, max_maturity)
        if not eligible:
            return None
        seed = session_seed(context["session"], title_id)
        kept = engaged.get(title_id)
        sticky = [c for c in eligible if kept is not None and c.artwork_id == kept[0]]
        if sticky:
            return True, DecisionRequest(title_id, sticky, context, seed)
        return False, DecisionRequest(title_id, eligible, context, seed)

    def _activity(self, user_id: str, now: float) -> ViewerActivity:
        cfg = self.config
        return self.activity.get(user_id, now - cfg.sticky_s, cfg.engagement, now)

    def _base_context(
        self,
        user_id: str,
        context: Mapping[str, Any],
        session_id: str | None,
        now: float,
        activity: ViewerActivity,
    ) -> dict[str, Any]:
        """``context`` with device and hour filled in (the viewer's usual ones, else the
        default device and the UTC hour: what the features will use) and the session: the
        client's, else the one of the viewer's recent decisions, else a new one."""
        usual_device, usual_hour = self.config.usual_context.get(
            user_id, (self.config.default_device, time.gmtime(now).tm_hour)
        )
        device = context.get("device") or usual_device
        hour = usual_hour if context.get("hour") is None else context["hour"]
        if session_id is None:
            last = activity.last_decision_at
            recent = last is not None and now - last <= self.config.session_gap_s
            session_id = (activity.session if recent else None) or secrets.token_hex(8)
        return {**context, "device": device, "hour": hour, "session": session_id}


def session_seed(session_id: str, title_id: str) -> int:
    """The draw's seed for a title within a session: the same all session long."""
    digest = hashlib.blake2b(f"{session_id}\0{title_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - SEED_BITS)


def _checked(probabilities: np.ndarray, k: int, policy: str) -> list[float]:
    """The policy's distribution as Python floats (K is small: cheaper than numpy scalars),
    after checking it is one over ``k`` candidates."""
    p = np.asarray(probabilities, dtype=np.float64)
    assert p.shape == (k,), f"policy {policy}: distribution shape {p.shape}, expected ({k},)"
    values = p.tolist()
    assert min(values) >= 0 and abs(sum(values) - 1.0) <= 1e-9, (
        f"policy {policy}: not a probability distribution: {p}"
    )
    return values
