"""Finished shots into episode files: the stitcher, its model, and the episodes built from a series.

``stitch(clips, out, options)`` (``stitcher``) joins clips into one MP4 by the cheapest of three
paths (copy, normalized, filtered); ``episodes`` turns a compiled series into its episodes' clips,
cards and music; ``cut`` lays an episode out on the stitcher's clock.
"""

from storyboard.stitch.model import (
    Clip,
    Cue,
    MissingMedia,
    Music,
    OutputNotWritable,
    SafeArea,
    StitchError,
    StitchOptions,
    StitchResult,
    TransitionTooLong,
)
from storyboard.stitch.stitcher import (
    Layout,
    lay_out,
    prepare,
    prepare_sound,
    prepare_transitions,
    stitch,
)
from storyboard.stitch.transitions import TRANSITIONS

__all__ = [
    "TRANSITIONS",
    "Clip",
    "Cue",
    "Layout",
    "MissingMedia",
    "Music",
    "OutputNotWritable",
    "SafeArea",
    "StitchError",
    "StitchOptions",
    "StitchResult",
    "TransitionTooLong",
    "lay_out",
    "prepare",
    "prepare_sound",
    "prepare_transitions",
    "stitch",
]
