"""An emulator app into a running loopback server: in a background thread for tests, or blocking.

``EmulatorServer`` binds 127.0.0.1 (port 0 picks a free one), runs uvicorn in a daemon thread and
stops it cleanly; ``stats()`` and ``advance_clock()`` hop onto the server's loop, so tests read
consistent numbers. ``serve`` is the blocking form behind ``storyboard emulate``. Only loopback
addresses are accepted: the emulator is a test double with no real authentication.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import uvicorn

from storyboard.emulator.app import EmulatorApp, create_app
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.faults import Fault, FaultRule
from storyboard.emulator.gateways.routes import base_path
from storyboard.emulator.render import RenderFn
from storyboard.emulator.service import Service
from storyboard.errors import StoryboardError
from storyboard.targets.kinds import has

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
T = TypeVar("T")


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback address (ValueError)."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the emulator binds loopback addresses only, not {host!r}")


def bind(host: str, port: int) -> socket.socket:
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say TCP, and
    # the accepted ones inherit it. Without it every answer (headers, then body) waited for the
    # client's delayed ACK: about 40 ms a request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:  # a busy port, an address this machine does not have
        sock.close()
        raise StoryboardError(f"the emulator cannot listen on {host}:{port}: "
                              f"{exc.strerror or exc}") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _uvicorn(app: EmulatorApp, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                            http="h11", proxy_headers=False, server_header=False,
                            timeout_graceful_shutdown=2, timeout_keep_alive=30)
    return uvicorn.Server(config)


class EmulatorServer:
    """A running emulator on 127.0.0.1: ``with EmulatorServer(cfg) as emu: emu.base_url``.

    Without a config, keyword arguments build one: ``EmulatorServer(latency=0.2)``.
    """

    def __init__(self, config: EmulatorConfig | None = None, *, port: int = 0,
                 render: RenderFn | None = None, **settings: Any) -> None:
        self.config = config or EmulatorConfig(**settings)
        self.app = create_app(self.config, render=render)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # --- start and stop --------------------------------------------------------------------

    def start(self) -> Self:
        self._sock = bind("127.0.0.1", self._port)
        self._server = _uvicorn(self.app, "warning")
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="storyboard-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("the emulator is not running")
        port: int = self._sock.getsockname()[1]
        return port

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``{base}`` of the spec: ``http://127.0.0.1:PORT/api/v1``."""
        return f"{self.origin}/api/v1"

    def gateway_url(self, dialect: str) -> str:
        """The base URL of one gateway dialect (``freepik``, ``arrays`` ...) on this emulator."""
        return self.origin + base_path(dialect)

    # --- for tests -------------------------------------------------------------------------

    @property
    def service(self) -> Service:
        return self.app.service

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the server's loop (the only thread that touches its state)."""
        loop = self.service.loop
        if loop is None or self._thread is None:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(STOP_TIMEOUT)

    def stats(self) -> dict[str, Any]:
        """The same JSON as ``GET /_emulator/stats``."""
        return self._on_loop(self.service.snapshot)

    def script(self, *faults: Fault | str) -> None:
        """Queue faults for the next matching requests: ``emu.script("query:500,query:drop")``."""
        self.service.faults.script(*faults)

    def add_rate(self, *rules: FaultRule | str) -> None:
        """Add chance faults: ``emu.add_rate("submit:429:0.2")``."""
        self.service.faults.add_rate(*rules)

    def clear_faults(self) -> None:
        self.service.faults.clear()

    def advance_clock(self, seconds: float) -> None:
        self._on_loop(lambda: self.service.clock.advance(seconds))

    def hold(self) -> None:
        """Keep every task RUNNING once its latency is over, until ``let_go``: a test waits on
        the tasks' state, never races their latency."""
        self._on_loop(self.service.going.clear)

    def let_go(self) -> None:
        """Let the held tasks render and end, and those after them."""
        self._on_loop(self.service.going.set)


def serve(host: str = "127.0.0.1", port: int = 8765, config: EmulatorConfig | None = None, *,
          announce: Callable[[str], None] | None = print, dialect: str = "dashscope") -> None:
    """Run the emulator until interrupted (Ctrl-C). ``announce`` gets the ``{base}`` URL of
    ``dialect`` (every dialect is served; this one is announced)."""
    sock = bind(host, port)
    app = create_app(config or EmulatorConfig())
    shown = f"[{host}]" if ":" in host else host
    if announce is not None:
        path = "/api/v1" if has(dialect, "regions") else base_path(dialect)
        announce(f"http://{shown}:{sock.getsockname()[1]}{path}")
    try:
        _uvicorn(app, "info").run(sockets=[sock])
    finally:
        sock.close()
