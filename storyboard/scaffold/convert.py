"""Fountain elements into episodes of shots of beats, and warnings for what could not be mapped.

One walk over the elements: a ``#`` section (or, in a screenplay without them, an act marker such
as ``ACT ONE``) starts an episode, a scene heading a shot, an action paragraph or a dialogue block a
beat. Whatever the language cannot say is a warning at its line, never dropped silently; notes,
synopses, lyrics and centered text are also kept as comments. ``timing`` then times the shots and
``episodes`` cuts a screenplay with no sections or acts to the target length.

A screenplay may have at most ``MAX_SCENES`` scene headings: past them is a located error.
"""

from __future__ import annotations

import re
import shlex

from storyboard.errors import Diagnostic, Span
from storyboard.scaffold.fountain import Element, Screenplay, located
from storyboard.scaffold.namekeys import TOGETHER, Names, shorten
from storyboard.scaffold.timing import (
    MAX_BEAT_TEXT,
    Beat,
    Episode,
    Shot,
    budget_references,
    chunks,
    count_words,
    references,
    timed,
)

MAX_SCENES = 3_000
LONGEST_HEADING = 200  # characters of a heading kept in the shot's text and comment
LONGEST_COMMENT = 500  # characters of a note (synopsis, lyrics...) kept as a comment
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
ACT = re.compile(r"(END OF )?(ACT|SEQUENCE|PART)\s+(ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE|"
                 r"TEN|ELEVEN|TWELVE|[IVXLC]+|\d+)(\s*[:.\-–—]\s*.{0,30})?", re.I)
ROMAN = re.compile(r"[IVXLC]+", re.I)
ACT_KINDS = ("action", "centered", "section", "transition")


def act_marker(element: Element) -> tuple[bool, str] | None:
    """``(ends, title)`` when ``element`` marks an act or a sequence (``ACT ONE``, ``END OF ACT
    TWO``, ``## Sequence 3``, ``>ACT I<``); None otherwise."""
    if element.kind not in ACT_KINDS or len(element.text) > 40:
        return None
    match = ACT.fullmatch(element.text.strip().rstrip(".:"))
    if match is None or (element.kind == "action" and element.text != element.text.upper()):
        return None
    number = match.group(3)
    number = number.upper() if ROMAN.fullmatch(number) else number.title()
    title = f"{match.group(2).title()} {number}{(match.group(4) or '').title()}"
    return bool(match.group(1)), " ".join(title.split())


def has_acts(play: Screenplay) -> bool:
    """Whether ``play`` has no ``#`` section but has act or sequence markers."""
    if any(e.kind == "section" and e.level == 1 for e in play.elements):
        return False
    return any(act_marker(e) for e in play.elements)


