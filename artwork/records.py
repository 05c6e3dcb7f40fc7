"""Records that cross stage boundaries: a logged artwork decision and a feedback event.

Both are frozen and validate themselves on construction, raising ``InputError`` that names the
field, so a record that exists is a record that is well formed.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn

import orjson

from artwork.errors import InputError, InputErrors
from artwork.ids import random_bytes

EVENT_TYPES = (
    "impression", "click", "play", "watch_seconds", "complete", "like", "dislike", "hide",
)  # fmt: skip
MAX_EVENT_ID_LENGTH = 128
MAX_SEED = 2**63  # seeds are stored as SQLite INTEGER (signed 64-bit) and fed to numpy
_DECISION_ID = re.compile(r"[0-9a-f]{32}")
# json.dumps builds an encoder per call when given options; one, made once, for what orjson
# refuses (see ``_context_json``)
_CONTEXT_JSON = json.JSONEncoder(allow_nan=False, sort_keys=True, separators=(",", ":"))


_RANDOM_BYTES = 10  # 80 drawn bits per id, 74 of them used
_MS_MASK = (1 << 48) - 1


def new_decision_id() -> str:
    """A fresh decision id: a UUID version 7 (RFC 9562) as 32 lowercase hex digits — the Unix
    time in milliseconds, then 74 random bits (``artwork.ids``).

    Time first keeps the ids of new decisions together at the end of the primary-key index, so
    each insert touches the same few index pages: with random ids (uuid4) SQLite spent ~4× the
    CPU per logged home page once the log held 10⁵ decisions, and more as it grew. 74 random
    bits keep ids unguessable and unique."""
    bits = int.from_bytes(random_bytes(_RANDOM_BYTES), "big")
    ms = int(time.time() * 1000) & _MS_MASK
    # 48 bits of time | version 7 | 12 random bits | variant 0b10 | 62 random bits
    value = ms << 80 | 0x7 << 76 | (bits >> 68) << 64 | 0b10 << 62 | bits & ((1 << 62) - 1)
    return f"{value:032x}"


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One artwork choice for one (user, title), logged before the response leaves.

    ``propensity`` is the probability the policy gave ``artwork_id``; ``seed`` reproduces the
    draw; ``context`` is a JSON-serialisable snapshot (device, hour, page position, ...).
    """

    decision_id: str
    user_id: str
    title_id: str
    candidates: tuple[str, ...]
    artwork_id: str
    propensity: float
    policy: str
    policy_version: str
    seed: int
    context: Mapping[str, Any] = field(hash=False)
    created_at: float

    def __post_init__(self) -> None:
        # Checked on every decision made (a hundred a home page), so the common case is a few
        # cheap tests; a failed one re-runs the check that names the field.
        if not isinstance(self.decision_id, str) or not _DECISION_ID.fullmatch(self.decision_id):
            _fail("decision_id", f"expected 32 lowercase hex digits, got {self.decision_id!r}")
        texts = (self.user_id, self.title_id, self.policy, self.policy_version)
        if not all(type(text) is str and text.strip() for text in texts):
            for name in ("user_id", "title_id", "policy", "policy_version"):
                _require_text(name, getattr(self, name))
        candidates = tuple(self.candidates)
        if not candidates:
            _fail("candidates", "at least one candidate is required")
        if set(map(type, candidates)) != {str} or not all(map(str.strip, candidates)):
            for candidate in candidates:  # one C-level pass above; this names the culprit
                _require_text("candidates", candidate)
        if len(set(candidates)) != len(candidates):
            _fail("candidates", f"repeated artwork id in {candidates}")
        object.__setattr__(self, "candidates", candidates)
        if self.artwork_id not in candidates:
            _fail("artwork_id", f"{self.artwork_id!r} is not among the candidates")
        if not _is_number(self.propensity) or not 0.0 < self.propensity <= 1.0:
            _fail("propensity", f"expected 0 < p <= 1, got {self.propensity!r}")
        if type(self.seed) is not int and (
            not isinstance(self.seed, int) or isinstance(self.seed, bool)
        ):
            _fail("seed", f"expected an integer, got {self.seed!r}")
        if not 0 <= self.seed < MAX_SEED:
            _fail("seed", f"expected 0 <= seed < 2**63, got {self.seed}")
        if type(self.context) is not dict and not isinstance(self.context, Mapping):
            _fail("context", f"expected a mapping, got {type(self.context).__name__}")
        context = dict(self.context)
        text = _context_json(context)
        object.__setattr__(self, "context", MappingProxyType(context))
        object.__setattr__(self, "_context_json", text)
        _require_time("created_at", self.created_at)

    def context_json(self) -> str:
        """The context snapshot as compact JSON (keys sorted)."""
        return self._context_json  # type: ignore[attr-defined]  (set once, when checked)


