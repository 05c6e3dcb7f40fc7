"""``GET /v1/policies`` (what is served and how it learns) and ``POST /v1/admin/reload``."""

from __future__ import annotations

from fastapi import APIRouter

from serve.reload import Runner
from serve.schemas import ErrorResponse, PoliciesResponse
from serve.security import AdminAccess
from serve.state import Service

router = APIRouter(prefix="/v1", tags=["admin"])


@router.get("/policies", response_model=PoliciesResponse)
def policies(service: Service) -> PoliciesResponse:
    """The serving policy (version, updates, feature schema, offline estimates) and the online
    learner's state when it learns."""
    return PoliciesResponse.build(service)


@router.post(
    "/admin/reload",
    response_model=PoliciesResponse,
    dependencies=[AdminAccess],
    responses={500: {"model": ErrorResponse, "description": "reload failed; the old state serves"}},
)
async def reload(runner: Runner) -> PoliciesResponse:
    """Re-read the world, tags and policy into a new state and swap it in; requests in flight
    finish on the old one. On failure the previous state keeps serving."""
    return PoliciesResponse.build(await runner.reload())
