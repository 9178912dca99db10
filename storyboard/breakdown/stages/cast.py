"""Each chapter's cast answer into one cast: one entry per distinct name, each with a plain key.

A name is the same thing wherever its key (``scaffold.names.slug`` of the name, its accents
folded: ``Tomás`` is ``tomas``) is the same: ``Mia``, ``MIA`` and ``mia`` are one character.
The first chapter that names a thing gives its words; keys are unique across characters, places
and props (a place named like a character gets ``_place``). A look whose words the chapter does
not hold (at least half of them, names aside) is the model's own, not the story's
(``Entry.sourced``): the writer marks it so a reviewer knows to hold it to the story (a boy the
story calls ten is not "late 30s, bald" because a model said so). The cast is people, places
and props: a name made only of ordinary words (``all``, ``my``, ``round``) is sent back to the
model (``problems``) and never joins the cast; when the model keeps it, the user is told what
to do next (``for_user``). A name whose words stand in a row in one other name of its kind (``Rip``
and ``Rip Van Winkle``, in either order) is that one: a chapter that says ``Rip`` shows the same
person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.questions.ordinary import ordinary
from storyboard.breakdown.source import Chapter
from storyboard.scaffold.namekeys import slug as plain_slug

KINDS = ("characters", "places", "props")
TO_MODEL = "leave it out"
TO_USER = ("the series was written without it; if the story needs it, add it to the series by "
           "hand, else run again with another model (--model)")


def fold(text: str) -> str:
    """``text`` with its accents taken off (``Tomás``: ``Tomas``)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slug(name: str) -> str:
    """A name's key: ``scaffold.names.slug`` of it, accents folded."""
    return plain_slug(fold(name))


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
    lengthened: bool = False  # its lines were too short a sample: a sentence was added


@dataclass
class Cast:
    entries: dict[str, Entry] = field(default_factory=dict)  # by key
    by_name: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, slug) -> key

    def add(self, kind: str, name: str, look: str, voice: str, chapter: Chapter) -> None:
        if (kind, slug(name)) in self.by_name:
            return
        same = self._same(kind, name)
        if same is not None:  # Rip, after Rip Van Winkle: one person
            self.by_name[(kind, slug(name))] = same
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

    def _same(self, kind: str, name: str) -> str | None:
        """The one entry of ``kind`` whose name holds ``name``'s words in a row, or whose
        words ``name`` holds (``Rip`` and ``Rip Van Winkle``); None when none or several do."""
        words = tuple(slug(name).split("_"))
        found = {key for (known, named), key in self.by_name.items() if known == kind and
                 (within(words, tuple(named.split("_"))) or within(tuple(named.split("_")), words))}
        return found.pop() if len(found) == 1 else None

    def key_of(self, name: str, kinds: tuple[str, ...] = ("character", "place", "prop")
               ) -> str | None:
        return next((self.by_name[(k, slug(name))] for k in kinds
                     if (k, slug(name)) in self.by_name), None)

    def of(self, kind: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.kind == kind]


def within(words: tuple[str, ...], longer: tuple[str, ...]) -> bool:
    """Whether ``words`` stand in a row inside ``longer`` (and are fewer)."""
    size = len(words)
    return size < len(longer) and any(longer[i:i + size] == words
                                      for i in range(len(longer) - size + 1))




def problems(answer: Any) -> list[str]:
    """What is wrong with a cast answer (schema-valid): a name that is only ordinary words."""
    if not isinstance(answer, dict):
        return []
    return [f"{kind}[{index}].name: {entry['name']!r} is an ordinary word, not a person, place "
            f"or prop: {TO_MODEL}" for kind in KINDS
            for index, entry in enumerate(answer.get(kind, [])) if ordinary(str(entry["name"]))]


def for_user(problem: str) -> str:
    """A cast problem the model kept, as the user reads it: what to do next."""
    return problem.replace(f": {TO_MODEL}", f": {TO_USER}") if problem.endswith(TO_MODEL) \
        else problem


def names_in(answer: Any) -> dict[str, list[str]]:
    """The names one chapter's cast answer gives, by kind (``character``, ``place``, ``prop``)."""
    if not isinstance(answer, dict):
        return {"character": [], "place": [], "prop": []}
    return {kind.rstrip("s"): [str(e["name"]) for e in answer.get(kind, [])
                               if not ordinary(str(e["name"]))] for kind in KINDS}


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
            if not ordinary(person["name"]):
                cast.add("character", person["name"], person["appearance"], person["voice"],
                         chapter)
        for kind in ("places", "props"):
            for thing in answer[kind]:
                if not ordinary(thing["name"]):
                    cast.add(kind.rstrip("s"), thing["name"], thing["look"], "", chapter)
    return cast
