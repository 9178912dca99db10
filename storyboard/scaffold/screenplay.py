"""Fountain elements into a series: episodes, shots, characters, timing, and what could not be mapped.

The mapping (docs/starting.md has it as a table):

- ``#`` sections (level 1) start episodes; with no section the screenplay is one episode. Deeper
  sections are kept as comments.
- Each scene heading starts a shot. Its location becomes a *place*, a character with a placeholder
  card added to the shot's ``cast``, so every shot has a reference; the heading opens the shot's text.
- Each character cue becomes a character (key: the name in lower case, ``_`` between words) with a
  placeholder card. The name in action text (``MIA`` or ``Mia``) becomes the mention ``@mia``.
- Each action paragraph and each dialogue block is one timed scene (``at: A-Bs``) of its shot;
  dialogue is the speaker's ``say`` line; parentheticals and extensions such as ``(V.O.)`` go into
  that scene's action (``(CONT'D)`` says nothing a shot needs).
- A transition (``CUT TO:``, ``DISSOLVE TO:``, ``FADE OUT.``, ...) becomes the next shot's
  ``transition`` where the language has one (``TRANSITIONS``); ``MATCH CUT TO:`` and the like become
  the nearest one, with a warning; others are reported.

Timing: a scene lasts its action words at ``ACTION_RATE`` (3) words a second plus its dialogue words
at ``DIALOGUE_RATE`` (2.5) words a second, rounded up to the half second, at least one second. A shot
lasts the sum, rounded up to whole seconds, clamped to the model's 2..15 s (wan2.7-r2v with image
references); a scene heading whose scenes run longer is split into several shots at scene
boundaries, and one scene longer than 15 s on its own is squeezed into 15 s (with a warning).

Everything the language cannot say (notes, synopses, boneyard, lyrics, centered text, page breaks,
emphasis, dual dialogue's simultaneity, unknown transitions, action before the first scene heading,
a sixth reference in one shot) is a warning at its line, never dropped silently; notes, synopses,
lyrics and centered text are also kept as comments in the episode file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import Diagnostic, Span
from storyboard.scaffold import placeholder
from storyboard.scaffold.blueprint import EPISODE_SCHEMA, SERIES_SCHEMA, Blueprint
from storyboard.scaffold.fountain import SCENE, Element, Screenplay, located, parse, unemphasize
from storyboard.scaffold.yamltext import RESERVED, comment, flow, quote

ACTION_RATE = 3.0  # words a second, read as action
DIALOGUE_RATE = 2.5  # words a second, spoken
MIN_SHOT, MAX_SHOT = 2, 15  # seconds: wan2.7-r2v's range with image references
MAX_REFERENCES = 5
TRANSITIONS = {"CUT TO:": "cut", "SMASH CUT TO:": "cut", "HARD CUT TO:": "cut",
               "DISSOLVE TO:": "dissolve", "CROSSFADE TO:": "crossfade",
               "CROSS FADE TO:": "crossfade", "FADE TO:": "fade", "FADE TO BLACK:": "fade",
               "FADE TO BLACK.": "fade", "FADE OUT.": "fade", "FADE OUT:": "fade",
               "FADE OUT": "fade"}
NEAREST = {"MATCH CUT TO:": "cut", "JUMP CUT TO:": "cut", "TIME CUT TO:": "cut",
           "WIPE TO:": "wipeleft", "SLIDE TO:": "slideleft"}
SILENT = {"boneyard": "it is left out, as Fountain means", "page_break": "a video has no pages"}
HIDDEN = {"note": "a note", "boneyard": "boneyard (commented-out text)", "synopsis": "a synopsis",
          "lyrics": "lyrics", "centered": "centered text", "page_break": "a page break"}
EXTENSIONS = {"V.O.": "in voice-over", "VO": "in voice-over", "O.S.": "off screen",
              "OS": "off screen", "O.C.": "off camera", "OC": "off camera"}
CONTINUED = re.compile(r"^CONT['’]?D\.?$|^CONTINUING$", re.I)
MENTION = re.compile(r"(?<!@)@([A-Za-z_][A-Za-z0-9_]*)")


def slug(text: str, sep: str = "_") -> str:
    """``text`` as a plain name: lower case, words joined by ``sep``, never starting with a digit."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    name = sep.join(words)[:40].strip(sep) or "x"
    name = name if name[0].isalpha() else f"c{sep}{name}"
    return f"{name}{sep}c" if name in RESERVED else name  # YAML would read `no: ...` as false


def count_words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


