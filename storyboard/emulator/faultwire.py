"""Fault plans into ASGI behaviour: error answers, delays, lost answers and dropped connections.

Runs outermost, before Starlette wraps ``send``, so it holds the server's own ``send`` callable.
A dropped connection must reach the client as a connection error with no HTTP answer at all, which
ASGI cannot express; under uvicorn ``send`` is a bound method of the request cycle, whose
``transport`` we close (``drop``: FIN) or abort with SO_LINGER 0 (``reset``: RST). Under another
server the fallback is a response cut short, which clients also see as a broken connection.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NamedTuple

from storyboard.emulator.faults import CONTENT_KINDS, DEFAULT_SLOW, ERROR_KINDS, Fault
from storyboard.emulator.state import Stats, new_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API = "/api/v1"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(rf"^{API}/services/aigc/video-generation/video-synthesis/?$"), "submit"),
    ("POST", re.compile(rf"^{API}/services/aigc/image2video/video-synthesis/?$"), "retalk"),
    ("GET", re.compile(rf"^{API}/tasks/?$"), "list"),
    ("POST", re.compile(rf"^{API}/tasks/[^/]+/cancel/?$"), "cancel"),
    ("GET", re.compile(rf"^{API}/tasks/[^/]+/?$"), "query"),
    ("GET", re.compile(rf"^{API}/uploads/?$"), "policy"),
    ("POST", re.compile(r"^/oss/?$"), "upload"),
    ("GET", re.compile(r"^/results/[^/]+$"), "download"),
    ("GET", re.compile(r"^/cast/[^/]+$"), "download"),
    ("POST", re.compile(rf"^{API}/services/aigc/image-generation/generation/?$"), "image"),
    ("POST", re.compile(rf"^{API}/services/audio/tts/customization/?$"), "voice"),
    ("POST", re.compile(rf"^{API}/services/aigc/multimodal-generation/generation/?$"), "speech"),
    ("POST", re.compile(r"^(/compatible-mode)?/v1/chat/completions/?$"), "chat"),  # the breakdown
]
CONTENT_FAULT = "storyboard.chat_fault"  # the scope key a content fault is handed on under
ERRORS = {
    "429": ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    "500": ("InternalError", "An internal error has occured, please try again later."),
    "502": ("BadGateway", "Bad gateway."),
    "503": ("ServiceUnavailable", "The service is temporarily unavailable."),
    "504": ("GatewayTimeout", "The gateway timed out."),
    "moderation": ("DataInspectionFailed", "Input data may contain inappropriate content."),
}
OSS_ENDPOINTS = ("upload", "download")  # answered by "OSS": XML error bodies
CHAT_CODES = {"DataInspectionFailed": "data_inspection_failed",
              "Throttling.RateQuota": "limit_requests", "InternalError": "internal_error"}
ENDLESS_CHUNK = bytes(1 << 16)
TERABYTE = b"1000000000000"


def endpoint_of(method: str, path: str) -> str | None:
    """Which counted endpoint a request is, or None (admin and unknown paths)."""
    return next((name for verb, pattern, name in _ROUTES
                 if verb == method and pattern.match(path)), None)


async def drain(receive: Receive) -> None:
    """Read the request body to its end, so a drop happens after the server 'got' the request."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def drop_connection(send: Send, *, reset: bool = False) -> None:
    """Close the TCP connection with no HTTP answer (see the module docstring)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if not isinstance(transport, asyncio.Transport):
        await _cut_short(send)
        return
    sock = transport.get_extra_info("socket")
    if reset and sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if reset:
        transport.abort()
    else:
        transport.close()
    # Tell uvicorn the peer is gone, so it neither writes a 500 nor logs a missing response.
    cycle.disconnected = True  # type: ignore[union-attr]


async def _cut_short(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"1000")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise ConnectionAbortedError("emulated drop")  # the server then closes the connection


STATUS_KEYS = ("status", "task_status")


def with_word(answer: Any, word: str) -> Any:
    """``answer`` with every status field (any depth) holding ``word``."""
    if isinstance(answer, dict):
        return {k: word if k in STATUS_KEYS and isinstance(v, str) else with_word(v, word)
                for k, v in answer.items()}
    if isinstance(answer, list):
        return [with_word(item, word) for item in answer]
    return answer


def moved(answer: dict[str, Any], key: str) -> dict[str, Any]:
    """A list answer with its ``data`` list under ``key`` instead (``none``: under no key)."""
    out = dict(answer)
    items = out.pop("data", [])
    if key != "none":
        out[key] = items
    return out


def error_answer(endpoint: str, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> tuple[int, list[tuple[bytes, bytes]],
                                                                 bytes]:
    if endpoint == "chat":  # the compatible mode's shape
        kind = b"application/json"
        data = json.dumps({"error": {"message": message, "type": "invalid_request_error",
                                     "param": None, "code": CHAT_CODES.get(code, code)},
                           "request_id": new_id()}).encode()
    elif endpoint in OSS_ENDPOINTS:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>{new_id()}</RequestId></Error>\n")
        kind = b"application/xml"
        data = body.encode()
    else:
        data = json.dumps({"request_id": new_id(), "code": code, "message": message}).encode()
        kind = b"application/json"
    raw = [(b"content-type", kind), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return status, raw, data


# A content refusal at submit: DashScope names the input in its message, the resellers' family
# in its code (vendors.md's moderation codes).
NATIVE_REFUSALS = {"prompt": "Input text data", "image": "Input image data",
                   "video": "Input video data", "voice": "Input audio data",
                   "person": "Input image data"}
GATEWAY_REFUSALS = {"prompt": "InputTextSensitiveContentDetected",
                    "image": "InputImageSensitiveContentDetected",
                    "video": "InputVideoSensitiveContentDetected",
                    "voice": "InputAudioSensitiveContentDetected",
                    "person": "InputImageSensitiveContentDetected.PrivacyInformation"}


def refusal(fault: Fault, *, native: bool) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 400 answer of a submit refused on content grounds, naming ``fault.word``."""
    word = fault.word or "prompt"
    if native:
        return error_answer(fault.endpoint, 400, "DataInspectionFailed",
                            f"{NATIVE_REFUSALS[word]} may contain inappropriate content.")
    said = "image may contain real person" if word == "person" else \
        "may contain sensitive content"  # Ark's words for a face (models-2026-11.md, "Faces")
    return error_answer(fault.endpoint, 400, GATEWAY_REFUSALS[word],
                        f"The request failed because the input {said}.")


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class Wording(NamedTuple):
    """The gateways' own words, handed down by the app that routes them (``gateways.routes``):
    an error answer for a path and endpoint, else None; a submit's odd envelope for a shape."""

    own_error: Callable[[str, str, str, str, int], tuple[int, bytes] | None]
    odd_envelope: Callable[[str, str], dict[str, Any]]


