"""HTTP requests into an emulated ComfyUI server: its real routes and shapes, on loopback, for tests.

    POST /prompt            {"prompt": graph, "prompt_id"?, "client_id"?} -> {prompt_id, number,
                            node_errors}, or 400 {"error", "node_errors"}
    GET  /history/{id}      {id: entry} once run, {} while queued and after a restart
    GET  /queue             {"queue_running": [...], "queue_pending": [...]}
    POST /queue             {"clear": true} or {"delete": [ids]}
    POST /interrupt         {"prompt_id"?}
    POST /upload/image      multipart ``image`` (any medium) -> {name, subfolder, type}
    GET  /view              ?filename=&subfolder=&type=output: the file (with
                            ``ComfyConfig(view_bytes=N)``, N zeros and no length, until the
                            client hangs up: what was sent is counted in ``streamed``)
    GET  /object_info[/{class}]
    WS   /ws?clientId=ID    status on connect, then the messages of the prompts ID queued
                            (``comfyui_ws``); absent with ``ComfyConfig(websocket=False)``
    GET  /_emulator/stats   POST /_emulator/restart   POST /_emulator/slow {"seconds", "count"}
    POST /_emulator/nodes   {"missing": [CLASS, ...]}: nodes this instance pretends not to have

``ComfyUIServer`` runs one instance in a background thread (``with ComfyUIServer() as gpu``);
``serve`` runs several, one port each, for ``storyboard emulate --comfyui``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from storyboard.emulator.comfyui import ws as comfyui_ws
from storyboard.emulator.comfyui.state import ComfyConfig, Instance
from storyboard.emulator.server import bind
from storyboard.files import write_atomic

T = TypeVar("T")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()-]{0,200}$")
START_TIMEOUT = 15.0
WS_MAX_SIZE = 4096  # bytes of a client's frame: the emulator expects none


def uvicorn_server(app: Starlette, log_level: str) -> Any:
    import uvicorn
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                            http="h11", proxy_headers=False, server_header=False,
                            timeout_graceful_shutdown=1, timeout_keep_alive=30,
                            ws_max_size=WS_MAX_SIZE)
    return uvicorn.Server(config)


def state(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


async def body_json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        return None


async def post_prompt(request: Request) -> Response:
    body = await body_json(request)
    if not isinstance(body, dict) or "prompt" not in body:
        return JSONResponse({"error": {"type": "no_prompt", "message": "No prompt provided",
                                       "details": "", "extra_info": {}}, "node_errors": {}},
                            status_code=400)
    status, answer = state(request).submit(body)
    return JSONResponse(answer, status_code=status)


async def history(request: Request) -> Response:
    prompt_id = request.path_params["prompt_id"]
    entry = state(request).history.get(prompt_id)
    return JSONResponse({prompt_id: entry} if entry is not None else {})


async def queue(request: Request) -> Response:
    if request.method == "POST":
        state(request).change_queue(await body_json(request))
        return Response(status_code=200)
    return JSONResponse(state(request).queue())


async def interrupt(request: Request) -> Response:
    body = await body_json(request)
    prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
    state(request).interrupt(str(prompt_id) if prompt_id else None)
    return Response(status_code=200)


async def upload(request: Request) -> Response:
    async with request.form(max_files=1) as form:
        item = form.get("image")
        if not isinstance(item, UploadFile) or not SAFE_NAME.match(item.filename or ""):
            return Response(status_code=400)
        data = await item.read()
        name = str(item.filename)
    instance = state(request)
    write_atomic(instance.inputs / name, data, durable=False)
    instance.counters.uploads += 1
    return JSONResponse({"name": name, "subfolder": "", "type": "input"})


async def view(request: Request) -> Response:
    params = request.query_params
    name, folder, kind = (params.get("filename", ""), params.get("subfolder", ""),
                          params.get("type", "output"))
    instance = state(request)
    base = {"output": instance.outputs, "input": instance.inputs}.get(kind)
    if base is None or not SAFE_NAME.match(name) or folder not in ("", "video", "frames"):
        return Response(status_code=400)
    path = base / folder / name
    if not path.is_file():
        return Response(status_code=404)
    if instance.config.view_bytes:
        return Endless(instance, instance.config.view_bytes)
    return FileResponse(path, media_type="video/mp4" if name.endswith(".mp4") else None)


class Endless(Response):
    """A file far larger than any result: ``size`` zeros with no length, sent until the client
    hangs up (a server that stops there, as a real one's write fails: what it sent is what the
    client read, give or take the sockets' buffers)."""

    CHUNK = bytes(1 << 16)

    def __init__(self, instance: Instance, size: int) -> None:
        super().__init__(media_type="video/mp4")
        self.instance, self.size = instance, size

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"video/mp4")]})
            left = self.size
            while left > 0 and not gone.is_set():
                chunk = self.CHUNK[:left]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                self.instance.counters.streamed += len(chunk)
                left -= len(chunk)
                await asyncio.sleep(0)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()