@dataclass
class Beat:
    """One timed scene of a shot: an action paragraph or a dialogue block."""

    line: int
    action: str = ""  # language text: @mentions, @@ for a literal @
    say: dict[str, str] = field(default_factory=dict)
    action_words: int = 0
    dialogue_words: int = 0

    def seconds(self) -> float:
        spoken = self.action_words / ACTION_RATE + self.dialogue_words / DIALOGUE_RATE
        return max(1.0, math.ceil(spoken * 2) / 2)


@dataclass
class Shot:
    id: str
    heading: str
    line: int
    place: str
    beats: list[Beat] = field(default_factory=list)
    transition: str = ""
    transition_note: str = ""
    comments: list[str] = field(default_factory=list)
    cast: list[str] = field(default_factory=list)
    duration: int = MIN_SHOT
    windows: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Episode:
    title: str
    line: int
    shots: list[Shot] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


class Names:
    """The characters (from cues) and places (from headings), each with its key and the text that
    names it in action lines."""

    def __init__(self, play: Screenplay) -> None:
        self.characters: dict[str, str] = {}  # cue name -> key
        self.first_line: dict[str, int] = {}
        self.places: dict[str, str] = {}  # location -> key
        for element in play.elements:
            if element.kind == "character":
                self._character(element)
        self.pattern = self._pattern()

    def _unique(self, base: str) -> str:
        taken = {*self.characters.values(), *self.places.values()}
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        return key

    def _character(self, element: Element) -> None:
        name = element.text
        if name.upper() not in {n.upper() for n in self.characters}:
            self.characters[name] = self._unique(slug(name))
            self.first_line[name] = element.line

    def keep(self, used: set[str]) -> None:
        """Forget the characters and places no shot refers to (they would be unused)."""
        self.characters = {n: k for n, k in self.characters.items() if k in used}
        self.places = {n: k for n, k in self.places.items() if k in used}

    def key_of(self, name: str) -> str:
        return next(k for n, k in self.characters.items() if n.upper() == name.upper())

    def place(self, heading: str) -> str:
        location = location_of(heading)
        if location not in self.places:
            self.places[location] = self._unique(slug(location))
        return self.places[location]

    def _pattern(self) -> re.Pattern[str] | None:
        forms = {form: key for name, key in self.characters.items()
                 for form in (name, name.upper(), name.title())}
        if not forms:
            return None
        self.forms = forms
        alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        return re.compile(rf"(?<![\w@])({alternatives})(?!\w)")

    def mention(self, text: str) -> str:
        """Action text in the language: ``@`` doubled, each character's name a mention."""
        escaped = text.replace("@", "@@")
        if self.pattern is None:
            return escaped
        return self.pattern.sub(lambda m: "@" + self.forms[m.group(1)], escaped)


def location_of(heading: str) -> str:
    """``INT. MIA'S KITCHEN - NIGHT`` -> ``MIA'S KITCHEN``."""
    match = SCENE.match(heading)
    rest = heading[match.end():] if match else heading
    return re.split(r"\s+[-–—]\s+", rest.strip(" ."), maxsplit=1)[0].strip() or heading.strip()


