"""Transition names into xfade/acrossfade filters: how two clips overlap for a declared transition.

A transition of duration ``d`` between clips A and B overlaps A's last ``d`` seconds with B's first
``d`` seconds, so the pair lasts ``len(A) + len(B) - d``. xfade's ``offset`` is the moment at which
the transition starts, measured on its *first* input's timeline (that input's timestamps, not the
episode's). Each piece feeds xfade one clip (already trimmed of its incoming transition, timestamps
from 0) and the next clip's first ``d`` seconds, so ``offset = len(piece) - d``, computed from
whole frames: the piece lasts exactly ``len(piece)`` and no offset arithmetic accumulates along the
episode. Audio uses acrossfade over the same stretch, sized in samples, so sound and picture end
together.
"""

from __future__ import annotations

from typing import Any

from storyboard import ffmpeg

CUT = "cut"

# Our transition names -> xfade transition names.
XFADE_NAMES: dict[str, str] = {
    "crossfade": "fade",
    "fade": "fadeblack",  # through black
    "dissolve": "dissolve",
    "wipeleft": "wipeleft",
    "wiperight": "wiperight",
    "wipeup": "wipeup",
    "wipedown": "wipedown",
    "slideleft": "slideleft",
    "slideright": "slideright",
    "slideup": "slideup",
    "slidedown": "slidedown",
}

TRANSITIONS: tuple[str, ...] = (CUT, *XFADE_NAMES)


def xfade_name(transition: str) -> str:
    """The xfade ``transition=`` value for one of our names (not ``cut``)."""
    return XFADE_NAMES[transition]


def join_video(clip: Any, head: Any, transition: str, offset: float, seconds: float) -> Any:
    """xfade into ``head`` (``seconds`` long) from ``offset`` on: lasts ``offset + seconds``."""
    return ffmpeg.graph.filter([clip, head], "xfade", transition=xfade_name(transition),
                               duration=f"{seconds:.6f}", offset=f"{offset:.6f}")


def join_audio(clip: Any, head: Any, samples: int) -> Any:
    """acrossfade ``clip``'s last ``samples`` with ``head`` (``samples`` long): as long as clip."""
    return ffmpeg.graph.filter([clip, head], "acrossfade", ns=samples, c1="tri", c2="tri")
