"""Status callbacks into early polls: a small listener whose only power is to wake the pollers.

``render --set webhook_listen=HOST:PORT`` gives a Freepik-style gateway a ``webhook_url``. A callback is
accepted only for a task id the journal holds, and only with a valid signature when a secret is set
(Standard Webhooks, checked by ``targets.signatures.webhooks``). An accepted callback marks nothing: it wakes
the sleeping pollers, which ask the API at once. So a callback can never make a task done that the
API says is not, and polling goes on as before when none arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from storyboard.dialects.base import Dialect
from storyboard.errors import StoryboardError
from storyboard.targets.signatures.webhooks import verify

MAX_BODY = 1 << 20


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` into its parts, or a clear error."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise StoryboardError(f"--webhook-listen {text!r}: expected HOST:PORT, e.g. 0.0.0.0:8787")
    return host.strip("[]"), int(port)


class Waker:
    """A ``sleep`` for the runner that a callback can cut short (every sleeper wakes, re-asks)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    async def sleep(self, seconds: float) -> None:
        if self._event is None:
            self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))

    def wake(self) -> None:
        """Thread-safe: wake every sleeper now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._ring)

    def _ring(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()


@dataclass
class Tally:
    accepted: int = 0
    unknown: int = 0
    unsigned: int = 0
    malformed: int = 0
    task_ids: list[str] = field(default_factory=list)


class WebhookListener:
    """An HTTP listener on ``host:port`` in a thread; see the module docstring."""

    def __init__(self, host: str, port: int, dialect: Dialect, known: Callable[[str], bool],
                 waker: Waker, secret: str | None = None) -> None:
        self.dialect, self.known, self.waker, self.secret = dialect, known, waker, secret
        self.tally = Tally()
        self._lock = threading.Lock()
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as exc:
            raise StoryboardError(f"cannot listen for webhooks on {host}:{port}: "
                                  f"{exc.strerror or exc}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)  # stopped in 0.05 s, not serve_forever's 0.5

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> WebhookListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """One callback: its HTTP answer status (204 accepted, else refused and ignored)."""
        if self.secret is not None and not verify(self.secret, headers, body):
            return self._count("unsigned", 401)
        try:
            payload = json.loads(body)
        except ValueError:
            return self._count("malformed", 400)
        task_id = self._task_id(payload)
        if not task_id:
            return self._count("malformed", 400)
        if not self.known(task_id):
            return self._count("unknown", 404)
        with self._lock:
            self.tally.task_ids.append(task_id)
        self.waker.wake()
        return self._count("accepted", 204)

    def _task_id(self, payload: Any) -> str:
        if not isinstance(payload, dict):
            return ""
        wrapped = payload if "data" in payload else {"data": payload}  # sent without its wrapper
        return self.dialect.task_state(wrapped).task_id or self.dialect.task_state(payload).task_id

    def _count(self, what: str, status: int) -> int:
        with self._lock:
            setattr(self.tally, what, getattr(self.tally, what) + 1)
        return status


def body_length(header: str | None) -> int | None:
    """A ``Content-Length`` header into the bytes to read, or None when missing, malformed,
    negative or over ``MAX_BODY`` (the request is then refused unread)."""
    text = (header or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) > MAX_BODY:
        return None
    return int(text)


def _handler(listener: WebhookListener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = body_length(self.headers.get("content-length"))
            if length is None:  # refused before a byte of the body is read
                self.close_connection = True
                self.send_response(400)
                self.send_header("Connection", "close")
                self.end_headers()
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.send_response(listener.receive(headers, body))
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the render's own display is the log

    return Handler