class Converter:
    """Walks the elements once, building episodes of shots of beats, and the warnings."""

    def __init__(self, play: Screenplay) -> None:
        self.play = play
        self.names = Names(play)
        self.episodes = [Episode("", 0)]
        self.warnings: list[Diagnostic] = []
        self.pending: tuple[Element, str] | None = None  # a transition waiting for its shot
        self.speaking: tuple[Beat, str] | None = None  # the dialogue block being read
        self.together: Beat | None = None  # the beat of a line said by several characters
        self.scene_count = 0
        self.acts = has_acts(play)
        for line, message in play.notices:
            self.warn(line, message)

    def warn(self, line: int, message: str, col: int = 1) -> None:
        source = self.play.lines[line - 1] if 0 < line <= len(self.play.lines) else None
        self.warnings.append(Diagnostic(Span(self.play.file, line, col), message, "warning",
                                        source))

    @property
    def shot(self) -> Shot | None:
        shots = self.episodes[-1].shots
        return shots[-1] if shots else None

    def comment(self, text: str) -> None:
        """A comment where the element stood: in its shot, else in its episode."""
        target = self.shot.comments if self.shot else self.episodes[-1].comments
        target.append(shorten(text, LONGEST_COMMENT))

    def run(self) -> list[Episode]:
        for element in self.play.elements:
            if element.emphasis:
                self.warn(element.line, "emphasis (*italic*, **bold**, _underline_) is not kept, "
                          "only its words")
            if element.kind not in ("parenthetical", "dialogue"):
                self.speaking = self.together = None
            if self.acts and (marker := act_marker(element)) is not None:
                self.on_act(element, *marker)
                continue
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
            self.comment(f"{what} (line {element.line}): {element.text}")

    on_note = on_boneyard = on_synopsis = on_lyrics = on_centered = on_page_break = keep_aside

    def on_act(self, element: Element, ends: bool, title: str) -> None:
        """An act marker: ``ACT ONE`` starts an episode, ``END OF ACT ONE`` closes one."""
        if ends:
            self.comment(f"{title} (line {element.line})")
            return
        self.start_episode(title, element.line)

    def on_section(self, element: Element) -> None:
        if element.level > 1:
            self.warn(element.line, f"a level-{element.level} section is not an episode (only "
                      "# sections are): kept as a comment")
            self.comment(f"section (line {element.line}): {element.text}")
            return
        self.start_episode(element.text, element.line)

    def start_episode(self, title: str, line: int) -> None:
        self.close_episode()
        current = self.episodes[-1]
        if current.shots or current.title:
            self.episodes.append(Episode(title, line))
        else:
            current.title, current.line = title, line

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
        if self.scene_count > MAX_SCENES:
            raise located(self.play.file, self.play.lines, element.line, 1, f"more than "
                          f"{MAX_SCENES:,} scene headings: expected a shorter screenplay (split "
                          "it into several files)")
        heading = shorten(element.text, LONGEST_HEADING)
        shot = Shot(f"s{self.scene_count:02d}", heading, element.line, self.names.place(element))
        if self.pending is not None:
            pending, shot.transition = self.pending
            shot.transition_note = f"{pending.text} (line {pending.line})"
            self.pending = None
        self.episodes[-1].shots.append(shot)

    def on_action(self, element: Element) -> None:
        if self.shot is None:
            return self.outside(element, "action")
        for piece in chunks(element.text):
            self.shot.beats.append(Beat(element.line, self.names.mention(piece),
                                        action_words=count_words(piece)))
        return None

    def outside(self, element: Element, what: str) -> None:
        """Text before the episode's first scene heading: in no shot."""
        episode = self.episodes[-1]
        if self.scene_count == 0:
            self.warn(element.line, f"{what} before the first scene heading is in no shot: "
                      "it is not mapped")
            return
        self.warn(element.line, f"{what} in {episode.title or 'this episode'!r} before its first "
                  "scene heading is in no shot: kept as a comment in the episode file")
        self.comment(f"{what} (line {element.line}): {element.text}")

    def on_transition(self, element: Element) -> None:
        name = " ".join(element.text.upper().split())
        if name in TRANSITIONS:
            self.pending = (element, TRANSITIONS[name])
        elif name in NEAREST:
            self.warn(element.line, f"{element.text!r} has no exact match in the language: the "
                      f"next shot joins with {NEAREST[name]!r}")
            self.pending = (element, NEAREST[name])
        else:
            self.warn(element.line, f"the transition {shorten(element.text, 60)!r} is not one "
                      f"the language has ({', '.join(sorted(set(TRANSITIONS.values())))}, ...): "
                      "the next shot joins with a cut")

    def on_character(self, element: Element) -> None:
        if self.shot is None:
            return self.outside(element, "dialogue")
        if element.text.upper() in self.names.groups:
            return self.chorus(element, self.names.groups[element.text.upper()])
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
        return None

    def chorus(self, element: Element, keys: list[str]) -> None:
        """A cue naming several characters (``EDWARD AND WILL``): no voice of its own; its line
        is said in the scene's action, as theirs together."""
        assert self.shot is not None
        parts = [part for part in TOGETHER.split(element.text) if part.strip()]
        who = " and ".join(self.names.mention(part) for part in parts)  # MR. and @mrs_smith
        self.warn(element.line, f"the cue {shorten(element.text, 60)!r} names several characters: "
                  "the language has no line said together, so it is their scene's action (no "
                  "voice of its own)")
        beat = Beat(element.line, f"{who}, together:", action_words=len(keys))
        self.shot.beats.append(beat)
        self.together = beat

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
        if self.together is not None:
            return self.said_together(element.text)
        if self.speaking is None:
            return self.on_action(element)
        beat, key = self.speaking
        mention = "" if f"@{key}" in beat.action else f"@{key}"
        beat.action = " ".join(filter(None, [beat.action, mention,
                                             self.names.mention(element.text)]))
        beat.action_words += count_words(element.text)
        return None

    def said_together(self, text: str) -> None:
        assert self.together is not None
        self.together.action = f"{self.together.action} {self.names.mention(text)}"
        self.together.action_words += count_words(text)

    def on_dialogue(self, element: Element) -> None:
        if self.together is not None:
            return self.said_together(f'"{element.text}"')
        if self.speaking is None or self.shot is None:
            return self.on_action(element)
        beat, key = self.speaking
        for piece in chunks(element.text):
            if beat.say[key] and len(beat.say[key]) + len(piece) > MAX_BEAT_TEXT:
                beat = Beat(element.line, say={key: ""})  # a long speech goes on in a new scene
                self.shot.beats.append(beat)
                self.speaking = (beat, key)
            beat.say[key] = " ".join(filter(None, [beat.say[key], piece.replace("@", "@@")]))
            beat.dialogue_words += count_words(piece)
        return None


