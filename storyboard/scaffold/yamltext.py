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
- ``key`` for keys: bare only when a plain name, else quoted.
"""

from __future__ import annotations

import json
import re

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


def flow(mapping: dict[str, str | int | float]) -> str:
    """``{a: "x", b: 2}`` on one line; strings quoted, numbers as they are."""
    items = (f"{key(k)}: {quote(v) if isinstance(v, str) else v}" for k, v in mapping.items())
    return "{" + ", ".join(items) + "}"


def comment(text: str, indent: str = "") -> list[str]:
    """``text`` as comment lines: one per ``\\n``-separated line, each folded onto its line."""
    return [f"{indent}# {fold(line)}".rstrip() for line in text.split("\n")]


def trailing(text: str) -> str:
    """``text`` as a comment after a value on the same line (folded)."""
    return f"   # {fold(text)}".rstrip()