class Converter:
    """Walks the elements once, building episodes of shots of beats, and the warnings."""

    def __init__(self, play: Screenplay) -> None:
        self.play = play
        self.names = Names(play)
        self.episodes = [Episode("", 0)]
        self.warnings: list[Diagnostic] = []
        self.pending: tuple[Element, str] | None = None  # a transition waiting for its shot
        self.speaking: tuple[Beat, str] | None = None  # the dialogue block being read
        self.scene_count = 0

    def warn(self, line: int, message: str, col: int = 1) -> None:
        source = self.play.lines[line - 1] if 0 < line <= len(self.play.lines) else None
        self.warnings.append(Diagnostic(Span(self.play.file, line, col), message, "warning",
                                        source))

    @property
    def shot(self) -> Shot | None:
        shots = self.episodes[-1].shots
        return shots[-1] if shots else None

    def run(self) -> list[Episode]:
        for element in self.play.elements:
            if element.emphasis:
                self.warn(element.line, "emphasis (*italic*, **bold**, _underline_) is not kept, "
                          "only its words")
            if element.kind not in ("parenthetical", "dialogue"):
                self.speaking = None
            getattr(self, f"on_{element.kind}")(element)
        self.close_episode()
        return [e for e in self.episodes if e.shots]

    def keep_aside(self, element: Element) -> None:
        """Something the language cannot say: a warning, and a comment where it stood."""
        what = HIDDEN[element.kind]
        self.warn(element.line, f"{what} is not mapped: kept as a comment in the episode file"
                  if element.kind not in SILENT else f"{what} is not mapped: {SILENT[element.kind]}",
                  element.col)
        if element.kind not in ("boneyard", "page_break"):
            target = self.shot.comments if self.shot else self.episodes[-1].comments
            target.append(f"{what} (line {element.line}): {element.text}")

    on_note = on_boneyard = on_synopsis = on_lyrics = on_centered = on_page_break = keep_aside

    def on_section(self, element: Element) -> None:
        if element.level > 1:
            self.warn(element.line, f"a level-{element.level} section is not an episode (only "
                      "# sections are): kept as a comment")
            (self.shot.comments if self.shot else self.episodes[-1].comments).append(
                f"section (line {element.line}): {element.text}")
            return
        self.close_episode()
        current = self.episodes[-1]
        if current.shots or current.title:
            self.episodes.append(Episode(element.text, element.line))
        else:
            current.title, current.line = element.text, element.line

    def close_episode(self) -> None:
        episode = self.episodes[-1]
        if self.pending is not None:
            element, _ = self.pending
            self.warn(element.line, f"the transition {element.text!r} is followed by no shot in "
                      "its episode: the episode simply ends")
            self.pending = None
        if not episode.shots and episode.title:
            self.warn(episode.line, f"the section {episode.title!r} has no scene heading: "
                      "no episode is made of it")

    def on_scene(self, element: Element) -> None:
        self.scene_count += 1
        shot = Shot(f"s{self.scene_count:02d}", element.text, element.line,
                    self.names.place(element.text))
        if self.pending is not None:
            pending, shot.transition = self.pending
            shot.transition_note = f"{pending.text} (line {pending.line})"
            self.pending = None
        self.episodes[-1].shots.append(shot)

    def on_action(self, element: Element) -> None:
        if self.shot is None:
            self.warn(element.line, "action before the first scene heading is in no shot: "
                      "it is not mapped")
            return
        self.shot.beats.append(Beat(element.line, self.names.mention(element.text),
                                    action_words=count_words(element.text)))

    def on_transition(self, element: Element) -> None:
        name = " ".join(element.text.upper().split())
        if name in TRANSITIONS:
            self.pending = (element, TRANSITIONS[name])
        elif name in NEAREST:
            self.warn(element.line, f"{element.text!r} has no exact match in the language: the "
                      f"next shot joins with {NEAREST[name]!r}")
            self.pending = (element, NEAREST[name])
        else:
            self.warn(element.line, f"the transition {element.text!r} is not one the language "
                      f"has ({', '.join(sorted(set(TRANSITIONS.values())))}, ...): the next shot "
                      "joins with a cut")

    def on_character(self, element: Element) -> None:
        if self.shot is None:
            self.warn(element.line, "dialogue before the first scene heading is in no shot: "
                      "it is not mapped")
            return
        key = self.names.key_of(element.text)
        beat = self.dual_partner(element) or Beat(element.line)
        if beat is not (self.shot.beats[-1] if self.shot.beats else None):
            self.shot.beats.append(beat)
        notes = [f"({EXTENSIONS.get(e.upper(), e.lower())})" for e in element.extensions
                 if not CONTINUED.match(e)]
        if notes:
            beat.action = " ".join(filter(None, [beat.action, f"@{key}", *notes]))
            beat.action_words += len(notes)
        beat.say.setdefault(key, "")
        self.speaking = (beat, key)

    def dual_partner(self, element: Element) -> Beat | None:
        """The dialogue beat a ``^`` cue shares (the block just before it), if any."""
        if not element.dual:
            return None
        last = self.shot.beats[-1] if self.shot and self.shot.beats else None
        if last is None or not last.say:
            self.warn(element.line, "dual dialogue (^) with no dialogue just before it: "
                      "read as ordinary dialogue")
            return None
        self.warn(element.line, "dual dialogue (^): the language has no simultaneous lines, so "
                  "both are said in one scene, one after the other")
        return last

    def on_parenthetical(self, element: Element) -> None:
        if self.speaking is None:
            return self.on_action(element)
        beat, key = self.speaking
        mention = "" if f"@{key}" in beat.action else f"@{key}"
        beat.action = " ".join(filter(None, [beat.action, mention,
                                             self.names.mention(element.text)]))
        beat.action_words += count_words(element.text)
        return None

    def on_dialogue(self, element: Element) -> None:
        if self.speaking is None:
            return self.on_action(element)
        beat, key = self.speaking
        beat.say[key] = " ".join(filter(None, [beat.say[key], element.text.replace("@", "@@")]))
        beat.dialogue_words += count_words(element.text)
        return None


