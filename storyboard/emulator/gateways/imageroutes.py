"""Seedream and Kling image bodies into pictures: the vendors' image APIs beside their video ones.

    POST /gw/{ark|modelark}/images/generations     Seedream 4.x, synchronous: the picture at once
    POST /gw/kling/v1/images/omni-image            Kling's Omni image task
    GET  /gw/kling/v1/images/omni-image/{task_id}  one task, in Kling's envelope and words
    GET  /gw/kling/v1/images/omni-image            the account's image tasks

Bodies are checked as the declarations say (``targets.cast.assets``: the model's makers, references,
prompt length, sizes and pixel bounds); pictures are drawn by the cast's image tasks (``assets``),
billed and served as theirs are. The fault plan applies as everywhere: ``image:`` faults to a
submit (refused, lost, slow, ...), ``task:`` faults to the picture (``failed``, ``moderation``,
``refused=image``: refused after it was made; ``size``: drawn at half the size asked for). A
synchronous call takes its ``task:`` fault in its own answer (an error, or the wrong size).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.dialects import DIALECTS
from storyboard.dialects.images import (
    IMAGE_WIRES,
    KLING_IMAGE,
    KLING_RATIOS,
    KLING_TIERS,
    SEEDREAM,
    ImageWire,
)
from storyboard.emulator.cast.assets import ImageRequest, ImageTask, ImageTasks
from storyboard.emulator.gateways.routes import PREFIX, check_dialect_auth, fetch_media, read_body
from storyboard.emulator.service import Service
from storyboard.emulator.state import FAILURES, new_id
from storyboard.emulator.validate import ApiError, invalid
from storyboard.targets.cast.assets import BOARD_MODELS, ImageModel, board_model_of
from storyboard.targets.kinds import has
from storyboard.targets.wire.gateways import KLING

WXH = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")
SEEDREAM_TIERS = {"2K": 2048, "4K": 4096}
KLING_WORDS = {"PENDING": "submitted", "RUNNING": "processing", "SUCCEEDED": "succeed",
               "FAILED": "failed", "CANCELED": "failed"}
URL_PREFIXES = ("http://", "https://", "data:image/")


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _model(body: Mapping[str, Any], field: str, kind: str) -> ImageModel:
    """The declared image model ``body[field]`` names (by its wire id), made by ``kind``."""
    name = body.get(field)
    if not isinstance(name, str) or not name:
        raise ApiError(400, "MissingParameter", f"{field} is required")
    found = next((m for m in BOARD_MODELS.values()
                  if (m.wire_id or m.id) == name and kind in m.makers), None)
    if found is None:
        raise invalid(f"The model {name} does not exist or you do not have access to it.")
    return found


def _prompt(body: Mapping[str, Any], model: ImageModel) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "MissingParameter", "prompt must be a non-empty string")
    if len(prompt) > model.prompt_limit:
        raise invalid(f"prompt is longer than {model.prompt_limit} characters")
    return prompt


def _urls(urls: list[Any], model: ImageModel, where: str) -> tuple[str, ...]:
    if len(urls) > model.max_references:
        raise invalid(f"{where} has {len(urls)} images; at most {model.max_references}")
    for index, url in enumerate(urls):
        if not isinstance(url, str) or not url.startswith(URL_PREFIXES):
            raise ApiError(400, "InvalidParameter", f"{where}[{index}] must be an http(s) URL "
                           "or a data:image/ URI")
    return tuple(urls)


def _pixels(model: ImageModel, width: int, height: int) -> None:
    problem = model.size_problem(width, height, 0)
    if problem is not None:
        raise invalid(f"size {width}x{height} is not one {model.id} makes: {problem}")


# -- Seedream, synchronous ------------------------------------------------------------------------


SEEDREAM_FIELDS = {"model", "prompt", "image", "size", "sequential_image_generation",
                   "sequential_image_generation_options", "response_format", "watermark",
                   "seed", "stream", "guidance_scale", "optimize_prompt_options"}


def seedream_request(body: dict[str, Any], kind: str) -> ImageRequest:
    """A Seedream body checked (Ark's own field names; an unknown one is refused, as a client's
    slip should be caught)."""
    unknown = sorted(set(body) - SEEDREAM_FIELDS)
    if unknown:
        raise invalid(f"unknown parameter(s): {', '.join(unknown)}")
    model = _model(body, "model", kind)
    image = body.get("image", [])
    images = _urls(image if isinstance(image, list) else [image], model, "image")
    if body.get("sequential_image_generation", "disabled") != "disabled":
        raise invalid("the emulator makes one picture a call: sequential_image_generation "
                      "must be disabled")
    if body.get("response_format", "url") != "url":
        raise invalid("the emulator answers URLs only (response_format: url)")
    if "watermark" in body and not isinstance(body["watermark"], bool):
        raise invalid("watermark must be a boolean")
    width, height = _seedream_size(body.get("size", "2048x2048"))
    _pixels(model, width, height)
    return ImageRequest(model.id, _prompt(body, model), images, width, height, 1, None)


def _seedream_size(size: object) -> tuple[int, int]:
    if isinstance(size, str) and size in SEEDREAM_TIERS:
        return SEEDREAM_TIERS[size], SEEDREAM_TIERS[size]
    match = WXH.match(size) if isinstance(size, str) else None
    if match is None:
        raise invalid("size must be 2K, 4K or WIDTHxHEIGHT (e.g. 2560x1440)")
    return int(match.group(1)), int(match.group(2))


def _gateway(request: Request, wire: ImageWire) -> str:
    """The gateway the path names, when it speaks ``wire`` (else 404, as for any other path)."""
    kind = str(request.path_params["gateway"])
    if IMAGE_WIRES.get(kind) is not wire or not has(kind, "gateway"):
        raise ApiError(404, "NotFound", f"No route {request.method} {request.url.path}.")
    check_dialect_auth(request, DIALECTS[kind])
    return kind


async def seedream(request: Request) -> Response:
    kind = _gateway(request, SEEDREAM)
    accepted = seedream_request(await read_body(request), kind)
    service = _service(request)
    await _fetched(service, accepted)
    fault = service.faults.take("task")
    if fault is not None:
        service.stats.faults[str(fault)] += 1
    said = fault.tag if fault is not None else None
    if said in FAILURES:  # refused or failed after the picture was made: an error, not billed
        code, message = FAILURES[said]
        raise ApiError(500 if code == "InternalError" else 400, _ark_code(code), message)
    await asyncio.sleep(service.config.latency)
    files = await service.images.draw_now(accepted, said)
    ended = service.clock.now()
    data = [{"url": service.images.url(_origin(request), path, ended),
             "size": f"{accepted.width}x{accepted.height}"} for path in files]
    tokens = accepted.width * accepted.height // 256
    return JSONResponse({"model": accepted.model, "created": int(time.time()), "data": data,
                         "usage": {"generated_images": len(files), "output_tokens": tokens,
                                   "total_tokens": tokens}})


async def _fetched(service: Service, accepted: ImageRequest) -> None:
    """With ``fetch_media``, each reference's URL fetched as the vendor does (a 400 if not)."""
    if service.config.fetch_media:
        await fetch_media([{"url": url} for url in accepted.images])


