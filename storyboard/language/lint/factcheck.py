"""The series' ``continuity:`` facts and the shots' words into warnings where the words contradict one.

A fact names a thing (``thing:``, else the fact's key), whose it is (``of:``, a character;
absent: anyone's), its state (``is:``, a word or words) and the episodes it holds over
(``episodes:``, every one when absent)::

    continuity:
      sweater: {of: ada, is: blue, episodes: "1-2"}
      sweater-later: {of: ada, thing: sweater, is: red, episodes: "3-"}

In a shot of those episodes, a word of the state's kind (a colour; a state of a pair such as
torn or intact, wet or dry) just before the thing's name (``her red sweater``) or just after
it (``the sweater, now red``), and not one of the fact's words, is a warning at that word,
coded ``lint-continuity``. With ``of:``, only words that describe the owner are read: in a
clause of its ``@mention``, or anywhere in a text with no mention of a shot it is in. A bad
range, an unknown owner, and two facts of one thing that say otherwise over the same episode
are errors at their line. Deterministic and free: nothing is sent anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.lint import continuity
from storyboard.language.read import ranges
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.resolving.resolved import ResolvedShot

OPTIONS = ("chain_boards",)  # keys of ``continuity:`` that are settings, not facts
# States that exclude each other, by kind (a colour is a kind of its own, ``continuity.COLOURS``)
STATES: dict[str, tuple[str, ...]] = {
    "whole": ("torn", "ripped", "intact", "mended", "broken", "shattered", "cracked"),
    "wet": ("wet", "soaked", "dripping", "damp", "dry"),
    "clean": ("clean", "dirty", "muddy", "bloody", "bloodied", "stained", "spotless"),
    "wound": ("bandaged", "bleeding", "healed", "scarred", "fresh"),
    "light": ("lit", "unlit", "dark", "bright", "glowing"),
    "open": ("open", "closed", "shut", "locked", "unlocked"),
    "age": ("new", "old", "worn", "brand-new", "tattered"),
    "time": ("morning", "noon", "afternoon", "evening", "night", "dawn", "dusk", "midnight"),
}
KIND: dict[str, str] = {word: kind for kind, words in STATES.items() for word in words}
KIND.update({continuity.SAME.get(c, c): "colour" for c in continuity.COLOURS})
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
_MENTION = re.compile(r"@[A-Za-z_][A-Za-z0-9_]*")
_STOP = re.compile(r"[.;:!?,]")
NEAR = 3  # words read on each side of the thing's name


@dataclass(frozen=True)
class Fact:
    key: str
    thing: str
    owner: str | None
    words: frozenset[str]  # its state, each word as ``kind_of`` spells it
    episodes: ranges.Ranges
    where: PathKey


def spelled(word: str) -> str:
    """A state word as facts compare it: lower case, a colour by its usual name (gray: grey)."""
    lower = word.lower()
    return continuity.SAME.get(lower, lower)


def declared(doc: Document, characters: Mapping[str, Any]) -> tuple[list[Fact], list[Diagnostic]]:
    """The ``continuity:`` block's facts, and its problems (each an error at its line)."""
    block = doc.get(("continuity",))
    facts: list[Fact] = []
    problems: list[Diagnostic] = []
    for key, entry in block.items() if isinstance(block, dict) else ():
        where = ("continuity", key)
        if key in OPTIONS:
            continue  # a setting: ``season.chain_boards``
        fact = _fact(doc, characters, str(key), entry, where, problems)
        if fact is not None:
            _against_earlier(doc, fact, facts, problems)
            facts.append(fact)
    return facts, problems


def _fact(doc: Document, characters: Mapping[str, Any], key: str, entry: Any, where: PathKey,
          problems: list[Diagnostic]) -> Fact | None:
    if not isinstance(entry, dict):
        return None  # the schema's error
    owner = entry.get("of")
    if isinstance(owner, str) and owner not in characters:
        problems.append(doc.diagnostic((*where, "of"), (
            f"unknown character {owner!r}{did_you_mean(owner, characters)}; expected whose "
            f"{key} it is: one of {', '.join(sorted(characters)) or '(none declared)'}")))
        return None
    state = entry.get("is")
    words = [state] if isinstance(state, str) else \
        [w for w in state if isinstance(w, str)] if isinstance(state, list) else []
    held = ranges.parse(entry["episodes"]) if "episodes" in entry else ranges.EVERY
    if isinstance(held, str):
        problems.append(doc.diagnostic((*where, "episodes"), f"continuity {key!r}: {held}"))
        return None
    thing = entry.get("thing")
    name = thing if isinstance(thing, str) else key.replace("_", " ")
    return Fact(key, name.strip().lower(), owner if isinstance(owner, str) else None,
                frozenset(spelled(w) for w in words), held, where)


