"""Integration fixtures: a small demo world, alone or with a uniform decision log and simulated
feedback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.world import WorldSpec, build_world, load_world
from artwork.event_store import EventStore
from artwork.records import FeedbackEvent
from artwork.selection import UniformSelector

T0 = 1_767_225_600.0
DAY = 86_400.0
N_DECISIONS = 400


@dataclasses.dataclass(frozen=True)
class UniformLog:
    """A world folder and an event store of N_DECISIONS uniform decisions, one a second from
    T0, with feedback; at ``now`` every reward window (a day) has closed."""

    world: Path
    db: Path
    now: float = T0 + N_DECISIONS + 2 * DAY


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo world folder (6 titles, 20 viewers u0001…), built once per test module (about a
    second); tests read it and write elsewhere."""
    root = tmp_path_factory.mktemp("demo-world")
    return build_world(root / "world", WorldSpec(seed=3, titles=6, viewers=20), workers=1)


@pytest.fixture(scope="module")
def uniform_log(demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> UniformLog:
    """Built once per test module (about a second)."""
    root = tmp_path_factory.mktemp("uniform-log")
    world = load_world(demo_world)
    rng = np.random.default_rng(0)
    selector = UniformSelector()
    titles = [t for t in world.catalog.titles if world.catalog.candidates(t)]
    viewers = world.response.viewer_ids
    decisions, events = [], []
    for i in range(N_DECISIONS):
        user = viewers[int(rng.integers(len(viewers)))]
        title = titles[int(rng.integers(len(titles)))]
        # A quarter of the decisions log no device or hour, as the service may.
        device = None if i % 4 == 0 else ("tv", "mobile", "web", "tablet")[i % 3]
        hour = None if i % 4 == 0 else int(rng.integers(24))
        decision = selector.decide(
            user, title, world.catalog.candidates(title), {"device": device, "hour": hour}, seed=i
        )
        decision = dataclasses.replace(decision, created_at=T0 + i)
        decisions.append(decision)
        response = world.response.respond(user, [decision.artwork_id], device, hour)
        at = decision.created_at + 60.0
        kinds = [("impression", None)]
        if rng.random() < min(1.0, 4 * response.click[0]):  # boosted so a tiny log has rewards
            kinds.append(("click", None))
            if rng.random() < response.play_given_click[0]:
                kinds += [("play", None), ("watch_seconds", 900.0)]
        events += [
            FeedbackEvent(
                event_id=f"e{i}-{j}",
                decision_id=decision.decision_id,
                type=kind,
                value=value,
                time=at + j,
            )  # fmt: skip
            for j, (kind, value) in enumerate(kinds)
        ]
    with EventStore(root / "events.db") as store:
        store.record_decisions(decisions)
        store.record_events(events)
    return UniformLog(demo_world, root / "events.db")
