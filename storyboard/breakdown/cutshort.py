"""A shots or cast answer cut at its ``max_tokens`` into what it had written whole before the cut.

A small model at temperature 0 may repeat itself until the server stops it (Qwen2.5-Coder-1.5B
did, issue 64: a quote of its own, "I have spun it! I have spun it! ...", to the bound): the
answer ends with ``finish_reason: length`` and is not JSON. When its send-backs end the same way,
what it wrote before the loop is still an answer: the text up to the last list element it
finished, the lists and objects open there closed, so what was cut in the middle (the looping
quote, a scene, a shot) is left out whole and nothing inside it is guessed; then its shots read
in order while each is inside the chapter's lines after the one before it (a repeat or a range
outside the chapter ends the reading). ``walk.settled`` holds what is read to the schema and the
stage's whole check, and says it.

A cast answer cut so (the same model listed a chapter's characters again and again until stopped,
issue 67) is read the same way: each list's entries written whole, up to the first whose name
repeats one before it in that list, or begins with one, words added (the same model listed a
chapter's ten places, then the ten again each with "mountains" added, again and again); a list it
never reached is empty.

An outline cut so (the same model copied the story's paragraphs as beats, then one beat again and
again, issue 67) is read the same way: its title and summary, and its beats written whole up to
the first that says one before it again.

A shots answer cut inside its first scene's action (the same model wrote "He looks at the king.
He looks at the miller. ..." until it was stopped, through its send-backs, issue 67) has no
scene written whole; it is read as that shot with its action the whole sentences before the
loop, each once, and no lines (``read_scene``), as an outline cut inside its summary is.

A cut answer that has written an item whole and then the same item again (``loops``) is not sent
back: at temperature 0 the model asked again repeats the loop (measured), and each turn costs the
whole ``max_tokens``. It is read at once, as above.

A cut answer that loops inside one entry (``looping``: Qwen2.5-Coder-1.5B wrote "He has a stern,
stern demeanor and a stern, stern attitude." to the bound inside the first character's
appearance, issue 67) has nothing whole to read: it is sent back with the loop named, and quoted
only up to where the loop begins (``unlooped``): not the thousands of characters after it, which
would cost their tokens again and show the model its own loop, nor a mark of the cut, which the
model copied into its next answer (measured). The turns after it ask with ``presence_penalty``
(``LOOP_PENALTY``): on that chapter's first question it ended the loop (513 tokens, the cast)
where the same request without it looped to the bound.

A streamed answer is watched as it comes (``watcher``): once its text so far ends in a loop that
its request's own words do not hold (a story may say one sentence six times) it is stopped there,
with the finish reason ``STOPPED``, and read as an answer cut at ``max_tokens`` is, without waiting
for the thousands of tokens of the loop's rest (on that model, about 270 s of every chapter's first
cast answer). A loop is a loop wherever it is cut, so the stopped answer is judged by the same
``looping`` that watched it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from storyboard.breakdown.reading import loads
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
CAST_LISTS = ("characters", "places", "props")
CLOSERS = {"{": "}", "[": "]"}
LOOP_PERIOD = 400  # the longest unit a loop is looked for in, in characters
LOOP_TURNS = 4  # a unit said at least this many times in a row at the end of a cut answer ...
LOOP_SPAN = 200  # ... over at least this many characters is a loop
LONG_PERIOD = 4000  # a longer unit (a paragraph of the story copied again and again) said twice
ECHO_SPAN = 200  # the last characters of an answer said this many times over, apart ...
ECHO_TURNS = 3  # ... (each entry's value ending in the same paragraph) is a loop too, unless
QUOTED = 80  # ... half its windows of this many characters are the request's words (quoting)
LOOP_PENALTY = 1.0  # presence_penalty of the turns after a loop: OpenAI's field ([-2, 2]); listed
# by DashScope's compatible mode and Ollama (spec/llm.md), taken by llama.cpp's server (measured);
# an endpoint that refuses it is asked without it (``Asker._stepped_down``)
LOOPED = "the answer was cut short at max_tokens (finish_reason: length) saying the same again"
STOPPED = "looping"  # the finish reason of a streamed answer stopped because it loops (ours)
STOPPED_SAID = "the answer was stopped while it kept saying the same again"
CUT = ("length", STOPPED)  # the finish reasons of an answer that did not end by itself


@dataclass(frozen=True)
class Loop:
    """Where a cut answer's repeating begins, and the unit it repeats."""

    start: int
    unit: str
    apart: bool = False  # said again with other words between (``_echo_in``), not in a row

    def problem(self, stopped: bool = False) -> str:
        """The loop as a problem quoted back to the model (``stopped``: a streamed answer was
        stopped in it, not cut at ``max_tokens``)."""
        said = self.unit if len(self.unit) <= 80 else self.unit[:80] + "..."
        return (f"{STOPPED_SAID if stopped else LOOPED}: from character {self.start:,}, where it "
                f"is quoted up to, it "
                f"repeats {said!r} until it was stopped. Write each value once, in a few words, "
                "and end the JSON")


