"""The service's Prometheus metrics: requests, decisions, events, labels, learning and event lag.

Each app has its own ``CollectorRegistry`` (never the process-wide one), so many apps in one
process (tests) keep separate counts. Counters are bumped as things happen; the learner's last
step, the serving policy and the event lag are read from the live state at each scrape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from artwork.errors import ArtifactError
from artwork.event_store import RecordResult
from artwork.records import Decision

if TYPE_CHECKING:
    from serve.state import ServiceState

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"  # one label for every path no route knows (bounded cardinality)


class ServiceMetrics:
    """One app's metrics; ``live`` returns the state being served (None before start-up)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, live: Callable[[], ServiceState | None]) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter("artwork_http_requests", "HTTP requests answered, by route "
                                "template and status", labels, registry=self.registry)  # fmt: skip
        self.latency = Histogram(
            "artwork_http_request_duration_seconds", "time to answer an HTTP request", labels,
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.decisions = Counter("artwork_decisions", "artwork decisions logged, by the policy "
                                 "that made them", ["policy"], registry=self.registry)  # fmt: skip
        self.events = Counter("artwork_events_accepted", "feedback events newly stored, by type",
                              ["type"], registry=self.registry)  # fmt: skip
        self.duplicates = Counter("artwork_events_duplicate", "feedback events whose event_id "
                                  "was already stored", registry=self.registry)  # fmt: skip
        self.labels = Counter("artwork_labels_accepted", "tag labels stored",
                              registry=self.registry)  # fmt: skip
        self.reloads = Counter("artwork_reloads", "hot reloads, by outcome", ["outcome"],
                               registry=self.registry)  # fmt: skip
        self.registry.register(_LiveCollector(live))
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._decision_series: dict[str, Counter] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:  # labels() checks and locks on every call: once per key is enough
            labels = (method, route, str(status))
            series = self._request_series[key] = (
                self.requests.labels(*labels),
                self.latency.labels(*labels),
            )
        series[0].inc()
        series[1].observe(seconds)

    def count_decisions(self, decisions: Sequence[Decision]) -> None:
        """Count logged decisions by the policy that made them."""
        policies = {d.policy for d in decisions}
        for policy in policies:
            n = len(decisions) if len(policies) == 1 else sum(d.policy == policy for d in decisions)
            series = self._decision_series.get(policy)
            if series is None:
                series = self._decision_series[policy] = self.decisions.labels(policy)
            series.inc(n)

    def count_events(self, result: RecordResult) -> None:
        for event_type, n in result.accepted_types.items():
            self.events.labels(event_type).inc(n)
        self.duplicates.inc(result.duplicates)

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class _LiveCollector(Collector):
    """Gauges read from the served state at scrape time: policy, learner, event lag."""

    def __init__(self, live: Callable[[], ServiceState | None]) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        state = self.live()
        if state is None:
            return
        policy = state.selection.selector.describe()
        info = GaugeMetricFamily("artwork_policy_info", "the serving policy (value 1)",
                                 labels=["name", "serving", "version"])  # fmt: skip
        info.add_metric([policy.name, policy.serving, policy.version], 1.0)
        yield info
        if policy.n_updates is not None:
            yield _gauge("artwork_policy_updates", "feedback rows the serving policy learnt from",
                         policy.n_updates)  # fmt: skip
        yield from self._learning(state)
        yield from self._lag(state)

    @staticmethod
    def _learning(state: ServiceState) -> Iterator[Metric]:
        loop = state.learning
        if loop is None:
            return
        yield CounterMetricFamily("artwork_learner_trained_decisions", "decisions the online "
                                  "learner has learnt from since its state folder began",
                                  value=loop.learner.state.trained)  # fmt: skip
        report = loop.last_report
        if report is None or loop.last_step_at is None:
            return
        yield _gauge("artwork_learner_last_step_timestamp_seconds", "when the last learning "
                     "step ended (Unix seconds)", loop.last_step_at)  # fmt: skip
        yield _gauge("artwork_learner_last_step_trained", "decisions the last learning step "
                     "learnt from", report.trained)  # fmt: skip
        if report.mean_reward is not None:
            yield _gauge("artwork_learner_last_step_mean_reward", "mean reward of the decisions "
                         "the last step learnt from", report.mean_reward)  # fmt: skip
        yield _gauge("artwork_learner_backlog", "1 when closed reward windows are still waiting "
                     "to be learnt from", float(report.backlog))  # fmt: skip

    @staticmethod
    def _lag(state: ServiceState) -> Iterator[Metric]:
        try:
            newest = state.store.newest()
        except ArtifactError as exc:
            log.warning("metrics: no event lag this scrape: %s", exc)
            return
        lag = GaugeMetricFamily("artwork_event_lag_seconds", "seconds since the newest stored "
                                "record of each kind", labels=["record"])  # fmt: skip
        now = time.time()
        for record, at in (("decision", newest.decision_at), ("event", newest.event_at)):
            if at is not None:
                lag.add_metric([record], max(0.0, now - at))
        yield lag


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


async def get_metrics(request: Request) -> ServiceMetrics:
    """The app's metrics, for ``Depends``."""
    return request.app.state.metrics


Metrics = Annotated[ServiceMetrics, Depends(get_metrics)]