def convert(play: Screenplay) -> tuple[list[Episode], Names, list[Diagnostic]]:
    """Map a parsed screenplay onto episodes; raise a located error if it has no scene."""
    if not play.scenes():
        line = play.elements[0].line if play.elements else 1
        raise located(play.file, play.lines, line, 1, "expected at least one scene heading "
                      "(a line starting INT., EXT., EST., INT./EXT. or I/E, or a forced .HEADING, "
                      "with blank lines around it)")
    converter = Converter(play)
    episodes = converter.run()
    for episode in episodes:
        episode.shots = [part for shot in episode.shots for part in timed(shot, converter)]
        for shot in episode.shots:
            budget_references(shot, converter)
    return episodes, converter.names, converter.warnings


def opening(shot: Shot, names: Names) -> None:
    """The heading opens the shot's first scene: the model reads where and when."""
    if not shot.beats:
        shot.beats.append(Beat(shot.line))
    first = shot.beats[0]
    heading = names.mention(shot.heading)
    first.action = f"{heading}: {first.action}" if first.action else f"{heading}."


def pack(shot: Shot, converter: Converter) -> list[list[Beat]]:
    """The shot's beats in runs of at most ``MAX_SHOT`` seconds (a longer beat is squeezed)."""
    parts: list[list[Beat]] = [[]]
    for beat in shot.beats:
        if beat.seconds() > MAX_SHOT:
            converter.warn(beat.line, f"this scene reads for about {beat.seconds():g} s, past the "
                           f"{MAX_SHOT} s a shot may last: it is squeezed into {MAX_SHOT} s "
                           "(split the paragraph to keep its pace)")
        if parts[-1] and _length(parts[-1]) + _seconds(beat) > MAX_SHOT:
            parts.append([])
        parts[-1].append(beat)
    return parts


def _seconds(beat: Beat) -> float:
    return min(beat.seconds(), float(MAX_SHOT))


def _length(beats: list[Beat]) -> float:
    return sum(_seconds(b) for b in beats)


def timed(shot: Shot, converter: Converter) -> list[Shot]:
    """The shot with its scene windows and duration; several shots if it runs past ``MAX_SHOT``."""
    opening(shot, converter.names)
    parts = pack(shot, converter)
    return [_part(shot, beats, index, len(parts)) for index, beats in enumerate(parts)]


def _part(shot: Shot, beats: list[Beat], index: int, count: int) -> Shot:
    part = Shot(shot.id if index == 0 else f"{shot.id}-{index + 1}", shot.heading, shot.line,
                shot.place, beats)
    if index == 0:
        part.transition, part.transition_note = shot.transition, shot.transition_note
        part.comments = list(shot.comments)
    if count > 1:
        part.comments.insert(0, f"part {index + 1} of {count}: the scene runs past {MAX_SHOT} s")
    start = 0.0
    for beat in beats:
        part.windows.append((start, start + _seconds(beat)))
        start += _seconds(beat)
    part.duration = max(MIN_SHOT, math.ceil(start))
    part.windows[-1] = (part.windows[-1][0], float(part.duration))
    return part


def references(shot: Shot) -> list[str]:
    """The shot's characters in the compiler's order: mentions, then speakers, scene by scene."""
    order: list[str] = []
    for beat in shot.beats:
        for name in [*MENTION.findall(beat.action), *beat.say]:
            if name not in order:
                order.append(name)
    return order


def budget_references(shot: Shot, converter: Converter) -> None:
    """At most five references: the extra characters become plain names; the place joins the
    cast if there is room."""
    order = references(shot)
    extra = order[MAX_REFERENCES:]
    if extra:
        converter.warn(shot.line, f"more than {MAX_REFERENCES} characters in one shot: "
                       f"{', '.join(extra)} are written as plain names (no reference)")
        for beat in shot.beats:
            _unreference(beat, extra, converter.names)
    if len(order) < MAX_REFERENCES:
        shot.cast = [shot.place]
    else:
        converter.warn(shot.line, f"the place {shot.place!r} is left out of the shot: "
                       f"{MAX_REFERENCES} characters already fill its references")


def _unreference(beat: Beat, extra: list[str], names: Names) -> None:
    display = {key: name for name, key in names.characters.items()}
    for key in extra:
        beat.action = re.sub(rf"(?<!@)@{key}(?!\w)", display[key], beat.action)
        if key in beat.say:
            line = beat.say.pop(key)
            beat.action = f'{beat.action} {display[key]} says: "{line}"'.strip()