def written_whole(content: str) -> list[Any]:
    """The answer's ``shots`` as far as it was written whole: the text up to the last element of
    a list that was finished (followed by its comma or its ``]``), every list and object still
    open there closed; what was cut in the middle (a quote, a scene, a shot) is left out whole."""
    data = _closed(content, OPENING)
    shots = data.get("shots") if isinstance(data, dict) else None
    return shots if isinstance(shots, list) else []


def _closed(content: str, opening: re.Pattern[str]) -> Any:
    """The JSON object that starts at ``opening``, read up to its last safe cut and closed
    there (None: there is none, or it was not cut)."""
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
    """Where the text may be cut and closed (after a list's ``[`` or before the comma after a
    finished element), with the containers open there; None when the text closes itself (it was
    not cut)."""
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
    """The line a shot in order ends at (a backward range: its first; one past the chapter: its
    last line, as ``shots.left_out`` reads them); None when it is not a shot that starts inside
    the chapter after line ``after``, or has no scene written whole."""
    if not isinstance(item, dict) or not item.get("scenes"):
        return None
    first, last = item.get("from_line"), item.get("to_line")
    if type(first) is not int or type(last) is not int or not after < first <= chapter.last:
        return None
    return min(max(first, last), chapter.last)


def read_cast(content: str) -> tuple[dict[str, Any], int] | None:
    """The cast written whole before the cut: each list's entries up to the first whose name
    repeats one before it, and how many whole entries were left out (None: none read)."""
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


def read_outline(content: str) -> tuple[dict[str, Any], int] | None:
    """The outline written whole before the cut: its title and summary, and its beats up to the
    first that says one before it again, and how many whole beats were left out (None: no title,
    summary and beat were written whole)."""
    data = _closed(content, OUTLINE_OPENING)
    beats = data.get("beats") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(beats, list):
        return None
    kept = next((beats[:at] for at, beat in enumerate(beats) if beat in beats[:at]), beats)
    if not kept or not {"title", "summary"} <= set(data):
        return None
    return {**data, "beats": kept}, len(beats) - len(kept)


def read_summary(content: str) -> tuple[dict[str, Any], int] | None:
    """An outline cut inside its summary, before any beat (the same model wrote a chapter's
    events into its summary until it said one again and again, through its send-backs, issue
    67): its title, and the summary's whole sentences up to the loop, each once, as its beats
    (None: the summary was written whole, or has no whole sentence)."""
    opened = SUMMARY_OPENING.search(content)
    sentences = _sentences(content, opened.end()) if opened is not None else None
    try:
        title = json.loads(opened.group(1)) if opened is not None else None
    except ValueError:
        return None
    if not isinstance(title, str) or not sentences:
        return None
    return {"title": title, "summary": " ".join(sentences), "beats": sentences}, 0


