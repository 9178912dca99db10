"""Clip lengths and transitions into an episode timeline: where each clip starts, in whole frames.

Everything is counted in frames of the episode's frame rate (and audio in samples derived from the
same frame index), then converted to seconds once, so rounding never accumulates along the episode:
the episode lasts ``sum(clip frames) - sum(overlap frames)`` frames, and its audio is exactly as
long as its video. ``segments`` cuts the timeline into copied bodies and encoded blends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from storyboard.language.request import Transition
from storyboard.stitch.model import StitchError, TransitionTooLong
from storyboard.stitch.transitions import CUT, TRANSITIONS

MICRO = 1_000_000


def seconds_text(frame: int, fps: Fraction, rounding: str) -> str:
    """Episode frame ``frame``'s time as ffmpeg reads it, to the microsecond, rounded ``"up"`` or
    down (so a time rounded up is never before its frame)."""
    exact = frame * MICRO / fps
    micro = -(-exact.numerator // exact.denominator) if rounding == "up" else int(exact)
    return f"{micro // MICRO}.{micro % MICRO:06d}"


@dataclass(frozen=True)
class Timeline:
    fps: Fraction
    sample_rate: int
    frames: tuple[int, ...]  # each clip's length in episode frames
    overlaps: tuple[int, ...]  # overlaps[i]: frames clip i shares with clip i-1 (0 for the first)
    kinds: tuple[str, ...]  # transition name joining clip i to clip i-1 ("cut" for the first)
    starts: tuple[int, ...]  # each clip's first frame in the episode

    @property
    def total(self) -> int:
        return self.starts[-1] + self.frames[-1]

    def seconds(self, frame: int) -> float:
        return float(frame / self.fps)

    def sample(self, frame: int) -> int:
        """The audio sample at which episode frame ``frame`` starts."""
        return round(frame * self.sample_rate / self.fps)

    def has_transitions(self) -> bool:
        return any(o > 0 for o in self.overlaps)


def _check_transition(transition: Transition, name: str) -> None:
    if transition.type not in TRANSITIONS:
        raise StitchError(f"{name}: unknown transition {transition.type!r}; "
                          f"use one of {', '.join(TRANSITIONS)}")
    if transition.type != CUT and transition.duration <= 0:
        raise StitchError(f"{name}: a {transition.type} transition needs a duration > 0 s")


def _check_fits(lengths: Sequence[float], transitions: Sequence[Transition],
                names: Sequence[str]) -> None:
    """A transition may not outlast either clip, nor overlap the clip's other transition."""
    def seconds(i: int) -> float:
        t = transitions[i]
        return t.duration if i > 0 and t.type != CUT else 0.0

    for i in range(1, len(lengths)):
        d = seconds(i)
        for j in (i - 1, i):
            if d > lengths[j] + 1e-9:
                raise TransitionTooLong(
                    f"{names[i]}: its {transitions[i].type} transition lasts {d:g} s, longer than "
                    f"{'the clip before it, ' + names[j] if j != i else 'the clip itself'} "
                    f"({lengths[j]:.3f} s)")
    for i in range(len(lengths)):
        incoming, outgoing = seconds(i), seconds(i + 1) if i + 1 < len(lengths) else 0.0
        if incoming + outgoing > lengths[i] + 1e-9:
            raise TransitionTooLong(
                f"{names[i]}: its transitions in ({incoming:g} s) and out ({outgoing:g} s) "
                f"overlap; the clip lasts only {lengths[i]:.3f} s")


def plan(lengths: Sequence[float], transitions: Sequence[Transition], fps: Fraction,
         names: Sequence[str], sample_rate: int = 48000) -> Timeline:
    """Lay the clips out; raise TransitionTooLong/StitchError naming the clip that does not fit."""
    if not lengths:
        raise StitchError("nothing to stitch: no clips")
    for transition, name in zip(transitions, names, strict=True):
        _check_transition(transition, name)
    _check_fits(lengths, transitions, names)
    frames = tuple(max(1, round(length * fps)) for length in lengths)
    overlaps = [0 if i == 0 or t.type == CUT else max(1, round(t.duration * fps))
                for i, t in enumerate(transitions)]
    # Rounding to frames may push a just-fitting transition over the edge: clamp, never fail here.
    for i in range(1, len(frames)):
        overlaps[i] = min(overlaps[i], frames[i - 1] - overlaps[i - 1], frames[i])
    starts = [0]
    for i in range(1, len(frames)):
        starts.append(starts[-1] + frames[i - 1] - overlaps[i])
    kinds = tuple(CUT if i == 0 else t.type for i, t in enumerate(transitions))
    return Timeline(fps, sample_rate, frames, tuple(overlaps), kinds, tuple(starts))
