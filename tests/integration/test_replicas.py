"""Two service replicas (``artwork serve`` processes on loopback) over one PostgreSQL: each
joins the other's decisions and events, keeps the other's sessions and sticky images, and
learns the same policy from the decisions of both (skipped where no PostgreSQL can start)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import count

import httpx
import pytest

from artwork.event_store import EventStore
from artwork.records import Decision
from artwork.rewards import RewardPolicy, join_rewards
from bench.service_process import start_server, stop_server
from tests.postgres_server import fresh_database, postgres_url  # noqa: F401 (a fixture)

WINDOW_S = 6.0  # reward window: every event below is posted well inside it
LEARNING = {
    "learn_every_s": 0.5,
    "reward_window_s": WINDOW_S,
    "cold_start_updates": 5,  # the learnt policy replaces the tag prior within this test
    "log_format": "text",
}
LEARNT_WITHIN_S = WINDOW_S + 60.0  # generous: the machine is shared
PAGE = {"rows": 2, "per_row": 3}
_event_ids = count()


@dataclass(frozen=True)
class Replica:
    """One replica's HTTP client; every call checks the answer's status."""

    name: str
    http: httpx.Client

    def home(self, user_id: str, **params: object) -> list[dict]:
        """The artwork objects of ``user_id``'s home page, in row order."""
        page = self._get("/v1/home", user_id=user_id, **PAGE, **params)
        return [t["artwork"] for row in page["rows"] for t in row["titles"]]

    def artwork(self, user_id: str, title_id: str, **params: object) -> dict:
        return self._get("/v1/artwork", user_id=user_id, title_id=title_id, **params)

    def post(self, *events: dict) -> dict:
        response = self.http.post("/v1/events", json={"events": list(events)})
        assert response.status_code == 202, f"{self.name}: {response.text}"
        return response.json()

    def policies(self) -> dict:
        return self._get("/v1/policies")

    def _get(self, path: str, **params: object) -> dict:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, f"{self.name} {path}: {response.text}"
        return response.json()


@pytest.fixture(scope="module")
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture(scope="module")
def replicas(database, demo_world, tmp_path_factory) -> Iterator[tuple[Replica, Replica]]:
    """Replicas A and B: one world and one database, each its own learner folder; both are
    stopped (killed if need be) at the end, whatever happened."""
    root = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        started = []
        for name in ("a", "b"):
            settings = {**LEARNING, "learner_dir": root / f"learner-{name}"}
            process, base = start_server(demo_world, database, root / f"{name}.log", settings)
            stack.callback(stop_server, process)
            http = stack.enter_context(httpx.Client(base_url=base, timeout=30))
            started.append(Replica(name.upper(), http))
        yield started[0], started[1]


def event(decision_id: str, kind: str, value: float | None = None) -> dict:
    """A feedback event with a fresh ``event_id``."""
    return {"event_id": f"ev-{next(_event_ids)}", "decision_id": decision_id, "type": kind,
            "value": value}  # fmt: skip


def engagement(decision_id: str, n: int) -> tuple[list[dict], float]:
    """The ``n``-th kind of engagement with a decision and its quality-play reward: a lasting
    play (1), a click without viewing (0), only an impression (0)."""
    if n % 3 == 0:
        return [event(decision_id, "click"), event(decision_id, "play"),
                event(decision_id, "watch_seconds", 900.0)], 1.0  # fmt: skip
    if n % 3 == 1:
        return [event(decision_id, "click")], 0.0
    return [event(decision_id, "impression")], 0.0


def stored_decisions(database: str) -> list[Decision]:
    with EventStore(database) as store:
        return store.decisions()