async def object_info(request: Request) -> Response:
    info = state(request).object_info()
    name = request.path_params.get("node_class")
    if name is None:
        return JSONResponse(info)
    return JSONResponse({name: info[name]} if name in info else {})


async def stats(request: Request) -> Response:
    return JSONResponse(state(request).snapshot())


async def restart(request: Request) -> Response:
    return JSONResponse({"dropped": state(request).restart()})


async def slow(request: Request) -> Response:
    body = await body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("seconds"), int | float) \
            or not 0 <= body["seconds"] <= 3600:
        return Response(status_code=400)
    state(request).slow.extend([float(body["seconds"])] * int(body.get("count") or 1))
    return JSONResponse({"slow": len(state(request).slow)})


async def nodes(request: Request) -> Response:
    body = await body_json(request)
    missing = body.get("missing") if isinstance(body, dict) else None
    if not (isinstance(missing, list) and all(isinstance(m, str) for m in missing)):
        return Response(status_code=400)
    state(request).config.missing_nodes = tuple(missing)
    return JSONResponse({"missing": missing})


def create_app(config: ComfyConfig | None = None, folder: Path | None = None) -> Starlette:
    """One emulated ComfyUI instance; its files under ``folder`` (by default a temporary one,
    removed when the app shuts down)."""
    where = folder or Path(tempfile.mkdtemp(prefix="storyboard-comfyui-"))
    instance = Instance(config or ComfyConfig(), where)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        instance.start()
        app.state.loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            await instance.stop()
            if folder is None:
                shutil.rmtree(where, ignore_errors=True)

    routes: list[BaseRoute] = [
        Route("/prompt", post_prompt, methods=["POST"]),
        Route("/history/{prompt_id}", history, methods=["GET"]),
        Route("/queue", queue, methods=["GET", "POST"]),
        Route("/interrupt", interrupt, methods=["POST"]),
        Route("/upload/image", upload, methods=["POST"]),
        Route("/view", view, methods=["GET"]),
        Route("/object_info", object_info, methods=["GET"]),
        Route("/object_info/{node_class}", object_info, methods=["GET"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/restart", restart, methods=["POST"]),
        Route("/_emulator/slow", slow, methods=["POST"]),
        Route("/_emulator/nodes", nodes, methods=["POST"]),
    ]
    if instance.config.websocket:
        routes.append(WebSocketRoute("/ws", comfyui_ws.endpoint))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.instance = instance
    return app


class ComfyUIServer:
    """An emulated ComfyUI instance on 127.0.0.1 in a daemon thread; ``stop`` and ``start``
    again (same port, same files, history lost) is a server that went away and came back.
    A temporary folder it made for its files goes when the ``with`` block ends (or the server
    is collected)."""

    def __init__(self, config: ComfyConfig | None = None, *, port: int = 0,
                 folder: Path | None = None) -> None:
        self.config = config or ComfyConfig()
        self.folder = folder or Path(tempfile.mkdtemp(prefix="storyboard-comfyui-"))
        self._forget = None if folder is not None else \
            weakref.finalize(self, shutil.rmtree, self.folder, True)
        self._port = port
        self._app: Starlette | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        sock = bind("127.0.0.1", self._port)
        self._port = sock.getsockname()[1]
        self._app = create_app(self.config, self.folder)
        self._server = uvicorn_server(self._app, "warning")
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="storyboard-comfyui", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ComfyUI emulator did not start")
            time.sleep(0.01)
        self._sock = sock
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if getattr(self, "_sock", None) is not None:
            self._sock.close()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if self._forget is not None:
            self._forget()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def instance(self) -> Instance:
        assert self._app is not None
        found: Instance = self._app.state.instance
        return found

    def _on_loop(self, fn: Callable[[], T]) -> T:
        loop = self._app.state.loop if self._app is not None else None
        if loop is None:
            return fn()

        async def call() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(call(), loop).result(10)

    def stats(self) -> dict[str, Any]:
        return self._on_loop(self.instance.snapshot)

    def restart(self) -> list[str]:
        """Forget the queue, the running job and the history, as a restarted server does; the
        ids of the jobs dropped."""
        return self._on_loop(self.instance.restart)


def serve(count: int, host: str = "127.0.0.1", port: int = 8188,
          config: ComfyConfig | None = None,
          announce: Callable[[str], None] | None = print) -> None:
    """Run ``count`` instances on ports ``port``, ``port + 1`` ... until interrupted."""
    sockets = [bind(host, port + n if port else 0) for n in range(count)]
    base = config or ComfyConfig()
    servers = [uvicorn_server(create_app(dataclasses.replace(base)), "info") for _ in sockets]
    for sock in sockets:
        if announce is not None:
            announce(f"http://{host}:{sock.getsockname()[1]}")

    async def run_all() -> None:
        await asyncio.gather(*(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets,
                                                                           strict=True)))
    try:
        asyncio.run(run_all())
    finally:
        for sock in sockets:
            sock.close()
