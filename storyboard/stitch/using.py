"""A stitch's hold on its cache into a lock housekeeping can test (``using``, ``in_use``).

A stitch reads mezzanines it did not write (the studio's draft, a contact sheet's, a render's):
while it runs, it holds an OS lock (``filelock``) on a file of its own in the cache, named
``.using-<pid>-<thread>.lock`` (a dot file: never pruned, never counted as content). ``in_use``
tries each such lock: one it cannot take belongs to a stitch running now; one whose process is
gone (killed mid-stitch) is removed. So ``storyboard cache prune`` knows, rather than guesses by a
file's age, whether anything may be reading the cache.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import filelock

from storyboard.files import lock_held

PREFIX = ".using-"


@contextlib.contextmanager
def using(cache_dir: Path | None) -> Iterator[None]:
    """Hold ``cache_dir`` (a stitch cache; nothing when None) as in use while the block runs."""
    lock = _take(cache_dir) if cache_dir is not None else None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()
            with contextlib.suppress(OSError):
                Path(lock.lock_file).unlink()


def _take(cache_dir: Path) -> filelock.FileLock | None:
    """This thread's own lock in ``cache_dir`` (never contended), or None when it cannot be
    written (a stitch that cannot write its cache does not keep mezzanines in it either)."""
    name = f"{PREFIX}{os.getpid()}-{threading.get_ident()}.lock"
    lock = filelock.FileLock(str(cache_dir / name), timeout=5)  # ``in_use`` may be trying it
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except (OSError, filelock.Timeout):
        return None
    return lock


def in_use(cache_dir: Path) -> bool:
    """Whether a running stitch holds ``cache_dir``; the locks of dead processes are removed."""
    try:
        paths = sorted(cache_dir.glob(f"{PREFIX}*.lock"))
    except OSError:
        return False
    return any(_held(path) for path in paths)


def _held(path: Path) -> bool:
    if lock_held(path):
        return True
    if not _alive(path.name[len(PREFIX):].split("-", 1)[0]):
        with contextlib.suppress(OSError):
            path.unlink()
    return False


def _alive(pid: str) -> bool:
    """Whether process ``pid`` runs (True when unsure: its lock file is then left alone)."""
    if os.name == "nt":  # os.kill there ends the process: never ask
        return True
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except OSError:
        return True
    return True
