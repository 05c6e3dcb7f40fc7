"""Who may write and administer: a bearer token, compared in constant time.

With ``ARTWORK_API_TOKEN`` set, writes and admin endpoints need ``Authorization: Bearer
<token>`` (401 with ``WWW-Authenticate: Bearer`` otherwise). Without a token (the local demo),
writes are open and admin endpoints answer 403, unless ``ARTWORK_ADMIN_OPEN=true``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from serve.state import Service

_bearer = HTTPBearer(auto_error=False, description="ARTWORK_API_TOKEN")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def require_writer(service: Service, credentials: Credentials) -> None:
    """Let a write through: anyone when no token is configured, else the token's holder."""
    _check_token(service.settings.api_token, credentials)


async def require_admin(service: Service, credentials: Credentials) -> None:
    """Let an admin request through: the token's holder, or anyone with ``admin_open`` and no
    token configured."""
    settings = service.settings
    if settings.api_token is None and not settings.admin_open:
        raise HTTPException(
            403,
            "admin endpoints are closed: set ARTWORK_API_TOKEN (and send it as a bearer "
            "token), or ARTWORK_ADMIN_OPEN=true on a private machine",
        )
    _check_token(settings.api_token, credentials)


def _check_token(
    expected: SecretStr | None, credentials: HTTPAuthorizationCredentials | None
) -> None:
    if expected is None:
        return
    if credentials is None:
        raise HTTPException(401, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    given = credentials.credentials.encode()
    if not hmac.compare_digest(given, expected.get_secret_value().encode()):
        challenge = 'Bearer error="invalid_token"'
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": challenge})


WriteAccess = Depends(require_writer)
AdminAccess = Depends(require_admin)