def test_events_posted_to_either_replica_join_their_decisions(replicas, database):
    a, b = replicas
    made = {a.name: [], b.name: []}  # decision ids by the replica that made them
    for user in ("u0001", "u0002", "u0003"):
        for replica in (a, b):
            made[replica.name] += [x["decision_id"] for x in replica.home(user)]
        made[b.name].append(b.artwork(user, "t0004")["decision_id"])
    assert made[a.name] and made[b.name]

    # Each replica's decisions get their feedback through the other one.
    posted, expected = {}, {}
    for n, decision_id in enumerate(made[a.name] + made[b.name]):
        events, expected[decision_id] = engagement(decision_id, n)
        via = b if decision_id in made[a.name] else a
        assert via.post(*events) == {"accepted": len(events), "duplicates": 0}
        posted |= {e["event_id"]: decision_id for e in events}
    # One event sent to both at once is stored once.
    twice = event(made[a.name][0], "impression")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda r: r.post(twice), (a, b)))
    assert sorted(x["accepted"] for x in answers) == [0, 1], answers
    assert sum(x["duplicates"] for x in answers) == 1, answers
    posted[twice["event_id"]] = made[a.name][0]

    with EventStore(database) as store:
        ours = [d for d in store.decisions() if d.decision_id in expected]
        feedback = store.events_for(expected)
    assert {d.decision_id for d in ours} == expected.keys()
    assert len(feedback) == len(posted)  # each stored once ...
    assert {e.event_id: e.decision_id for e in feedback} == posted  # ... under its decision
    closed = max(d.created_at for d in ours) + WINDOW_S + 1  # every window has closed
    joined = join_rewards(ours, feedback, RewardPolicy(window_s=WINDOW_S), closed)
    assert {r.decision_id: r.reward for r in joined} == expected
    assert (joined.unknown_events, joined.late_events, joined.duplicate_events) == (0, 0, 0)


def test_a_viewer_keeps_session_and_engaged_image_across_replicas(replicas, database):
    a, b = replicas
    viewer, title = "new-viewer-1", "t0002"
    first = b.artwork(viewer, title)  # B reads this viewer before the click below
    seen = a.artwork(viewer, title)  # no session_id: the session of the viewer's last decision
    decisions = {d.decision_id: d for d in stored_decisions(database)}
    sessions = {decisions[x["decision_id"]].context["session"] for x in (first, seen)}
    assert len(sessions) == 1, sessions

    # A click on A's image, posted to A; B, in a new session, shows that image again.
    a.post(event(seen["decision_id"], "click"))
    again = b.artwork(viewer, title, session_id="another-session")
    assert (again["policy"], again["artwork_id"]) == ("sticky", seen["artwork_id"])
    assert again["propensity"] == 1.0


def test_both_learners_learn_every_decision_of_both_replicas(replicas, database):
    a, b = replicas
    for n, replica in enumerate((a, b)):
        shown = replica.home("u0004", device="tv", hour=21)
        (a, b)[1 - n].post(*engagement(shown[0]["decision_id"], 0)[0])
    decisions = stored_decisions(database)
    newest = max((d.created_at, d.decision_id) for d in decisions)

    policies = _policies_once_learnt(replicas, newest)
    forced = sum(d.policy == "sticky" for d in decisions)  # shown again: passed over
    for replica, answer in zip(replicas, policies, strict=True):
        learning = answer["learning"]
        assert learning["forced"] == forced, replica.name
        assert learning["trained"] + forced + learning["rejected"] == len(decisions), replica.name
        assert (learning["rejected"], learning["late_events"], learning["after_training"]) == (
            0, 0, 0,
        ), f"{replica.name}: {learning}"  # fmt: skip
        assert answer["policy"]["serving"] == "linucb_artwork", replica.name
    ids = {answer["learning"]["store_id"] for answer in policies}
    assert len(ids) == 1 and None not in ids  # two learners, one event store
    version = policies[0]["policy"]["version"]
    learnt = len(decisions) - forced
    assert policies[1]["policy"]["version"] == version == f"linucb_artwork-v1+{learnt}"

    # The same viewer, session and context get the same draw from the same learnt policy.
    for title in ("t0001", "t0002", "t0003", "t0004", "t0005", "t0006"):
        answers = [r.artwork("new-viewer-2", title, session_id="s", device="tv", hour=21)
                   for r in replicas]  # fmt: skip
        same = [{k: x[k] for k in ("artwork_id", "propensity", "policy", "policy_version")}
                for x in answers]  # fmt: skip
        assert same[0] == same[1], title
        assert same[0]["policy_version"] == version


def _policies_once_learnt(
    replicas: tuple[Replica, Replica], newest: tuple[float, str]
) -> list[dict]:
    """Both replicas' ``/v1/policies`` once each learner's watermark reached ``newest`` and
    each serves the policy its learner committed last."""
    deadline = time.monotonic() + LEARNT_WITHIN_S
    while True:
        answers = [r.policies() for r in replicas]
        if all(
            tuple(x["learning"]["watermark"] or ()) == newest
            and x["policy"]["n_updates"] == x["learning"]["trained"]
            for x in answers
        ):
            return answers
        assert time.monotonic() < deadline, f"not learnt up to {newest}: {answers}"
        time.sleep(0.25)