# --- YAML --------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:g}"


def shot_yaml(shot: Shot) -> list[str]:
    lines = [*comment(f"{shot.heading} (line {shot.line})", "  ")]
    for text in shot.comments:
        lines += comment(text, "  ")
    lines.append(f"  - id: {shot.id}")
    if shot.transition:
        lines.append(f"    transition: {shot.transition}   # {shot.transition_note}")
    lines.append(f"    duration: {shot.duration}")
    if shot.cast:
        lines.append(f"    cast: [{', '.join(shot.cast)}]")
    lines.append("    scenes:")
    for beat, (start, end) in zip(shot.beats, shot.windows, strict=True):
        lines.append(f"      - at: {_n(start)}-{_n(end)}s")
        if beat.action:
            lines.append(f"        action: {quote(beat.action)}")
        if beat.say:
            lines.append(f"        say: {flow(dict(beat.say))}")
    return lines


def episode_yaml(episode: Episode, number: int, source: str) -> str:
    where = f"the section at line {episode.line}" if episode.line else "the screenplay"
    lines = [f"# From {source}, {where}, by `storyboard init --from`",
             "# (docs/starting.md: the mapping and the timing rule). Edit freely: it is yours now."]
    for text in episode.comments:
        lines += comment(text)
    lines += [f"id: ep{number:02d}", f"title: {quote(episode.title)}", "shots:"]
    for shot in episode.shots:
        lines += shot_yaml(shot)
    return "\n".join(lines) + "\n"


def series_yaml(play: Screenplay, title: str, names: Names, source: str) -> str:
    lines = [f"# From the screenplay {source}, by `storyboard init --from`. How it was mapped and",
             "# timed: docs/starting.md; every key of the language: docs/language.md."]
    lines += [f"#   {key}: {value}" for key, value, _ in play.title_page if key.lower() != "title"]
    lines += ["storyboard: 1", f"title: {quote(title)}", "defaults:", "  resolution: 720P",
              '  ratio: "16:9"', "  negative_prompt: blurry, low quality, watermark",
              "  prompt_extend: false", "  watermark: false", "  seed: 1234", "characters:",
              "  # every image below is a grey placeholder card: replace each with a real picture",
              "  # (same path) before a paid render"]
    for name, key in names.characters.items():
        lines.append(f"  {key}: {flow({'image': f'media/cast/{key}.png', 'description': name})}"
                     f"   # first speaks at line {names.first_line[name]}")
    for location, key in names.places.items():
        lines.append(f"  {key}: {flow({'image': f'media/places/{key}.png'})}"
                     f"   # a place: {location}")
    return "\n".join([*lines, "episodes:", "  - episodes/*.yaml"]) + "\n"


def used_keys(episodes: list[Episode]) -> set[str]:
    """Every character and place some shot refers to."""
    return {key for episode in episodes for shot in episode.shots
            for key in [*references(shot), *shot.cast]}


def title_of(play: Screenplay, path: Path) -> str:
    titles = [value for key, value, _ in play.title_page if key.lower() == "title" and value]
    if titles:
        return unemphasize(titles[0])[0]
    return " ".join(w.capitalize() for w in re.split(r"[-_\s]+", path.stem) if w) or "Screenplay"


def blueprint_of(path: Path) -> Blueprint:
    """The series ``path`` (a Fountain screenplay) maps onto, with its warnings."""
    play = parse(path)
    episodes, names, warnings = convert(play)
    names.keep(used_keys(episodes))
    title = title_of(play, path)
    blueprint = Blueprint(warnings=sorted(warnings, key=Diagnostic.sort_key),
                          episodes=len(episodes), shots=sum(len(e.shots) for e in episodes))
    blueprint.files["storyboard.yaml"] = (SERIES_SCHEMA, series_yaml(play, title, names, path.name))
    for number, episode in enumerate(episodes, 1):
        episode.title = episode.title or (title if len(episodes) == 1 else "Opening")
        name = f"episodes/{number:02d}-{slug(episode.title, '-')}.yaml"
        blueprint.files[name] = (EPISODE_SCHEMA, episode_yaml(episode, number, path.name))
    for name, key in names.characters.items():
        blueprint.cards[f"media/cast/{key}.png"] = (name, placeholder.PORTRAIT)
    for location, key in names.places.items():
        blueprint.cards[f"media/places/{key}.png"] = (location, placeholder.LANDSCAPE)
    return blueprint
