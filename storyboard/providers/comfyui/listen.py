"""ComfyUI's ``/ws`` messages into progress: one socket per instance, our prompts' steps and ends.

A ComfyUI server sends JSON messages on ``WS /ws?clientId=ID`` to the client that queued a prompt
(the ``client_id`` of ``POST /prompt``): ``executing {node, prompt_id}`` as each node starts
(``node: null`` once the prompt is done and its history written), ``progress {value, max,
prompt_id?, node?}`` per sampling step, and ``status``, ``execution_start``, ``executed``,
``execution_success``, ``execution_error``, ``execution_interrupted``; binary frames are previews.
A newer server (ComfyUI 0.4 and later) also sends ``progress_state {prompt_id, nodes}`` as each
node starts, steps and finishes: every node begun so far with its state. It says again what
``executing`` and ``progress`` say, so it is passed over (an old server's socket reads the same).

``Watch`` holds one instance's socket (the ``websockets`` library): connected before a prompt is
queued, read in a background task, each of our prompts' steps handed to ``on_progress`` and its
end set on an event (the runner's poll then asks at once instead of waiting its schedule). The
socket only speeds things up: ``/history`` stays the source of truth for every result. A socket
that cannot connect or drops is a note in the log, and the job is polled as before; it is tried
again at most every ``RETRY_AFTER`` seconds. Nothing a server sends is shown as text: only numbers
and the node ids and classes of our own graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from storyboard.providers.base import Progress

log = logging.getLogger("storyboard.providers.comfyui")

OPEN_TIMEOUT = 5.0  # seconds to open the socket before polling alone
RETRY_AFTER = 60.0  # seconds before a socket that failed is tried again
MAX_MESSAGE = 8 * 1024 * 1024  # bytes: previews are the largest frames


def ws_url(base: str, client_id: str) -> str:
    """``http://host:8188`` into ``ws://host:8188/ws?clientId=ID`` (https into wss)."""
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws",
                       f"clientId={quote(client_id, safe='')}", ""))


@dataclass
class Followed:
    """One of our prompts on this socket: its nodes' classes, and an event set at its end."""

    classes: dict[str, str]
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    hear: Progress | None = None  # where its progress goes (else the watch's ``on_progress``)


class Watch:
    """One instance's ``/ws`` socket for our client id; see the module docstring."""

    def __init__(self, url: str, client_id: str, on_progress: Callable[[], Progress | None]
                 ) -> None:
        self.url, self.client_id = url, client_id
        self._on_progress = on_progress
        self.followed: dict[str, Followed] = {}
        self.current = ""  # the prompt the server runs now (older servers' progress omits it)
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def follow(self, prompt_id: str, classes: dict[str, str],
                     hear: Progress | None = None) -> None:
        """Listen for ``prompt_id`` (before it is queued: a server sends only to sockets open
        when it speaks), its progress told to ``hear`` (the asking provider's hook; else the
        watch's own); connect first when needed and not failed lately."""
        self.followed[prompt_id] = Followed(classes, hear=hear)
        async with self._lock:
            if not self.connected and (self._failed_at is None or
                                       time.monotonic() - self._failed_at >= RETRY_AFTER):
                await self._connect()

    def ended(self, prompt_id: str) -> asyncio.Event | None:
        followed = self.followed.get(prompt_id)
        return followed.ended if followed is not None else None

    def forget(self, prompt_id: str) -> None:
        self.followed.pop(prompt_id, None)

    async def _connect(self) -> None:
        try:
            self._socket = await connect(ws_url(self.url, self.client_id),
                                         open_timeout=OPEN_TIMEOUT, max_size=MAX_MESSAGE)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self._note(f"cannot open {self.url}/ws ({type(exc).__name__})")
            return
        self._failed_at = None
        self._reader = asyncio.get_running_loop().create_task(self._read(self._socket))

    def _note(self, why: str) -> None:
        self._failed_at = time.monotonic()
        log.info("%s: progress is polled from /history instead", why)

    async def _read(self, socket: ClientConnection) -> None:
        try:
            async for frame in socket:
                if isinstance(frame, str):
                    self.heard(frame)
        except (OSError, WebSocketException) as exc:
            self._note(f"{self.url}/ws dropped ({type(exc).__name__})")
            return
        self._note(f"{self.url}/ws closed")

    def heard(self, frame: str) -> None:
        """One text frame: our prompt's step or end; anything else is passed over (a frame that
        is not JSON, or nested deeper than the reader goes, is logged and skipped)."""
        try:
            said = json.loads(frame)
        except (ValueError, RecursionError) as exc:
            log.debug("%s/ws: a frame that is not readable JSON skipped (%s)", self.url,
                      type(exc).__name__)
            return
        data = said.get("data") if isinstance(said, dict) else None
        if not isinstance(data, dict):
            return
        kind = said.get("type")
        prompt_id = data.get("prompt_id")
        if isinstance(prompt_id, str) and kind in ("execution_start", "executing"):
            self.current = prompt_id
        prompt_id = prompt_id if isinstance(prompt_id, str) else self.current
        followed = self.followed.get(prompt_id)
        if followed is None:
            return
        if kind == "executing":
            node = data.get("node")
            if node is None:
                followed.ended.set()  # sent after the history holds the result
            elif isinstance(node, str) and node in followed.classes:
                self._tell(prompt_id, None, f"node {node} ({followed.classes[node]})")
        elif kind == "progress":
            self._step(prompt_id, followed, data)
        elif kind == "execution_start":
            self._tell(prompt_id, 0.0, "started")
        # ``progress_state`` and the rest: nothing more to tell (the module docstring)

    def _step(self, prompt_id: str, followed: Followed, data: dict[str, Any]) -> None:
        value, most, node = _number(data.get("value")), _number(data.get("max")), data.get("node")
        if value is None or most is None or most <= 0:
            return
        fraction = min(1.0, max(0.0, value / most))
        where = (f"node {node} ({followed.classes[node]}): " if isinstance(node, str)
                 and node in followed.classes else "")
        self._tell(prompt_id, fraction, f"{where}step {value:g} of {most:g}")

    def _tell(self, prompt_id: str, fraction: float | None, message: str) -> None:
        followed = self.followed.get(prompt_id)
        hear = followed.hear if followed is not None and followed.hear is not None \
            else self._on_progress()
        if hear is None:
            return
        try:
            hear(prompt_id, fraction, message)
        except Exception:  # a broken progress display must not lose a job
            log.exception("progress callback failed")

    async def aclose(self) -> None:
        reader, socket = self._reader, self._socket
        self._reader = self._socket = None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close()


def _number(value: Any) -> float | None:
    """A finite number a server sent, or None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
