"""Beats into timed shots: each scene's length, a heading's shots of at most 15 s, their windows.

A beat (an action paragraph or a dialogue block) lasts its action words at ``ACTION_RATE`` words a
second plus its dialogue words at ``DIALOGUE_RATE``, rounded up to the half second, at least one
second. A shot lasts the sum, rounded up to whole seconds, within the model's 2..15 s; a heading
whose beats run longer becomes several shots, cut between beats, and so does one whose text would
make a prompt past ``MAX_SHOT_TEXT`` characters. A beat is at most ``MAX_BEAT_TEXT`` characters: a
longer paragraph is cut into several beats at word boundaries (``chunks``). One beat longer than
15 s is squeezed into 15 s (with a warning). At most five references a shot: the extra characters
become plain names, and the place joins the cast only if there is room.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

ACTION_RATE = 3.0  # words a second, read as action
DIALOGUE_RATE = 2.5  # words a second, spoken
MIN_SHOT, MAX_SHOT = 2, 15  # seconds: wan2.7-r2v's range with image references
MAX_REFERENCES = 5
MAX_BEAT_TEXT = 1_000  # characters of one beat's action (or one speaker's line)
MAX_SHOT_TEXT = 2_500  # characters of a shot's text: its prompt stays under the model's 5,000
MENTION = re.compile(r"(?<!@)@([A-Za-z_][A-Za-z0-9_]*)")

Warn = Callable[[int, str], None]


def count_words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def chunks(text: str, longest: int = MAX_BEAT_TEXT) -> list[str]:
    """``text`` in pieces of at most ``longest`` characters, cut between words where it can."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > longest:
        cut = text.rfind(" ", start + longest // 2, start + longest + 1)
        cut = cut if cut > start else start + longest
        pieces.append(text[start:cut].strip())
        start = cut
    rest = text[start:].strip()
    return [*pieces, rest] if rest or not pieces else pieces


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

    def text_size(self) -> int:
        """About how many characters the beat adds to the shot's prompt."""
        return len(self.action) + sum(len(k) + len(v) + 16 for k, v in self.say.items()) + 24


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

    def seconds(self) -> int:
        return sum(shot.duration for shot in self.shots)


def pack(shot: Shot, warn: Warn) -> list[list[Beat]]:
    """The shot's beats in runs of at most ``MAX_SHOT`` seconds and ``MAX_SHOT_TEXT`` characters
    (a longer beat is squeezed)."""
    parts: list[list[Beat]] = [[]]
    seconds = size = 0.0
    for beat in shot.beats:
        if beat.seconds() > MAX_SHOT:
            warn(beat.line, f"this scene reads for about {beat.seconds():g} s, past the "
                 f"{MAX_SHOT} s a shot may last: it is squeezed into {MAX_SHOT} s "
                 "(split the paragraph to keep its pace)")
        if parts[-1] and (seconds + _seconds(beat) > MAX_SHOT
                          or size + beat.text_size() > MAX_SHOT_TEXT):
            parts.append([])
            seconds = size = 0.0
        parts[-1].append(beat)
        seconds, size = seconds + _seconds(beat), size + beat.text_size()
    return parts


def _seconds(beat: Beat) -> float:
    return min(beat.seconds(), float(MAX_SHOT))


def timed(shot: Shot, warn: Warn) -> list[Shot]:
    """The shot with its scene windows and duration; several shots if it runs past ``MAX_SHOT``."""
    parts = pack(shot, warn)
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


def budget_references(shot: Shot, display: dict[str, str], warn: Warn) -> None:
    """At most five references: the extra characters become plain names (``display``: key ->
    name); the place joins the cast if there is room."""
    order = references(shot)
    extra = order[MAX_REFERENCES:]
    if extra:
        warn(shot.line, f"more than {MAX_REFERENCES} characters in one shot: "
             f"{', '.join(extra)} are written as plain names (no reference)")
        for beat in shot.beats:
            _unreference(beat, extra, display)
    if not shot.place:
        return
    if len(order) < MAX_REFERENCES:
        shot.cast = [shot.place]
    else:
        warn(shot.line, f"the place {shot.place!r} is left out of the shot: "
             f"{MAX_REFERENCES} characters already fill its references")


def _unreference(beat: Beat, extra: list[str], display: dict[str, str]) -> None:
    for key in extra:
        name = display[key].replace("@", "@@")
        beat.action = re.sub(rf"(?<!@)@{key}(?!\w)", name.replace("\\", "\\\\"), beat.action)
        if key in beat.say:
            line = beat.say.pop(key)
            beat.action = f'{beat.action} {name} says: "{line}"'.strip()
