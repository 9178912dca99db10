"""Screenplay elements into the cast's words: what to generate for each character and place, and a
designed voice (a description and a sample line) for each speaking character.

- A character's picture is described by its introduction: by screenplay convention the action
  line where its name first appears in capitals (``MIA (30s), a barista with short dark hair,
  wipes the counter.``), the sentence that holds it; with none, the name (``MIA, a character``).
- A place's picture is its heading's location, inside or outside, and time of day, with no people
  in it (``MIA'S KITCHEN, interior, night, no people``).
- A speaking character's voice is designed from what the introduction says of the speaker (a
  woman or a man, an age) in neutral words, else a generic adult voice; its sample is the
  character's first line of dialogue long enough to be a reference voice, else its first lines
  joined (``language.resolving.cast.voice_sample``), cut to whole sentences of at most ``LONGEST_SAMPLE``
  characters (``zh`` when the line is Chinese).

One pass over the action for every introduction (one pattern for all the names) and one over the
dialogue for every character's lines, whatever the screenplay's size.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from storyboard.language.resolving.cast import SAMPLE_AIM, voice_sample
from storyboard.scaffold.fountain import SCENE, Screenplay
from storyboard.scaffold.namekeys import Names, alternation, shorten
from storyboard.scaffold.who import design, unsettled, who_of
from storyboard.targets.cast.assets import spoken_seconds

LONGEST_INTRO = 400  # characters of an introduction kept (the language takes 2000)
LONGEST_SAMPLE = 120  # characters of a voice's sample line
LOOK = 600  # characters around a name searched for its sentence's ends
BOUNDARY = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?:\s+|$)")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LEAD = re.compile(r"(?:\b(?:his|her|their|its|the|a|an|my|our|your)\s+)(?:[a-z'’-]+\s+){0,2}$",
                  re.I)  # a role right before a name: "his mother SANDRA", "a young MIA"
LEADS_INTO = re.compile(r"(?:[\s,;:–—-]|\b(?:as|and|while|whilst|when|with|to|then|but|or|at|"
                        r"who|whom|whose|beside|behind|before|after|than|from|for|by|of)\b)*$",
                        re.I)  # the words that join a clause to the next person's
ROLE = re.compile(r"[^,(]*(?:\([^)]*\))?\s*,\s*((?:an?|the)\s+[a-z][a-z'’ -]*?)"
                  r"(?=\s+(?:with|in|who|and|from|at|of|on|wearing)\b|\s*[,.;:]|$)")
                  # the role after a name: "MIA (30s), a barista with short hair": "a barista"
SURNAME = re.compile(r"(?:\s+[A-Z][A-Z'’.-]+\b)*")
INSIDE = {"INT": "interior", "EXT": "exterior", "EST": "exterior"}
NOT_TIMES = {"CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME", "CONT'D", "CONT’D"}


@dataclass(frozen=True)
class Voice:
    """A designed voice's words: how it sounds, what its preview says, and its language."""

    design: str
    sample: str
    language: str = ""  # "zh" when the sample is Chinese, else left to the service
    unsettled: str = ""  # what the words left open ("a woman or a man? the age?")


@dataclass(frozen=True)
class Cast:
    """The words for every character (by cue name) and place (by location) of a screenplay."""

    pictures: dict[str, str]  # cue name -> what its picture shows
    places: dict[str, str]  # location -> what its picture shows
    voices: dict[str, Voice]  # cue name -> its voice
    unintroduced: frozenset[str] = frozenset()  # cue names with no introduction found
    undescribed: frozenset[str] = frozenset()  # cue names whose introduction is only the name


