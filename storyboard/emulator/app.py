"""HTTP requests into service calls: the routes of the native API, the upload host and the admin.

    POST {base}/services/aigc/video-generation/video-synthesis    submit
    POST {base}/services/aigc/image2video/video-synthesis         submit (videoretalk: lip-sync)
    GET  {base}/tasks/{task_id}                                   query
    POST {base}/tasks/{task_id}/cancel                            cancel
    GET  {base}/tasks?start_time=&end_time=&...                   list
    GET  {base}/uploads?action=getPolicy&model=...                upload policy
    POST /oss                                                     the upload host (OSS form post)
    GET  /results/{task_id}.mp4?Expires=&Signature=               result video
    (the cast's image, voice and speech routes: see ``cast_routes``; image tasks poll here)
    GET  /_emulator/stats    GET|POST /_emulator/faults    POST /_emulator/clock   (admin)

``{base}`` is ``http://HOST:PORT/api/v1``. Every ``{base}`` call needs
``Authorization: Bearer KEY``. The gateway dialects are served beside it under
``/gw/{name}`` (see ``gateways``), over the same service, faults and counts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from storyboard.emulator import castroutes as cast_routes
from storyboard.emulator.chat import completions as chat
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.faults import parse_rate, parse_script
from storyboard.emulator.faultwire import API, FaultWire, Receive, Scope, Send, Wording, endpoint_of
from storyboard.emulator.gateways import arkassets, catalogues, elements, imageroutes, kvoices
from storyboard.emulator.gateways import routes as gateways
from storyboard.emulator.render import RenderFn
from storyboard.emulator.requests import account_of, answer, check_auth, origin, service_of
from storyboard.emulator.service import Service
from storyboard.emulator.state import new_id
from storyboard.emulator.uploads import OssError
from storyboard.emulator.validate import ApiError, invalid
from storyboard.targets.cast.assets import image_model_of
from storyboard.targets.video.models import DASHSCOPE_PASSES, family, model_of
from storyboard.targets.wire.gateways import DASHSCOPE

MAX_FORM_FILES = 1


# --- the native API --------------------------------------------------------------------------


async def submit(request: Request) -> Response:
    check_auth(request)
    if request.headers.get("x-dashscope-async", "").lower() != "enable":
        # What the service answers a synchronous call to an async-only model.
        raise ApiError(403, "AccessDenied", "current user api does not support synchronous calls")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
    if isinstance(body, dict) and isinstance(body.get("model"), str) \
            and not served_here(body["model"], request.url.path):
        raise invalid("Model not exist.")
    request_id = new_id()
    resolve = request.headers.get("x-dashscope-ossresourceresolve", "").lower() == "enable"
    task = service_of(request).submit(body, oss_resolve=resolve, request_id=request_id,
                                      account=account_of(request))
    return JSONResponse({"request_id": request_id,
                         "output": {"task_id": task.task_id, "task_status": "PENDING"}})


def served_here(model: str, path: str = "") -> bool:
    """Whether DashScope's native endpoint serves ``model`` (a snapshot id by its family): an id
    another vendor serves (Seedance on Ark, Kling on Kling's API) is as unknown here as a made-up
    one, and refused with the same ``InvalidParameter`` "Model not exist."; so is a model sent to
    another service's path (``path``: videoretalk's is ``image2video``)."""
    declared = model_of(model)
    if declared is None or (family(model) not in DASHSCOPE.models
                            and model not in DASHSCOPE_PASSES):
        return False
    own = declared.submit_path or DASHSCOPE.protocol.submit_path
    return not path or path.rstrip("/").endswith(own)


async def query(request: Request) -> Response:
    check_auth(request)
    task_id = request.path_params["task_id"]
    if service_of(request).images.get(task_id) is not None:  # an image task (the cast)
        return answer(service_of(request).images.answer(task_id, origin(request)))
    output = service_of(request).query(task_id, origin(request))
    task = service_of(request).table.get(output["task_id"])
    data: dict[str, Any] = {"output": output}
    if task is not None and task.usage is not None:
        data["usage"] = task.usage
    return answer(data)


async def cancel(request: Request) -> Response:
    check_auth(request)
    task_id = request.path_params["task_id"]
    if service_of(request).images.get(task_id) is not None:
        service_of(request).images.cancel(task_id)
    else:
        service_of(request).cancel(task_id)
    return answer({})


async def list_tasks(request: Request) -> Response:
    check_auth(request)
    return answer(service_of(request).listing(dict(request.query_params)))


async def policy(request: Request) -> Response:
    check_auth(request)
    if request.query_params.get("action") != "getPolicy":
        raise invalid("action must be getPolicy")
    model = request.query_params.get("model")
    if not model:
        raise ApiError(400, "BadRequest.EmptyModel", "Required parameter model is missing.")
    if not served_here(model) and image_model_of(model) is None:
        raise invalid("Model not exist.")
    service = service_of(request)
    data = service.uploads.policy(model, service.config.policy_ttl, f"{origin(request)}/oss")
    return answer({"data": data})


# --- the upload host and results -------------------------------------------------------------


async def upload(request: Request) -> Response:
    service = service_of(request)
    limit = service.uploads.max_bytes + 1024 * 1024
    async with request.form(max_files=MAX_FORM_FILES, max_part_size=limit) as form:
        items: list[tuple[str, str | bytes]] = []
        filename = ""
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                filename = value.filename or ""
                items.append((name, await value.read()))
            else:
                items.append((name, value))
    service.uploads.accept(items, filename)
    service.stats.uploads += 1
    status = dict((k, v) for k, v in items if isinstance(v, str)).get("success_action_status")
    if status in ("200", "201"):
        return Response(status_code=int(status))
    return Response(status_code=204)


async def result(request: Request) -> Response:
    name: str = request.path_params["name"]
    try:
        path = service_of(request).result(name.removesuffix(".mp4"),
                                          request.query_params.get("Expires", ""),
                                          request.query_params.get("Signature", ""))
    except PermissionError as exc:
        raise OssError(403, "AccessDenied", str(exc)) from None
    if path is None or not name.endswith(".mp4"):
        raise OssError(404, "NoSuchKey", "The specified key does not exist.")
    return FileResponse(path, media_type="video/mp4")


# --- admin -----------------------------------------------------------------------------------


async def stats(request: Request) -> Response:
    return JSONResponse(service_of(request).snapshot())


async def faults(request: Request) -> Response:
    """GET: what is pending. POST ``{"script": [...], "rates": [...], "clear": bool}``."""
    plan = service_of(request).faults
    if request.method == "POST":
        try:
            order = json.loads(await request.body() or b"{}")
            if order.get("clear"):
                plan.clear()
            plan.script(*[f for text in order.get("script", []) for f in parse_script(text)])
            plan.add_rate(*[parse_rate(text) for text in order.get("rates", [])])
        except (ValueError, AttributeError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(plan.describe())


async def clock(request: Request) -> Response:
    """POST ``{"advance": SECONDS}``: move the emulator's clock forward (expiry tests)."""
    order = json.loads(await request.body() or b"{}")
    service_of(request).clock.advance(float(order.get("advance", 0)))
    return JSONResponse({"offset": service_of(request).clock.offset})


