"""``POST /v1/events``: store a batch of feedback events, all or nothing, idempotently."""

from __future__ import annotations

import time

from fastapi import APIRouter

from artwork.records import feedback_events
from serve.metrics import Metrics
from serve.schemas import EventsAccepted, EventsRequest
from serve.security import WriteAccess
from serve.state import Service

router = APIRouter(prefix="/v1", tags=["events"])


@router.post("/events", status_code=202, response_model=EventsAccepted, dependencies=[WriteAccess])
def post_events(body: EventsRequest, service: Service, metrics: Metrics) -> EventsAccepted:
    """202 once the batch is committed; repeated event ids count as duplicates."""
    events = feedback_events(
        [e.model_dump() for e in body.events],
        now=time.time(),
        max_events=service.settings.max_events_per_request,
    )
    result = service.store.record_events(events)
    service.selection.forget_viewers(result.viewers)  # their stickiness may have changed
    metrics.count_events(result)
    return EventsAccepted(accepted=result.accepted, duplicates=result.duplicates)