def cast_of(play: Screenplay, names: Names) -> Cast:
    """The cast's words for the characters and places ``names`` kept."""
    intros = introductions(play, names)
    lines = first_lines(play, names)
    pictures = {name: intros.get(name, (f"{name}, a character", ""))[0]
                for name in names.characters}
    voices = distinct({name: voice(intros.get(name, ("", ""))[1],
                                   *sample(name, voice_sample(lines.get(name, ()))))
                       for name in names.characters},
                      {name: clause for name, (clause, _) in intros.items()})
    places = {location: place_words(names.headings.get(location, location), location)
              for location in names.places}
    bare = {name for name, (clause, _) in intros.items() if not described(clause, name)}
    return Cast(pictures, places, voices, frozenset(set(names.characters) - set(intros)),
                frozenset(bare))


def described(clause: str, name: str) -> bool:
    """Whether an introduction says anything but the name (``JACK.`` says nothing)."""
    rest = re.sub(rf"\b{re.escape(name)}\b", " ", clause, flags=re.I)
    return any(c.isalpha() for c in rest)


def distinct(voices: dict[str, Voice], clauses: dict[str, str]) -> dict[str, Voice]:
    """The voices whose designs would be one text told apart by what is known of each: its role
    in its introduction (``a barista``) and its name."""
    shared = Counter(v.design for v in voices.values())
    return {name: replace(v, design=_known(v.design, name, clauses.get(name, "")))
            if shared[v.design] > 1 else v for name, v in voices.items()}


def _known(design: str, name: str, clause: str) -> str:
    """``design`` with the character's role and name: ``A barista named Mia: ...``."""
    role = ROLE.match(clause)
    said = role.group(1) if role and not who_of(role.group(1)).sex else ""
    head, colon, how = design.partition(": ")
    called = f"named {spoken_name(name)}"
    if not colon:
        subject = said[:1].upper() + said[1:] if said else "A speaker"
        return f"{subject} {called}: {design[:1].lower()}{design[1:]}"
    return f"{head}, {said} {called}: {how}" if said else f"{head} {called}: {how}"


def spoken_name(name: str) -> str:
    """A cue name as it is said: ``OLD LI``: ``Old Li``."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in name.split())


def voice(words: str, spoken: str, language: str) -> Voice:
    """A voice designed from a character's own words, with what they left open."""
    who = who_of(words)
    return Voice(design(who), spoken, language, unsettled(who))


def introductions(play: Screenplay, names: Names) -> dict[str, tuple[str, str]]:
    """Each character's introduction: the clause about it in the sentence of the first action
    line naming it in capitals, and the words about it alone (for its voice)."""
    forms = {name.upper(): name for name in names.characters if any(c.isalpha() for c in name)}
    if not forms:
        return {}
    pattern = re.compile(rf"(?<![\w@])({alternation(forms)})(?!\w|['’][sS]\b)")
    found: dict[str, tuple[str, str]] = {}
    for element in play.elements:
        if element.kind != "action":
            continue
        for match in pattern.finditer(element.text):
            name = forms[match.group(1)]
            if name not in found:
                found[name] = _introduction(element.text, (match.start(), match.end()),
                                            names, names.characters[name])
        if len(found) == len(forms):
            break
    return found


def _introduction(text: str, at: tuple[int, int], names: Names, key: str) -> tuple[str, str]:
    """The clause about the name ``key`` at ``at`` and its own words: cut before another person
    named in its sentence, and after the one named before it."""
    start, end = at
    begin, stop, more = _sentence(text, start, end)
    others = _others(text, begin, stop, names, key)
    before = [m for m in others if m.end() <= start]
    after = [m for m in others if m.start() >= end]
    lead = LEAD.search(text, before[-1].end() if before else begin, start)
    head = lead.start() if lead else start
    clause_end = _clause_end(text, end, after[0].start()) if after else stop
    clause = text[head if before else begin:clause_end].strip()
    clause = clause if not after or clause[-1:] in ".!?" else clause + "."
    nobody = not after and not _others(text, stop, more, names, key)
    own = text[head:start] + text[start:clause_end] + (" " + text[stop:more] if nobody else "")
    return shorten(clause, LONGEST_INTRO), shorten(own, LONGEST_INTRO * 2)