def _against_earlier(doc: Document, fact: Fact, facts: list[Fact],
                     problems: list[Diagnostic]) -> None:
    """An error where ``fact`` says otherwise than an earlier fact of the same thing over an
    episode both hold over."""
    for other in facts:
        if (other.thing, other.owner) != (fact.thing, fact.owner):
            continue
        first = fact.episodes.overlap(other.episodes)
        clash = [w for w in fact.words if KIND.get(w) and any(
            KIND.get(o) == KIND.get(w) and o not in fact.words for o in other.words)]
        if first is not None and clash:
            problems.append(doc.diagnostic((*fact.where, "is"), (
                f"continuity {fact.key!r} says {fact.thing} is {', '.join(sorted(clash))} in "
                f"episode {first}, where {other.key!r} says "
                f"{', '.join(sorted(other.words))}; expected ranges that do not overlap")))
            return


# --- the lint --------------------------------------------------------------------------------


def lint(facts: list[Fact], shots: list[tuple[int, ResolvedShot]]) -> list[Diagnostic]:
    """Each contradiction of a fact by a shot's words (``shots``: each with its episode's
    number), a warning at the word."""
    problems: list[Diagnostic] = []
    for number, shot in shots:
        held = [f for f in facts if number in f.episodes]
        if not held:
            continue
        named = {r.name for r in shot.references}
        for words in continuity.shot_words(shot):
            for fact in held:
                for at, said in _contradicted(fact, words.text, named):
                    problems.append(_warn(shot.doc, words, at, number, fact, said))
    return problems


def _contradicted(fact: Fact, text: str, named: set[str]) -> Iterator[tuple[int, str]]:
    """Each word of ``text`` near the thing's name (describing its owner) that contradicts."""
    pattern = re.compile(rf"\b{re.escape(fact.thing)}(?:e?s)?\b", re.I)
    for start, end in _spans(fact, text, named):
        for match in pattern.finditer(text, start, end):
            for at, word in _near(text, match.start(), match.end(), start, end):
                kind = KIND.get(word)
                if kind is not None and word not in fact.words and any(
                        KIND.get(w) == kind for w in fact.words):
                    yield at, word


def _spans(fact: Fact, text: str, named: set[str]) -> Iterator[tuple[int, int]]:
    """Where the words describe the fact's owner: its clauses; the whole text when there is
    no owner, or no mention in it and the owner is in the shot."""
    if fact.owner is None or (not _MENTION.search(text) and fact.owner in named):
        yield 0, len(text)
        return
    for name, start, end in continuity.clauses(text):
        if name == fact.owner:
            yield start, end


def _near(text: str, start: int, end: int, low: int, high: int) -> Iterator[tuple[int, str]]:
    """The words just before the thing's name and just after it, within the clause (``low``,
    ``high``), never past a stop or a mention."""
    before = _cut(text[low:start], last=True)
    words = list(_WORD.finditer(text, low + before, start))[-NEAR:]
    after = _cut(text[end:high], last=False)
    words += list(_WORD.finditer(text, end, end + after))[:NEAR]
    for match in words:
        yield match.start(), spelled(match.group(0))


def _cut(text: str, *, last: bool) -> int:
    """Where the reading stops in ``text``: after its last stop or mention (``last``), else at
    its first (comma after: "the sweater, now red" reads on past one comma)."""
    stops = [m for m in (*_STOP.finditer(text), *_MENTION.finditer(text))
             if last or m.group(0) != ","]
    if not stops:
        return 0 if last else len(text)
    return max(m.end() for m in stops) if last else min(m.start() for m in stops)


def _warn(doc: Document, words: continuity.Words, at: int, number: int, fact: Fact,
          said: str) -> Diagnostic:
    whose = f"{fact.owner}'s " if fact.owner else "the "
    return doc.diagnostic(words.path, (
        f"{said!r} {fact.thing} here, in episode {number}, but continuity {fact.key!r} says "
        f"{whose}{fact.thing} is {', '.join(sorted(fact.words))} in episodes {fact.episodes}: "
        "describe it alike, or change the fact; or switch this lint off with "
        "lint: {continuity: false}"), severity="warning", code="lint-continuity",
        span=doc.text_span(words.path, words.offset + at))