@dataclass(frozen=True, kw_only=True)
class FeedbackEvent:
    """Something a person did with a decision's artwork; ``event_id`` is an idempotency key.

    ``value`` is seconds for ``watch_seconds`` (required, >= 0); for other types it defaults
    to 1.0.
    """

    event_id: str
    decision_id: str
    type: str
    value: float | None = None
    time: float

    def __post_init__(self) -> None:
        _require_text("event_id", self.event_id)
        if len(self.event_id) > MAX_EVENT_ID_LENGTH:
            _fail("event_id", f"longer than {MAX_EVENT_ID_LENGTH} characters")
        _require_text("decision_id", self.decision_id)
        if self.type not in EVENT_TYPES:
            _fail("type", f"unknown event type {self.type!r} (known: {', '.join(EVENT_TYPES)})")
        if self.value is None:
            if self.type == "watch_seconds":
                _fail("value", "watch_seconds needs a value (seconds watched)")
            object.__setattr__(self, "value", 1.0)
        elif not _is_number(self.value):
            _fail("value", f"expected a finite number, got {self.value!r}")
        elif self.type == "watch_seconds" and self.value < 0:
            _fail("value", f"watch_seconds must be >= 0, got {self.value}")
        object.__setattr__(self, "value", float(self.value))
        _require_time("time", self.time)


def feedback_events(
    items: Sequence[Mapping[str, Any]],
    *,
    now: float,
    max_events: int | None = None,
    field_name: str = "events",
) -> list[FeedbackEvent]:
    """Build events from plain mappings (``time`` defaults to ``now``), checking them all.

    Raises ``InputErrors`` naming ``events[i].field`` for every bad item, or ``events`` when
    there are more than ``max_events``.
    """
    if max_events is not None and len(items) > max_events:
        raise InputErrors(
            [InputError(f"{len(items)} events, at most {max_events} per batch", field=field_name)]
        )
    events: list[FeedbackEvent] = []
    errors: list[InputError] = []
    for i, item in enumerate(items):
        fields = dict(item)
        if fields.get("time") is None:
            fields["time"] = now
        try:
            events.append(FeedbackEvent(**fields))
        except InputError as exc:
            errors.append(InputError(exc.reason, field=f"{field_name}[{i}].{exc.field}"))
        except TypeError as exc:  # an unexpected or missing keyword
            errors.append(InputError(str(exc), field=f"{field_name}[{i}]"))
    if errors:
        raise InputErrors(errors)
    return events


def _fail(field_name: str, message: str) -> NoReturn:
    raise InputError(message, field=field_name)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _require_text(field_name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail(field_name, f"expected a non-empty string, got {value!r}")


def _require_time(field_name: str, value: object) -> None:
    if not _is_number(value) or value < 0:  # type: ignore[operator]
        _fail(field_name, f"expected Unix seconds (a finite number >= 0), got {value!r}")


def _context_json(context: dict[str, Any]) -> str:
    """``context`` as compact JSON, keys sorted; ``InputError`` when it is not serialisable
    or holds a number that is not finite. orjson encodes a decision's context in ~0.3 µs, the
    standard library in ~1.9 µs; what orjson refuses (a key that is not a string, an integer
    beyond 64 bits) is left to the standard encoder, which decides as it always did."""
    if _finite(context):
        try:
            return orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass
    try:
        return _CONTEXT_JSON.encode(context)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not JSON-serialisable: {exc}", field="context") from exc


def _finite(value: object) -> bool:
    """No float in ``value`` (a JSON-like tree) is NaN or infinite (orjson writes them as null;
    the standard encoder, asked not to allow them, refuses). Any other value: the encoders
    decide."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    if kind is dict or kind is list or kind is tuple:
        for item in value.values() if kind is dict else value:  # type: ignore[attr-defined]
            item_kind = type(item)
            if item_kind is float:
                if not math.isfinite(item):
                    return False
            elif item_kind in (dict, list, tuple) and not _finite(item):
                return False
    return True
