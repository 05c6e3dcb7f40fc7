"""``GET /v1/home`` (rows of titles with their artwork), ``GET /v1/artwork`` and ``/v1/viewers``."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from artwork.catalog import MATURITY_RATINGS
from artwork.errors import NotFoundError
from artwork.personal_rows import personal_rows
from artwork.rows import chosen_genres
from serve.metrics import Metrics
from serve.schemas import ArtworkOut, HomeResponse, ViewersResponse
from serve.state import Service

router = APIRouter(prefix="/v1", tags=["home"])

MAX_VIEWERS_LISTED = 50

UserId = Annotated[str, Query(min_length=1, max_length=128)]
Device = Literal["tv", "mobile", "web", "tablet"]
Hour = Annotated[int | None, Query(ge=0, le=23, description="viewer's local hour")]
Maturity = Annotated[
    Literal[MATURITY_RATINGS] | None,  # type: ignore[valid-type]
    Query(description="the profile's highest allowed rating (e.g. PG for a child's profile)"),
]
Session = Annotated[
    str | None,
    Query(max_length=128, description="the client's session; choices are stable within one"),
]
Genres = Annotated[
    str | None,
    Query(max_length=1000, description="comma-separated genres the viewer chose at onboarding"),
]


@router.get("/home", response_model=HomeResponse)
def home(
    request: Request,
    response: Response,
    service: Service,
    metrics: Metrics,
    user_id: UserId,
    device: Device | None = None,
    hour: Hour = None,
    rows: Annotated[int | None, Query(ge=1, le=20)] = None,
    per_row: Annotated[int | None, Query(ge=1, le=50)] = None,
    max_maturity: Maturity = None,
    session_id: Session = None,
    genres: Genres = None,
) -> HomeResponse:
    """Rows for ``user_id``, ranked for the ``device`` and ``hour`` given; every artwork
    decision is stored before the response is sent."""
    # A title the viewer disliked or hid leaves their rows; titles like it move down.
    now = time.time()
    activity = service.selection.viewer_activity(user_id, now)  # one read: rows and decisions
    page = personal_rows(
        service.catalog,
        service.history,
        service.ranker,
        user_id,
        n_rows=rows or service.settings.rows,
        per_row=per_row or service.settings.per_row,
        disliked=activity.dismissed,
        hour=hour,
        device=device,
        genres=chosen_genres(genres or ""),
    )
    page, decisions = service.selection.decide_page(
        user_id, page, {"device": device, "hour": hour}, max_maturity=max_maturity,
        session_id=session_id, now=now, activity=activity,
    )  # fmt: skip
    logged = [d for row in decisions for d in row]
    service.store.record_decisions(logged)
    metrics.count_decisions(logged)
    # Each response is a fresh set of logged decisions; a cached copy would show them twice.
    response.headers["Cache-Control"] = "no-store"
    return HomeResponse.build(
        user_id, page, decisions, service.catalog, service.selection.why, _image_url(request)
    )


@router.get("/artwork", response_model=ArtworkOut)
def artwork(
    request: Request,
    response: Response,
    service: Service,
    metrics: Metrics,
    user_id: UserId,
    title_id: Annotated[str, Query(min_length=1, max_length=128)],
    device: Device | None = None,
    hour: Hour = None,
    max_maturity: Maturity = None,
    session_id: Session = None,
) -> ArtworkOut:
    """One decision, for clients that build their own rows; stored before the response."""
    if title_id not in service.catalog.titles:
        raise NotFoundError(f"unknown title {title_id!r}")
    decision = service.selection.decide_title(
        user_id, title_id, {"device": device, "hour": hour}, max_maturity=max_maturity,
        session_id=session_id,
    )  # fmt: skip
    if decision is None:
        raise NotFoundError(f"title {title_id!r} has no artwork this viewer may see now")
    service.store.record_decisions([decision])
    metrics.count_decisions([decision])
    response.headers["Cache-Control"] = "no-store"
    return ArtworkOut.build(decision, service.selection.why, _image_url(request))


@router.get("/viewers", response_model=ViewersResponse)
def viewers(service: Service) -> ViewersResponse:
    """Up to 50 viewer ids from the viewing history, sorted, for the page's switcher."""
    return ViewersResponse(viewers=sorted(service.history.viewers)[:MAX_VIEWERS_LISTED])


_ID_SLOT = "ARTWORK-ID-SLOT"


def _image_url(request: Request):  # noqa: ANN202
    """artwork_id → its image path; the route is looked up once per request, not per image."""
    path = str(request.url_for("artwork_image", artwork_id=_ID_SLOT).path)
    return lambda artwork_id: path.replace(_ID_SLOT, artwork_id)
