"""A command into its output, within a time: a run past its time or stopped by its caller goes
with every process it started.

``STORYBOARD_FFMPEG`` may name a wrapper (a script that runs ffmpeg under ``nice``, in a
container, with a log). Killing the wrapper alone would leave its ffmpeg running and holding the
pipes open, so a run past its time would wait for that ffmpeg to end by itself. ``kill`` stops
the wrapper (``SIGSTOP``: it starts nothing more), then every process below it, read from
``/proc``, then the wrapper; where there is no ``/proc`` (macOS) the command alone. Commands stay
in storyboard's own process group, so Ctrl-C at a terminal reaches every ffmpeg as it reaches
storyboard, worker threads' included. Once killed, output still held open by a process that left
the group (a daemon) is waited for ``DRAIN`` seconds at most.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DRAIN = 5.0  # seconds the pipes of a killed command are read for, at most
PROC = Path("/proc")
PAUSE: signal.Signals | None = getattr(signal, "SIGSTOP", None)  # none on Windows


def start(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``cmd`` started (``kill`` stops it and what it starts)."""
    return subprocess.Popen(list(cmd), **kwargs)


def kill(proc: subprocess.Popen[Any]) -> None:
    """Stop ``proc`` and every process below it, then reap ``proc``."""
    if proc.poll() is None:
        if PAUSE is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, PAUSE)
        for pid in below(proc.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    proc.wait()


def below(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs, from ``/proc`` (none where it is not)."""
    children: dict[int, list[int]] = defaultdict(list)
    with contextlib.suppress(OSError):
        for entry in PROC.iterdir():
            if entry.name.isdigit():
                parent = _parent(entry / "stat")
                if parent is not None:
                    children[parent].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _parent(stat: Path) -> int | None:
    """The parent's id in a ``/proc/PID/stat`` (None: gone, or unreadable)."""
    try:
        fields = stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        return int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def run(cmd: Sequence[str], timeout: float | None) -> subprocess.CompletedProcess[str]:
    """``cmd``'s exit code, stdout and stderr (text, undecodable bytes replaced), as
    ``subprocess.run`` gives them; past ``timeout`` it is killed with all it started
    (``kill``) and ``subprocess.TimeoutExpired`` raised, as anything else is on the way out."""
    with start(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
               text=True, errors="replace") as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            kill(proc)
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
                proc.communicate(timeout=DRAIN)  # the pipes, closed after by the ``with``
            raise
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)
