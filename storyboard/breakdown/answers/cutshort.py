"""A shots, cast or outline answer cut at ``max_tokens`` (or stopped looping, ``loops``) into what
it wrote whole before the cut: the ``cut-*`` entries of ``repairs.REPAIRS``.

What was cut in the middle (a looping quote, a scene, a shot) is left out whole, nothing inside it
guessed: the text is read up to the last list element finished, closed there (``_closed``); then
shots while each is inside the chapter after the one before, cast entries up to a name repeated,
beats up to one said again; a summary or first action cut inside, as its whole sentences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from storyboard.breakdown.chat.loops import Loop, cut, loop_in
from storyboard.breakdown.source import Chapter

OPENING = re.compile(r'\{\s*"shots"\s*:\s*\[')
CAST_OPENING = re.compile(r'\{\s*"(?:characters|places|props)"\s*:\s*\[')
OUTLINE_OPENING = re.compile(r'\{\s*"title"\s*:')
SUMMARY_OPENING = re.compile(r'\{\s*"title"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"summary"\s*:\s*"')
ACTION_OPENING = re.compile(r'"action"\s*:\s*"')
NOT_PROSE = re.compile(r"[\n{}\[\]]")
ELLIPSIS = re.compile(r"(?:\.\.\.|…)[\"')\]]*$")
SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
WHOLE_SENTENCE = re.compile(r"[^.!?]*?\S[^.!?]*[.!?]+[\"')\]]*(?=\s)")
STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)  # a JSON string's rest, to its end
CAST_LISTS = ("characters", "places", "props")
CLOSERS = {"{": "}", "[": "]"}


def written_whole(content: str) -> list[Any]:
    """The answer's ``shots`` as far as it was written whole (``_closed``)."""
    data = _closed(content, OPENING)
    shots = data.get("shots") if isinstance(data, dict) else None
    return shots if isinstance(shots, list) else []


def _closed(content: str, opening: re.Pattern[str]) -> Any:
    """The JSON object at ``opening``, read up to its last safe cut, closed there (None: none)."""
    opened = opening.search(content)
    text = content[opened.start():] if opened is not None else ""
    safe = _last_safe(text) if text else None
    if safe is None:
        return None
    at, stack = safe
    try:
        return json.loads(text[:at] + "".join(CLOSERS[c] for c in reversed(stack)))
    except ValueError:
        return None


def _last_safe(text: str) -> tuple[int, list[str]] | None:
    """Where the text may be cut and closed, with the containers open there (None: not cut)."""
    stack: list[str] = []
    safe: tuple[int, list[str]] | None = None
    for at, char in _outside(text):
        if char in CLOSERS:
            stack.append(char)
            if char == "[":
                safe = (at + 1, list(stack))
        elif char in "}]":
            if not stack:
                return None
            stack.pop()
            if not stack:
                return None  # whole: not cut
        elif char == "," and stack[-1:] == ["["]:
            safe = (at, list(stack))
    return safe


def _outside(text: str) -> Iterator[tuple[int, str]]:
    """Each character of JSON text that is not inside a string (a string's quotes are)."""
    quoted, escaped = False, False
    for at, char in enumerate(text):
        if quoted:
            quoted, escaped = escaped or char != '"', not escaped and char == "\\"
            continue
        quoted = char == '"'
        yield at, char


def _opened(text: str) -> list[str]:
    """The containers still open at the end of JSON text (an extra closer ignored)."""
    stack: list[str] = []
    for _at, char in _outside(text):
        if char in CLOSERS:
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
    return stack


def read_shots(content: str, chapter: Chapter | None) -> tuple[dict[str, Any], int] | None:
    """The shots written whole, up to the first that is not inside the chapter after the one
    before it, and how many whole items were left out (None: none read)."""
    if chapter is None:
        return None
    items, kept, after = written_whole(content), list[Any](), chapter.first - 1
    for item in items:
        end = _end(item, chapter, after)
        if end is None:
            break
        kept.append(item)
        after = end
    return ({"shots": kept}, len(items) - len(kept)) if kept else None


def _end(item: Any, chapter: Chapter, after: int) -> int | None:
    """The line a shot in order ends at, read as ``shots.left_out`` reads it (None: not a shot
    with a scene that starts inside the chapter after line ``after``)."""
    if not isinstance(item, dict) or not item.get("scenes"):
        return None
    first, last = item.get("from_line"), item.get("to_line")
    if type(first) is not int or type(last) is not int or not after < first <= chapter.last:
        return None
    return min(max(first, last), chapter.last)


def read_cast(content: str, _chapter: Chapter | None = None) -> tuple[dict[str, Any], int] | None:
    """Each cast list's entries written whole, up to the first whose name repeats one before
    it, and how many whole entries were left out (None: none read)."""
    data = _closed(content, CAST_OPENING)
    if not isinstance(data, dict):
        return None
    read, dropped = {}, 0
    for name in CAST_LISTS:
        items = data.get(name)
        items = items if isinstance(items, list) else []
        read[name] = _until_repeat(items)
        dropped += len(items) - len(read[name])
    return (read, dropped) if any(read.values()) else None


