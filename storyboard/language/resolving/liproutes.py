"""Spoken lines into their routes to the lips: driving audio, a voice reference, a lip-sync pass or none.

Each ``say`` line reaches the video one way (docs/dialogue.md): ``driving_audio`` (the line, made
in the speaker's designed voice, drives the mouth of the shot's first frame: wan2.7-i2v),
``voice_reference`` (the model speaks the prompt's line itself, in the speaker's voice where it
takes one), ``lipsync`` (a pass re-lips the approved take to the made line) or ``none`` (heard,
never lip-synced: a scene's ``voiceover``, an off-screen speaker, narration). A series chooses
with ``dialogue: {route: ..., pad: ...}`` in ``defaults`` (the series' or an episode's) or on a
shot; ``auto`` (the default) is the model's own route. Every refusal is located at the line.
A route that hands a line over as audio carries one line a shot: with two, whose mouth it drives
would be unclear, so it is refused (fail closed), as is a speaker with no designed voice to speak
it in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import PathKey
from storyboard.language.request import (
    Line,
    MediaRef,
    Mention,
    ShotRequest,
    Token,
    speaker_name,
)
from storyboard.language.resolving import cast
from storyboard.language.resolving.resolved import Given, ResolvedShot, Resolving
from storyboard.language.resolving.scenes import ResolvedScene
from storyboard.targets.video.models import LINE_ROUTES, LineRoute, Model

AUTO = "auto"
PADS = ("silence", "room_tone")
AUDIO_ROUTES = ("driving_audio", "lipsync")  # the line is made, then handed over as audio
PICTURED = ("voice_reference", "lipsync")  # the speaker is in the picture (a reference)
# Why a model cannot take a route, by the model's own route.
CANNOT = {"voice_reference": "it speaks the prompt's lines itself; it takes no driving audio",
          "driving_audio": "it follows a driving audio and speaks no line of the prompt",
          "none": "it neither speaks a line nor follows a driving audio"}


@dataclass(frozen=True)
class Choice:
    """A shot's ``dialogue:`` setting: the route its lines take (``auto``: the model's own) and
    how a line handed over as audio is padded when shorter than the model takes."""

    route: str = AUTO
    pad: str = PADS[0]


NO_CHOICE = Choice()  # a shot that says nothing of its dialogue (frozen: one for all of them)


def choice(params: Mapping[str, Any]) -> Choice:
    """The shot's ``dialogue`` (from its own keys or the ``defaults`` it inherits)."""
    value = params.get("dialogue")
    if not isinstance(value, dict):
        return NO_CHOICE
    route, pad = value.get("route", AUTO), value.get("pad", PADS[0])
    return Choice(route if route in (AUTO, *LINE_ROUTES) else AUTO,
                  pad if pad in PADS else PADS[0])


def route_of(model: Model, scene: ResolvedScene, speaker: str, chosen: Choice) -> LineRoute:
    """One line's route: a voiceover speaker's is none; else the series' choice, else the
    model's own (none when the model has no route of its own)."""
    if speaker in scene.voiceover:
        return "none"
    if chosen.route != AUTO:
        return chosen.route  # type: ignore[return-value]
    return model.line_route


def pictured(model: Model, route: str) -> bool:
    """The speaker is a reference of the shot: the model speaks the line, or a pass re-lips
    the speaker's face (a route the model cannot take adds no reference: its error says why)."""
    return route in PICTURED and route in model.routes


def route_at(scene: ResolvedScene, index: int) -> str:
    """The route of the scene's ``index``-th line (voice_reference for a scene never routed)."""
    return scene.routes[index] if index < len(scene.routes) else "voice_reference"


def line_asset(episode: str, shot: str) -> MediaRef:
    """The made line a shot hands over as audio: ``lines/EP/SHOT``."""
    return MediaRef(asset=cast.asset_id("lines", f"{episode}/{shot}"))


# --- resolving: the checks, and the line made for a route that hands it over ----------------




