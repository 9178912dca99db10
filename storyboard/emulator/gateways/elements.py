"""Kling element creates into elements: the emulator's stand-in for Kling's element endpoint.

    POST /gw/kling{ELEMENT_PATH}          a create: its body checked, the element's id answered
    GET  /gw/kling{ELEMENT_PATH}/{id}     the element: processing, then succeed with its picture

Every fact of the endpoint is storyboard's guess (``targets.video.kling4``: its path, body and answer,
marked unverified); the emulator follows the declaration, so a probe that corrects it corrects
both. An element is ready ``latency`` seconds after its create; its picture is its frontal image
(fetched first with ``fetch_media``, as a vendor reads it). Each create is counted (``stats``:
``requests["element"]``), so a test sees an element made once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.dialects import DIALECTS
from storyboard.emulator.gateways.routes import PREFIX, check_dialect_auth, fetch_media, read_body
from storyboard.emulator.service import Service
from storyboard.emulator.state import new_id
from storyboard.emulator.validate import ApiError, invalid
from storyboard.targets.video.kling4 import ELEMENT_IMAGES, ELEMENT_PATH
from storyboard.targets.wire.gateways import KLING

BASE = f"{PREFIX}/{KLING.name}{ELEMENT_PATH}"
FIELDS = {"element_name", "element_description", "element_frontal_image", "element_refer_list"}
MOST_IMAGES = 4  # the spec: an element is 2-4 images
_IDS = itertools.count(880001)


@dataclass
class Element:
    element_id: str
    name: str
    picture: str  # its frontal image's URL
    created: float


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _store(request: Request) -> dict[str, Element]:
    """This app's elements, by id (kept on the app: one emulator, one account)."""
    state = request.app.state
    if not hasattr(state, "elements"):
        state.elements = {}
    found: dict[str, Element] = state.elements
    return found


def checked(body: dict[str, Any]) -> tuple[str, list[str]]:
    """The element's name and its images (the frontal first), or a 400 saying what is wrong."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise invalid(f"unknown parameter(s): {', '.join(unknown)}")
    name, frontal = body.get("element_name"), body.get("element_frontal_image")
    if not isinstance(name, str) or not name.strip():
        raise invalid("element_name must be a non-empty string")
    if not isinstance(body.get("element_description", ""), str):
        raise invalid("element_description must be a string")
    listed = body.get("element_refer_list", [])
    if not isinstance(listed, list) or not all(
            isinstance(i, dict) and set(i) == {"image_url"} for i in listed):
        raise invalid('element_refer_list must be a list of {"image_url": URL}')
    images = [frontal, *(i["image_url"] for i in listed)]
    if not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in images):
        raise invalid("element_frontal_image and each image_url must be an http(s) URL")
    if not ELEMENT_IMAGES <= len(images) <= MOST_IMAGES:
        raise invalid(f"an element is made from {ELEMENT_IMAGES} to {MOST_IMAGES} images; "
                      f"got {len(images)}")
    return name, [str(u) for u in images]


def _answer(element: Element, now: float, latency: float) -> dict[str, Any]:
    ready = now - element.created >= latency
    data: dict[str, Any] = {"element_id": element.element_id, "element_name": element.name,
                            "task_status": "succeed" if ready else "processing",
                            "created_at": int(element.created * 1000)}
    if ready:
        data["task_result"] = {"images": [{"index": 0, "url": element.picture}]}
    return {"code": 0, "message": "SUCCEED", "request_id": new_id(), "data": data}


async def create(request: Request) -> Response:
    check_dialect_auth(request, DIALECTS[KLING.name])
    service = _service(request)
    name, images = checked(await read_body(request))
    if service.config.fetch_media:
        await fetch_media([{"url": url} for url in images])
    element = Element(str(next(_IDS)), name, images[0], service.clock.now())
    _store(request)[element.element_id] = element
    return JSONResponse(_answer(element, element.created, service.config.latency))


async def query(request: Request) -> Response:
    check_dialect_auth(request, DIALECTS[KLING.name])
    service = _service(request)
    element = _store(request).get(str(request.path_params["element_id"]))
    if element is None:
        raise ApiError(404, "NotFound", "element not found")
    return JSONResponse(_answer(element, service.clock.now(), service.config.latency))


def routes() -> list[Route]:
    return [Route(BASE, create, methods=["POST"]),
            Route(BASE + "/{element_id}", query, methods=["GET"])]


def endpoint_of(method: str, path: str) -> str | None:
    """Which counted endpoint an element request is: ``element`` (a create) or its query."""
    return created_or_queried(method, path, BASE, "element")


def created_or_queried(method: str, path: str, base: str, name: str) -> str | None:
    """``name`` for a create (``POST base``), ``name-query`` for a query (``GET base/ID``)."""
    if method == "POST" and path.rstrip("/") == base:
        return name
    if method == "GET" and path.startswith(base + "/") and "/" not in path[len(base) + 1:]:
        return f"{name}-query"
    return None
