"""Each scene's seconds, words, speakers, places and camera moves into a warning where it carries too much.

A vendor's heuristic for prompt density (docs/season.md): seconds per load point = the scene's
seconds / (beats + load), and under 2 s a point lines garble. Here:

- a scene is one ``scenes:`` entry (its window's seconds), or a shot's ``prompt`` (the shot's);
- its beats are the sentences of its action (what happens, each ending at ``.``, ``!`` or
  ``?``), at least one: a scene is one beat when it says one thing;
- its load: each spoken line 1 point per 8 words (1 per 12 Chinese, Japanese or Korean
  characters), a line only heard (off screen, never lip-synced) none; 1 for each acting
  principal past the first (its speakers and the people it mentions: a character with a voice,
  a reference video, or a sheet drawn as a character; a place or a prop is not one); 2 for each
  change of place inside the shot (a place of the cast named after another); 0.5 for each
  camera move (a pan, a tilt, a dolly, a push in, a zoom...); and the action's words past what
  its beats carry, 1 point per 8 words past 16 a beat (12 characters past 24 a beat in Chinese,
  Japanese or Korean): a 54-word run-on sentence is one beat and 4.75 points.

The season breakdown writes its scenes within the same counts, scene by scene (``points_of``:
plain text, no resolved shot), so what it writes is what ``check`` would let through.

A warning with the figure at the scene's line, coded ``lint-density``, never an error. Opt-in
(``lint: {density: true}``): the heuristic flags most short clips of two people. Deterministic
and free.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import PathKey
from storyboard.language.resolving import liproutes
from storyboard.language.resolving.resolve import MENTION, ResolvedShot

CODE = "lint-density"  # the warning's code (``Diagnostic.code``)
LEAST = 2.0  # seconds per load point under which lines garble
FREE, FREE_CJK = 16, 24  # words (CJK characters) of action a beat carries for nothing
WORDS, CJK_CHARACTERS = 8, 12  # words (CJK characters) spoken or acted past a beat's, a point
PLACE, MOVE = 2, 0.5  # points for a change of place, for a camera move
_SENTENCE = re.compile(r"[^.!?]*[A-Za-z\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af][^.!?]*(?:[.!?]+|$)")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")
MOVES = re.compile(
    r"\b(?:whip[- ]pans?|pans?|panning|tilts?|tilting|dolly|dollies|dollying|push(?:es)? in|"
    r"pushing in|pulls? (?:back|out)|pulling (?:back|out)|zooms? (?:in|out)|zooming (?:in|out)|"
    r"tracking|tracks|crane[sd]?|craning|orbits?|orbiting|arcs? around|trucks? (?:left|right))\b",
    re.I)


@dataclass(frozen=True)
class Cast:
    """Who in the cast acts (people) and which are places, by name."""

    people: frozenset[str]
    places: frozenset[str]


def cast_of(characters: Mapping[str, Any], generated: Mapping[str, Any]) -> Cast:
    """People: a character with a voice, a reference video, or a sheet drawn as a character;
    places: a sheet drawn as a place."""
    people = {n for n, c in characters.items() if c.voice or c.role == "reference_video" or
              getattr(generated.get(n), "subject", "") == "character"}
    places = {n for n in characters if getattr(generated.get(n), "subject", "") == "place"}
    return Cast(frozenset(people), frozenset(places))


def spoken_points(text: str) -> float:
    """A line's load: 1 point per 8 words, 1 per 12 Chinese, Japanese or Korean characters."""
    return len(_LATIN.findall(CJK.sub(" ", text))) / WORDS + len(CJK.findall(text)) / CJK_CHARACTERS


def camera_moves(text: str) -> int:
    return len(MOVES.findall(text))


def beats(text: str) -> int:
    """The sentences of an action (at least one)."""
    return max(1, sum(1 for m in _SENTENCE.finditer(MENTION.sub("x", text)) if m.group(0).strip()))


def acted_points(text: str) -> float:
    """An action's words past what its beats carry: 1 point per 8 words past 16 a beat (per 12
    Chinese, Japanese or Korean characters past 24 a beat): a 54-word sentence is 1 beat and 4.75
    points, "She stops. She turns." 2 beats and none."""
    carried = beats(text)
    latin = len(_LATIN.findall(CJK.sub(" ", MENTION.sub("x", text))))
    return max(0, latin - FREE * carried) / WORDS + \
        max(0, len(CJK.findall(text)) - FREE_CJK * carried) / CJK_CHARACTERS


def load_points(beats: int, spoken: float, principals: int, places: int, moves: int,
                acted: float = 0.0) -> float:
    """The heuristic's load points: the beats, the spoken lines' points, 1 for each acting
    principal past the first, 2 for each change of place, 0.5 for each camera move, and the
    action's words past its beats."""
    return beats + spoken + max(0, principals - 1) + PLACE * places + MOVE * moves + acted


def points_of(actions: Sequence[str], spoken: Sequence[str], principals: int,
              place_changes: int, camera: str = "") -> float:
    """The same load points from plain text, for a writer with no resolved shot (the season
    breakdown's answers): the beats of each action, each spoken line, the acting principals, the
    changes of place, and the camera moves in ``camera`` and the actions."""
    return load_points(sum(beats(action) for action in actions) or 1,
                       sum(spoken_points(line) for line in spoken), principals, place_changes,
                       camera_moves(" ".join((camera, *actions))),
                       sum(acted_points(action) for action in actions))


