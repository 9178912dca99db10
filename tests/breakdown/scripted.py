"""A scripted OpenAI-compatible chat server on loopback: each answer written by the test, every
request kept; the shapes of llama.cpp's server (``GET /props`` with ``n_ctx``, its context errors)
when the test asks for them; an answer streamed a piece at a time (``Trickle``), with how many
pieces went out before the client closed the connection. A request that is not one of the
breakdown's (its first user message not a stage's document: the pace's probe) is answered as a
server answers any chat, cut at its ``max_tokens``, after ``probe_pause`` seconds, and kept in
``probes``, not ``bodies``; the probe of whether it holds a schema (``holding``) is answered as a
server holding it answers, and kept in ``held``."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from storyboard.breakdown.chat import holding
from storyboard.breakdown.chat.pace import PROBE
from storyboard.emulator.server import bind

Reply = tuple[int, dict[str, Any]]
Headed = tuple[int, dict[str, Any], dict[str, str]]  # an answer with headers of its own


@dataclass
class Trickle:
    """An answer streamed as server-sent events, one piece of text every ``pause`` seconds, as
    llama.cpp's server sends them (the usage on the last chunk); ``sent``: the pieces that went
    out, ``closed``: whether the client closed the connection before the end."""

    pieces: list[str]
    finish: str = "stop"
    pause: float = 0.002
    sent: int = 0
    closed: bool = True

    async def lines(self) -> AsyncIterator[str]:
        for piece in self.pieces:
            await asyncio.sleep(self.pause)
            yield self._event({"content": piece}, None)
            self.sent += 1
        yield self._event({}, self.finish, {"prompt_tokens": 100,
                                            "completion_tokens": len(self.pieces)})
        yield "data: [DONE]\n\n"
        self.closed = False

    def _event(self, delta: dict[str, str], finish: str | None,
               usage: dict[str, int] | None = None) -> str:
        chunk: dict[str, Any] = {"object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage is not None:
            chunk["usage"] = usage
        return f"data: {json.dumps(chunk)}\n\n"


Script = Callable[[dict[str, Any]], "Reply | Headed | Trickle"]


def completion(content: str, finish: str = "stop", prompt: int = 100,
               completion_tokens: int | None = None) -> Reply:
    done = completion_tokens if completion_tokens is not None else max(1, len(content) // 4)
    return 200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                              "finish_reason": finish}],
                 "usage": {"prompt_tokens": prompt, "completion_tokens": done,
                           "total_tokens": prompt + done}}


def stage_of(body: dict[str, Any]) -> str:
    """The stage a request asks (from the user message's document)."""
    first = next(m for m in body["messages"] if m["role"] == "user")
    return str(json.loads(first["content"])["stage"])


def _probe(body: dict[str, Any], question: str = PROBE) -> bool:
    """Whether a request is the pace's probe (its question, ``pace.PROBE``) or another probe's
    (``holding.ASK``), not a stage's call nor a client's own test body."""
    messages = body.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict) and m.get("content") == question for m in messages)


class Scripted:
    """``with Scripted(script) as server: server.base_url`` (``…/v1``); ``server.bodies``."""

    def __init__(self, script: Script, props: dict[str, Any] | None = None,
                 probe_pause: float = 0.0, probe_usage: tuple[int, int] = (24, 16)) -> None:
        self.script, self.props = script, props
        self.probe_pause, self.probe_usage = probe_pause, probe_usage
        self.bodies: list[dict[str, Any]] = []
        self.probes: list[dict[str, Any]] = []
        self.held: list[dict[str, Any]] = []  # the probes of whether it holds a schema
        self.gets: list[str] = []
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"]),
                                Route("/props", self._props, methods=["GET"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", http="h11",
                                                     access_log=False, lifespan="off"))
        self._sock = bind("127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)

    async def _chat(self, request: Request) -> Response:
        body = json.loads(await request.body())
        if _probe(body, holding.ASK):  # a server holding the schema: its one possible answer
            self.held.append(body)
            return JSONResponse(completion(json.dumps({"word": holding.WORD}))[1])
        if _probe(body):
            self.probes.append(body)
            await asyncio.sleep(self.probe_pause)
            prompt, made = self.probe_usage
            return JSONResponse(completion("One, two, three, four, five, six, seven", "length",
                                           prompt, made)[1])
        self.bodies.append(body)
        reply = self.script(body)
        if isinstance(reply, Trickle):
            return StreamingResponse(reply.lines(), media_type="text/event-stream")
        status, data, *headers = reply
        return JSONResponse(data, status_code=status, headers=headers[0] if headers else None)

    async def _props(self, _request: Request) -> Response:
        self.gets.append("/props")
        if self.props is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(self.props)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._sock.close()
