"""Episode ranges as written (``"12-20"``, ``"3"``, ``"1-2,5"``, ``"3-"``) into sets of episode numbers.

The one grammar of episode ranges: a look and a continuity fact each hold over a range of
episodes, and ``render``/``plan --episodes`` choose one (``cli/flags/renderflags.py``). Episode N is the
N-th episode of the series, in the order ``episodes:`` lists them (a glob's files sorted),
counted from 1. A range is one or more parts joined by commas, each ``N`` (that episode),
``A-B`` (A to B, both included, A <= B) or ``A-`` (A and every episode after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d+)?)?\s*$")
EXPECTED = 'expected episode numbers such as "3", "12-20", "1-2,5" or "3-" (from 1, A <= B)'


@dataclass(frozen=True)
class Ranges:
    """Episode numbers as parts ``(first, last)``; ``last`` None: every episode from ``first``."""

    parts: tuple[tuple[int, int | None], ...]

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and any(
            first <= number and (last is None or number <= last) for first, last in self.parts)

    def overlap(self, other: Ranges) -> int | None:
        """The first episode number both hold, or None."""
        found = [max(a, c) for a, b in self.parts for c, d in other.parts
                 if max(a, c) <= min(_end(b), _end(d))]
        return min(found) if found else None

    def outside(self, count: int) -> str | None:
        """The first part that reaches past a series of ``count`` episodes, as written, or None."""
        return next((_said(a, b) for a, b in self.parts if max(a, b or a) > count), None)

    def numbers(self, count: int) -> list[int]:
        """The episode numbers of a series of ``count`` episodes it holds, in order."""
        return [n for n in range(1, count + 1) if n in self]

    def __str__(self) -> str:
        return ",".join(_said(a, b) for a, b in self.parts)


def _said(first: int, last: int | None) -> str:
    return str(first) if first == last else f"{first}-" if last is None else f"{first}-{last}"


def _end(last: int | None) -> float:
    return float("inf") if last is None else last


EVERY = Ranges(((1, None),))


def parse(value: object) -> Ranges | str:
    """``value`` (a string, or a whole number) as ``Ranges``, or what is wrong with it."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return f"episodes {value!r} is not a range; {EXPECTED}"
    parts: list[tuple[int, int | None]] = []
    for text in value.split(","):
        match = _PART.match(text)
        if match is None:
            return f"episodes {value!r}: {text.strip()!r} is not a range; {EXPECTED}"
        first = int(match.group(1))
        last = first if match.group(2) is None else \
            int(match.group(3)) if match.group(3) is not None else None
        if first < 1 or (last is not None and last < first):
            return f"episodes {value!r}: {text.strip()!r} is not a range; {EXPECTED}"
        parts.append((first, last))
    return Ranges(tuple(parts))



def chosen(words: tuple[str, ...], ids: list[str]) -> list[str] | str:
    """The episodes ``words`` choose among a series' ``ids`` (in its order): each word an
    episode's id, or a range of this grammar (``3``, ``1-2``, ``4-``: episode N is the N-th id);
    in the series' order, then a word that is neither, as it is written, for the caller to
    name. Or what is wrong with a range."""
    picked: list[str] = []
    for word in words:
        ranges = parse(word) if word not in ids else word
        if isinstance(ranges, Ranges):
            if (past := ranges.outside(len(ids))) is not None:
                return f"{past!r} reaches past the series' {len(ids)} episode(s)"
            picked += [ids[n - 1] for n in ranges.numbers(len(ids))]
        else:
            picked.append(word)
    return [i for i in ids if i in picked] + [w for w in dict.fromkeys(picked) if w not in ids]
