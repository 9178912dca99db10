"""A model's answer that says the same again and again: where its loop begins, and the watch that
stops a streamed answer in one.

A small model at temperature 0 may repeat itself until the server stops it (Qwen2.5-Coder-1.5B did,
issue 64: a quote of its own, "I have spun it! I have spun it! ...", to the bound). ``loop_in``
finds the loop a text ends in: a short unit said in a row, a long one said twice, or a block said
again and again with other words between. This changes no answer: the judge names the loop in the
problem it sends back (``Loop.problem``), quoted only up to where the loop begins (``unlooped``:
not the thousands of characters after it, nor a mark of the cut, which the model copied into its
next answer, measured); the turns after it ask with ``presence_penalty`` (``LOOP_PENALTY``).

A streamed answer is watched as it comes (``watcher``): once its text so far ends in a loop that its
request's own words do not hold (a story may say one sentence six times) it is stopped there, with
the finish reason ``STOPPED``, and judged as an answer cut at ``max_tokens`` is, without waiting for
the thousands of tokens of the loop's rest (on that model, about 270 s of every chapter's first cast
answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from storyboard.breakdown.state.reading import loads

LOOP_PERIOD = 400  # the longest unit a loop is looked for in, in characters
LOOP_TURNS = 4  # a unit said at least this many times in a row at the end of a cut answer ...
LOOP_SPAN = 200  # ... over at least this many characters is a loop
LONG_PERIOD = 4000  # a longer unit (a paragraph of the story copied again and again) said twice
ECHO_SPAN = 200  # the last characters of an answer said this many times over, apart ...
ECHO_TURNS = 3  # ... (each entry's value ending in the same paragraph) is a loop too, unless
QUOTED = 80  # ... half its windows of this many characters are the request's words (quoting)
LOOP_PENALTY = 1.0  # presence_penalty of the turns after a loop: OpenAI's field ([-2, 2]); listed
# by DashScope's compatible mode and Ollama (spec/llm.md), taken by llama.cpp's server (measured);
# an endpoint that refuses it is asked without it (``Calls._stepped_down``)
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
