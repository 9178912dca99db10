"""Screenplay elements into the cast's words: what to generate for each character and place, and a
designed voice (a description and a sample line) for each speaking character.

- A character's picture is described by its introduction: by screenplay convention the action
  line where its name first appears in capitals (``MIA (30s), a barista with short dark hair,
  wipes the counter.``), the sentence that holds it; with none, the name (``MIA, a character``).
- A place's picture is its heading's location, inside or outside, and time of day, with no people
  in it (``MIA'S KITCHEN, interior, night, no people``).
- A speaking character's voice is designed from what the introduction says of the speaker (a
  woman or a man, an age) in neutral words, else a generic adult voice; its sample is the
  character's first line of dialogue, cut to whole sentences of at most ``LONGEST_SAMPLE``
  characters (``zh`` when the line is Chinese).

One pass over the action for every introduction (one pattern for all the names) and one over the
dialogue for every first line, whatever the screenplay's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyboard.scaffold.fountain import SCENE, Screenplay
from storyboard.scaffold.names import Names, alternation, shorten

LONGEST_INTRO = 400  # characters of an introduction kept (the language takes 2000)
LONGEST_SAMPLE = 120  # characters of a voice's sample line
LOOK = 600  # characters around a name searched for its sentence's ends
BOUNDARY = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?:\s+|$)")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
AGE = re.compile(r"\((\d{1,2})\s*['’]?s?\)|\b(\d{1,2})['’]?s\b|\b(\d{1,2})\s*(?:years?|yrs?)\s*old\b",
                 re.I)
DECADE_WORDS = re.compile(r"\b(twenties|thirties|forties|fifties|sixties|seventies|eighties|"
                          r"nineties)\b", re.I)
DECADES = {1: "a child", 2: "in their twenties", 3: "in their thirties", 4: "in their forties",
           5: "in their fifties", 6: "in their sixties", 7: "in their seventies",
           8: "in their eighties", 9: "in their nineties"}
WOMAN = {"she", "her", "hers", "herself", "woman", "girl", "lady", "mother", "mom", "mum",
         "wife", "sister", "daughter", "grandmother", "aunt", "queen", "actress", "waitress"}
MAN = {"he", "him", "his", "himself", "man", "boy", "gentleman", "father", "dad", "husband",
       "brother", "son", "grandfather", "uncle", "king", "actor", "waiter"}
WORDS = re.compile(r"[a-z]+")
INSIDE = {"INT": "interior", "EXT": "exterior", "EST": "exterior"}
NOT_TIMES = {"CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME", "CONT'D", "CONT’D"}
DESIGN = "a natural, clear speaking voice at an even pace, neutral accent"


@dataclass(frozen=True)
class Voice:
    """A designed voice's words: how it sounds, what its preview says, and its language."""

    design: str
    sample: str
    language: str = ""  # "zh" when the sample is Chinese, else left to the service


@dataclass(frozen=True)
class Cast:
    """The words for every character (by cue name) and place (by location) of a screenplay."""

    pictures: dict[str, str]  # cue name -> what its picture shows
    places: dict[str, str]  # location -> what its picture shows
    voices: dict[str, Voice]  # cue name -> its voice


def cast_of(play: Screenplay, names: Names) -> Cast:
    """The cast's words for the characters and places ``names`` kept."""
    intros = introductions(play, names)
    lines = first_lines(play, names)
    pictures = {name: intros.get(name, (f"{name}, a character", ""))[0]
                for name in names.characters}
    voices = {name: Voice(design(intros.get(name, ("", ""))[1]), *sample(name, lines.get(name)))
              for name in names.characters}
    places = {location: place_words(names.headings.get(location, location), location)
              for location in names.places}
    return Cast(pictures, places, voices)


def introductions(play: Screenplay, names: Names) -> dict[str, tuple[str, str]]:
    """Each character's introduction: the sentence of the first action line naming it in
    capitals, and that sentence with the one after it (for the voice's words)."""
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
                found[name] = _sentences(element.text, match.start(), match.end())
        if len(found) == len(forms):
            break
    return found


def _sentences(text: str, start: int, end: int) -> tuple[str, str]:
    """The sentence of ``text`` around ``[start, end)``, and it with the next one."""
    begin = max(0, start - LOOK)
    for boundary in BOUNDARY.finditer(text, begin, start):
        begin = boundary.end()
    if begin == start - LOOK:  # no sentence start in sight: begin at a word
        begin = text.find(" ", begin, start) + 1
    first = BOUNDARY.search(text, end, end + LOOK)
    stop = first.end() if first else min(len(text), end + LOOK)
    second = BOUNDARY.search(text, stop, stop + LOOK)
    more = second.end() if second else min(len(text), stop + LOOK)
    return (shorten(text[begin:stop].strip(), LONGEST_INTRO),
            shorten(text[begin:more].strip(), LONGEST_INTRO * 2))


def first_lines(play: Screenplay, names: Names) -> dict[str, str]:
    """Each character's first line of dialogue (cue name -> the line)."""
    by_key = {key: name for name, key in names.characters.items()}
    lines: dict[str, str] = {}
    speaker: str | None = None
    for element in play.elements:
        if element.kind == "character":
            speaker = by_key.get(names.upper.get(element.text.upper(), ""))
        elif element.kind == "dialogue" and speaker is not None and speaker not in lines:
            if element.text.strip():
                lines[speaker] = element.text
        elif element.kind not in ("parenthetical", "dialogue"):
            speaker = None
    return lines


def sample(name: str, line: str | None) -> tuple[str, str]:
    """A voice's sample and language: the first line, cut to whole sentences of at most
    ``LONGEST_SAMPLE`` characters (the first sentence cut at a word when it is longer)."""
    text = " ".join((line or "").split())
    if not text:
        spoken = " ".join(w[:1].upper() + w[1:].lower() for w in name.split())
        return f"Hello, I'm {shorten(spoken, 60)}.", ""
    if len(text) <= LONGEST_SAMPLE:
        return text, "zh" if CJK.search(text) else ""
    kept = ""
    for boundary in BOUNDARY.finditer(text, 0, LONGEST_SAMPLE + 2):
        cut = text[:boundary.end()].strip()
        if len(cut) > LONGEST_SAMPLE:
            break
        kept = cut
    kept = kept or _cut(text)
    return kept, "zh" if CJK.search(kept) else ""


def _cut(text: str) -> str:
    """``text`` cut at the last word that fits, ending in ``...``."""
    room = LONGEST_SAMPLE - 3
    space = text.rfind(" ", 0, room + 1)
    return text[:space if space > room // 2 else room].rstrip() + "..."


def design(words: str) -> str:
    """A neutral voice description from what an introduction says (``""``: a generic one)."""
    found = WORDS.findall(words.lower())
    women, men = sum(w in WOMAN for w in found), sum(w in MAN for w in found)
    who = "woman" if women > men else "man" if men > women else ""
    age = AGE.search(words)
    years = int(next(g for g in age.groups() if g)) if age else 0
    if 0 < years < 13:
        return f"A child: {DESIGN}"
    if 13 <= years < 20:
        teen = {"woman": "A teenage girl", "man": "A teenage boy"}.get(who, "A teenager")
        return f"{teen}: {DESIGN}"
    subject = {"woman": "A woman", "man": "A man"}.get(who, "An adult")
    decade = DECADE_WORDS.search(words)
    when = DECADES.get(years // 10, "") if years else ""
    when = when or (f"in their {decade.group(1).lower()}" if decade else "")
    if when and who:
        when = when.replace("their", "her" if who == "woman" else "his")
    return f"{subject}{' ' + when if when else ''}: {DESIGN}"


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
