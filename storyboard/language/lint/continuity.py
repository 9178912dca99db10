"""A series' shots and its cast's own words into continuity warnings, each at file:line:col.

Deterministic and free: words are read, nothing is sent anywhere. Three lints here, two more
beside them (``continuity``: the season's facts, ``facts.py``; ``density``: a scene's load,
``density.py``), each switched off by the series' ``lint:`` block (``lint: {contradiction:
false}``):

- ``contradiction``: a shot describes a character against the character's own words (its
  ``description`` or the words its picture is made from): another hair or eye colour, another
  colour of the same garment;
- ``across_shots``: words that refer to another shot ("the same man", "again", "continues"),
  which a video model, seeing one shot at a time, cannot resolve;
- ``unreferenced``: a character, prop or place of the cast named in a shot's words without being
  a reference of that shot (no ``@name``), so the model never sees its picture; not said of a
  shot already holding as many references as its model takes (``full``): there, a name in plain
  words is the only way left to say it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.resolving import looks
from storyboard.language.resolving.resolve import ResolvedShot

LINTS = ("contradiction", "across_shots", "unreferenced", "continuity", "density")

COLOURS = ("red", "blonde", "blond", "brown", "black", "white", "grey", "gray", "green", "blue",
           "yellow", "pink", "purple", "orange", "silver", "golden", "auburn", "ginger", "navy",
           "beige", "hazel", "amber", "violet", "teal", "maroon", "crimson", "scarlet")
SAME = {"blond": "blonde", "gray": "grey", "golden": "blonde", "ginger": "red", "auburn": "red",
        "crimson": "red", "scarlet": "red", "maroon": "red", "navy": "blue"}
_THINGS = {"haired": "hair", "hair": "hair", "eyed": "eyes", "eyes": "eyes", "beard": "beard",
           **{g: g for g in ("coat", "jacket", "dress", "shirt", "hat", "scarf", "sweater",
                             "apron", "suit", "skirt", "trousers", "pants", "boots", "shoes",
                             "tie", "hoodie", "cap", "uniform", "blouse", "gloves", "vest")}}
_TRAIT = re.compile(rf"\b({'|'.join(COLOURS)})[- ]({'|'.join(_THINGS)})\b", re.I)
# Words that are a hair colour alone ("a blonde woman"); "blonde hair" says it twice, alike.
_HAIR_NOUNS = {"redhead": "red", "brunette": "brown", "blonde": "blonde", "blond": "blonde"}
_HAIR_WORD = re.compile(rf"\b({'|'.join(_HAIR_NOUNS)})\b", re.I)
ACROSS_SHOTS = re.compile(r"\b(the same (?:[a-z]+)|again|continues|continuing|as before|once more|"
                     r"(?:previous|last|earlier|next) (?:shot|scene|clip))\b", re.I)
_MENTION = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")
# A screenplay's scene heading ("EXT. ALLEY BEHIND THE BAKERY - NIGHT: ..."): it says where, and
# ``init`` references the scene's own place; another place named in it is not in the picture.
_HEADING = re.compile(r"^\s*(?:INT|EXT|EST|INT\./EXT|I/E)[. ][^:]*:")
_CLAUSE_END = re.compile(r"[.;!?]")


@dataclass(frozen=True)
class Words:
    """One text of a shot: where it is, its offset inside that scalar, the text."""

    path: PathKey
    offset: int
    text: str


# Off unless ``lint:`` sets it to true: the vendor's density heuristic (``density.py``) flags
# most short clips of two people (3 scenes of examples/coffee-shop), so a series asks for it.
OPT_IN = ("density",)


def settings(series: Mapping[str, Any]) -> set[str]:
    """The lints switched on: every one, less those ``lint:`` sets to false (and those of
    ``OPT_IN`` only where it sets them to true)."""
    block = series.get("lint")
    chosen = block if isinstance(block, dict) else {}
    return {name for name in LINTS if chosen.get(name, name not in OPT_IN) is True}


def own_words(series: Mapping[str, Any]) -> dict[str, str]:
    """Each character's own words: its ``description`` and what its picture is made from."""
    table = series.get("characters")
    words: dict[str, str] = {}
    for name, entry in (table or {}).items() if isinstance(table, dict) else ():
        if not isinstance(entry, dict):
            continue
        image = entry.get("image")
        made = image.get("generate") if isinstance(image, dict) else None
        said = [w for w in (entry.get("description"), made) if isinstance(w, str)]
        words[str(name)] = " ".join(said)
    return words


def lint(series: Mapping[str, Any], shots: list[ResolvedShot]) -> list[Diagnostic]:
    """Every continuity warning of ``shots`` (resolved shots, in series order)."""
    on = settings(series)
    if not on or not shots:
        return []
    words = own_words(series)
    # only characters whose own words give a colour can be contradicted
    traits = {name: found for name, text in words.items() if (found := _traits(text))}
    contradiction = "contradiction" in on and bool(traits)
    across, unreferenced = "across_shots" in on, "unreferenced" in on
    problems: list[Diagnostic] = []
    for shot in shots:  # what is the same for each of a shot's texts, once a shot
        unnamed = _unnamed(shot, words) if unreferenced else []
        for text in shot_words(shot):
            if contradiction:
                problems += _contradictions(shot.doc, text, traits)
            if across and ACROSS_SHOTS.search(text.text) is not None:
                problems += _across(shot.doc, text)
            if unnamed:
                problems += _unreferenced(shot.doc, text, unnamed)
    return problems