# --- the application -------------------------------------------------------------------------


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    own = gateways.envelope_error(request.url.path, exc.code, exc.message, exc.status)
    if own is not None:  # Kling's envelope {code, message, request_id}; MiniMax's own bodies
        return Response(own[1], status_code=own[0], headers=exc.headers,
                        media_type="application/json")
    return JSONResponse({"request_id": new_id(), "code": exc.code, "message": exc.message},
                        status_code=exc.status, headers=exc.headers)


async def oss_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OssError)
    return Response(exc.xml(), status_code=exc.status, media_type="application/xml")


ROUTES = [
    Route(f"{API}/services/aigc/video-generation/video-synthesis", submit, methods=["POST"]),
    Route(f"{API}/services/aigc/image2video/video-synthesis", submit, methods=["POST"]),
    Route(f"{API}/tasks", list_tasks, methods=["GET"]),
    Route(f"{API}/tasks/{{task_id}}", query, methods=["GET"]),
    Route(f"{API}/tasks/{{task_id}}/cancel", cancel, methods=["POST"]),
    Route(f"{API}/uploads", policy, methods=["GET"]),
    Route("/oss", upload, methods=["POST"]),
    Route("/results/{name}", result, methods=["GET"]),
    Route("/_emulator/stats", stats, methods=["GET"]),
    Route("/_emulator/faults", faults, methods=["GET", "POST"]),
    Route("/_emulator/clock", clock, methods=["POST"]),
]


class EmulatorApp(Starlette):
    """Starlette plus the fault wire, applied before Starlette wraps the server's ``send``."""

    service: Service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope.get("method", ""), scope.get("path", "")
        endpoint = (endpoint_of(method, path) or gateways.endpoint_of(method, path)
                    or imageroutes.endpoint_of(method, path) or elements.endpoint_of(method, path)
                    or kvoices.endpoint_of(method, path)
                    or arkassets.endpoint_of(method, path, scope.get("query_string", b""))
                    ) if scope["type"] == "http" else None
        if endpoint is None:
            await super().__call__(scope, receive, send)
            return
        self.service.stats.requests[endpoint] += 1
        self.service.stats.open[endpoint] += 1  # a call a client killed now dies mid-call
        try:
            await self._answer(endpoint, scope, receive, send)
        finally:
            self.service.stats.open[endpoint] -= 1

    async def _answer(self, endpoint: str, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.service.faults.take(endpoint)
        if fault is None:
            await super().__call__(scope, receive, send)
            return
        self.service.stats.faults[str(fault)] += 1
        wire = FaultWire(super().__call__, self.service.config.retry_after,
                         Wording(gateways.own_error, gateways.odd_envelope), self.service.stats)
        await wire.apply(fault, scope, receive, send)


def create_app(config: EmulatorConfig | None = None, *,
               render: RenderFn | None = None) -> EmulatorApp:
    """The emulator as an ASGI application. ``render`` replaces the local provider's renderer."""
    service = Service(config or EmulatorConfig(), render=render)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.started()
        yield
        await service.stopped()

    routes = ROUTES + cast_routes.routes() + chat.routes() + imageroutes.routes() + \
        gateways.routes() + catalogues.routes() + elements.routes() + kvoices.routes() + \
        arkassets.routes()
    app = EmulatorApp(routes=routes, lifespan=lifespan,
                      exception_handlers={ApiError: api_error, OssError: oss_error})
    app.state.service = service
    app.service = service
    return app


__all__ = ["EmulatorApp", "create_app"]
