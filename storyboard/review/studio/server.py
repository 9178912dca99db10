"""A studio into a running server: uvicorn on loopback, a watcher thread, a token, until Ctrl-C.

``StudioServer`` is the background form (tests, the benchmark): ``start`` serves and starts
watching, then checks and drafts once (and waits for that, however long it takes, unless told not
to); ``stop`` ends both cleanly. ``serve`` is the blocking form behind ``storyboard studio``: it
prints the address as soon as the server listens, and the page says "starting" until the first
check is shown. The studio binds 127.0.0.1 unless told otherwise (``--host``); any other
address is refused unless ``allow_remote`` says the user asked for it by name.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn
from watchfiles import watch

from storyboard.errors import StoryboardError
from storyboard.review.studio.app import Guard, create_app
from storyboard.review.studio.proposals import Lookout
from storyboard.review.studio.state import Studio, warm_up, watched

START_TIMEOUT = 15.0
DEBOUNCE_MS = 50  # watchfiles groups the writes of one save
STEP_MS = 10  # a save is taken once no write to it came for this long
STOP_WAIT = 0.5  # seconds ``storyboard studio`` waits for its threads after Ctrl-C


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on each connection: a response's headers and
    # body are two writes, and the second would otherwise wait for the client's delayed ACK
    # (40 ms on every request after a connection's first)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise StoryboardError(f"the studio cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(64)
    sock.setblocking(False)
    return sock


class StudioServer:
    """The studio in background threads: one for uvicorn, one watching the series' files."""

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None, author: str | None = None,
                 allow_remote: bool = False, render_drafts: bool = True,
                 lookout: Lookout | None = None, provider: str | None = None) -> None:
        if not (loopback(host) or allow_remote):
            raise StoryboardError(f"the studio listens on loopback addresses unless told "
                                  f"otherwise; {host!r} is not one")
        self.studio = Studio(root, render_drafts=render_drafts, author=author, lookout=lookout,
                             provider=provider)
        self.token = token or secrets.token_urlsafe(24)
        self.host = host
        self.sock = _bind(host, port)
        self.port = int(self.sock.getsockname()[1])
        self.stopping = threading.Event()
        self.watching = threading.Event()  # set once the watcher sees the folder
        self.refreshed = threading.Event()  # set once the first check (and draft) is shown
        shown = f"[{host.strip('[]')}]" if ":" in host else host
        hosts = {f"{shown}:{self.port}", f"localhost:{self.port}", f"127.0.0.1:{self.port}"}
        self.app = create_app(self.studio, Guard(self.token, hosts))
        self.server = uvicorn.Server(uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", http="h11",
            proxy_headers=False, server_header=False, timeout_graceful_shutdown=1))
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        shown = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/?token={self.token}"

    def start(self, *, first_draft: bool = True) -> Self:
        """Serve and watch; with ``first_draft``, return once the first check and draft are shown
        too (however long a big series' first draft takes), else at once (the page says
        "starting" until then)."""
        self._thread(lambda: self.server.run(sockets=[self.sock]), "studio-http")
        self._thread(self.watch, "studio-watch")
        self._wait(lambda: bool(self.server.started) and self.watching.is_set(), START_TIMEOUT)
        if first_draft:
            self._wait(self.refreshed.is_set, None)
        return self

    def _wait(self, ready: Callable[[], bool], limit: float | None) -> None:
        deadline = None if limit is None else time.monotonic() + limit
        while not ready():
            if not all(thread.is_alive() for thread in self.threads):
                raise StoryboardError("the studio stopped while starting")
            if deadline is not None and time.monotonic() > deadline:
                raise StoryboardError("the studio's server did not start")
            time.sleep(0.01)

    def _thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def watch(self) -> None:
        """Check and draft once, then again on every save of a file the series uses (not its
        state or output). Its own thread: a render runs its event loop, never inside another."""
        root = self.studio.root
        for changes in watch(root, stop_event=self.stopping, debounce=DEBOUNCE_MS,
                             step=STEP_MS, rust_timeout=200, yield_on_timeout=True,
                             watch_filter=lambda _change, path: watched(Path(path), root)):
            self.watching.set()  # the first (empty) answer comes once the watch is in place
            if changes or not self.refreshed.is_set():  # a save during the first: seen next
                self.studio.refresh()
            if not self.refreshed.is_set():
                self.refreshed.set()
                # not one of ``threads`` (each of which runs as long as the studio does)
                threading.Thread(target=warm_up, name="studio-warm-up", daemon=True).start()

    def stop(self, wait: float = 10.0) -> None:
        """Stop serving and watching: the page's event streams are ended first, so uvicorn has no
        open response to wait for (or to cancel); ``wait`` bounds how long a draft being made may
        hold the watcher."""
        self.studio.close()
        self.stopping.set()
        self.server.should_exit = True
        deadline = time.monotonic() + wait
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(root: Path, *, host: str, port: int, author: str | None, allow_remote: bool,
          announce: Callable[[str], None], open_browser: bool = False,
          lookout: Lookout | None = None, provider: str | None = None) -> None:
    """Run the studio until Ctrl-C (the blocking form behind ``storyboard studio``)."""
    server = StudioServer(root, host=host, port=port, author=author, allow_remote=allow_remote,
                          lookout=lookout, provider=provider)
    signal.signal(signal.SIGTERM, _interrupt)  # docker stop, systemd: stop as Ctrl-C does
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C, or SIGTERM as _interrupt raises it
        server.start(first_draft=False)  # the page says "starting" until its first check
        announce(server.url)
        if open_browser:
            import webbrowser
            webbrowser.open(server.url)
        while all(t.is_alive() for t in server.threads):
            time.sleep(0.2)
    # Within a second: a draft still being made is left to its (daemon) thread; a second
    # Ctrl-C stops the waiting.
    with contextlib.suppress(KeyboardInterrupt):
        server.stop(wait=STOP_WAIT)
    if any(thread.is_alive() for thread in server.threads):
        # A draft still being stitched: leave now, as a killed run does (its temporaries are
        # named by this process and removed by the next run), rather than wait for it or let the
        # interpreter's exit tear its working folder down under ffmpeg and print that.
        announce("stopping")
        sys.stderr.flush()
        os._exit(0)
    announce("stopping")
