"""Screenplay names into keys: characters from cues, places from headings, mentions in text.

A character's key is its cue name in lower case, ``_`` between words (``MR. PIKE`` -> ``mr_pike``);
a place's key is its heading's location (``INT. MIA'S KITCHEN - NIGHT`` -> ``mias_kitchen``). Keys
are unique across both, made once each (a set and a counter per name, never a rescan). The name in
action text (``MIA`` or ``Mia``), or ``@mia`` written as a mention, becomes the mention ``@mia``;
any other ``@`` is doubled (a literal one).

A screenplay may have at most ``MAX_CHARACTERS`` characters and ``MAX_PLACES`` places: past them is
a located error (each one is a card to draw and a line to write).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storyboard.scaffold.fountain import SCENE, Element, Screenplay, located
from storyboard.scaffold.timing import Shot
from storyboard.scaffold.yamltext import RESERVED

MAX_CHARACTERS = 200
MAX_PLACES = 400
LONGEST_PLACE = 80  # characters of a place's name kept (its description and comment)
Trie = dict[str, "Trie"]
AT = re.compile(r"(?<![\w@])@([A-Za-z_][A-Za-z0-9_]*)")  # not in an address: me@ruth.com
POSSESSIVE = re.compile(r"(?<=\w)['’]s\b", re.I)  # WILL'S -> WILLS: a key has no lone "s"
TOGETHER = re.compile(r"\s+(?:AND|&)\s+|\s*/\s*", re.I)  # EDWARD AND WILL, MIA/TOM
# how a heading's wording names a place it names elsewhere too: BACK AT THE GATE is THE GATE
PLACE_WORDING = re.compile(r"^(?:(?:BACK|AGAIN|STILL)\s+)?(?:(?:AT|IN|INSIDE|OUTSIDE|ON|TO|BY|NEAR)"
                           r"\s+)?(?:THE\s+)?|\s*\(?\b(?:AGAIN|BACK|CONT['’]?D)\)?$", re.I)


def slug(text: str, sep: str = "_") -> str:
    """``text`` as a plain name: lower case, words joined by ``sep``, never starting with a digit."""
    words = re.findall(r"[a-z0-9]+", POSSESSIVE.sub("s", text[:400]).lower())
    name = sep.join(words)[:40].strip(sep) or "x"
    name = name if name[0].isalpha() else f"c{sep}{name}"
    return f"{name}{sep}c" if name in RESERVED else name  # YAML would read `no: ...` as false


def shorten(text: str, longest: int) -> str:
    """``text`` cut to ``longest`` characters (ending in ``...`` when cut)."""
    return text if len(text) <= longest else text[:longest - 3].rstrip() + "..."


def location_of(heading: str) -> str:
    """``INT. MIA'S KITCHEN - NIGHT`` -> ``MIA'S KITCHEN`` (an ``@`` mention mark left out)."""
    match = SCENE.match(heading)
    rest = (heading[match.end():] if match else heading).replace("@", "")
    place = re.split(r"\s[-–—]\s", rest.strip(" ."), maxsplit=1)[0].strip()
    return shorten(place or heading.strip(), LONGEST_PLACE)


def place_identity(location: str) -> str:
    """What a place is, whatever the heading's wording: ``BACK AT THE GATE`` -> ``GATE``."""
    bare = " ".join(PLACE_WORDING.sub("", " ".join(location.upper().split())).split())
    return bare or location.upper()


def spoken_form(name: str) -> str:
    """A cue name as a name is written in prose: ``WILL'S DATE`` -> ``Will's Date``."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in name.split())


def alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, as a trie (``a(?:da|nn)``): the engine follows one branch
    per character, whatever the number of words."""
    trie: Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branches(trie)


