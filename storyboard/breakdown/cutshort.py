"""A shots answer cut at its ``max_tokens`` into the shots it had written whole before the cut.

A small model at temperature 0 may repeat itself until the server stops it (Qwen2.5-Coder-1.5B
did, issue 64): the answer ends with ``finish_reason: length`` and is not JSON. When its send-backs
end the same way, what it wrote whole before the loop is still an answer: the shots of its list
read in order while each is a whole JSON object inside the chapter's lines, after the shot
before it (a repeat, a range outside the chapter or a shot cut in the middle ends the reading;
everything from there is left out). Nothing is guessed inside a shot: a shot not written whole is
never read. ``walk.settled`` holds what is read to the stage's whole check, and says it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from storyboard.breakdown.source import Chapter

OPENING = re.compile(r'\{\s*"shots"\s*:\s*\[')
DECODER = json.JSONDecoder()


def written_whole(content: str) -> list[Any]:
    """The items of the answer's ``shots`` list that were written whole, in order."""
    opened = OPENING.search(content)
    if opened is None:
        return []
    items: list[Any] = []
    at = opened.end()
    while True:
        at = _skipped(content, at)
        try:
            item, at = DECODER.raw_decode(content, at)
        except ValueError:
            return items
        items.append(item)
        at = _skipped(content, at)
        if content[at:at + 1] != ",":
            return items
        at += 1


def _skipped(content: str, at: int) -> int:
    while at < len(content) and content[at].isspace():
        at += 1
    return at


def read_shots(content: str, chapter: Chapter) -> tuple[dict[str, Any], int] | None:
    """The shots written whole before the cut, up to the first that is not a shot inside the
    chapter after the one before it, and how many whole items were left out (None: none read)."""
    items, kept, after = written_whole(content), list[Any](), chapter.first - 1
    for item in items:
        end = _end(item, chapter, after)
        if end is None:
            break
        kept.append(item)
        after = end
    return ({"shots": kept}, len(items) - len(kept)) if kept else None


def _end(item: Any, chapter: Chapter, after: int) -> int | None:
    """The line a shot in order ends at (a backward range: its first, as ``shots.left_out``
    reads it); None when it is not a shot inside the chapter after line ``after``."""
    if not isinstance(item, dict):
        return None
    first, last = item.get("from_line"), item.get("to_line")
    if type(first) is not int or type(last) is not int or not after < first <= chapter.last:
        return None
    end = max(first, last)
    return end if end <= chapter.last else None
