"""Each chapter's cast answer into one cast: one entry per distinct name, each with a plain key.

A name is the same thing wherever its key (``scaffold.names.slug``) is the same: ``Mia``, ``MIA``
and ``mia`` are one character. The first chapter that names a thing gives its words; keys are
unique across characters, places and props (a place named like a character gets ``_place``). A
look whose words the chapter does not hold (at least half of them, names aside) is the model's
own, not the story's (``Entry.sourced``): the writer marks it so a reviewer knows to hold it to
the story (a boy the story calls ten is not "late 30s, bald" because a model said so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.source import Chapter
from storyboard.scaffold.names import slug

KINDS = ("characters", "places", "props")


@dataclass
class Entry:
    key: str
    name: str
    kind: str  # "character", "place" or "prop"
    look: str
    voice: str = ""
    chapter: int = 0
    first_line: str = ""  # the first line it says, cut from the source
    sourced: bool = True  # whether the chapter holds its look's words


@dataclass
class Cast:
    entries: dict[str, Entry] = field(default_factory=dict)  # by key
    by_name: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, slug) -> key

    def add(self, kind: str, name: str, look: str, voice: str, chapter: Chapter) -> None:
        if (kind, slug(name)) in self.by_name:
            return
        key = slug(name)
        if key in self.entries:
            key = f"{key}_{kind}"
        number = 2
        while key in self.entries:
            key, number = f"{slug(name)}_{kind}{number}", number + 1
        self.entries[key] = Entry(key, name, kind, look, voice, chapter.number,
                                  sourced=sourced(look, name, chapter))
        self.by_name[(kind, slug(name))] = key

    def key_of(self, name: str, kinds: tuple[str, ...] = ("character", "place", "prop")
               ) -> str | None:
        return next((self.by_name[(k, slug(name))] for k in kinds
                     if (k, slug(name)) in self.by_name), None)

    def of(self, kind: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.kind == kind]


def names_in(answer: Any) -> dict[str, list[str]]:
    """The names one chapter's cast answer gives, by kind (``character``, ``place``, ``prop``)."""
    if not isinstance(answer, dict):
        return {"character": [], "place": [], "prop": []}
    return {kind.rstrip("s"): [str(e["name"]) for e in answer.get(kind, [])] for kind in KINDS}


WORDS = re.compile(r"[^\W\d_]{4,}")


def sourced(look: str, name: str, chapter: Chapter) -> bool:
    """Whether at least half the look's words (of four letters or more, the name's aside) are
    in the chapter."""
    text = " ".join(chapter.lines).lower()
    named = {w.lower() for w in WORDS.findall(name)}
    words = [w for w in dict.fromkeys(w.lower() for w in WORDS.findall(look)) if w not in named]
    return not words or 2 * sum(1 for w in words if w in text) >= len(words)


def merged(answers: list[tuple[Chapter, Any]]) -> Cast:
    """One cast from ``(chapter, cast answer)`` pairs, in chapter order."""
    cast = Cast()
    for chapter, answer in answers:
        if not isinstance(answer, dict):
            continue
        for person in answer["characters"]:
            cast.add("character", person["name"], person["appearance"], person["voice"], chapter)
        for kind in ("places", "props"):
            for thing in answer[kind]:
                cast.add(kind.rstrip("s"), thing["name"], thing["look"], "", chapter)
    return cast
