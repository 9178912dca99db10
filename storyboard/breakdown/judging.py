"""An answer into what it is worth: its data, the data as read, and what is wrong with it.

``judge`` holds a stored or fresh answer to its stage, in order: cut short (``finish_reason:
length``, or stopped looping), not JSON, not in the schema (for a bounded stage, the schema of
its own call: its shots' count, its strings' lengths, its lines' range), then the stage's own
check. Near-misses of an answer's shape are read as meant (``mending``) only where the endpoint
was not held to the schema as it wrote: on a bounded stage asked under ``json_schema`` a shape
the schema forbids cannot come back, so none is read. The asker (``asking``) decides what is
sent back; this only judges.
"""

from __future__ import annotations

from typing import Any

from storyboard.breakdown import cutshort, schemas
from storyboard.breakdown.mending import Mended, mended
from storyboard.breakdown.narrowing import STOPPED, Narrowed, merged
from storyboard.breakdown.reading import around
from storyboard.breakdown.results import Check, Result
from storyboard.breakdown.source import Chapter


def stopped(last: tuple[Any, list[str], bool], turns: int, read: Any) -> Result:
    """The answer a narrowed turn did not mend, its problems said with why it stopped (those
    ``storyboard check`` found are its own to report)."""
    data, problems, checks = last
    return Result(data, [], turns) if checks else \
        Result(data, [*problems[:-1], f"{problems[-1]} ({STOPPED})"], turns, read=read)


def unwrapped_said(stage: str, content: str) -> None:
    """``storyboard --verbose``: the words an answer's JSON was read from between."""
    said = around(content)
    if said:  # the trace imports httpx: only when there is something to say
        from storyboard.providers import trace
        trace.note(f"the {stage} answer's JSON was unwrapped from the words around its fence: "
                   f"{said!r}")


def judge(stage: str, record: dict[str, Any], check: Check, found: Mended,
          narrow: Narrowed | None = None, chapter: Chapter | None = None, mend: bool = True
          ) -> tuple[Any, Any, list[str]]:
    """The answer's data (None: it is not usable), the data as read (near-misses read as meant
    when ``mend``, a narrowed answer put back in the whole) and what is wrong with it."""
    if cutshort.cut(record):
        loop = cutshort.looping(record)
        stopped = record.get("finish_reason") == cutshort.STOPPED
        return None, None, [loop.problem(stopped) if loop is not None else
                            "the answer was cut short at max_tokens (finish_reason: length): "
                            "answer more briefly"]
    data, problems = schemas.parsed(stage, record["content"])
    if problems:
        return None, None, problems
    unwrapped_said(stage, record["content"])
    if mend:
        data = mended(schemas.of(stage, chapter), data, found)
    if narrow is not None:
        data, problems = merged(narrow, data)
        if problems:
            return None, narrow.base, problems
    problems = schemas.problems(stage, data, chapter)
    if problems:
        return None, data, problems
    return data, data, check(data)
