"""A state file under ``.storyboard/breakdown/`` into JSON read as untrusted, or a located warning.

Anything may have written the file (another version, a crash, a hand, a hostile checkout), so it
is read the way an answer is: at most ``MAX_BYTES``, nested at most ``MAX_DEPTH`` deep (counted
before parsing, so a 100,000-deep file never reaches the parser's recursion), and then held to
the shape its reader expects. A file that fails any of these is a one-line warning at the file
(``path:1:1: warning: ...; ignored``) and is treated as absent, never a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, Span

MAX_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 32


class Unreadable(ValueError):
    """A state file that is not what its reader expects (the message says what it expected)."""


STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
BRACKET = re.compile(r"[\[\]{}]")


def depth(text: str) -> int:
    """How deeply ``text``'s arrays and objects nest (brackets inside strings not counted)."""
    deepest = level = 0
    for mark in BRACKET.findall(STRING.sub("", text)):
        level += 1 if mark in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def loads(text: str) -> Any:
    """``text`` as JSON, refused (``Unreadable``) when too deep or not JSON."""
    if depth(text) > MAX_DEPTH:
        raise Unreadable(f"expected JSON nested at most {MAX_DEPTH} deep")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"expected JSON, found {exc}") from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


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