def opening(shot: Shot, names: Names) -> None:
    """The heading opens the shot's first scene: the model reads where and when."""
    if not shot.beats:
        shot.beats.append(Beat(shot.line))
    first = shot.beats[0]
    heading = names.mention(shot.heading, names=False)  # INT. WILL'S ROOM: no mention of will
    first.action = f"{heading}: {first.action}" if first.action else f"{heading}."


def convert(play: Screenplay) -> tuple[list[Episode], Names, list[Diagnostic]]:
    """Map a parsed screenplay onto episodes of timed shots; raise a located error if it has no
    scene."""
    if not play.scenes():
        line = play.elements[0].line if play.elements else 1
        raise located(play.file, play.lines, line, 1, "expected at least one scene heading "
                      "(a line starting INT., EXT., EST., INT./EXT. or I/E, or a forced .HEADING, "
                      "with blank lines around it); a story in prose is not a screenplay: "
                      f"`storyboard breakdown {shlex.quote(play.file)}` breaks it down into a series")
    converter = Converter(play)
    episodes = converter.run()
    display = {key: name for name, key in converter.names.characters.items()}
    for episode in episodes:
        for shot in episode.shots:
            opening(shot, converter.names)
        episode.shots = [part for shot in episode.shots for part in timed(shot, converter.warn)]
        for shot in episode.shots:
            budget_references(shot, display, converter.warn)
    borrow_places(episodes, converter)
    return episodes, converter.names, converter.warnings


def borrow_places(episodes: list[Episode], converter: Converter) -> None:
    """A shot with no reference at all (a forced heading such as ``.OPENING TITLES``, nobody in
    it) shows the place of the shot before it (else the one after it, else its heading's)."""
    shots = [shot for episode in episodes for shot in episode.shots]
    bare = [i for i, shot in enumerate(shots) if not shot.cast and not references(shot)]
    for index in bare:
        near = [s.place for s in [*shots[index::-1], *shots[index:]] if s.place]
        place = near[0] if near else converter.names.heading_place(shots[index])
        shots[index].cast = [place]
        converter.warn(shots[index].line, f"the heading {shots[index].heading!r} names no place "
                       f"and nobody is in the shot: it shows the place {place!r}")
