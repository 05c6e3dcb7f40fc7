"""``GET /v1/home`` (rows of titles, each with its chosen artwork) and ``GET /v1/viewers``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from artwork.rows import home_rows
from artwork.selection import decide_rows
from serve.schemas import HomeResponse, ViewersResponse
from serve.state import Service

router = APIRouter(prefix="/v1", tags=["home"])

MAX_VIEWERS_LISTED = 50


@router.get("/home", response_model=HomeResponse)
def home(
    request: Request,
    response: Response,
    service: Service,
    user_id: Annotated[str, Query(min_length=1, max_length=128)],
    device: Literal["tv", "mobile", "web", "tablet"] | None = None,
    hour: Annotated[int | None, Query(ge=0, le=23, description="viewer's local hour")] = None,
    rows: Annotated[int | None, Query(ge=1, le=20)] = None,
    per_row: Annotated[int | None, Query(ge=1, le=50)] = None,
) -> HomeResponse:
    """Rows for ``user_id``; every artwork decision is stored before the response is sent."""
    page = home_rows(
        service.catalog,
        service.history,
        user_id,
        n_rows=rows or service.settings.rows,
        per_row=per_row or service.settings.per_row,
    )
    decisions = decide_rows(
        service.selector, service.catalog, page, user_id, {"device": device, "hour": hour}
    )
    service.store.record_decisions(d for row in decisions for d in row)
    # Each response is a fresh set of logged decisions; a cached copy would show them twice.
    response.headers["Cache-Control"] = "no-store"
    return HomeResponse.build(
        user_id,
        page,
        decisions,
        service.catalog,
        service.selector,
        lambda artwork_id: str(request.url_for("artwork_image", artwork_id=artwork_id).path),
    )


@router.get("/viewers", response_model=ViewersResponse)
def viewers(service: Service) -> ViewersResponse:
    """Up to 50 viewer ids from the viewing history, sorted, for the page's switcher."""
    return ViewersResponse(viewers=sorted(service.history.viewers)[:MAX_VIEWERS_LISTED])
