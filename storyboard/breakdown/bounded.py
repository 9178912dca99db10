"""An answer's strings past their schema's bound into strings within it, cut at a sentence or a word.

(A list past its bound keeps its first items, the same way.)

A small model keeps a value a few characters too long through its send-backs (Qwen2.5-Coder-1.5B
titled chapter 17 of the 100,000-word novel in 61 characters where 60 may be, three times, issue
67) or writes a paragraph where a line is asked (a season's hook of 400 characters, whole turns of
the story copied). Once its send-backs are spent, such a value is read as meant: cut after its
last whole sentence within the bound (``cut_to``), else after its last whole word with an
ellipsis, each said, and the answer is checked again as a whole. Nothing is added but the
ellipsis; a value cut so is reviewed with the rest (the season file, the episodes).
"""

from __future__ import annotations

import re
from typing import Any

ELLIPSIS = "…"
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
CLOSING = " ,;:-–—(\"'“‘"  # what a cut at a word leaves no value ending in


def cut_to(text: str, most: int) -> str:
    """``text`` within ``most`` characters: up to its last whole sentence that fits (when that
    keeps at least half of them), else its last whole word that fits with an ellipsis after it,
    else its first ``most - 1`` characters and the ellipsis (``text`` itself when it fits)."""
    text = text.strip()
    if len(text) <= most:
        return text
    ends = [m.end() for m in SENTENCE_END.finditer(text[:most + 1]) if most // 2 <= m.end() <= most]
    if ends:
        return text[:ends[-1]]
    room = text[:most]  # the ellipsis takes one character
    space = room.rfind(" ")
    kept = room[:space].rstrip(CLOSING) if space > 0 else ""
    return f"{kept or text[:most - 1]}{ELLIPSIS}"


def bounded(schema: dict[str, Any], data: Any, notes: list[str], path: str = "") -> Any:
    """``data`` with every string longer than its schema's ``maxLength`` cut (``cut_to``) and
    every list longer than its ``maxItems`` cut to its first items, each said in ``notes`` at
    its path (``data`` itself is not changed)."""
    kind = schema.get("type")
    if kind == "object" and isinstance(data, dict):
        properties = schema.get("properties", {})
        return {key: bounded(properties[key], value, notes, _at(path, key))
                if key in properties else value for key, value in data.items()}
    if kind == "array" and isinstance(data, list):
        return [bounded(schema["items"], item, notes, f"{path}[{n}]")
                for n, item in enumerate(_first(schema, data, notes, path))]
    most = schema.get("maxLength")
    if kind != "string" or not isinstance(data, str) or most is None or len(data) <= most:
        return data
    cut = cut_to(data, most)
    how = "at a word" if cut.endswith(ELLIPSIS) else "after its last whole sentence"
    notes.append(f"{path or 'the answer'}: {len(data)} characters where at most {most} may be: "
                 f"cut {how} ({len(cut)})")
    return cut


def _first(schema: dict[str, Any], data: list[Any], notes: list[str], path: str) -> list[Any]:
    """A list's first ``maxItems`` items (a scene of nine lines where six may be: the same
    model, issue 67), said."""
    most = schema.get("maxItems")
    if most is None or len(data) <= most:
        return data
    notes.append(f"{path or 'the answer'}: {len(data)} items where at most {most} may be: the "
                 f"first {most} kept")
    return data[:most]


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
