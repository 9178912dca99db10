"""A version's translation requests into the answers a model might give: deterministic, one per line asked.

The translate stage (``stage: translate``: ``from``, ``to`` and the lines, each with its ``id``,
speaker, seconds and text) is answered with every line, by its id, in the language asked: the
emulator knows no language, so a line's words come back tagged with it (``[es] To
retirement.``), a little longer than the source as most translations from English are, which
is what a test of a line's fit needs. A line asked again ``shorter`` comes back as the first half
of its words now.
"""

from __future__ import annotations

from typing import Any


def translated(text: str, language: str) -> str:
    """The emulator's words for ``text`` in ``language``."""
    return f"[{language}] {text}"


def translate(document: dict[str, Any]) -> dict[str, Any]:
    language = str(document.get("to") or "xx")
    lines = document.get("lines")
    asked = [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []
    return {"lines": [{"id": str(line.get("id", "")), "text": _words(line, language)}
                      for line in asked]}


def _words(line: dict[str, Any], language: str) -> str:
    if line.get("shorter") and isinstance(line.get("now"), str):
        words = line["now"].split()
        return " ".join(words[:max(1, len(words) // 2)])
    return translated(str(line.get("text", "")), language)
