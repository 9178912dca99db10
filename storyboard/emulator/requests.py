"""An HTTP request into what every route reads from it: the service, the caller's account, the
origin, and the answer's envelope (shared by ``app``'s native routes and ``castroutes``)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from storyboard.emulator.service import Service
from storyboard.emulator.state import new_id
from storyboard.emulator.validate import ApiError


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def answer(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse({"request_id": new_id(), **data}, status_code=status)


def check_auth(request: Request) -> None:
    """401 InvalidApiKey unless a bearer key is given (and is the configured one, if any)."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    expected = service_of(request).config.api_key
    if scheme.lower() != "bearer" or not key.strip() or (
            expected is not None and not hmac.compare_digest(key.strip(), expected)):
        raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")


def account_of(request: Request) -> str:
    """Whose task this is: a short digest of the bearer key (the key itself is never kept)."""
    key = request.headers.get("authorization", "").partition(" ")[2].strip()
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")
