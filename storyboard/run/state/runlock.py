"""A series and a process into one run at a time: the lock two renders of one series never share.

Two runners reading the same journal could both submit a shot: a render, a cancel, a settle and
the cache's housekeeping each take ``run_lock`` first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import filelock

from storyboard.errors import JournalError, RunBusy


@contextlib.contextmanager
def run_lock(series_dir: Path) -> Iterator[None]:
    """Refuse a second render (or cancel) of the same series while one runs: two runners reading
    the same journal could both submit a shot. The lock is the OS's (``filelock``: flock on
    POSIX, msvcrt on Windows), so it is taken on every platform and dropped when a process dies;
    ``run.pid`` says who holds it."""
    folder = series_dir / ".storyboard"
    lock = filelock.FileLock(str(folder / "run.lock"), timeout=0)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except filelock.Timeout as exc:
        holder = _holder(folder)
        raise RunBusy(f"another storyboard render is running on {series_dir} (pid {holder}); "
                      "wait for it or stop it first", holder) from exc
    except OSError as exc:
        raise JournalError(
            f"cannot write to {folder}: {exc.strerror or exc}; storyboard keeps its task "
            "journal and cache there: make it a writable folder and run again (nothing was "
            "spent)") from exc
    try:
        with contextlib.suppress(OSError):
            (folder / "run.pid").write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        lock.release()


def _holder(folder: Path) -> str:
    try:
        return (folder / "run.pid").read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"
