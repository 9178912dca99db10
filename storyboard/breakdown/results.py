"""A call's outcome: the answer taken, what is still wrong with it, and how many turns it took."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Check = Callable[[Any], list[str]]


@dataclass
class Result:
    answer: Any
    problems: list[str]
    turns: int
    warnings: list[str] = field(default_factory=list)  # left, but never a reason to refuse it
    read: Any = None  # the last answer as read, refused or not (a narrowed one in the whole)
