"""ffmpeg's own ``-progress`` reports into a listener: how far a long run has got, as it runs.

``listening(listener)`` hears every ffmpeg run ``ffmpeg.run`` makes inside it (in this thread,
and in the worker threads of the work it hands on with ``carried``): each run is started with
``-progress pipe:1``, its report read line by line as ffmpeg writes it (about twice a second),
and each block handed to the listener as a ``Progress``: the run's own words, how many seconds
of output it has written, how long the output will be when the caller knows, and whether it is
ffmpeg's last report of the run (every run ends with one). Outside ``listening`` a run is
started as before, its output unread. Commands stay argument lists, never shell strings.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, ParamSpec, TypeVar

from storyboard.media import processes

__all__ = ["Listener", "Progress", "carried", "listener", "listening", "run_listened"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Progress:
    """One ``-progress`` report of one ffmpeg run."""

    what: str  # the run's own words: "preparing a.mp4 for the episode format"
    seconds: float  # how much output it has written, in seconds (ffmpeg's ``out_time``)
    length: float | None = None  # how long its output will be, when the caller said
    done: bool = False  # ffmpeg's last report of this run (``progress=end``)

    def words(self) -> str:
        """``preparing a.mp4 for the episode format: 2.0 of 6.0 s``."""
        of = f" of {self.length:.1f}" if self.length else ""
        return f"{self.what}: {self.seconds:.1f}{of} s" + (", done" if self.done else "")


Listener = Callable[[Progress], None]
_LISTENER: ContextVar[Listener | None] = ContextVar("storyboard_ffmpeg_progress", default=None)


def listener() -> Listener | None:
    """The listener the ffmpeg runs of this context report to (None: none is listening)."""
    return _LISTENER.get()


@contextlib.contextmanager
def listening(heard: Listener) -> Iterator[None]:
    """Every ffmpeg run inside the block reports its progress to ``heard``."""
    token = _LISTENER.set(heard)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def carried(work: Callable[P, R]) -> Callable[P, R]:
    """``work`` as a worker thread should run it: with the listener of the thread that hands it
    on (a thread of a pool starts with none), so a run there reports as well."""
    heard = _LISTENER.get()
    if heard is None:
        return work

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with listening(heard):
            return work(*args, **kwargs)
    return run


def run_listened(cmd: Sequence[str], what: str, length: float | None, timeout: float | None,
                 heard: Listener) -> tuple[int | None, str]:
    """Run ``cmd`` (an ffmpeg command, its binary first) with ``-progress pipe:1``, each report
    to ``heard``; its exit code (None: killed at ``timeout``) and its log (stderr)."""
    listened = [cmd[0], "-progress", "pipe:1", *cmd[1:]]
    with tempfile.TemporaryFile() as log:
        proc = processes.start(listened, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=log)
        killed: list[bool] = []

        def kill() -> None:
            killed.append(True)
            processes.kill(proc)
        timer = threading.Timer(timeout, kill) if timeout is not None else None
        try:
            if timer is not None:
                timer.start()
            assert proc.stdout is not None
            _reports(proc.stdout, what, length, heard)
            code = proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
            if proc.poll() is None:  # the listener raised, or Ctrl-C: the run goes too
                processes.kill(proc)
        log.seek(0)
        return (None if killed else code), log.read().decode("utf-8", errors="replace")


def _reports(stream: IO[bytes], what: str, length: float | None, heard: Listener) -> None:
    """Each block of ``key=value`` lines ffmpeg writes, as a ``Progress``, when its
    ``progress=`` line ends it."""
    seconds = 0.0
    for raw in stream:
        key, _, value = raw.decode("utf-8", errors="replace").strip().partition("=")
        if key in ("out_time_us", "out_time_ms") and value.lstrip("-").isdigit():
            seconds = max(0.0, int(value) / 1_000_000)  # both are microseconds (ffmpeg's own)
        elif key == "progress":
            heard(Progress(what, seconds, length, value == "end"))
