"""A state file under ``.storyboard/breakdown/`` into JSON read as untrusted, or a located warning.

Anything may have written the file (another version, a crash, a hand, a hostile checkout), so it
is read the way an answer is: at most ``MAX_BYTES``, no deeper than the parser goes (its
recursion limit is caught), without ``NaN`` or ``Infinity``, and then held to the shape its reader
expects (each reader checks the types it uses). A file that fails any of these is a one-line
warning at the file (``path:1:1: warning: ...; ignored``) and is treated as absent, never a
traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyboard.breakdown.state import reading
from storyboard.errors import Diagnostic, Span

MAX_BYTES = 32 * 1024 * 1024


class Unreadable(ValueError):
    """A state file that is not what its reader expects (the message says what it expected)."""


def loads(text: str) -> Any:
    """``text`` as JSON, refused (``Unreadable``) when not JSON, with ``NaN`` or ``Infinity``,
    or nested deeper than ``reading.MAX_DEPTH`` (``reading.loads``: never a traceback)."""
    try:
        return reading.loads(text)
    except ValueError as exc:
        raise Unreadable(f"expected JSON, found {exc}") from exc


def read(path: Path) -> Any:
    """The JSON in ``path`` (``Unreadable`` when too large, unreadable or not JSON;
    ``FileNotFoundError`` when there is none)."""
    if not path.is_file():  # a FIFO or a device would block the read: never opened
        if path.exists() or path.is_symlink():
            raise Unreadable("expected a regular file")
        raise FileNotFoundError(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise Unreadable(f"cannot read it: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise Unreadable(f"expected at most {MAX_BYTES:,} bytes")
    try:
        return loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Unreadable("expected UTF-8 text") from exc


def warning(path: Path, problem: Unreadable) -> Diagnostic:
    """The one-line warning that says a state file was ignored, and why."""
    return Diagnostic(Span(str(path), 1, 1), f"{problem}; the file is ignored", "warning",
                      code="breakdown-state")
