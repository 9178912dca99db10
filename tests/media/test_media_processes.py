"""A run past its time stops everything it started (``media.processes``): with a wrapper script
as ``STORYBOARD_FFMPEG`` (ffmpeg under ``nice``, in a container, logged), the wrapper's own
ffmpeg goes with it, and the error comes at the time, not when that ffmpeg would have ended."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.errors import FFmpegError
from storyboard.media import ffbinary, ffmpeg, processes
from storyboard.media.ffprogress import listening

# 12 s of picture read at its own rate (``-re``): a run that takes 12 s whatever the machine
PACED = ["-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=12", "-c:v",
         "libx264", "-preset", "ultrafast", "-f", "null", "-"]
WRAPPER = """#!/bin/sh
# ffmpeg as a wrapper runs it: a child of its own, waited for
"{real}" "$@" &
echo $! >> "{pids}"
wait $!
"""


@pytest.fixture
def wrapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``STORYBOARD_FFMPEG`` naming a wrapper of the chosen ffmpeg; the file its children's
    process ids are written to."""
    real, pids = ffbinary.current().require(), tmp_path / "pids"
    script = tmp_path / "wrapper" / "ffmpeg"
    script.parent.mkdir()
    script.write_text(WRAPPER.format(real=real, pids=pids), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv(ffbinary.ENV_VAR, str(script))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ffbinary.reset()
    assert ffbinary.current().require() == str(script)  # chosen, its probes run through it
    yield pids
    ffbinary.reset()
    for pid in _ids(pids):  # a failing test leaves nothing running
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _ids(pids: Path) -> list[int]:
    return [int(n) for n in pids.read_text().split()] if pids.exists() else []


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie no one reaped yet has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def gone(pid: int) -> bool:
    ends = time.monotonic() + 5
    while running(pid) and time.monotonic() < ends:
        time.sleep(0.05)
    return not running(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("listened", [False, True], ids=["quiet", "listened"])
def test_a_run_past_its_time_stops_the_wrapper_and_its_ffmpeg(wrapped: Path, listened: bool
                                                              ) -> None:
    before = len(_ids(wrapped))
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if listened:
            stack.enter_context(listening(lambda _progress: None))
        with pytest.raises(FFmpegError, match="a paced run: ffmpeg took longer than 1"):
            ffmpeg.run(PACED, what="a paced run", timeout=1)
    took = time.monotonic() - started
    assert took < 8, f"the error came after {took:.1f} s: the wrapper's ffmpeg was waited for"
    started_ffmpeg = _ids(wrapped)[before:]
    assert len(started_ffmpeg) == 1
    assert gone(started_ffmpeg[0]), "the wrapper's ffmpeg is still running"


def test_a_run_within_its_time_gives_its_output(tmp_path: Path) -> None:
    done = processes.run([sys.executable, "-c", "import sys; print('out'); "
                          "print('err', file=sys.stderr); sys.exit(3)"], 30)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run([sys.executable, "-c", "import time; time.sleep(30)"], 0.5)
