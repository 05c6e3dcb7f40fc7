"""Decision and FeedbackEvent validate on construction and name the field at fault."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from artwork.errors import InputError, InputErrors
from artwork.records import EVENT_TYPES, Decision, FeedbackEvent, feedback_events


def test_a_valid_decision_is_frozen_with_a_read_only_context(make_decision):
    decision = make_decision(candidates=["t1_a0", "t1_a1"], propensity=0.5)
    assert decision.candidates == ("t1_a0", "t1_a1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.artwork_id = "t1_a0"  # type: ignore[misc]
    with pytest.raises(TypeError):
        decision.context["device"] = "web"  # type: ignore[index]
    assert decision.context_json() == '{"device":"tv","hour":21}'


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"decision_id": "not-hex"}, "decision_id"),
        ({"user_id": ""}, "user_id"),
        ({"candidates": ()}, "candidates"),
        ({"candidates": ("t1_a1", "t1_a1")}, "candidates"),
        ({"artwork_id": "t2_a0"}, "artwork_id"),
        ({"propensity": 0.0}, "propensity"),
        ({"propensity": 1.5}, "propensity"),
        ({"propensity": math.nan}, "propensity"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"seed": True}, "seed"),
        ({"context": {"when": object()}}, "context"),
        ({"context": {"x": math.inf}}, "context"),
        ({"created_at": -5.0}, "created_at"),
        ({"policy": " "}, "policy"),
    ],
)
def test_a_bad_decision_names_its_field(make_decision, overrides, field):
    with pytest.raises(InputError) as caught:
        make_decision(**overrides)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "context",
    [
        {"x": {"y": [1.0, math.nan]}},
        {"x": (math.inf,)},
        {"x": [{"y": -math.inf}]},
        {"x": np.float64("nan")},
        {"x": np.int64(3)},
    ],  # fmt: skip
)
def test_a_context_that_json_cannot_hold_exactly_is_refused_however_deep(make_decision, context):
    with pytest.raises(InputError) as caught:
        make_decision(context=context)
    assert caught.value.field == "context"


@pytest.mark.parametrize(
    "context",
    [
        {"b": "Amélie", "a": [1, 2.5e-7, None, True]},
        {2: "a key that is not a string"},
        {"big": 2**70, "nested": {"z": 1, "y": (1.5,)}},
    ],  # fmt: skip
)
def test_a_contexts_json_is_compact_with_sorted_keys(make_decision, context):
    text = make_decision(context=context).context_json()
    expected = json.loads(json.dumps(context))  # what the context reads back as
    assert json.loads(text) == expected
    assert list(json.loads(text)) == sorted(expected) and ", " not in text and ": " not in text


def test_a_propensity_of_one_is_allowed(make_decision):
    assert make_decision(candidates=("t1_a1",), propensity=1.0).propensity == 1.0


def test_event_value_defaults_to_one_except_watch_seconds():
    for event_type in EVENT_TYPES:
        if event_type == "watch_seconds":
            continue
        event = FeedbackEvent(event_id="e", decision_id="d", type=event_type, time=1.0)
        assert event.value == 1.0
    watched = FeedbackEvent(event_id="e", decision_id="d", type="watch_seconds", value=0, time=1)
    assert watched.value == 0.0 and isinstance(watched.value, float)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
        ({"decision_id": ""}, "decision_id"),
        ({"type": "purchase"}, "type"),
        ({"type": "watch_seconds"}, "value"),
        ({"type": "watch_seconds", "value": -1.0}, "value"),
        ({"value": math.nan}, "value"),
        ({"time": math.inf}, "time"),
    ],
)
def test_a_bad_event_names_its_field(fields, field):
    base = {"event_id": "e1", "decision_id": "d1", "type": "click", "time": 1.0}
    with pytest.raises(InputError) as caught:
        FeedbackEvent(**{**base, **fields})
    assert caught.value.field == field


def test_feedback_events_default_the_time_and_index_every_problem():
    items = [
        {"event_id": "a", "decision_id": "d", "type": "click", "value": None, "time": None},
        {"event_id": "b", "decision_id": "d", "type": "nope", "value": None, "time": 3.0},
        {"event_id": "c", "decision_id": "d", "type": "watch_seconds", "value": -2, "time": 3.0},
    ]
    assert feedback_events(items[:1], now=99.0)[0].time == 99.0
    with pytest.raises(InputErrors) as caught:
        feedback_events(items, now=99.0)
    assert [e.field for e in caught.value.errors] == ["events[1].type", "events[2].value"]


def test_feedback_events_refuse_an_oversized_batch():
    items = [{"event_id": str(i), "decision_id": "d", "type": "click"} for i in range(3)]
    with pytest.raises(InputErrors) as caught:
        feedback_events(items, now=1.0, max_events=2)
    assert caught.value.errors[0].field == "events"


def test_decisions_compare_equal_by_value(make_decision):
    decision = make_decision()
    assert decision == Decision(
        **{f.name: getattr(decision, f.name) for f in dataclasses.fields(decision)}
    )


def test_decision_ids_are_fresh_hex_in_every_thread():
    import re
    import threading

    from artwork.records import new_decision_id

    found: list[str] = []

    def draw() -> None:
        found.extend(new_decision_id() for _ in range(1000))  # several pools per thread

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(found)) == len(found) == 4000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in found)


def test_decision_ids_are_uuid7_ordered_by_time():
    import time
    import uuid

    from artwork.records import new_decision_id

    before = int(time.time() * 1000)
    first = new_decision_id()
    time.sleep(0.003)
    later = [new_decision_id() for _ in range(200)]
    after = int(time.time() * 1000)
    for value in (first, *later):
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert before <= int(value[:12], 16) <= after  # the first 48 bits: Unix milliseconds
    assert all(first < value for value in later)  # a later millisecond sorts after
    # the 74 random bits vary: no two ids of the same millisecond share their tail
    assert len({value[12:] for value in later}) == len(later)