def _clause_end(text: str, end: int, other: int) -> int:
    """Where a clause ending at the next person, named at ``other``, ends: before that person's
    role (``his father``) and the words that lead into it (``, as``)."""
    role = LEAD.search(text, end, other)
    cut = role.start() if role else other
    joint = LEADS_INTO.search(text, end, cut)
    return joint.start() if joint else cut


def _others(text: str, begin: int, stop: int, names: Names, key: str) -> list[re.Match[str]]:
    """Where ``text[begin:stop]`` names someone other than ``key``."""
    if names.pattern is None:
        return []
    return [m for m in names.pattern.finditer(text, begin, stop) if names.forms[m.group(1)] != key]


def _sentence(text: str, start: int, end: int) -> tuple[int, int, int]:
    """Where the sentence around ``[start, end)`` begins and ends, and where the next one ends."""
    begin = max(0, start - LOOK)
    for boundary in BOUNDARY.finditer(text, begin, start):
        begin = boundary.end()
    if begin == start - LOOK:  # no sentence start in sight: begin at a word
        begin = text.find(" ", begin, start) + 1
    first = BOUNDARY.search(text, end, end + LOOK)
    stop = first.end() if first else min(len(text), end + LOOK)
    second = BOUNDARY.search(text, stop, stop + LOOK)
    more = second.end() if second else min(len(text), stop + LOOK)
    return begin, stop, more


def first_lines(play: Screenplay, names: Names) -> dict[str, list[str]]:
    """Each character's lines of dialogue in order (cue name -> its lines)."""
    by_key = {key: name for name, key in names.characters.items()}
    lines: dict[str, list[str]] = {}
    speaker: str | None = None
    for element in play.elements:
        if element.kind == "character":
            speaker = by_key.get(names.upper.get(element.text.upper(), ""))
        elif element.kind == "dialogue" and speaker is not None and element.text.strip():
            lines.setdefault(speaker, []).append(element.text)
        elif element.kind not in ("parenthetical", "dialogue"):
            speaker = None
    return lines


def sample(name: str, line: str | None) -> tuple[str, str]:
    """A voice's sample and language: ``line`` (``voice_sample``'s pick), cut to whole
    sentences of at most ``LONGEST_SAMPLE`` characters (cut at a word instead when the first
    sentence is longer, or the whole ones too short to be a reference voice)."""
    text = " ".join((line or "").split())
    if not text:
        return f"Hello, I'm {shorten(spoken_name(name), 60)}.", ""
    if len(text) <= LONGEST_SAMPLE:
        return text, "zh" if CJK.search(text) else ""
    kept = ""
    for boundary in BOUNDARY.finditer(text, 0, LONGEST_SAMPLE + 2):
        cut = text[:boundary.end()].strip()
        if len(cut) > LONGEST_SAMPLE:
            break
        kept = cut
    if spoken_seconds(kept) < SAMPLE_AIM:  # whole sentences too short to be a reference voice
        kept = _cut(text)
    return kept, "zh" if CJK.search(kept) else ""


def _cut(text: str) -> str:
    """``text`` cut at the last word that fits, ending in ``...``."""
    room = LONGEST_SAMPLE - 3
    space = text.rfind(" ", 0, room + 1)
    return text[:space if space > room // 2 else room].rstrip() + "..."


def place_words(heading: str, location: str) -> str:
    """What a place's picture shows: ``MIA'S KITCHEN, interior, night, no people``."""
    match = SCENE.match(heading)
    inside = ""
    if match is not None:
        prefix = match.group(1).upper().replace(".", "")
        inside = INSIDE.get(prefix, "interior and exterior")
    parts = re.split(r"\s[-–—]\s", heading.strip(" ."))
    time = parts[-1].strip(" .") if len(parts) > 1 else ""
    time = "" if time.upper() in NOT_TIMES or len(time) > 30 else time.lower()
    return ", ".join(part for part in (location, inside, time, "no people") if part)
