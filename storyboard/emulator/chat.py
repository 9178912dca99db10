"""Chat completion requests into answers: DashScope's compatible mode (and plain ``/v1``) on loopback.

    POST /compatible-mode/v1/chat/completions     DashScope's OpenAI-compatible path
    POST /v1/chat/completions                     the same, where OpenAI, Ollama and vLLM serve it

Answers are non-streaming chat completions (``object: chat.completion``) with ``usage`` counted
from the text (about four characters a token), written by ``chat_answers`` from the text given.
Errors come in the compatible mode's shape, ``{"error": {"message", "type", "param", "code"}}``:
401 without a bearer key, 400 for a body that is not JSON, has no messages, asks for streaming
(the emulator answers in one piece) or for ``json_object`` without the word "json" (as DashScope
does). Faults (``chat:KIND``): the HTTP ones of every endpoint (``429``, ``500``, ``drop``...),
``moderation`` (400 ``data_inspection_failed``), and the content ones ``invalid_json``,
``schema``, ``paraphrase`` and ``length`` (``chat_answers.bent``).
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.emulator import chat_answers
from storyboard.emulator.state import new_id
from storyboard.emulator.wire import CONTENT_FAULT

PATHS = ("/compatible-mode/v1/chat/completions", "/v1/chat/completions")


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
    if body.get("stream"):
        return chat_error(400, "invalid_parameter_error",
                          "the emulator answers in one piece: send stream: false")
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
    refused = _refusal(body)
    if refused is not None:
        return refused
    content = chat_answers.content_of(body)
    fault = request.scope.get(CONTENT_FAULT)
    finish = "stop"
    if fault:
        content, finish = chat_answers.bent(content, str(fault))
    prompt = sum(chat_answers.tokens(str(m.get("content", ""))) for m in body["messages"]
                 if isinstance(m, dict))
    completion = chat_answers.tokens(content)
    return JSONResponse({
        "id": f"chatcmpl-{new_id()}", "object": "chat.completion", "created": int(time.time()),
        "model": str(body.get("model", "")),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
        "system_fingerprint": None, "service_tier": None})


def routes() -> list[Route]:
    return [Route(path, completions, methods=["POST"]) for path in PATHS]