def plain_loads(camera: str, scenes: Sequence[tuple[float, str, Sequence[tuple[str, str]]]],
                characters: Sequence[str], places: Sequence[str], names: Sequence[str]
                ) -> list[tuple[float, float]]:
    """The load points of a shot in plain text (a model's answer, before it is written), scene
    by scene as ``loads`` counts the scenes once written: ``scenes`` as (seconds, action, its
    lines as (speaker, words)); the first scene's action with ``camera`` before it, as the writer
    puts it; ``characters`` and ``places`` the cast's names by kind, ``names`` every name (each
    read as one word, as a written ``@key`` is)."""
    here: str | None = None
    out = []
    for index, (seconds, action, lines) in enumerate(scenes):
        text = f"{camera}: {action}" if index == 0 else action
        people = set(_said_names(text, characters)) | {speaker.lower() for speaker, _ in lines}
        changes = 0
        for place in _said_names(text, places):
            changes += here is not None and place != here
            here = place
        out.append((seconds, points_of([_one_word(text, names)], [w for _, w in lines],
                                       len(people), changes)))
    return out


def _said_names(text: str, names: Sequence[str]) -> list[str]:
    """The ``names`` ``text`` says as whole words, in order of first appearance, lower case."""
    found = []
    for name in names:
        match = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I) if name else None
        if match:
            found.append((match.start(), name.lower()))
    return [name for _, name in sorted(found)]


def _one_word(text: str, names: Sequence[str]) -> str:
    """``text`` with each of ``names`` one word, as ``check`` reads the ``@key`` written."""
    every = sorted({n for n in names if n}, key=len, reverse=True)
    if not every:
        return text
    return re.sub("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in every), "x", text,
                  flags=re.I)


@dataclass(frozen=True)
class Load:
    """One scene's figure: where it is, its seconds, and each part of its load."""

    path: PathKey
    seconds: float
    beats: int
    spoken: float
    words: int
    principals: int
    places: int
    moves: int
    acted: float = 0.0

    @property
    def points(self) -> float:
        return load_points(self.beats, self.spoken, self.principals, self.places, self.moves,
                           self.acted)

    @property
    def figure(self) -> float:
        return self.seconds / self.points


def loads(shot: ResolvedShot, cast: Cast) -> Iterator[Load]:
    """Each scene of ``shot`` with its load (a prompt: one scene over the shot's seconds)."""
    seconds = shot.params.get("duration")
    if shot.prompt is not None and isinstance(seconds, int | float):
        named = _named(shot.prompt)
        yield Load((*shot.path, "prompt"), float(seconds), beats(shot.prompt), 0.0, 0,
                   len(named & cast.people), 0, camera_moves(shot.prompt),
                   acted_points(shot.prompt))
        return
    here: str | None = None
    for scene in shot.scenes:
        named = _named(scene.action)
        said = [(speaker, line) for index, (speaker, line) in enumerate(scene.say)
                if liproutes.route_at(scene, index) != "none" and speaker not in scene.voiceover]
        acting = (named & cast.people) | {speaker for speaker, _ in said}
        changes = 0
        for place in (n for n in _in_order(scene.action) if n in cast.places):
            changes += here is not None and place != here
            here = place
        words = sum(len(_LATIN.findall(line)) + len(CJK.findall(line)) for _, line in said)
        yield Load(scene.path, scene.end - scene.start, beats(scene.action) if scene.action
                   else 1, sum(spoken_points(line) for _, line in said), words, len(acting),
                   changes, camera_moves(scene.action), acted_points(scene.action))


def _named(text: str) -> set[str]:
    return set(_in_order(text))


def _in_order(text: str) -> list[str]:
    return [m.group(1) for m in MENTION.finditer(text) if m.group(1)]


def lint(shots: list[ResolvedShot], cast: Cast) -> list[Diagnostic]:
    """A warning at each scene under ``LEAST`` seconds per load point."""
    problems: list[Diagnostic] = []
    for shot in shots:
        for load in loads(shot, cast):
            if load.seconds > 0 and load.figure < LEAST:
                problems.append(shot.doc.diagnostic(load.path, _said(load), severity="warning",
                                                    code=CODE))
    return problems


def _said(load: Load) -> str:
    parts = [f"{load.beats} beat{'s' * (load.beats != 1)}"]
    if load.spoken:
        parts.append(f"{load.words} spoken word{'s' * (load.words != 1)} {load.spoken:.2f}")
    if load.principals > 1:
        parts.append(f"{load.principals - 1} more acting principal"
                     f"{'s' * (load.principals > 2)} {load.principals - 1}")
    if load.places:
        parts.append(f"{load.places} change{'s' * (load.places != 1)} of place "
                     f"{PLACE * load.places}")
    if load.moves:
        parts.append(f"{load.moves} camera move{'s' * (load.moves != 1)} {MOVE * load.moves:g}")
    if load.acted:
        parts.append(f"words of action past its beats {load.acted:.2f}")
    return (f"this scene is {load.seconds:g} s for {load.points:.2f} load points "
            f"({', '.join(parts)}): {load.figure:.2f} s a point, under {LEAST:g} s a point "
            "lines garble; expected more seconds, fewer words, or two shots; or switch this "
            "lint off with lint: {density: false}")