def read_scene(content: str) -> tuple[dict[str, Any], int] | None:
    """A shots answer cut inside its first scene's action (the same model wrote "He looks at
    the king. He looks at the miller. ..." until it was stopped, through its send-backs, issue
    67): that shot, its scene's action the whole sentences before the loop, each once, and no
    lines (None: not cut there, or no whole sentence)."""
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
    """The answer up to a key of its first shot's first scene, closed there (None: it is not
    inside that scene)."""
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
    """The whole sentences, each once, of a JSON string that goes on at ``at`` and was cut
    before its end: up to its loop (one turn of it kept, ``_turn_end``), or to the first mark
    that is not prose (a line break, a bracket: JSON closed inside the string, chatter after
    it); a sentence is whole when a space follows it, and not when it ends in an ellipsis
    (None: the string ends before there)."""
    loop = loop_in(content)
    stop = len(content) if loop is None else max(_turn_end(content, loop), at)
    mark = NOT_PROSE.search(content, at, stop)
    end = stop if mark is None else mark.start()
    if _string_end(content[:end], at) is not None:
        return None
    try:
        text = _unescaped(content[at:end]) + (" " if content[end:end + 1].isspace() else "")
    except ValueError:
        return None
    found = (m.group().strip() for m in WHOLE_SENTENCE.finditer(text))
    return [s for s in dict.fromkeys(found) if not ELLIPSIS.search(s)]


def _turn_end(content: str, loop: Loop) -> int:
    """Where a loop's first turn ends: a loop said in a row, carried on to the end of the
    sentence it ends inside (one found from inside a sentence: ``lamp. She ... the keeper``,
    then ``. She ...``); one said apart, where its block ends (what follows it is not the
    loop's)."""
    end = loop.start + len(loop.unit)
    close = None if loop.apart else SENTENCE_END.search(content, end, end + len(loop.unit))
    return end if close is None else close.end()


def _string_end(content: str, at: int) -> int | None:
    """Where the JSON string that goes on at ``at`` ends (None: it was cut before its end)."""
    escaped = False
    for index in range(at, len(content)):
        char = content[index]
        if char == '"' and not escaped:
            return index
        escaped = not escaped and char == "\\"
    return None


def _unescaped(raw: str) -> str:
    """The text of a JSON string cut before its end (a half escape at the cut left out)."""
    cut = re.sub(r"\\(u[0-9a-fA-F]{0,3})?$", "", raw)
    return str(json.loads(f'"{cut}"'))


def _until_repeat(items: list[Any]) -> list[Any]:
    """The entries before the first whose name (any case) one before it already has, or
    begins with, words added (the list begun again: "Naples", then "Naples mountains"), or
    that grows the name before it which grew the one before that ("Rip Van Winkle", "Rip Van
    Winkle's daughter", then "Rip Van Winkle's daughter's husband": a chain, issue 67)."""
    seen: list[str] = []
    for at, item in enumerate(items):
        name = " ".join(str(item.get("name", "")).casefold().split()) \
            if isinstance(item, dict) else ""
        if any(name == earlier or name.startswith(f"{earlier} ") for earlier in seen) or \
                (len(seen) >= 2 and _grows(seen[-1], name) and _grows(seen[-2], seen[-1])):
            return items[:at]
        seen.append(name)
    return items


def _grows(name: str, longer: str) -> bool:
    return bool(name) and len(longer) > len(name) and longer.startswith(name)


def loops(stage: str, record: dict[str, Any]) -> bool:
    """Whether an answer cut at ``max_tokens`` (or stopped looping) wrote an item whole and then
    the same again: a shot equal to one before it, a cast entry whose name one before it has (or
    begins with), an outline's beat said before."""
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


def looping(record: dict[str, Any]) -> Loop | None:
    """The loop a cut answer ends in: the shortest unit that its last characters repeat
    (``loop_in``; None: not cut, or not ending in one)."""
    return loop_in(str(record.get("content") or "")) if cut(record) else None


