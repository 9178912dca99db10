"""A name's pattern (``^[first][rest]*$``, as the schema holds a character's, a voice's, a var's)
into words a person reads, and a wrong name into the legal name nearest it.

``check`` says ``'Mia Rossi' is not a valid character name: a character name is letters, digits
and underscores, starting with a letter or an underscore; did you mean 'mia_rossi'?`` rather than
the regular expression. A pattern of any other form is left to its regular expression (None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIMPLE = re.compile(r"\^\[([^\]]+)\]\[([^\]]+)\]\*\$")
PARTS = (("A-Za-z", "letters"), ("a-z", "lowercase letters"), ("A-Z", "capital letters"),
         ("0-9", "digits"), ("_", "underscores"), (".", "dots"), ("-", "hyphens"),
         (" ", "spaces"))
ONE = {"letters": "a letter", "lowercase letters": "a lowercase letter",
       "capital letters": "a capital letter", "digits": "a digit", "underscores": "an underscore",
       "dots": "a dot", "hyphens": "a hyphen", "spaces": "a space"}
WHAT = {"characters": "character name", "voices": "voice name", "looks": "look name",
        "vars": "var name", "matrix": "matrix name", "continuity": "fact name",
        "params": "parameter name"}


@dataclass(frozen=True)
class Rule:
    first: list[str]  # the words of the first character's class
    rest: list[str]  # the words of every other character's class
    pattern: str

    def words(self) -> str:
        """``letters, digits and underscores, starting with a letter or an underscore``."""
        every = list(dict.fromkeys([*self.rest, *self.first]))
        said = _joined(every, "and")
        if self.first == every:
            return said
        return f"{said}, starting with {_joined([ONE[w] for w in self.first], 'or')}"

    def nearest(self, name: str) -> str | None:
        """The legal name nearest ``name``: each character the rule does not take written as
        the joiner (an underscore, else a hyphen), lowercase where capitals are not taken, runs of
        joiners made one and the ends trimmed; None when no legal name comes of it."""
        joiner = "_" if "underscores" in self.rest else "-" if "hyphens" in self.rest else ""
        lower = "letters" not in self.rest and "capital letters" not in self.rest
        text = name.lower() if lower else name
        text = "".join(c if re.fullmatch(_class(self.rest), c) else joiner for c in text)
        if joiner:
            text = re.sub(f"{re.escape(joiner)}+", joiner, text).strip(joiner)
        if text and not re.fullmatch(_class(self.first), text[0]) and joiner and \
                re.fullmatch(_class(self.first), joiner):
            text = joiner + text
        return text if text and re.fullmatch(self.pattern, text) else None


def _joined(words: list[str], last: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _class(words: list[str]) -> str:
    inner = {"letters": "A-Za-z", "lowercase letters": "a-z", "capital letters": "A-Z",
             "digits": "0-9", "underscores": "_", "dots": ".", "hyphens": r"\-", "spaces": " "}
    return "[" + "".join(inner[w] for w in words) + "]"


def _words(group: str) -> list[str] | None:
    out = []
    while group:
        for part, word in PARTS:
            if group.startswith(part):
                out.append(word)
                group = group[len(part):]
                break
        else:
            return None
    return out


def rule(pattern: str) -> Rule | None:
    """The rule a ``^[first][rest]*$`` pattern states, or None for any other pattern."""
    found = SIMPLE.fullmatch(pattern)
    if found is None:
        return None
    first, rest = _words(found.group(1)), _words(found.group(2))
    return Rule(first, rest, pattern) if first and rest else None


def said(container: str, name: str, pattern: str) -> str | None:
    """Why ``name`` is no name for ``container`` (``characters``...), in words, with the legal
    name nearest it; None when the pattern is not one said in words."""
    found = rule(pattern)
    if found is None:
        return None
    what = WHAT.get(container, "name")
    near = found.nearest(name)
    hint = f"; did you mean {near!r}?" if near is not None and near != name else ""
    return (f"{name[:60]!r} is not a valid {what}: a {what} is {found.words()}{hint}")
