"""``GET /`` (the viewer's page) and ``GET /admin`` (the admin page): plain HTML, JS and CSS
from ``serve/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/admin")
def admin() -> FileResponse:
    return FileResponse(STATIC_DIR / "admin.html", media_type="text/html")
