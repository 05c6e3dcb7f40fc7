"""``POST /v1/labels`` (people's tag corrections) and ``GET /v1/labels.csv`` (their export)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from artwork.labels import human_labels, human_labels_csv
from serve.metrics import Metrics
from serve.schemas import LabelsAccepted, LabelsRequest
from serve.security import AdminAccess, WriteAccess
from serve.state import Service

router = APIRouter(prefix="/v1", tags=["labels"])


@router.post("/labels", status_code=202, response_model=LabelsAccepted, dependencies=[WriteAccess])
def post_labels(body: LabelsRequest, service: Service, metrics: Metrics) -> LabelsAccepted:
    """202 once the batch is committed; every label must name a catalog artwork and a tag of
    the vocabulary."""
    labels = human_labels(
        [item.model_dump() for item in body.labels],
        artwork_ids=service.catalog.artwork,
        tags=service.label_tags,
        max_labels=service.settings.max_labels_per_request,
    )
    accepted = service.store.record_labels(labels)
    metrics.labels.inc(accepted)
    return LabelsAccepted(accepted=accepted)


@router.get("/labels.csv", response_class=Response, dependencies=[AdminAccess])
def labels_csv(service: Service) -> Response:
    """The latest label of each (artwork, tag) as ``artwork_id,tag,label`` CSV, the human
    labels file ``training/calibrate_tags.py --labels`` reads."""
    return Response(
        human_labels_csv(service.store.latest_labels()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="labels.csv"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip
