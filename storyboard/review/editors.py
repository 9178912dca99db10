"""Cuts into what every editor export shares: its errors, its result, and where each item of a
cut is seen between its two cuts (``export``'s timelines and ``jianying``'s drafts alike)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import MissingExtra, StoryboardError
from storyboard.stitch.series.cut import Cut


class ExportError(StoryboardError):
    """An episode cannot be written as a timeline (adapter missing, file not writable)."""


class ExportExtraMissing(MissingExtra, ExportError):
    """The export's own library is not installed."""


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)  # episode id -> seconds
    rates: dict[str, float] = field(default_factory=dict)  # episode id -> the file's frame rate
    warnings: list[str] = field(default_factory=list)


def halves(cut: Cut, index: int) -> tuple[int, int]:
    """(before, after) the cut, in frames, of the transition into item ``index``."""
    overlap = cut.timeline.overlaps[index] if index > 0 else 0
    return overlap // 2, overlap - overlap // 2


def visible(cut: Cut, index: int) -> tuple[int, int]:
    """(source start, frames) of item ``index`` between its two cuts (each transition centred on
    its cut, playing the handles past it)."""
    frames = cut.timeline.frames[index]
    before_in = halves(cut, index)[0]
    last = index + 1 >= len(cut.items)
    before_out = 0 if last else halves(cut, index + 1)[0]
    overlap_out = 0 if last else cut.timeline.overlaps[index + 1]
    return before_in, frames - before_in - overlap_out + before_out
