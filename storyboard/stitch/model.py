"""Stitching requests into plain data: clips, cues, music, options, the result and the errors.

Everything the ``stitch`` entry point reads or returns is a small dataclass here, so callers (the
CLI, the runner, tests) build episodes without touching ffmpeg.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from storyboard.errors import MediaError, StoryboardError
from storyboard.language.request import Transition

PathTaken = Literal["copy", "normalized", "filtered"]


class StitchError(StoryboardError):
    """Stitching cannot go ahead: bad timing, a missing file, an output that cannot be written."""


class TransitionTooLong(StitchError):
    """A transition lasts longer than a clip it joins (or eats into the clip's other transition)."""


class MissingMedia(StitchError, MediaError):
    """A clip or music file that does not exist."""


class OutputNotWritable(StitchError):
    """The output's folder cannot be created or written."""


@dataclass(frozen=True)
class Cue:
    """A subtitle, in seconds from its clip's start; ``speaker`` becomes a ``Mia: `` prefix."""

    start: float
    end: float
    text: str
    speaker: str = ""


@dataclass(frozen=True)
class Clip:
    """One shot of the episode; ``transition`` says how it joins the clip before it.

    ``captioned``: the clip shows its own cues already (a local animatic draws its dialogue), so
    burnt-in subtitles skip them; its cues still go into the subtitle files. ``card``: a title or
    end card, which takes the episode's frame rate and never sets it (the first shot does)."""

    path: Path
    transition: Transition = field(default_factory=Transition)
    cues: Sequence[Cue] = ()
    captioned: bool = False
    card: bool = False


@dataclass(frozen=True)
class Music:
    """A music bed, looped or trimmed to the episode, ducked while anyone speaks, faded out."""

    path: Path
    volume_db: float = -12.0
    duck_db: float = -12.0  # extra gain while a cue is on screen
    fade_out: float = 1.0  # seconds
    duck_ramp: float = 0.25  # seconds to go down/up around a dialogue window


@dataclass(frozen=True)
class SafeArea:
    """Where burnt-in text may go: the margins kept clear of it, as fractions of the picture's
    width (``left``, ``right``) and height (``top``, ``bottom``): a platform's buttons and
    captions sit along the bottom and right edges of a vertical video."""

    top: float
    bottom: float
    left: float
    right: float

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The margins in pixels of a ``width`` x ``height`` picture: top, bottom, left, right."""
        return (round(self.top * height), round(self.bottom * height), round(self.left * width),
                round(self.right * width))


@dataclass(frozen=True)
class StitchOptions:
    """How to build the episode; sizes and frame rate default to the first clip's."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    loudness: float | None = -14.0  # integrated LUFS target; None leaves levels alone
    true_peak: float = -1.0  # dBTP ceiling for loudness normalisation
    music: Music | None = None
    subtitles: bool = True  # write .srt and .vtt beside the output
    burn_subtitles: bool = False
    safe_area: SafeArea | None = None  # burnt-in text kept inside it (None: 4 % margins)
    preset: str = "veryfast"  # libx264 preset for whatever must be re-encoded
    crf: int = 20
    audio_bitrate: str = "192k"
    jobs: int = 0  # ffmpeg processes at once; 0 = min(4, CPU count)
    # Where clip facts and mezzanines are kept between stitches (None: a temporary folder).
    cache_dir: Path | None = None
    # Whether the mezzanines' float sound is kept in ``cache_dir`` too (the studio's quick
    # re-drafts), or made in the stitch's work folder and gone with it (a render's: it is most of
    # the cache's bytes, and one audio pass per shot makes it again). The sound's AAC encodes
    # (``splice``) are kept either way: they are about the size of the shots' own sound.
    keep_sound: bool = True

    def workers(self) -> int:
        """ffmpeg processes at once: ``jobs``, or min(4, CPU count) when it is 0."""
        return self.jobs if self.jobs > 0 else max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class StitchResult:
    """What was written and how: ``starts`` are each clip's start in the episode, in seconds."""

    out: Path
    duration: float
    path_taken: PathTaken
    subtitle_files: tuple[Path, ...] = ()
    starts: tuple[float, ...] = ()