def _ark_code(code: str) -> str:
    """Ark's word for a picture refused or failed after it was made."""
    return {"DataInspectionFailed": "OutputImageSensitiveContentDetected",
            "InternalError": "InternalServiceError"}.get(code, code)


# -- Kling, a task --------------------------------------------------------------------------------


KLING_FIELDS = {"model_name", "prompt", "image_list", "element_list", "resolution", "n",
                "aspect_ratio", "watermark_info", "callback_url", "external_task_id"}


def kling_request(body: dict[str, Any]) -> ImageRequest:
    unknown = sorted(set(body) - KLING_FIELDS)
    if unknown:
        raise invalid(f"unknown parameter(s): {', '.join(unknown)}")
    model = _model(body, "model_name", KLING.name)
    listed = body.get("image_list", [])
    if not isinstance(listed, list) or not all(isinstance(i, dict) and set(i) == {"image"}
                                               for i in listed):
        raise invalid('image_list must be a list of {"image": URL}')
    images = _urls([item["image"] for item in listed], model, "image_list")
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 9:
        raise invalid("n must be an integer in 1..9")
    width, height = _kling_size(model, body.get("resolution", "1k"),
                                body.get("aspect_ratio", "auto"))
    return ImageRequest(model.id, _prompt(body, model), images, width, height, n, None)


