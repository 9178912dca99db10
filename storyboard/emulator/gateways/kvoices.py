"""Kling custom voice creates into voices: the emulator's stand-in for Kling's custom voice endpoint.

    POST /gw/kling{VOICE_PATH}          a create: its body checked, the voice's id answered
    GET  /gw/kling{VOICE_PATH}/{id}     the voice: processing, then succeed with its audition clip

Every fact of the endpoint is storyboard's guess (``targets.video.kling4``: its path, body and answer,
marked unverified); the emulator follows the declaration, so a probe that corrects it corrects
both. A voice is ready ``latency`` seconds after its create; its audition clip is the clip it was
made from (fetched first with ``fetch_media``, as a vendor reads it). Each create is counted
(``stats``: ``requests["kvoice"]``), so a test sees a voice made once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.dialects import DIALECTS
from storyboard.emulator.gateways.elements import created_or_queried
from storyboard.emulator.gateways.routes import PREFIX, check_dialect_auth, fetch_media, read_body
from storyboard.emulator.service import Service
from storyboard.emulator.state import new_id
from storyboard.emulator.validate import ApiError, invalid
from storyboard.targets.video.kling4 import VOICE_NAME_LIMIT, VOICE_PATH
from storyboard.targets.wire.gateways import KLING

BASE = f"{PREFIX}/{KLING.name}{VOICE_PATH}"
FIELDS = {"voice_name", "voice_url"}
_IDS = itertools.count(770001)


@dataclass
class Voice:
    voice_id: str
    name: str
    clip: str  # the URL of the clip it was made from
    created: float


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _store(request: Request) -> dict[str, Voice]:
    """This app's voices, by id (kept on the app: one emulator, one account)."""
    state = request.app.state
    if not hasattr(state, "kvoices"):
        state.kvoices = {}
    found: dict[str, Voice] = state.kvoices
    return found


def checked(body: dict[str, Any]) -> tuple[str, str]:
    """The voice's name and its clip's URL, or a 400 saying what is wrong."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise invalid(f"unknown parameter(s): {', '.join(unknown)}")
    name, url = body.get("voice_name"), body.get("voice_url")
    if not isinstance(name, str) or not name.strip() or len(name) > VOICE_NAME_LIMIT:
        raise invalid(f"voice_name must be a non-empty string of at most {VOICE_NAME_LIMIT} "
                      "characters")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid("voice_url must be an http(s) URL")
    return name, url


def _answer(voice: Voice, now: float, latency: float) -> dict[str, Any]:
    ready = now - voice.created >= latency
    data: dict[str, Any] = {"task_id": voice.voice_id,
                            "task_status": "succeed" if ready else "processing",
                            "created_at": int(voice.created * 1000)}
    if ready:
        data["task_result"] = {"voices": [{"voice_id": voice.voice_id, "voice_name": voice.name,
                                           "trial_url": voice.clip, "owned_by": "user"}]}
    return {"code": 0, "message": "SUCCEED", "request_id": new_id(), "data": data}


async def create(request: Request) -> Response:
    check_dialect_auth(request, DIALECTS[KLING.name])
    service = _service(request)
    name, url = checked(await read_body(request))
    if service.config.fetch_media:
        await fetch_media([{"url": url}])
    voice = Voice(str(next(_IDS)), name, url, service.clock.now())
    _store(request)[voice.voice_id] = voice
    return JSONResponse(_answer(voice, voice.created, service.config.latency))


async def query(request: Request) -> Response:
    check_dialect_auth(request, DIALECTS[KLING.name])
    service = _service(request)
    voice = _store(request).get(str(request.path_params["voice_id"]))
    if voice is None:
        raise ApiError(404, "NotFound", "voice not found")
    return JSONResponse(_answer(voice, service.clock.now(), service.config.latency))


def routes() -> list[Route]:
    return [Route(BASE, create, methods=["POST"]),
            Route(BASE + "/{voice_id}", query, methods=["GET"])]


def endpoint_of(method: str, path: str) -> str | None:
    """Which counted endpoint a voice request is: ``kvoice`` (a create) or its query."""
    return created_or_queried(method, path, BASE, "kvoice")