def loop_in(content: str) -> Loop | None:
    """The loop a text ends in, wherever it was cut: the shortest unit of at most
    ``LOOP_PERIOD`` characters its last characters say ``LOOP_TURNS`` times in a row over at
    least ``LOOP_SPAN`` characters, else of at most ``LONG_PERIOD`` said twice in a row, else a
    block said over and over with other words between (``_echo_in``)."""
    for period in range(1, min(LOOP_PERIOD, len(content) // LOOP_TURNS) + 1):
        start = _periodic_from(content, period)
        if len(content) - start >= max(LOOP_TURNS * period, LOOP_SPAN):
            return Loop(start, content[start:start + period])
    for period in range(LOOP_PERIOD + 1, min(LONG_PERIOD, len(content) // 2) + 1):
        start = _periodic_from(content, period)
        if len(content) - start >= 2 * period:
            return Loop(start, content[start:start + period])
    return _echo_in(content)


def _echo_in(content: str) -> Loop | None:
    """A text whose last ``ECHO_SPAN`` characters it has said ``ECHO_TURNS`` times, with other
    words between (a cast whose every appearance and voice ends in one paragraph): a loop from
    where that block was first said."""
    block = content[-ECHO_SPAN:]
    if len(content) < ECHO_SPAN * ECHO_TURNS or content.count(block) < ECHO_TURNS:
        return None
    return Loop(content.index(block), block, apart=True)


def _periodic_from(content: str, period: int) -> int:
    """The first character from which ``content`` repeats itself every ``period`` characters
    to its end."""
    at = len(content) - period - 1
    while at >= 0 and content[at] == content[at + period]:
        at -= 1
    return at + 1


def unlooped(record: dict[str, Any]) -> str:
    """An answer as it is quoted back: up to where its loop begins (the whole answer when it
    does not end in one)."""
    content, loop = str(record.get("content") or ""), looping(record)
    return content if loop is None else content[:loop.start]


def looped_before(messages: list[dict[str, str]]) -> bool:
    """Whether a conversation has sent back an answer that looped (its turns after the first
    question: the story's own words never count)."""
    return any(m.get("role") == "user" and (LOOPED in m.get("content", "") or
                                            STOPPED_SAID in m.get("content", ""))
               for m in messages[2:])


def cut(record: dict[str, Any]) -> bool:
    """Whether an answer did not end by itself: cut at ``max_tokens``, or stopped looping."""
    return record.get("finish_reason") in CUT


def watcher(messages: list[dict[str, str]]) -> Callable[[str], str]:
    """The watch of one streamed request: its answer's text so far into the finish reason to
    stop it with ("": go on). A repetition the request's own words hold is not a loop until the
    answer goes past it (a story that says one sentence six times, quoted whole); a block said
    again apart is not one when it is mostly the request's words (a line of the story quoted in
    three shots, or for each character as "as the story tells: ...")."""
    said = "\n".join(_texts(messages))

    def watch(text: str) -> str:
        loop = loop_in(text)
        if loop is None:
            return ""
        quoting = _quoting(loop.unit, said) if loop.apart else text[loop.start:] in said
        return "" if quoting else STOPPED
    return watch


def _quoting(block: str, said: str) -> bool:
    """Whether a block said again apart is mostly the request's own words (a paragraph of the
    story quoted for each character, a few words of the answer's own before it): half or more of
    its ``QUOTED``-character windows are in ``said``."""
    windows = [block[at:at + QUOTED] for at in range(0, len(block) - QUOTED + 1, QUOTED // 4)]
    return sum(window in said for window in windows) * 2 >= len(windows)


def _texts(messages: list[dict[str, str]]) -> Iterator[str]:
    """Each message's text, and the strings of each that is a JSON document (the story's lines
    as they read, unescaped)."""
    for message in messages:
        content = str(message.get("content", ""))
        yield content
        try:
            yield from _strings(loads(content, finite=False) if content[:1] == "{" else None)
        except ValueError:  # not JSON, or nested too deep to read (``reading.loads``)
            continue


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict | list):
        for value in data.values() if isinstance(data, dict) else data:
            yield from _strings(value)
