"""Bytes into files that appear whole: temporary file beside the target, then an atomic rename.

``tempfile.mkstemp`` creates private files (0600); an episode, a subtitle file or the lock file is an
ordinary file, so it gets the mode any new file would get under the user's umask.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    mask = os.umask(0o022)  # read the umask (it can only be read by setting it) ...
    os.umask(mask)  # ... and put it straight back; this runs once, at import
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()


def temp_prefix(stem: str) -> str:
    """``.NAME.p<pid>.``: a temporary file's name says which process made it, so a later run can
    tell the leftovers of a killed process (removable) from a running one's (kept)."""
    return f".{stem}.p{os.getpid()}."


STITCH_DIR_PREFIX = ".stitch-p"  # + "<pid>-<random>": a stitch's working folder
_STALE_FILE = re.compile(r"^\..*\.p(\d+)\.[a-z0-9_]{8}(?:\.\w+)?$")
_STALE_DIR = re.compile(r"^\.stitch-(?:p(\d+)-)?[a-z0-9_]{8}$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def clean_stale_temporaries(folder: Path) -> list[Path]:
    """Remove what killed runs left in ``folder``: ``.stitch-*`` working folders and
    ``.NAME.p<pid>.*`` files whose process is gone. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pattern = _STALE_DIR if entry.is_dir() else _STALE_FILE
        found = pattern.match(entry.name)
        if found is None or (found.group(1) and _alive(int(found.group(1)))):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically with the usual permissions."""
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.stem), suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            os.fchmod(handle.fileno(), NEW_FILE_MODE)
            handle.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
