"""Bytes into files that appear whole: temporary file beside the target, then an atomic rename.

``tempfile.mkstemp`` creates private files (0600); an episode, a subtitle file or the lock file is an
ordinary file, so it gets the mode any new file would get under the user's umask.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    mask = os.umask(0o022)  # read the umask (it can only be read by setting it) ...
    os.umask(mask)  # ... and put it straight back; this runs once, at import
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically with the usual permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            os.fchmod(handle.fileno(), NEW_FILE_MODE)
            handle.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