def _owned(wording: Wording, answer: Answer, path: str, endpoint: str) -> Answer:
    """An error answer in the words of the gateway ``path`` is under, where it has its own
    (Ark's ``{"error": ...}``, Kling's ``{code, message, request_id}``, MiniMax's own)."""
    status, headers, body = answer
    said = json.loads(body) if body.startswith(b"{") else {}
    own = wording.own_error(path, endpoint, str(said.get("code", "")),
                            str(said.get("message", "")), status)
    if own is None:
        return answer
    status, worded = own  # MiniMax's v1 says its errors in HTTP 200 answers
    kept = [(k, v) for k, v in headers if k != b"content-length"]
    return status, [*kept, (b"content-length", str(len(worded)).encode())], worded


async def send_answer(send: Send, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FaultWire:
    """Applies one fault to one request; ``app`` answers whatever is not replaced."""

    def __init__(self, app: ASGIApp, retry_after: float, wording: Wording,
                 stats: Stats | None = None) -> None:
        self.app = app
        self.wording = wording
        self.retry_after = retry_after
        self.stats = stats or Stats()

    async def apply(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        kind = fault.kind
        if kind == "slow":
            await asyncio.sleep(DEFAULT_SLOW if fault.arg is None else fault.arg)
            await self.app(scope, receive, send)
        elif kind in ("drop", "reset"):
            await drain(receive)
            await drop_connection(send, reset=kind == "reset")
        elif kind == "lost":
            await self._lost(fault, scope, receive, send)
        elif kind == "made":
            await self._made(fault, scope, receive, send)
        elif kind == "envelope":
            await self._odd_envelope(fault, scope, receive, send)
        elif kind in CONTENT_KINDS:
            scope[CONTENT_FAULT] = str(fault).partition(":")[2]  # the chat route bends its answer
            await self.app(scope, receive, send)
        elif kind in ("status", "items"):
            await self._rewritten(fault, scope, receive, send)
        elif kind in ("endless", "huge"):
            await self._endless(kind == "huge", receive, send)
        elif kind in ERROR_KINDS or kind == "moderation":
            await drain(receive)
            await send_answer(send, self._error(fault, str(scope.get("path", ""))))
        elif kind == "refused":
            await drain(receive)
            path = str(scope.get("path", ""))
            refused = refusal(fault, native=path.startswith(API))
            await send_answer(send, _owned(self.wording, refused, path, fault.endpoint))
        else:  # pragma: no cover - parse_fault admits no other kinds here
            await self.app(scope, receive, send)

    def _error(self, fault: Fault, path: str = "") -> tuple[int, list[tuple[bytes, bytes]],
                                                           bytes]:
        code, message = ERRORS[fault.kind]
        status = 400 if fault.kind == "moderation" else int(fault.kind)
        headers = {}
        if fault.kind == "429":
            wait = self.retry_after if fault.arg is None else fault.arg
            headers["Retry-After"] = f"{wait:g}"
        answer = error_answer(fault.endpoint, status, code, message, headers)
        return _owned(self.wording, answer, path, fault.endpoint)

    async def _held(self, scope: Scope, receive: Receive) -> list[Message]:
        """The app's answer to the request, held back (not sent) for a fault to change."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        return held

    async def _accepted(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Whether the app accepted the submit (a task made, and billed; its answer held back);
        a refused submit gets its error answer as usual."""
        held = await self._held(scope, receive)
        if held and held[0].get("status") == 200:
            return True
        for message in held:
            await send(message)
        return False

    async def _rewritten(self, fault: Fault, scope: Scope, receive: Receive, send: Send
                         ) -> None:
        """Answer as usual, then rewrite a successful JSON answer: its status word replaced
        (``status``), or its list moved to another key or dropped (``items``)."""
        held = await self._held(scope, receive)
        start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if start.get("status") == 200 and isinstance(answer, dict):
            word = str(fault.word)
            changed = with_word(answer, word) if fault.kind == "status" else moved(answer, word)
            body = json.dumps(changed).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send_answer(send, (int(start.get("status", 200)), headers, body))

    async def _endless(self, huge: bool, receive: Receive, send: Send) -> None:
        """A result that never ends: zeros until the client hangs up (counted in ``streamed``)."""
        await drain(receive)
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        headers = [(b"content-type", b"video/mp4")] + ([(b"content-length", TERABYTE)] if huge
                                                         else [])
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            while not gone.is_set():
                await send({"type": "http.response.body", "body": ENDLESS_CHUNK,
                            "more_body": True})
                self.stats.streamed += len(ENDLESS_CHUNK)
                await asyncio.sleep(0)
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()

    async def _odd_envelope(self, fault: Fault, scope: Scope, receive: Receive, send: Send
                            ) -> None:
        """Let the app accept the submit (a task made, and billed), then answer HTTP 200 with
        no task id and an odd code where the gateway keeps its envelope's."""
        if not await self._accepted(scope, receive, send):
            return
        kind, body = b"text/html", b"<html><body>Request received.</body></html>"
        if fault.word != "html":
            kind = b"application/json"
            odd = self.wording.odd_envelope(str(scope.get("path", "")), str(fault.word))
            body = json.dumps(odd).encode()
        await send_answer(send, (200, [(b"content-type", kind),
                                       (b"content-length", str(len(body)).encode())], body))

    async def _made(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app accept the submit (a task made, and billed), then answer with an error
        (MiniMax's 1000 after the task was in fact made)."""
        if not await self._accepted(scope, receive, send):
            return
        status = Fault(fault.endpoint, f"{500 if fault.arg is None else fault.arg:g}")
        await send_answer(send, self._error(status, str(scope.get("path", ""))))

    async def _lost(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app accept the submit, then drop its answer (or send it too late)."""
        held = await self._held(scope, receive)
        accepted = bool(held) and held[0].get("status") == 200
        if accepted and fault.arg is None:
            await drop_connection(send)
            return
        if accepted and fault.arg is not None:
            await asyncio.sleep(fault.arg)  # the client has likely given up by now
        for message in held:
            await send(message)
