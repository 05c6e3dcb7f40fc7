"""``GET /v1/artwork/{artwork_id}/image``: a catalog image, found only through the catalog."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter
from fastapi.responses import FileResponse

from serve.state import Service

router = APIRouter(prefix="/v1", tags=["artwork"])


@router.get("/artwork/{artwork_id}/image", name="artwork_image", response_class=FileResponse)
def artwork_image(artwork_id: str, service: Service) -> FileResponse:
    """The image file; 404 for an id the catalog does not know."""
    path = service.catalog.image_path(artwork_id)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    # An artwork id names one immutable image, so browsers may keep it.
    return FileResponse(
        path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
