"""Each chapter's cast answer into one cast: one entry per distinct name, each with a plain key.

A name is the same thing wherever its key (``scaffold.names.slug``) is the same: ``Mia``, ``MIA``
and ``mia`` are one character. The first chapter that names a thing gives its words; keys are
unique across characters, places and props (a place named like a character gets ``_place``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Cast:
    entries: dict[str, Entry] = field(default_factory=dict)  # by key
    by_name: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, slug) -> key

    def add(self, kind: str, name: str, look: str, voice: str, chapter: int) -> None:
        if (kind, slug(name)) in self.by_name:
            return
        key = slug(name)
        if key in self.entries:
            key = f"{key}_{kind}"
        number = 2
        while key in self.entries:
            key, number = f"{slug(name)}_{kind}{number}", number + 1
        self.entries[key] = Entry(key, name, kind, look, voice, chapter)
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


def merged(answers: list[tuple[int, Any]]) -> Cast:
    """One cast from ``(chapter number, cast answer)`` pairs, in chapter order."""
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