def route_pass(resolver: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass (after the board: with the references it left): each line's route, checked."""
    resolve(resolver, shot)


def resolve(resolver: Resolving, shot: ResolvedShot) -> None:
    """Check every line's route against the shot's model; make the one line a shot hands over
    as audio a spoken line (``lines/EP/SHOT``), the driving audio too on that route."""
    problems = list(_problems(resolver, shot))
    resolver.problems += [p for p in problems if p not in resolver.problems]
    _heard(resolver, shot)
    handed = next(_handed(shot), None)
    if problems or handed is None:
        return
    scene, speaker, text, route = handed
    voice = resolver.characters[speaker].voice
    where = (*scene.path, "say", speaker)
    line = cast.SpokenLine(f"{shot.episode}/{shot.id}", text, voice, shot.doc.span(where))
    resolver.lines[line.id] = line
    if route == "driving_audio":
        shot.frames["driving_audio"] = line_asset(shot.episode, shot.id)
        shot.pad = (choice(shot.params).pad, scene.start)


def _heard(resolver: Resolving, shot: ResolvedShot) -> None:
    """Make each line heard only (route none) a spoken line in its speaker's designed voice
    (``lines/EP/SHOT/N``, the shot's N-th such line), mixed into the episode at its window; a
    speaker with no designed voice is warned of, at the line: its words are subtitles only."""
    count = 0
    for scene in shot.scenes:
        for index, (speaker, text) in enumerate(scene.say):
            character = resolver.characters.get(speaker)
            if route_at(scene, index) != "none" or character is None:
                continue
            where = (*scene.path, "say", speaker)
            if character.voice not in resolver.designed:
                _voiceless(resolver, shot, where, speaker, character.voice)
                continue
            count += 1
            line = cast.SpokenLine(f"{shot.episode}/{shot.id}/{count}", text, character.voice,
                                   shot.doc.span(where))
            resolver.lines[line.id] = line
            shot.heard[(scene.index, index)] = MediaRef(asset=cast.asset_id("lines", line.id))


def _voiceless(resolver: Resolving, shot: ResolvedShot, where: PathKey, speaker: str,
               voice: str | None) -> None:
    has = f"voice {voice!r}, a recorded clip" if voice else "no voice"
    problem = shot.doc.diagnostic(where, (
        f"this line is heard only (route none), and {speaker} has {has}: storyboard speaks a "
        "heard line in a designed voice, so this one stays silent (its words are subtitles "
        "only); give the voice a design (voices: {NAME: {design: ..., sample: ...}})"),
        key=True, severity="warning", code="line-route")
    if problem not in resolver.problems:
        resolver.problems.append(problem)


def _handed(shot: ResolvedShot) -> Iterator[tuple[ResolvedScene, str, str, str]]:
    """Each line the shot hands over as audio: its scene, speaker, words and route."""
    for scene in shot.scenes:
        for index, (speaker, text) in enumerate(scene.say):
            if route_at(scene, index) in AUDIO_ROUTES:
                yield scene, speaker, text, route_at(scene, index)


def _problems(resolver: Resolving, shot: ResolvedShot) -> Iterator[Diagnostic]:
    model, first, unchosen = shot.model, None, choice(shot.params).route == AUTO
    for scene in shot.scenes:
        for index, (speaker, _) in enumerate(scene.say):
            route, where = route_at(scene, index), (*scene.path, "say", speaker)
            if speaker not in resolver.characters:
                continue  # an unknown speaker: its own error says so
            if unchosen and model.line_route == "none" and speaker not in scene.voiceover:
                yield _at(shot, where, (
                    f"{model.id} neither speaks a line nor follows a driving audio: say how "
                    "this line reaches the lips, "
                    "dialogue: {route: lipsync} (a pass over the take) or {route: none} (heard "
                    "only), or voiceover: true on its scene"))
            elif route not in model.routes:
                yield _at(shot, where, (
                    f"{model.id} cannot take this line by {route}: {CANNOT[model.line_route]}; "
                    f"expected one of {', '.join(model.routes)} (dialogue: {{route: ...}}), "
                    "or another model for this shot"))
            elif route in AUDIO_ROUTES:
                yield from _handed_over(resolver, shot, where, speaker, route, first)
                first = first or speaker


def _handed_over(resolver: Resolving, shot: ResolvedShot, where: PathKey, speaker: str, route: str,
                 first: str | None) -> Iterator[Diagnostic]:
    """A line handed over as audio: the shot's only one, by a speaker with a designed voice."""
    if first is not None:
        yield _at(shot, where, (
            f"a second line handed over as audio ({route}) in this shot ({first} speaks the "
            "first): one audio drives or re-lips one mouth, so whose this line is would be "
            "unclear; split the shot, or mark one line heard only (voiceover)"))
        return
    if route == "driving_audio" and "driving_audio" in shot.frames:
        yield _at(shot, where, (
            "this shot has a driving_audio of its own, and this line would be another; drop "
            "one (a line drives the mouth by itself: no driving_audio is needed)"))
    character = resolver.characters.get(speaker)
    voice = character.voice if character is not None else None
    if voice not in resolver.designed:
        has = f"voice {voice!r}, a recorded clip" if voice else "no voice"
        yield _at(shot, where, (
            f"this line goes by {route}, so storyboard speaks it in {speaker}'s designed voice, "
            f"and {speaker} has {has}; give the voice a design (voices: {{NAME: {{design: ..., "
            "sample: ...}}}}), or choose another route (dialogue: {route: ...})"))


def _at(shot: ResolvedShot, where: PathKey, message: str) -> Diagnostic:
    return shot.doc.diagnostic(where, message, key=True, code="line-route")


# --- compiling: each line's words in the prompt and its Line ---------------------------------


def says(speaker: str, route: str, mentions: Mapping[str, Mention | str],
         voices: Mapping[str, Mention], words: list[Token]) -> list[Token]:
    """A line as the prompt writes it: ``Image 2 says: "..."`` (with the voice of ``Audio 1``
    where voices are items), or by name for a speaker not in the picture (driving audio); a
    line heard only is not in the prompt (no one on screen says it)."""
    if route == "none":
        return []
    if speaker not in mentions:
        return [f'{speaker_name(speaker)} says: "', *words, '"']
    voice: list[Token] = [" says with the voice of ", voices[speaker], ': "'] \
        if speaker in voices else [' says: "']
    return [mentions[speaker], *voice, *words, '"']


def routed_line(speaker: str, label: str, text: str, start: float, end: float,
                voice: MediaRef | None, video_voice: MediaRef | None, route: str,
                audio: MediaRef | None, pad: str, heard: MediaRef | None = None) -> Line:
    """A line with its route, and the made line and padding of a route that hands it over (a
    line heard only: its made line, ``heard``, mixed into the episode)."""
    if route not in AUDIO_ROUTES:
        return Line(speaker, label, text, start, end, voice, video_voice, route,
                    heard if route == "none" else None)
    return Line(speaker, label, text, start, end, voice, video_voice, route, audio, pad)


def promised(line: Line, made_seconds: float) -> tuple[float, float]:
    """Where a line's words are in the shot, as its route promises: a line handed over as audio
    starts at its window's start and lasts as long as it was made (padding is never the words);
    another fills its window."""
    if line.route in AUDIO_ROUTES and made_seconds > 0:
        return line.start, round(line.start + made_seconds, 3)
    return line.start, line.end


def windows(request: ShotRequest, made: Mapping[str, float]) -> list[tuple[Line, float, float]]:
    """Each spoken line of ``request`` with the window its words must fill in a take (what a
    take's measurement checks: sound there), ``made``: each made line's seconds by asset id;
    a line heard only promises nothing on screen but is still heard in its window."""
    found = []
    for scene in request.scenes:
        for line in scene.lines:
            seconds = made.get(line.audio.asset or "", 0.0) if line.audio is not None else 0.0
            found.append((line, *promised(line, seconds)))
    return found
