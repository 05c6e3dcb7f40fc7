"""``GET /v1/home`` (rows of titles with their artwork), ``GET /v1/artwork`` and ``/v1/viewers``."""

from __future__ import annotations

import time
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from artwork.catalog import MATURITY_RATINGS
from artwork.errors import NotFoundError
from artwork.rows import chosen_genres
from artwork.viewer_activity import ViewerActivity
from serve.metrics import ServiceMetrics
from serve.query import direct_get, openapi_query, read_query
from serve.schemas import ArtworkOut, HomeResponse, ViewersResponse
from serve.state import Service, ServiceState

router = APIRouter(prefix="/v1", tags=["home"])

MAX_VIEWERS_LISTED = 50

Device = Literal["tv", "mobile", "web", "tablet"]
Maturity = Literal[MATURITY_RATINGS]  # type: ignore[valid-type]


class ViewerQuery(BaseModel):
    """Who asks, and where and when: what every decision is made for."""

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1, max_length=128)
    device: Device | None = None
    hour: int | None = Field(None, ge=0, le=23, description="viewer's local hour")
    max_maturity: Maturity | None = Field(
        None, description="the profile's highest allowed rating (e.g. PG for a child's profile)"
    )
    session_id: str | None = Field(
        None, max_length=128, description="the client's session; choices are stable within one"
    )


class HomeQuery(ViewerQuery):
    """``GET /v1/home``'s parameters."""

    rows: int | None = Field(None, ge=1, le=20)
    per_row: int | None = Field(None, ge=1, le=50)
    genres: str | None = Field(
        None, max_length=1000, description="comma-separated genres the viewer chose at onboarding"
    )


class ArtworkQuery(ViewerQuery):
    """``GET /v1/artwork``'s parameters."""

    title_id: str = Field(min_length=1, max_length=128)


@direct_get(router, "/home", response_model=HomeResponse, openapi_extra=openapi_query(HomeQuery))
async def home(request: Request) -> Response:
    """Rows for ``user_id``, ranked for the ``device`` and ``hour`` given; every artwork
    decision is stored before the response is sent."""
    q = read_query(request, HomeQuery)
    service, metrics = _live(request)
    # A title the viewer disliked or hid leaves their rows; titles like it move down.
    now = time.time()
    activity = await _viewer_activity(service, q.user_id, now)  # one read: rows and decisions
    page = service.home_rows(
        q.user_id,
        q.rows or service.settings.rows,
        q.per_row or service.settings.per_row,
        disliked=frozenset(activity.dismissed),
        hour=q.hour,
        device=q.device,
        genres=chosen_genres(q.genres or ""),
    )
    page, decisions = service.selection.decide_page(
        q.user_id, page, {"device": q.device, "hour": q.hour}, max_maturity=q.max_maturity,
        session_id=q.session_id, now=now, activity=activity,
    )  # fmt: skip
    logged = [d for row in decisions for d in row]
    await service.store.record_decisions_async(logged)
    metrics.count_decisions(logged)
    body = HomeResponse.document(
        q.user_id, page, decisions, service.catalog, service.selection.explain, _image_url(request)
    )
    return _fresh_json(body)


@direct_get(router, "/artwork", response_model=ArtworkOut,
            openapi_extra=openapi_query(ArtworkQuery))  # fmt: skip
async def artwork(request: Request) -> Response:
    """One decision, for clients that build their own rows; stored before the response."""
    q = read_query(request, ArtworkQuery)
    service, metrics = _live(request)
    if q.title_id not in service.catalog.titles:
        raise NotFoundError(f"unknown title {q.title_id!r}")
    now = time.time()
    decision = service.selection.decide_title(
        q.user_id, q.title_id, {"device": q.device, "hour": q.hour},
        max_maturity=q.max_maturity, session_id=q.session_id, now=now,
        activity=await _viewer_activity(service, q.user_id, now),
    )  # fmt: skip
    if decision is None:
        raise NotFoundError(f"title {q.title_id!r} has no artwork this viewer may see now")
    await service.store.record_decisions_async([decision])
    metrics.count_decisions([decision])
    why = service.selection.why(decision)
    return _fresh_json(ArtworkOut.document(decision, why, _image_url(request)))


@router.get("/viewers", response_model=ViewersResponse)
def viewers(service: Service) -> ViewersResponse:
    """Up to 50 viewer ids from the viewing history, sorted, for the page's switcher."""
    return ViewersResponse(viewers=sorted(service.history.viewers)[:MAX_VIEWERS_LISTED])


def _live(request: Request) -> tuple[ServiceState, ServiceMetrics]:
    """The state and metrics (read here, not as ``Service``/``Metrics`` dependencies: each
    dependency FastAPI solves cost these hot routes ~20 µs per request, half a decision)."""
    state = request.app.state
    return state.service, state.metrics


async def _viewer_activity(service: ServiceState, user_id: str, now: float) -> ViewerActivity:
    """The viewer's activity: from the cache, else read from the store. A SQLite file is read
    on the event loop: two indexed reads of a local WAL file never wait for a writer and take
    ~17 µs, a fifth of a hop to a worker thread (~90 µs of CPU, and a wait in its queue under
    load). A database server is read in a worker thread: a network round trip must not hold
    up the loop."""
    selection = service.selection
    cached = selection.cached_activity(user_id, now)
    if cached is not None:
        return cached
    if service.store.local:
        return selection.viewer_activity(user_id, now)
    return await run_in_threadpool(selection.viewer_activity, user_id, now)


def _fresh_json(body: dict[str, Any]) -> Response:
    """``body`` (data in the route's response model's shape) as compact UTF-8 JSON, not to be
    cached: each answer is a fresh set of logged decisions, and a cached copy would show them
    twice. Encoded as is: FastAPI's validation against ``response_model`` is skipped. orjson
    encodes a 10 × 10 page in ~11 µs, the standard library's encoder in ~180 µs (every number
    here is finite: propensities are checked when a decision is made)."""
    return Response(orjson.dumps(body), media_type="application/json", headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store"}
_ID_SLOT = "ARTWORK-ID-SLOT"


def _image_url(request: Request):  # noqa: ANN202
    """artwork_id → its image path; the route is looked up once per app and root path."""
    state = request.app.state
    paths = getattr(state, "image_paths", None)
    if paths is None:
        paths = state.image_paths = {}
    root = request.scope.get("root_path", "")
    path = paths.get(root)
    if path is None:
        path = paths[root] = str(request.url_for("artwork_image", artwork_id=_ID_SLOT).path)
    return lambda artwork_id: path.replace(_ID_SLOT, artwork_id)
