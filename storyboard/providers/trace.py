"""Requests and answers on a provider's wire into lines a person reads (``storyboard --verbose``).

``protocol.LazyClient`` says every request just before it goes out and every answer as it comes
back; nothing is said unless a command listens (``listening``). What is said is masked: the value
of every header, query parameter and JSON field whose name speaks of a key, token, secret,
signature or credential; the user part of a URL; and any value of an environment variable named so
(``DASHSCOPE_API_KEY``...), wherever it appears. A body is said as it went (JSON as written),
cut at ``MAX_BODY`` characters; a video or a picture is said by its type and size only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

from storyboard.errors import mask_urls

MAX_BODY = 4000  # characters of a body said, at most
MASK = "***"
_SECRET = r"[A-Za-z0-9_.-]*(?:key|token|secret|signature|credential|password|auth)[A-Za-z0-9_.-]*"
_SECRET_NAME = re.compile(rf"^(?i:{_SECRET}|cookie)$")
# a secret in a query string (``Signature=...``) or a JSON field (``"api_key": "..."``)
_QUERY = re.compile(rf"(?i)([?&]{_SECRET}=)[^&\s\"'#]+")
_FIELD = re.compile(rf"(?i)(\"{_SECRET}\"\s*:\s*\")[^\"]*")
_TEXTUAL = ("json", "text", "xml", "x-www-form-urlencoded")

_LISTENER: ContextVar[Callable[[str], None] | None] = ContextVar("storyboard_trace", default=None)


@contextmanager
def listening(listener: Callable[[str], None]) -> Iterator[None]:
    """Within the block (and the tasks and threads it starts), each request and answer is said
    to ``listener``, a line at a time."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def _environment_secrets() -> list[str]:
    """The values of the environment's key-like variables (long enough to be a key)."""
    return sorted((v for k, v in os.environ.items() if _SECRET_NAME.match(k) and len(v) >= 8),
                  key=len, reverse=True)


def masked(text: str) -> str:
    """``text`` with every secret it may carry replaced by ``***``."""
    text = _FIELD.sub(rf"\g<1>{MASK}", _QUERY.sub(rf"\g<1>{MASK}", mask_urls(text)))
    for value in _environment_secrets():
        text = text.replace(value, MASK)
    return text


def _header(name: str, value: str) -> str:
    if not _SECRET_NAME.match(name):
        return f"{name}: {value}"
    scheme, _, rest = value.partition(" ")
    return f"{name}: {scheme} {MASK}" if rest else f"{name}: {MASK}"


def _body(content: bytes | None, headers: httpx.Headers) -> str | None:
    """A body as a line: its text when textual (cut at ``MAX_BODY``), else its type and size."""
    if not content:
        return None
    kind = headers.get("content-type", "")
    if not any(word in kind for word in _TEXTUAL):
        return f"<{kind or 'bytes'}, {len(content):,} bytes>"
    text = content.decode("utf-8", "replace")
    return text if len(text) <= MAX_BODY else f"{text[:MAX_BODY]}... ({len(text):,} characters)"


def _say(arrow: str, lines: list[str | None]) -> None:
    listener = _LISTENER.get()
    if listener is not None:
        for line in lines:
            if line is not None:
                listener(f"{arrow} {masked(line)}")


def request(sent: httpx.Request) -> None:
    """Say a request about to go out: method, URL, headers, body."""
    if _LISTENER.get() is None:
        return
    try:
        body = _body(sent.content, sent.headers)
    except httpx.RequestNotRead:  # a streamed upload: said by its size, if known
        body = f"<streamed body, {sent.headers.get('content-length', '?')} bytes>"
    headers = [_header(k, v) for k, v in sent.headers.items()
               if k.lower() not in ("host", "accept", "accept-encoding", "connection", "user-agent",
                                    "content-length")]
    _say(">", [f"{sent.method} {sent.url}", *headers, body])


async def answer(got: httpx.Response) -> None:
    """Say an answer as it arrives: status, URL, and its body when it is text (a video
    download is said by its type and size, never read here)."""
    if _LISTENER.get() is None:
        return
    kind = got.headers.get("content-type", "")
    if any(word in kind for word in _TEXTUAL):
        await got.aread()
        body = _body(got.content, got.headers)
    else:
        body = f"<{kind or 'bytes'}, {got.headers.get('content-length', '?')} bytes>"
    _say("<", [f"{got.status_code} {got.request.method} {got.request.url}", body])


def note(line: str) -> None:
    """Say what a client made of an answer it read (an answer unwrapped from prose...)."""
    _say("*", [line])


def answered(got: httpx.Response, content: bytes) -> None:
    """Say an answer its client has read itself (bounded in size and time, as the breakdown's
    chat client reads): status, URL and the body it read (a stream: the text it made)."""
    if _LISTENER.get() is not None:
        _say("<", [f"{got.status_code} {got.request.method} {got.request.url}",
                   _body(content, got.headers)])
