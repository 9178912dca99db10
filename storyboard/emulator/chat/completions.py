"""Chat completion requests into answers: DashScope's compatible mode (and plain ``/v1``) on loopback.

    POST /compatible-mode/v1/chat/completions     DashScope's OpenAI-compatible path
    POST /v1/chat/completions                     the same, where OpenAI, Ollama and vLLM serve it

Answers are chat completions (``object: chat.completion``) with ``usage`` counted from the text
(about four characters a token), written by ``chat_answers`` from the text given (a season episode's
by ``chat_episode``); with
``stream: true`` they come as server-sent events (``chat.completion.chunk``, a few characters a
chunk, the finish reason on the last choice chunk, ``usage`` in a chunk of its own when
``stream_options.include_usage`` asks for it, then ``data: [DONE]``), as OpenAI-compatible
servers send them. Errors come in the compatible mode's shape, ``{"error": {"message", "type",
"param", "code"}}``: 401 without a bearer key, 400 for a body that is not JSON, has no messages or
asks for ``json_object`` without the word "json" (as DashScope does). Faults (``chat:KIND``): the
HTTP ones of every endpoint (``429``, ``500``, ``drop``...), ``moderation`` (400
``data_inspection_failed``), the content ones ``invalid_json``, ``schema``, ``paraphrase``,
``invented`` and ``length`` (``chat_faults.bent``), and the shapes of real servers and models
(``chat_faults``: a refused ``json_schema``, wrappers, fences, thinking, hostile usage, trickles).
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.emulator.chat import answers as chat_answers
from storyboard.emulator.chat import episode as chat_episode
from storyboard.emulator.chat import faults as chat_faults
from storyboard.emulator.faultwire import CONTENT_FAULT
from storyboard.emulator.state import new_id

PATHS = ("/compatible-mode/v1/chat/completions", "/v1/chat/completions")
CHUNK = 4  # characters an event (about a token)


def chat_error(status: int, code: str, message: str, kind: str = "invalid_request_error"
               ) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None,
                                   "code": code}, "request_id": new_id()}, status_code=status)


def _authorised(request: Request) -> bool:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    expected = request.app.state.service.config.api_key
    return scheme.lower() == "bearer" and bool(key.strip()) and (
        expected is None or hmac.compare_digest(key.strip(), expected))


def _refusal(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) \
            or not body["messages"]:
        return chat_error(400, "invalid_parameter_error", "messages must be a non-empty list")
    kind = (body.get("response_format") or {}).get("type")
    said = " ".join(str(m.get("content", "")) for m in body["messages"] if isinstance(m, dict))
    if kind == "json_object" and "json" not in said.lower():
        return chat_error(400, "invalid_parameter_error", "'messages' must contain the word "
                          "'json' in some form, to use 'response_format' of type 'json_object'.")
    return None


async def completions(request: Request) -> Response:
    if not _authorised(request):
        return chat_error(401, "invalid_api_key", "Incorrect API key provided.",
                          "invalid_request_error")
    try:
        body = json.loads(await request.body())
    except ValueError:
        return chat_error(400, "invalid_parameter_error", "The request body is not valid JSON.")
    fault = str(request.scope.get(CONTENT_FAULT) or "")
    refused = _refusal(body) or chat_faults.refusal(body, fault)
    if refused is not None:
        return refused
    content, finish = chat_episode.content_of(body), "stop"
    if fault:
        content, finish = chat_faults.bent(content, fault, body)
    prompt = sum(chat_answers.tokens(str(m.get("content", ""))) for m in body["messages"]
                 if isinstance(m, dict))
    made = chat_answers.tokens(content)
    if finish == "length":  # cut at max_tokens: as many tokens as were asked were made
        made = max(made, _asked_tokens(body))
    usage = chat_faults.usage(prompt, made, fault)
    answer = Said(str(body.get("model", "")), content, finish, usage, fault)
    return answer.streamed(body) if body.get("stream") else answer.whole()


def _asked_tokens(body: dict[str, Any]) -> int:
    asked = body.get("max_tokens")
    return asked if type(asked) is int and asked > 0 else 0


class Said:
    """One answer, to be sent whole or as a stream."""

    def __init__(self, model: str, content: str, finish: str, usage: dict[str, Any] | None,
                 fault: str) -> None:
        self.id, self.created = f"chatcmpl-{new_id()}", int(time.time())
        self.model, self.content, self.finish, self.usage = model, content, finish, usage
        self.fault = fault
        self.thought = chat_faults.THOUGHT if fault == "reasoning" else None

    def whole(self) -> Response:
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.thought is not None:
            message["reasoning_content"] = self.thought
        payload: dict[str, Any] = {
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model, "choices": [{"index": 0, "message": message,
                                              "finish_reason": self.finish, "logprobs": None}],
            "system_fingerprint": None, "service_tier": None}
        if self.usage is not None:
            payload["usage"] = self.usage
        data = chat_faults.deep_body() if self.fault == "deep=body" else \
            chat_faults.encoded(payload)
        if self.fault.startswith("trickle"):
            return chat_faults.trickled(data, self.fault, "application/json")
        return Response(data, media_type="application/json")

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                   "model": self.model, "system_fingerprint": None,
                   "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                "finish_reason": finish}]}
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    def events(self, body: dict[str, Any]) -> list[bytes]:
        out = [self.chunk({"role": "assistant", "content": ""})]
        thought = self.thought or ""
        out += [self.chunk({"reasoning_content": thought[i:i + CHUNK]})
                for i in range(0, len(thought), CHUNK)]
        out += [self.chunk({"content": self.content[i:i + CHUNK]})
                for i in range(0, len(self.content), CHUNK)]
        out.append(self.chunk({}, self.finish))
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage") and self.usage:
            payload = {"id": self.id, "object": "chat.completion.chunk",
                       "created": self.created, "model": self.model, "choices": [],
                       "usage": self.usage}
            out.append(b"data: " + chat_faults.encoded(payload) + b"\n\n")
        return [*out, b"data: [DONE]\n\n"]

    def streamed(self, body: dict[str, Any]) -> Response:
        events = self.events(body)
        if self.fault == "late_moderation":  # part of the text, then the refusal
            events = [*events[:len(events) // 2], b"data: " + json.dumps(
                chat_faults.LATE_MODERATION).encode() + b"\n\n"]
        if self.fault == "interrupted":  # part of the text, then nothing: no finish, no [DONE]
            events = events[:len(events) // 2]
        data = b"".join(events)
        if self.fault.startswith("trickle"):
            return chat_faults.trickled(data, self.fault, "text/event-stream")
        return Response(data, media_type="text/event-stream")


def routes() -> list[Route]:
    return [Route(path, completions, methods=["POST"]) for path in PATHS]
