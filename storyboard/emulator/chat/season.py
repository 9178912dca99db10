"""A season's chat requests into the answers a model might give: deterministic, from the text given.

A season's episode (``stage: episode``) is ``chat_episode``'s; its shots are made as
``chat_answers`` makes a chapter's, then light enough for the density heuristic it is told
(``light``): an action of at most 8 words (none that refers to another shot: ``again``,
``the same``), at most one line of at most 16 words, one character
and one place shown, a still camera, and each scene seconds enough for two a load point
(``timed_for_load``, counted as the breakdown counts them).
"""

from __future__ import annotations

import math
import re
from typing import Any

from storyboard.emulator.chat import answers as chat_answers
from storyboard.emulator.chat import names as chat_names
from storyboard.emulator.chat import speaking
from storyboard.language.lint.continuity import ACROSS_SHOTS
from storyboard.language.lint.density import LEAST, plain_loads

ACTION_WORDS = 8
LINE_WORDS = 16
STILL = ("wide shot, static", "medium shot, static", "close-up, static")


def words_of(text: str, most: int) -> str:
    return " ".join(text.split()[:most])


DETERMINED = re.compile(r"\b(?:the|a|an|his|her|their|its|my|our)\s+((?:[a-z][\w'’-]*\s+){0,2})"
                        r"([a-z][\w'’-]{2,})\b")


def title_of(text: str) -> str:
    """An episode's title from its events: who acts most in it and the thing most named in it
    (``The Soldier and the Tinder-Box``; ``Della and the Watch``), either alone where the other
    is not, else its first words. Said outside quotes; the most named first, ties in order."""
    plain = speaking.QUOTE.sub(" ", text)
    people = chat_answers.names(text)[0]
    lead = max(people, key=lambda n: (len(chat_names.pattern(n).findall(plain)),
                                      -people.index(n)), default="")
    thing = _thing(plain, {w.lower() for n in people for w in n.split()})
    if not lead and not thing:
        words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)[:6]
        return (" ".join(words) or "An episode")[:60]
    words = lead.split()
    while len(words) > 1 and words[0].lower() in chat_names.STOP:  # "When Gluck": Gluck
        words = words[1:]
    lead = " ".join(w.capitalize() if w.islower() else w for w in words)
    if lead and not lead.startswith("The ") and (lead.lower() in chat_names.TITLES or
                                                 lead.lower() in chat_names.ANIMALS):
        lead = f"The {lead}"
    named = f"the {thing.title()}" if thing else ""
    return (f"{lead} and {named}" if lead and named else lead or named.capitalize())[:60]


VAGUE = {"very", "whole", "rest", "kind", "sort", "lot", "part", "end", "side", "moment"}


def _thing(plain: str, people: set[str]) -> str:
    """The thing ``plain`` names most after a determiner (``the lamp``, ``a tinder-box``), not
    a person nor an ordinary word; "" when none is named twice or more."""
    counts: dict[str, int] = {}
    for match in DETERMINED.finditer(plain):
        words = [*match.group(1).split(), match.group(2)]
        head = next((w for w in words if w not in chat_names.STOP and
                     w not in chat_names.COLOURS), "")
        if head and head not in people and head not in chat_names.TITLES and \
                head not in VAGUE and not head.endswith(("ly", "ed")):
            counts[head] = counts.get(head, 0) + 1
    best = max(counts, key=lambda w: (counts[w], -list(counts).index(w)), default="")
    return best if counts.get(best, 0) >= 2 else ""


def _closed(sentence: str) -> str:
    """A sentence cut from inside a quote given its quotation marks whole (``I'm me, ain't
    I?"`` is ``"I'm me, ain't I?"``; an opened quote is closed)."""
    if sentence.count('"') % 2 == 0:
        return sentence
    at = sentence.index('"')
    return f'"{sentence}' if at and not sentence[at - 1].isspace() else f'{sentence}"'


def hook_of(text: str) -> str:
    """An episode's hook: a whole sentence of its last ones (its last question or cry among
    the last three, else its last), at most 300 characters; never one its cut began inside."""
    said = [_closed(s.strip()) for s in chat_answers.SENTENCE.split(" ".join(text.split()))
            if s.strip()]
    whole = [s for s in said if s.lstrip("\"“")[:1].isupper() and len(s) <= 300
             and s[-1:] in ".!?\"”"] or said[-1:]
    cries = [s for s in whole[-3:] if s.rstrip("\"”’'").endswith(("?", "!"))]
    chosen = (cries or whole or ["What happens next?"])[-1]
    return chosen if len(chosen) <= 300 else f"{chosen[:297].rsplit(' ', 1)[0]}..."


def _seconds(value: float) -> float:
    return math.ceil(value * 2) / 2


def light(shot: dict[str, Any], index: int, document: dict[str, Any]) -> dict[str, Any]:
    """A chapter shot made light: one short action, at most one short line, one character and
    one place, a still camera; 2 s a load point (and the line's time to be said)."""
    characters = {str(n).lower() for n in document.get("characters", [])}
    places = {str(n).lower() for n in document.get("places", [])}
    lines = [line for scene in shot["scenes"] for line in scene["lines"]][:1]
    for line in lines:
        line["quote"] = words_of(line["quote"], LINE_WORDS)
    speakers = {line["speaker"].lower() for line in lines}
    cast, person, place = [], bool(speakers), False
    for name in shot["cast"]:
        kind = name.lower()
        if kind in characters and not person:
            cast.append(name)
            person = True
        elif kind in places and not place:
            cast.append(name)
            place = True
        elif kind not in characters and kind not in places:
            cast.append(name)
    said = chat_answers.SENTENCE.split(shot["scenes"][0]["action"].strip())[0]
    action = words_of(ACROSS_SHOTS.sub("", said), ACTION_WORDS) or "The scene goes on"
    scenes: list[dict[str, Any]] = [{"seconds": 2.0, "action": action, "lines": []}]
    for line in lines:
        words = len(line["quote"].split())
        scenes.append({"seconds": _seconds(max(2 + words / 4, words / 2.5)),
                       "action": f"{line['speaker']} speaks", "lines": [line]})
    return {**shot, "camera": STILL[index % len(STILL)], "cast": cast[:4], "scenes": scenes}


def timed_for_load(shot: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    characters = [str(n) for n in document.get("characters", [])]
    places = [str(n) for n in document.get("places", [])]
    scenes = [(float(s["seconds"]), s["action"], [(w["speaker"], w["quote"]) for w in s["lines"]])
              for s in shot["scenes"]]
    known = {w.lower() for n in characters + places for w in [n, *chat_names.TOKEN.findall(n)]}
    characters += sorted(_maybe_named(" ".join(action for _, action, _ in scenes)) - known)
    counted = plain_loads(shot["camera"], scenes, characters, places,
                          [*characters, *places, *map(str, document.get("props", []))])
    return {**shot, "scenes": [{**scene, "seconds": max(scene["seconds"], _seconds(LEAST * points))}
                               for scene, (_, points) in zip(shot["scenes"], counted, strict=True)]}


def _maybe_named(action: str) -> set[str]:
    """The words of ``action`` that another chapter's cast may name, so that the written shot,
    whose action refers to the whole series' cast, is not denser than counted here: its people
    by what they are (``daughter``, ``miller``) and its capitalised words."""
    words = chat_names.TOKEN.findall(action)
    return {w.lower() for w in words if w.lower() in chat_names.TITLES or
            chat_names.capitalised(w)}