def _kling_size(model: ImageModel, tier: object, ratio: object) -> tuple[int, int]:
    tiers = {**KLING_TIERS, **({"4k": 4096} if model.max_side >= 4096 else {})}
    if tier not in tiers:
        raise invalid(f"resolution must be one of {', '.join(tiers)} for {model.id}")
    if ratio != "auto" and ratio not in KLING_RATIOS:
        raise invalid(f"aspect_ratio must be auto or one of {', '.join(KLING_RATIOS)}")
    w, _, h = (str(ratio) if ratio != "auto" else "1:1").partition(":")
    side, across, down = tiers[str(tier)], int(w), int(h)
    width, height = (side, side * down / across) if across >= down else \
        (side * across / down, side)
    return max(16, round(width / 16) * 16), max(16, round(height / 16) * 16)


def _kling_answer(task: ImageTask, images: ImageTasks, origin: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": task.task_id, "task_status": KLING_WORDS.get(task.status, "failed"),
        "task_status_msg": task.message, "task_info": {"external_task_id": ""},
        "created_at": int(task.created * 1000),
        "updated_at": int((task.ended or task.created) * 1000)}
    if task.code:
        data["task_status_code"] = "1301" if task.code == "DataInspectionFailed" else "5000"
    if task.status == "SUCCEEDED":
        data["task_result"] = {"images": [
            {"index": n, "url": images.url(origin, path, task.ended or 0.0)}
            for n, path in enumerate(task.files)]}
    return {"code": 0, "message": "SUCCEED", "request_id": new_id(), "data": data}


async def kling_submit(request: Request) -> Response:
    _gateway(request, KLING_IMAGE)
    accepted = kling_request(await read_body(request))
    await _fetched(_service(request), accepted)
    task = _service(request).images.submit(accepted)
    return JSONResponse(_kling_answer(task, _service(request).images, _origin(request)))


async def kling_query(request: Request) -> Response:
    _gateway(request, KLING_IMAGE)
    images = _service(request).images
    task = images.get(request.path_params["task_id"])
    if task is None or not _kling_task(task):
        raise ApiError(404, "NotFound", "task not found")
    return JSONResponse(_kling_answer(task, images, _origin(request)))


async def kling_list(request: Request) -> Response:
    _gateway(request, KLING_IMAGE)
    images = _service(request).images
    tasks = sorted((t for t in images.tasks.values()
                    if images.get(t.task_id) is not None and _kling_task(t)),
                   key=lambda t: -t.created)
    listed = [_kling_answer(task, images, _origin(request))["data"] for task in tasks]
    return JSONResponse({"code": 0, "message": "SUCCEED", "request_id": new_id(),
                         "data": listed})


def _kling_task(task: ImageTask) -> bool:
    model = board_model_of(task.request.model)
    return model is not None and KLING.name in model.makers


# -- routes ---------------------------------------------------------------------------------------


def _paths() -> list[tuple[str, str, ImageWire]]:
    """(gateway, its base path, wire) for every gateway that makes pictures."""
    return [(name, f"{PREFIX}/{name}", wire) for name, wire in IMAGE_WIRES.items()
            if name in DIALECTS and has(name, "gateway")]


def routes() -> list[Route]:
    found: dict[tuple[str, str], Route] = {}
    for _name, _base, wire in _paths():
        wanted = [(wire.submit_path, seedream if wire.synchronous else kling_submit, "POST")]
        if not wire.synchronous:
            wanted += [(wire.task_path, kling_query, "GET"), (wire.list_path, kling_list, "GET")]
        for path, handler, method in wanted:
            route = f"{PREFIX}/{{gateway}}{path}"
            found.setdefault((route, method), Route(route, handler, methods=[method]))
    return list(found.values())


def endpoint_of(method: str, path: str) -> str | None:
    """Which counted endpoint a picture request is: ``image`` (a submit), ``query``, ``list``."""
    for _name, base, wire in _paths():
        if not path.startswith(base + "/"):
            continue
        rest = path[len(base):].rstrip("/")
        if method == "POST" and rest == wire.submit_path:
            return "image"
        if method == "GET" and not wire.synchronous and rest == wire.list_path:
            return "list"
        if method == "GET" and not wire.synchronous and re.fullmatch(
                re.escape(wire.task_path).replace(r"\{task_id\}", "[^/]+"), rest):
            return "query"
    return None
