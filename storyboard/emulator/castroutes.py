"""Cast requests into answers: the image-generation, voice-design, speech and result routes.

    POST {base}/services/aigc/image-generation/generation   image task (X-DashScope-Async: enable)
    POST {base}/services/audio/tts/customization            voice design: create, list, query, delete
    POST {base}/services/aigc/multimodal-generation/generation   a line in a designed voice
    GET  /cast/{sha256}.png|.wav?Expires=&Signature=        a picture or a spoken line

Image tasks are polled and cancelled on ``{base}/tasks/{id}`` (see ``app``). The rules are in
``assets`` and ``voices``; this module reads bodies and headers and shapes answers.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.emulator.cast.assets import validate_image
from storyboard.emulator.cast.standins import png_size
from storyboard.emulator.faultwire import API
from storyboard.emulator.requests import answer, check_auth, origin, service_of
from storyboard.emulator.uploads import OssError
from storyboard.emulator.validate import ApiError, invalid


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None


def _key(request: Request) -> str:
    check_auth(request)
    return request.headers.get("authorization", "").partition(" ")[2].strip()


async def image(request: Request) -> Response:
    check_auth(request)
    if request.headers.get("x-dashscope-async", "").lower() != "enable":
        raise ApiError(403, "AccessDenied",
                       "This endpoint takes asynchronous calls only (X-DashScope-Async: enable).")
    service = service_of(request)
    resolve = request.headers.get("x-dashscope-ossresourceresolve", "").lower() == "enable"

    def known(url: str, model: str) -> bool:
        stored = service.uploads.lookup(url)
        return stored is not None and stored.model == model

    def size_of(url: str) -> tuple[int, int] | None:
        stored = service.uploads.lookup(url)
        found = png_size(stored.path.read_bytes()) if stored is not None else None
        return (found[0], found[1]) if found else None

    accepted = validate_image(await _body(request), oss_resolve=resolve, known_upload=known,
                              size_of=size_of)
    task = service.images.submit(accepted)
    return JSONResponse({"request_id": task.request_id,
                         "output": {"task_id": task.task_id, "task_status": "PENDING"}})


async def voice(request: Request) -> Response:
    key = _key(request)
    return answer(service_of(request).voices.handle(await _body(request), key))


async def speech(request: Request) -> Response:
    key = _key(request)
    if request.headers.get("x-dashscope-sse", "").lower() == "enable":
        raise invalid("the emulator answers speech in one piece (no X-DashScope-SSE)")
    voices = service_of(request).voices
    return answer(voices.speak(await _body(request), key, origin(request)))


async def result(request: Request) -> Response:
    name: str = request.path_params["name"]
    try:
        path = service_of(request).images.file(name, request.query_params.get("Expires", ""),
                                               request.query_params.get("Signature", ""))
    except PermissionError as exc:
        raise OssError(403, "AccessDenied", str(exc)) from None
    if path is None:
        raise OssError(404, "NoSuchKey", "The specified key does not exist.")
    kind = "image/png" if name.endswith(".png") else "audio/wav"
    # A picture or a line is small: read at once, not chunk by chunk through worker threads
    # (each a wake-up on a busy machine, and the client waits for every one of them).
    return Response(path.read_bytes(), media_type=kind)


def routes() -> list[Route]:
    return [
        Route(f"{API}/services/aigc/image-generation/generation", image, methods=["POST"]),
        Route(f"{API}/services/audio/tts/customization", voice, methods=["POST"]),
        Route(f"{API}/services/aigc/multimodal-generation/generation", speech, methods=["POST"]),
        Route("/cast/{name}", result, methods=["GET"]),
    ]