def read_outline(content: str, _chapter: Chapter | None = None
                 ) -> tuple[dict[str, Any], int] | None:
    """The outline's title, summary and beats written whole up to the first said again, and how
    many whole beats were left out (None: not all three written whole)."""
    data = _closed(content, OUTLINE_OPENING)
    beats = data.get("beats") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(beats, list):
        return None
    kept = next((beats[:at] for at, beat in enumerate(beats) if beat in beats[:at]), beats)
    if not kept or not {"title", "summary"} <= set(data):
        return None
    return {**data, "beats": kept}, len(beats) - len(kept)


def read_summary(content: str, _chapter: Chapter | None = None
                 ) -> tuple[dict[str, Any], int] | None:
    """An outline cut inside its summary (issue 67): its title, and the summary's whole
    sentences before the loop, each once, as its beats (None: no whole sentence)."""
    opened = SUMMARY_OPENING.search(content)
    sentences = _sentences(content, opened.end()) if opened is not None else None
    try:
        title = json.loads(opened.group(1)) if opened is not None else None
    except ValueError:
        return None
    if not isinstance(title, str) or not sentences:
        return None
    return {"title": title, "summary": " ".join(sentences), "beats": sentences}, 0


def read_scene(content: str, _chapter: Chapter | None = None) -> tuple[dict[str, Any], int] | None:
    """A shots answer cut inside its first scene's action ("He looks at the king. He looks at
    the miller. ...", issue 67): that shot, its action the whole sentences before the loop,
    each once, and no lines (None: not cut there, or no whole sentence)."""
    opened = OPENING.search(content)
    action = ACTION_OPENING.search(content, opened.end()) if opened is not None else None
    if opened is None or action is None:
        return None
    sentences = _sentences(content, action.end())
    head = _first_scene(content[opened.start():action.start()])
    if head is None or not sentences:
        return None
    head["shots"][0]["scenes"][0].update(action=" ".join(sentences), lines=[])
    return head, 0


def _first_scene(head: str) -> dict[str, Any] | None:
    """The answer up to a key of its first shot's first scene, closed there (None: not so)."""
    head = head.rstrip().rstrip(",")
    if _opened(head) != ["{", "[", "{", "[", "{"]:
        return None
    try:
        data = json.loads(head + "}]}]}")
    except ValueError:
        return None
    shots = data.get("shots") if isinstance(data, dict) else None
    return data if isinstance(shots, list) and len(shots) == 1 else None


def _sentences(content: str, at: int) -> list[str] | None:
    """The whole sentences, each once, of a JSON string at ``at`` cut before its end: up to its
    loop (one turn kept) or the first mark that is not prose; a sentence is whole when a space
    follows it and it ends in no ellipsis (None: the string ends before there)."""
    loop = loop_in(content)
    stop = len(content) if loop is None else max(_turn_end(content, loop), at)
    mark = NOT_PROSE.search(content, at, stop)
    end = stop if mark is None else mark.start()
    if STRING_REST.match(content, at, end) is not None:  # the string ends before there
        return None
    try:
        text = _unescaped(content[at:end]) + (" " if content[end:end + 1].isspace() else "")
    except ValueError:
        return None
    found = (m.group().strip() for m in WHOLE_SENTENCE.finditer(text))
    return [s for s in dict.fromkeys(found) if not ELLIPSIS.search(s)]


def _turn_end(content: str, loop: Loop) -> int:
    """Where a loop's first turn ends: one said in a row, at the end of the sentence it ends
    inside; one said apart, where its block ends."""
    end = loop.start + len(loop.unit)
    close = None if loop.apart else SENTENCE_END.search(content, end, end + len(loop.unit))
    return end if close is None else close.end()


def _unescaped(raw: str) -> str:
    """The text of a JSON string cut before its end (a half escape at the cut left out)."""
    cut = re.sub(r"\\(u[0-9a-fA-F]{0,3})?$", "", raw)
    return str(json.loads(f'"{cut}"'))


def _until_repeat(items: list[Any]) -> list[Any]:
    """The entries before the first whose name (any case) one before it has, or begins with
    ("Naples", then "Naples mountains"), or grows a chain ("Rip Van Winkle's daughter's ...")."""
    seen: list[str] = []
    for at, item in enumerate(items):
        name = " ".join(str(item.get("name", "")).casefold().split()) \
            if isinstance(item, dict) else ""
        if any(name == earlier or name.startswith(f"{earlier} ") for earlier in seen) or \
                (len(seen) >= 2 and all(a and len(b) > len(a) and b.startswith(a) for a, b in
                                        ((seen[-2], seen[-1]), (seen[-1], name)))):
            return items[:at]
        seen.append(name)
    return items


def loops(stage: str, record: dict[str, Any]) -> bool:
    """Whether a cut answer wrote an item whole and then the same again (a shot, a cast entry's
    name, an outline's beat)."""
    if not cut(record) or stage not in ("shots", "cast", "outline"):
        return False
    content = str(record.get("content") or "")
    if stage == "outline":
        outline = read_outline(content)
        return outline is not None and outline[1] > 0
    if stage == "shots":
        items = written_whole(content)
        return any(item in items[:at] for at, item in enumerate(items))
    read = read_cast(content)
    return read is not None and read[1] > 0


