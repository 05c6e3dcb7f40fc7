"""A viewer's recent activity for selection (session, engaged images), cached in the process.

Every decision needs two things of the viewer: the session of their last decision (to keep
choices stable within a session) and the images they engaged through (stickiness); a home page
also needs the titles they disliked or hid. Reading them from the event store costs a few
queries per request; ``ViewerActivityCache`` keeps each viewer's
answer for ``ttl_s`` seconds and updates it at once with what this process does itself:

- a decision made here moves the viewer's session clock (``decided``);
- events stored here drop the viewers they belong to (``forget``), so the next request reads
  the engagement afresh.

What another replica writes is seen once the entry expires, so with several replicas a viewer's
stickiness may lag by up to ``ttl_s`` (0 turns the cache off). At most ``max_viewers`` entries
are kept, the least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Protocol

DEFAULT_TTL_S = 5.0
DEFAULT_MAX_VIEWERS = 100_000


@dataclass(frozen=True)
class ViewerActivity:
    """The session and time of a viewer's last decision, {title_id: (artwork_id, time)} of the
    images they engaged through since ``since``, and of those they dismissed (ever)."""

    session: str | None
    last_decision_at: float | None
    engaged: MappingProxyType[str, tuple[str, float]]
    dismissed: MappingProxyType[str, tuple[str, float]]
    since: float
    read_at: float = field(compare=False)


Titles = dict[str, tuple[str, float]]


class ActivitySource(Protocol):
    def recent_activity(
        self, user_id: str, since: float, types: Iterable[str], dismissals: Iterable[str] = ()
    ) -> tuple[str | None, float | None, Titles, Titles]: ...


class ViewerActivityCache:
    """``source.recent_activity`` per viewer, kept ``ttl_s`` (see the module docstring)."""

    def __init__(
        self,
        source: ActivitySource,
        ttl_s: float = DEFAULT_TTL_S,
        max_viewers: int = DEFAULT_MAX_VIEWERS,
        dismissals: tuple[str, ...] = (),
    ) -> None:
        if ttl_s < 0 or max_viewers < 1:
            raise ValueError(f"ttl_s must be ≥ 0 and max_viewers ≥ 1, got {ttl_s}, {max_viewers}")
        self.source, self.ttl_s, self.max_viewers = source, ttl_s, max_viewers
        self.dismissals = dismissals  # event types that dismiss a title (read with the rest)
        self._entries: OrderedDict[str, ViewerActivity] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: str, since: float, types: Iterable[str], now: float) -> ViewerActivity:
        """The viewer's activity, engaged since ``since``: from the cache while fresh (and read
        at least as far back), else from the source."""
        entry = self.peek(user_id, since, now)
        if entry is not None:
            return entry
        session, at, engaged, dismissed = self.source.recent_activity(
            user_id, since, types, self.dismissals
        )
        entry = ViewerActivity(
            session, at, MappingProxyType(engaged), MappingProxyType(dismissed), since, now
        )
        if self.ttl_s > 0:
            self._put(user_id, entry)
        return entry

    def peek(self, user_id: str, since: float, now: float) -> ViewerActivity | None:
        """The cached activity while fresh (and read at least as far back as ``since``), else
        None: never reads the source, so an event loop may call it."""
        with self._lock:
            entry = self._entries.get(user_id)
            fresh = entry is not None and 0.0 <= now - entry.read_at <= self.ttl_s
            if not fresh or entry.since > since:
                return None
            self._entries.move_to_end(user_id)
        engaged = {t: v for t, v in entry.engaged.items() if v[1] >= since}
        return replace(entry, engaged=MappingProxyType(engaged), since=since)

    def decided(self, user_id: str, session: str, at: float) -> None:
        """This process made a decision for the viewer in ``session`` at ``at``."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is not None:
                self._entries[user_id] = replace(entry, session=session, last_decision_at=at)

    def forget(self, user_ids: Iterable[str]) -> None:
        """Drop these viewers' entries (events of theirs were just stored)."""
        with self._lock:
            for user_id in user_ids:
                self._entries.pop(user_id, None)

    def _put(self, user_id: str, entry: ViewerActivity) -> None:
        with self._lock:
            self._entries[user_id] = entry
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.max_viewers:
                self._entries.popitem(last=False)
