"""Python values into YAML text: the one writer of every text ``init`` puts into a series.

The series ``init`` writes are meant to be read and edited by people, with comments beside the keys,
so they are written as text rather than dumped. Nothing from a screenplay (or its file name) may
become a key, so every text goes through this module:

- ``quote`` for values: a JSON-style double-quoted scalar (a subset of YAML's) with any character
  that is not printable escaped, and Jinja's openers (``{{``, ``{%``, ``{#``) written so that the
  language's templating gives them back as they were;
- ``comment`` and ``trailing`` for comments: one line each, with every character that is not
  printable (``\\n``, ``\\r``, ``\\x0b``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028``,
  ``\\u2029``, tabs, other controls) written as its escape (``\\u2028``), since YAML ends a comment at
  ``\\x85``, ``\\u2028`` and ``\\u2029`` as well as at a newline;
- ``key`` for keys: bare only when a plain name, else quoted;
- ``flow`` for a mapping on one line (``{image: {generate: "..."}}``): its keys by ``key``, its
  values by ``quote`` (or nested).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

JINJA_OPENER = re.compile(r"\{([{%#])")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def literal(text: str) -> str:
    """``text`` with each Jinja opener replaced by an expression that prints it."""
    return JINJA_OPENER.sub(lambda m: '{{ "{' + m.group(1) + '" }}', text)


def _escape(char: str) -> str:
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def fold(text: str) -> str:
    """``text`` on one line: every character that is not printable written as its escape."""
    return "".join(_escape(c) for c in text)


def quote(text: str) -> str:
    """A double-quoted YAML scalar that loads back as ``text`` (after the language's templating)."""
    return fold(json.dumps(literal(text), ensure_ascii=False))


def key(name: str) -> str:
    """A mapping key: bare when it is a plain name YAML would not read as anything else."""
    plain = NAME.fullmatch(name) and name.lower() not in RESERVED
    return name if plain else quote(name)


Value = str | int | float | Mapping[str, "Value"]


def flow(mapping: Mapping[str, Value]) -> str:
    """``{a: "x", b: 2, c: {d: "y"}}`` on one line; strings quoted, numbers as they are,
    mappings nested."""
    return "{" + ", ".join(f"{key(k)}: {_value(v)}" for k, v in mapping.items()) + "}"


def _value(value: Value) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Mapping):
        return flow(value)
    return str(value)


def comment(text: str, indent: str = "") -> list[str]:
    """``text`` as comment lines: one per ``\\n``-separated line, each folded onto its line."""
    return [f"{indent}# {fold(line)}".rstrip() for line in text.split("\n")]


def trailing(text: str) -> str:
    """``text`` as a comment after a value on the same line (folded)."""
    return f"   # {fold(text)}".rstrip()
