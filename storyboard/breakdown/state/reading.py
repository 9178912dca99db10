"""Text from a chat endpoint into JSON data, read as untrusted: bounded, finite, as models write it.

``loads`` is the one JSON reader for what an endpoint or a state file gives: nesting deeper than
``MAX_DEPTH`` and (in an answer's content) the non-finite numbers (``NaN``, ``Infinity``,
``1e400``) are refused with a ``ValueError`` that says what and where, never a
``RecursionError`` or a float that is not a number.
``answer_data`` reads a model's answer the way real models give it: a ``<think>`` block before it,
the JSON in a ```json fence (alone, or the one fence among sentences: "Here is the outline as
JSON:"), or the schema's object inside exactly one wrapper object (``{"episode": {...}}``);
anything else is left for the schema to refuse and send back. ``around`` says what words stood
around a fence that was read (``storyboard --verbose`` says it).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.S)
FENCE = re.compile(r"^\s*```[A-Za-z]*[ \t]*\n(.*?)\n?```\s*$", re.S)
FENCED = re.compile(r"^```[A-Za-z]*[ \t]*\n(.*?)\n?^```[ \t]*$", re.S | re.M)
AROUND_SAID = 80  # characters of the words around a fence said


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows (a non-finite number)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large to be a finite number")
    return value


def depth(data: Any) -> int:
    """How deeply ``data`` nests (a scalar: 0), counted without recursion."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in item)
    return deepest


def loads(text: str | bytes, *, finite: bool = True) -> Any:
    """``text`` as JSON, or ValueError (deep, non-finite or not JSON: said with its place).
    ``finite=False`` reads ``NaN``, ``Infinity`` and ``1e400`` as floats (an envelope whose
    fields are judged one by one, as ``client.count`` judges usage)."""
    try:
        data = json.loads(text, parse_constant=_constant, parse_float=_float) if finite \
            else json.loads(text)
    except RecursionError:
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    if depth(data) > MAX_DEPTH:
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels")
    return data


def _prose_fence(text: str) -> re.Match[str] | None:
    """The one fence in an answer that is words around a fence (not JSON with a fence inside)."""
    if text.lstrip().startswith(("{", "[")):
        return None
    found = list(FENCED.finditer(text))
    return found[0] if len(found) == 1 else None


def unwrapped_text(content: str) -> str:
    """The answer without a leading ``<think>`` block and a ```json fence around it (or the
    one fence among its sentences)."""
    text = THINK.sub("", content, count=1)
    fenced = FENCE.match(text) or _prose_fence(text)
    return fenced.group(1) if fenced else text


def around(content: str) -> str:
    """The words around the one fence read from an answer, cut short ("" when there were
    none: a bare fence, or no fence)."""
    text = THINK.sub("", content, count=1)
    fenced = None if FENCE.match(text) else _prose_fence(text)
    if fenced is None:
        return ""
    words = " ... ".join(part for part in (" ".join(text[:fenced.start()].split()),
                                           " ".join(text[fenced.end():].split())) if part)
    return words if len(words) <= AROUND_SAID else f"{words[:AROUND_SAID - 3]}..."


def unwrapped(data: Any, keys: set[str]) -> Any:
    """The schema's object when ``data`` is exactly one wrapper object around it (its one key
    is not one of the schema's ``keys``, its value is an object); else ``data`` as it is."""
    if isinstance(data, dict) and len(data) == 1:
        (key, inner), = data.items()
        if key not in keys and isinstance(inner, dict):
            return inner
    return data


def seen(content: str) -> str:
    """What an answer that is not JSON showed around its words (said with the refusal, so the
    model and its reader know what was read past): a ``<think>`` block, its ``` fences, words
    before its first brace ("" when none of these)."""
    found = ["a <think> block" if THINK.match(content) else
             "a <think> block never closed" if "<think>" in content else ""]
    text = THINK.sub("", content, count=1)
    marks = text.count("```")
    fences = (marks + 1) // 2
    found.append("" if not marks else "a ``` fence never closed" if marks == 1 else
                 "a ``` fence" if marks == 2 else
                 f"{fences} ``` fences (which one is the answer is not said)")
    brace = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if brace != 0 and text.strip() and not fences:
        found.append("words before the JSON" if brace > 0 else "no JSON object at all")
    return ", ".join(f for f in found if f)


def answer_data(content: str, keys: set[str]) -> tuple[Any, list[str]]:
    """The JSON a model's answer holds, or None and why it is not JSON."""
    try:
        return unwrapped(loads(unwrapped_text(content)), keys), []
    except ValueError as exc:
        return None, [f"the answer is not valid JSON: {exc}"]
