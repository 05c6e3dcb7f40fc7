"""``GET /healthz`` (alive), ``GET /readyz`` (able to serve) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from serve.metrics import Metrics
from serve.reload import Runner
from serve.schemas import ErrorResponse, StatusOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=StatusOut)
async def healthz() -> StatusOut:
    """200 while the process answers at all."""
    return StatusOut(status="ok")


@router.get(
    "/readyz",
    response_model=StatusOut,
    responses={503: {"model": ErrorResponse, "description": "not ready, with the reason"}},
)
def readyz(runner: Runner) -> StatusOut | JSONResponse:
    """200 when the state is loaded and the event store answers; 503 with the reason if not."""
    reason = runner.unready_reason()
    if reason is not None:
        return JSONResponse(ErrorResponse(detail=reason).model_dump(), status_code=503)
    return StatusOut(status="ready")


@router.get("/metrics", response_class=Response)
def metrics(registry: Metrics) -> Response:
    """Every series in Prometheus' text format."""
    return Response(registry.render(), media_type=registry.content_type)