def _unnamed(shot: ResolvedShot, cast: Mapping[str, str]) -> list[str]:
    """The characters of the cast ``shot`` does not reference, when it could (not ``full``)."""
    if full(shot):
        return []
    named = {r.name for r in shot.references}
    return sorted(name for name in cast if name not in named)


def full(shot: ResolvedShot) -> bool:
    """The shot holds as many references as its model takes (images: the fewer of its
    references and its input images; a model that takes none is always full)."""
    model = shot.model
    return len(shot.references) >= min(model.caps.max_references, model.max_images)


def shot_words(shot: ResolvedShot) -> Iterator[Words]:
    """A shot's prompt, or each scene's action, with where each is (``@name.look`` read as
    ``@name``)."""
    raw = shot.doc.get(shot.path)
    if not isinstance(raw, dict):
        return
    if isinstance(raw.get("prompt"), str):
        yield Words((*shot.path, "prompt"), 0, looks.masked(raw["prompt"]))
        return
    for index, scene in enumerate(raw.get("scenes") or []):
        where = (*shot.path, "scenes", index)
        if isinstance(scene, str):  # "[0-3s] text": its time says nothing the lints read
            yield Words(where, 0, looks.masked(scene))
        elif isinstance(scene, dict) and isinstance(scene.get("action"), str):
            yield Words((*where, "action"), 0, looks.masked(scene["action"]))


def _traits(text: str) -> dict[str, str]:
    """``{"hair": "red", "coat": "green"}`` from words (the first colour said of each thing)."""
    found: dict[str, str] = {}
    for thing, colour, _ in _said_traits(text):
        found.setdefault(thing, colour)
    return found


def _said_traits(text: str) -> Iterator[tuple[str, str, int]]:
    for match in _TRAIT.finditer(text):
        colour = match.group(1).lower()
        yield _THINGS[match.group(2).lower()], SAME.get(colour, colour), match.start()
    for match in _HAIR_WORD.finditer(text):
        yield "hair", _HAIR_NOUNS[match.group(1).lower()], match.start()


def _contradictions(doc: Document, words: Words, traits: Mapping[str, dict[str, str]]
                    ) -> list[Diagnostic]:
    problems = []
    for name, start, end in clauses(words.text):
        own = traits.get(name)
        if own is None:
            continue  # nothing of its own to contradict
        for thing, colour, at in _said_traits(words.text[start:end]):
            if own.get(thing, colour) != colour:
                problems.append(_warn(doc, words, start + at, "contradiction", (
                    f"@{name} with {colour} {thing} here, but {name}'s own words say "
                    f"{own[thing]} {thing}: the reference shows the latter; describe it alike, "
                    "or switch this lint off with lint: {contradiction: false}")))
    return problems


def clauses(text: str) -> Iterator[tuple[str, int, int]]:
    """The words that describe each mention: from the clause's start (or the mention itself, when
    another mention comes earlier in the clause: words between two mentions describe the first)
    to the next mention or the clause's end."""
    mentions = list(_MENTION.finditer(text))
    for index, match in enumerate(mentions):
        before = mentions[index - 1].end() if index else 0
        stops = [m.end() for m in _CLAUSE_END.finditer(text, before, match.start())]
        start = stops[-1] if stops else before if not index else match.start()
        after = mentions[index + 1].start() if index + 1 < len(mentions) else len(text)
        stop = _CLAUSE_END.search(text, match.end(), after)
        yield match.group(1), start, stop.start() if stop else after


def _across(doc: Document, words: Words) -> list[Diagnostic]:
    return [_warn(doc, words, m.start(), "across_shots", (
        f"{m.group(1)!r} refers to another shot, which the model never sees (it renders one "
        "shot at a time): say who or what with an @reference and words, or switch this lint "
        "off with lint: {across_shots: false}")) for m in ACROSS_SHOTS.finditer(words.text)]


def _unreferenced(doc: Document, words: Words, unnamed: list[str]) -> list[Diagnostic]:
    """The cast's characters ``unnamed`` (``_unnamed``) that ``words`` name without an @."""
    problems = []
    bare = _MENTION.sub(lambda m: " " * len(m.group(0)), words.text)  # @mia is a reference
    bare = _HEADING.sub(lambda m: " " * len(m.group(0)), bare)
    for name in unnamed:
        spoken = name.replace("_", " ")
        match = re.search(rf"(?<![\w@]){re.escape(spoken)}(?!\w)", bare, re.I)
        if match:
            problems.append(_warn(doc, words, match.start(), "unreferenced", (
                f"{match.group(0)!r} names the cast's @{name}, but this shot does not reference "
                f"it, so the model never sees its picture: write @{name}, or switch this lint "
                "off with lint: {unreferenced: false}")))
    return problems


def _warn(doc: Document, words: Words, offset: int, lint: str, message: str) -> Diagnostic:
    """A lint's warning at ``offset`` in ``words``, coded by the lint (``lint-across_shots``)."""
    return doc.diagnostic(words.path, message, severity="warning", code=f"lint-{lint}",
                          span=doc.text_span(words.path, words.offset + offset))
