"""Template text into its plain facts, without Jinja2: whether a value is a template, the problem
a render raises, and a value as part of a memo key.

``sandbox`` renders templates with Jinja2; a series with no template never needs it, so what every
check reads (``expand``, ``matrix``) comes from here and Jinja2 is imported only when a template
is first rendered (about 20 ms of a new process's start).
"""

from __future__ import annotations

from typing import Any


class TemplateProblem(Exception):
    """Why a value could not be rendered, and on which line inside it (1-based)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def is_template(text: str) -> bool:
    return "{" in text and ("{{" in text or "{%" in text or "{#" in text)


MISSING = object()


def identity(value: Any) -> Any:
    """A value as part of a memo key: itself when hashable, else its identity (the mappings in
    ``vars`` live as long as the expansion that renders with them)."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return type(value), value  # 1 and True are equal keys, yet render differently
