"""Chat fault switches into the answers real servers and models give: refusals, bent answers,
hostile usage, streams, trickles and bodies no client should read whole.

What a model writes when it fails (``MODEL_KINDS``): ``invalid_json`` (cut mid-answer, then " …"),
``length`` (cut at ``max_tokens``), ``schema`` (a required field dropped), ``paraphrase`` (a quote
reworded), ``invented`` (each scene's action told what no line of the story says). Each shape is
one seen from a real endpoint (issues 54 and 57):

    no_schema        llama-cpp-python's server refusing ``response_format`` json_schema: HTTP 500,
                     ``{"error": {"message": "1 validation error: ... 'msg': "Input should be
                     'text' or 'json_object'" ...", "type": "internal_server_error", "param":
                     null, "code": null}}`` (its route handler wraps the request's validation
                     error); other modes are answered
    no_stream        a server that answers ``stream: true`` with a 400 (others: answered)
    wrapped          the stage's object inside one wrapper, ``{"episode": {...}}``
    fenced           the JSON in a ```json fence
    prose            the JSON in a ```json fence after a sentence ("Here is the outline as
                     JSON:") and before another, as chat models answer
    think            a ``<think>...</think>`` block before the JSON
    reasoning        the thinking in ``message.reasoning_content`` (``delta`` when streamed)
    ignored          a server that takes the schema and decodes any JSON: the model echoes the
                     request document's own keys back
    unheld           a server that takes the schema and decodes without it, its model writing
                     good answers by itself: a breakdown call answered as ever, anything else
                     (a probe of whether the schema is held) with ``{"reply": "Hello!"}``
    nan              the first scene's ``seconds`` written as ``NaN``
    deep=WHERE       100,000 levels of nesting in the ``content``, the whole ``body`` or an
                     ``error`` body (HTTP 500)
    usage=WORD       the usage counts replaced: negative, float, nan, infinity, huge (1e400),
                     string, missing
    trickle[=S]      the answer's bytes one at a time, S seconds apart (default 2)
    late_moderation  a streamed answer cut by DashScope's moderation after part of its text:
                     ``data: {"error": {..., "code": "data_inspection_failed"}}``
    interrupted      a streamed answer that ends after part of its text with no finish reason
                     and no ``[DONE]``, as llama-cpp-python's server ends one when another
                     request comes
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from storyboard.emulator.chat import answers as chat_answers
from storyboard.emulator.faults import MODEL_KINDS, SHAPE_KINDS

KINDS = SHAPE_KINDS  # the faults bent here; the fault grammar (``emulator.faults``) declares them
LATE_MODERATION = {"error": {"message": "Output data may contain inappropriate content.",
                             "type": "data_inspection_failed", "param": None,
                             "code": "data_inspection_failed"}}
USAGES = ("negative", "float", "nan", "infinity", "huge", "string", "missing")
DEEP = 100_000
THOUGHT = "Let me think. The user wants {\"shots\": ...}; I should check the lines first."
LLAMA_CPP_REFUSAL = (  # as llama-cpp-python 0.3 answers, its server's file path shortened
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"llama_cpp/server/app.py\", "
    "line 376, in create_chat_completion\n    POST /v1/chat/completions")


def split(fault: str) -> tuple[str, str]:
    kind, _, arg = fault.partition("=")
    return kind, arg


def refusal(body: dict[str, Any], fault: str) -> Response | None:
    """The error answer a refusing fault gives this request (None: it is answered)."""
    kind, arg = split(fault)
    fmt = body.get("response_format")
    if kind == "no_schema" and isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return JSONResponse({"error": {"message": LLAMA_CPP_REFUSAL,
                                       "type": "internal_server_error", "param": None,
                                       "code": None}}, status_code=500)
    if kind == "no_stream" and body.get("stream"):
        return JSONResponse({"error": {"message": "stream is not supported by this endpoint",
                                       "type": "invalid_request_error", "param": "stream",
                                       "code": None}}, status_code=400)
    if kind == "deep" and arg == "error":
        return Response(b'{"error": ' + b"[" * DEEP + b"]" * DEEP + b"}", status_code=500,
                        media_type="application/json")
    return None


def bent(content: str, fault: str, body: dict[str, Any]) -> tuple[str, str]:
    """The content and finish reason a content fault makes of a good answer: a shape real
    servers give (``KINDS``), else what real models write (``MODEL_KINDS``)."""
    kind, arg = split(fault)
    if kind in MODEL_KINDS:
        return _written(content, kind)
    return _shaped(content, kind, arg, body), "stop"


def _shaped(content: str, kind: str, arg: str, body: dict[str, Any]) -> str:
    if kind == "wrapped":
        return f'{{"episode": {content}}}'
    if kind == "fenced":
        return f"```json\n{content}\n```"
    if kind == "prose":
        stage = (chat_answers.request_document(body.get("messages") or []) or {}).get("stage")
        return f"Here is the {stage or 'answer'} as JSON:\n\n```json\n{content}\n```\n\n" \
               "Let me know if you would like any changes."
    if kind == "think":
        return f"<think>\n{THOUGHT}\n</think>\n\n{content}"
    if kind == "ignored":
        document = chat_answers.request_document(body.get("messages") or []) or {}
        return json.dumps({k: document[k] for k in sorted(document)[:3]}, ensure_ascii=False)
    if kind == "unheld" and chat_answers.request_document(body.get("messages") or []) is None:
        return '{"reply": "Hello!"}'
    if kind == "nan":
        return content.replace('"seconds": ', '"seconds": NaN, "was": ', 1)
    if kind == "deep" and arg == "content":
        return "[" * DEEP + "]" * DEEP
    return content


def _written(content: str, fault: str) -> tuple[str, str]:
    """What a model's failing makes of a good answer: cut, not JSON, or not what was asked."""
    if fault == "invalid_json":
        return content[:max(1, len(content) // 2)] + " …", "stop"
    if fault == "length":
        return content[:max(1, len(content) // 3)], "length"
    data = json.loads(content)
    if fault == "schema":
        return json.dumps(_broken(data), ensure_ascii=False), "stop"
    if fault == "paraphrase":
        return json.dumps(_paraphrased(data), ensure_ascii=False), "stop"
    if fault == "invented":
        return json.dumps(_invented(data), ensure_ascii=False), "stop"
    return content, "stop"


def _broken(data: Any) -> Any:
    """A required field dropped: the first shot's camera, else the first key."""
    if isinstance(data, dict) and data.get("shots"):
        data["shots"][0].pop("camera", None)
        return data
    if isinstance(data, dict) and data:
        data.pop(next(iter(data)))
    return data


def _paraphrased(data: Any) -> Any:
    """The first quoted line said in other words."""
    for item in (data.get("shots", []) if isinstance(data, dict) else []):
        for scene in item["scenes"]:
            for line in scene["lines"]:
                line["quote"] = "Well, as I was saying, " + line["quote"].lower()
                return data
    return data


INVENTED = " while a brass orchestra rehearses beneath purple umbrellas"


def _invented(data: Any) -> Any:
    """Each scene's action told what no line of the story says (as a small model pads a shot:
    ``@peter was playing with his wheelbarrow while his mother was cooking dinner``)."""
    shots = data.get("shots", [data]) if isinstance(data, dict) else []
    for item in shots:
        for scene in item.get("scenes", []) if isinstance(item, dict) else []:
            scene["action"] = str(scene.get("action", "")).rstrip(". ") + INVENTED + "."
    return data


def usage(prompt: int, completion: int, fault: str) -> dict[str, Any] | None:
    """The ``usage`` a usage fault reports (None: leave it out)."""
    kind, arg = split(fault)
    counts: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion}
    if kind != "usage":
        return counts
    hostile: dict[str, Any] = {"negative": -1_000_000_000, "float": 12.5, "nan": "NaN",
                               "infinity": "Infinity", "huge": "1e400", "string": "many"}
    if arg == "missing":
        return None
    return {**counts, "prompt_tokens": hostile.get(arg, -1)}


def encoded(payload: dict[str, Any]) -> bytes:
    """The answer's JSON; a usage fault's non-finite numbers written raw, as a careless server
    writes them (``NaN``, ``Infinity``, ``1e400``), and ``deep=body`` nested to no end."""
    text = json.dumps(payload)
    for raw in ("NaN", "Infinity", "1e400"):
        text = text.replace(f'"prompt_tokens": "{raw}"', f'"prompt_tokens": {raw}')
    return text.encode()


def deep_body() -> bytes:
    return b'{"choices": ' + b"[" * DEEP + b"]" * DEEP + b"}"


def trickled(data: bytes, fault: str, media_type: str) -> Response:
    """``data`` a byte at a time, ``S`` seconds apart."""
    _kind, arg = split(fault)
    wait = float(arg) if arg else 2.0

    async def drip() -> AsyncIterator[bytes]:
        for index in range(len(data)):
            yield data[index:index + 1]
            await asyncio.sleep(wait)
    return StreamingResponse(drip(), media_type=media_type)