def _branches(node: Trie) -> str:
    ends = "" in node
    branches = [re.escape(char) + _branches(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    if len(branches) == 1 and not ends:
        return branches[0]
    return "(?:" + "|".join(branches) + (")?" if ends else ")")


class Names:
    """The characters (from cues) and places (from headings), each with its key and the text that
    names it in action lines."""

    def __init__(self, play: Screenplay) -> None:
        self.play = play
        self.characters: dict[str, str] = {}  # cue name -> key
        self.upper: dict[str, str] = {}  # cue name in capitals -> key
        self.first_line: dict[str, int] = {}
        self.places: dict[str, str] = {}  # location -> key
        self.headings: dict[str, str] = {}  # location -> the first heading that names it
        self.identities: dict[str, str] = {}  # place_identity -> the first location so named
        self.groups: dict[str, list[str]] = {}  # a cue naming several characters -> their keys
        self.taken: set[str] = set()
        self.counters: dict[str, int] = {}
        cues = [element for element in play.elements if element.kind == "character"]
        solo = {element.text.upper() for element in cues}
        together = {cue.text.upper() for cue in cues if self._parts(cue.text, solo)}
        for element in cues:
            if element.text.upper() not in together:
                self._character(element)
        for cue in cues:
            if cue.text.upper() in together:
                self.groups[cue.text.upper()] = [self.upper[part] for part in
                                                 self._parts(cue.text, solo)]
        self.pattern = self._pattern()
        self.ats = {form.lower(): key for name, key in self.characters.items()
                    for form in (key, slug(name), name.replace(" ", ""))}

    @staticmethod
    def _parts(name: str, solo: set[str]) -> list[str]:
        """The characters a cue such as ``EDWARD AND WILL`` names, each one with a cue of its
        own (``[]``: the cue names one character, even ``MR. AND MRS. SMITH``)."""
        parts = [part.upper() for part in TOGETHER.split(name) if part.strip()]
        if len(parts) < 2 or not any(part in solo for part in parts):
            return []
        return [part for part in parts if part in solo and not TOGETHER.search(part)]

    def _unique(self, base: str) -> str:
        key, n = base, self.counters.get(base, 2)
        while key in self.taken:
            key, n = f"{base}_{n}", n + 1
        self.counters[base] = n
        self.taken.add(key)
        return key

    def _character(self, element: Element) -> None:
        name = element.text
        if name.upper() in self.upper:
            return
        if len(self.characters) == MAX_CHARACTERS:
            raise located(self.play.file, self.play.lines, element.line, 1, f"more than "
                          f"{MAX_CHARACTERS} characters: expected fewer speaking parts in one "
                          "screenplay (split it into several files)")
        self.characters[name] = self.upper[name.upper()] = self._unique(slug(name))
        self.first_line[name] = element.line

    def keep(self, used: set[str]) -> None:
        """Forget the characters and places no shot refers to (they would be unused)."""
        self.characters = {n: k for n, k in self.characters.items() if k in used}
        self.places = {n: k for n, k in self.places.items() if k in used}

    def key_of(self, name: str) -> str:
        return self.upper[name.upper()]

    def place(self, element: Element) -> str:
        """The place a heading names (its key); ``""`` for a forced heading with no ``INT.`` or
        ``EXT.`` (``.OPENING TITLES`` names no place)."""
        if element.forced and SCENE.match(element.text) is None:
            return ""
        return self._place(location_of(element.text), element.text, element.line)

    def heading_place(self, shot: Shot) -> str:
        """The place a heading's whole text names (when nothing else gives a shot one)."""
        return self._place(location_of(shot.heading), shot.heading, shot.line)

    def _place(self, location: str, heading: str, line: int) -> str:
        location = self.identities.setdefault(place_identity(location), location)
        if location not in self.places:
            if len(self.places) == MAX_PLACES:
                raise located(self.play.file, self.play.lines, line, 1, f"more than "
                              f"{MAX_PLACES} places: expected fewer distinct scene locations in "
                              "one screenplay (split it into several files)")
            self.places[location] = self._unique(slug(location))
            self.headings[location] = heading
        return self.places[location]

    def _pattern(self) -> re.Pattern[str] | None:
        forms = {form: key for name, key in self.characters.items()
                 for form in (name, name.upper(), spoken_form(name))}
        self.forms = forms
        if not forms:
            return None
        return re.compile(rf"(?<![\w@])({alternation(forms)})(?!\w)")

    def _plain(self, text: str) -> str:
        escaped = text.replace("@", "@@")
        if self.pattern is None:
            return escaped
        return self.pattern.sub(lambda m: "@" + self.forms[m.group(1)], escaped)

    def mention(self, text: str, *, names: bool = True) -> str:
        """Text in the language: each ``@name`` a mention, and each character's name too unless
        ``names`` is false (a heading: ``WILL'S BEDROOM`` is a place's name); other ``@``
        doubled."""
        plain = self._plain if names else (lambda part: part.replace("@", "@@"))
        pieces: list[str] = []
        at = 0
        for match in AT.finditer(text):
            key = self.ats.get(match.group(1).lower())
            if key is not None:
                pieces += [plain(text[at:match.start()]), f"@{key}"]
                at = match.end()
        return "".join([*pieces, plain(text[at:])])
