"""A target and a story into a season's episodes: each a run of the story's units, asked as one call.

A season is storyboard's, computed before any call (``skeleton``, ``cutting``): N episodes, each
a run of neighbouring units of the story (``Entry``: its first and last unit, ``chapter.unit``),
each asked as one call (``Segment``) for exactly the skeleton's K shots of d seconds over its own
lines, with the title and the hook the model gives it. ``planned`` cuts the story; a
``season.yaml`` edited by hand gives its own runs (``seasonfile``), and ``segments`` turns either
into the calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from storyboard.breakdown.shape.cutting import Unit, balanced, containing, level, piece, units
from storyboard.breakdown.shape.skeleton import Shape
from storyboard.breakdown.shape.video import Video, default_video
from storyboard.breakdown.source import Chapter, Story

FAR = 2.0  # an episode whose shots come to under 1/FAR or over FAR times its seconds is said
WORDS = 12  # words of a unit said in season.yaml's comment


@dataclass(frozen=True)
class Target:
    """What a season is asked for."""

    episodes: int
    seconds: float | None = None  # an episode's length
    ratio: str | None = None
    video: Video = field(default_factory=default_video)  # the model the season is cut for


@dataclass(frozen=True)
class Entry:
    """One episode of the season: the units it films, by (chapter, unit), its title and hook
    ("" until its call answers them), and why its end moved from the planned one (``cuts``)."""

    episode: int
    title: str
    first: tuple[int, int]
    last: tuple[int, int]
    hook: str
    moved: str = ""

    @property
    def beats(self) -> str:
        first, last = (f"{c}.{b}" for c, b in (self.first, self.last))
        return first if first == last else f"{first}-{last}"


@dataclass(frozen=True)
class Segment:
    """One episode's call: its entry, the chapter its lines start in, its lines (a chapter of
    their own, numbered as its episode, holding the skeleton's shots), its units as said in
    ``season.yaml`` and the chapters its lines touch."""

    entry: Entry
    chapter: Chapter
    lines: Chapter
    beats: tuple[str, ...]
    chapters: tuple[int, ...]

    def context(self) -> dict[str, Any]:
        shots, seconds = self.lines.shots, self.lines.shot_seconds
        return {"episode": {"number": self.entry.episode, "shots": shots,
                            "shot_seconds": seconds, "seconds": shots * seconds}}


def off_length(written: float, asked: float | None) -> str | None:
    """How an episode's shots (``written`` seconds in all) are far from the ``asked`` seconds of
    an episode, said with both figures and the remedy (None: within ``FAR`` of it, or no length
    asked)."""
    if asked is None or asked / FAR <= written <= asked * FAR:
        return None
    side, more = ("under half", "more") if written < asked else (f"over {FAR:g} times", "fewer")
    return (f"its shots come to {written:g} s, {side} the {asked:g} s asked for an episode "
            f"(episode_seconds): give it {more} lines in season.yaml, or edit its shots")


def story_units(story: Story, episodes: int) -> list[Unit]:
    """The units a season of ``episodes`` is cut on (``cutting.level``)."""
    return units(story, level(story, episodes))


def counts(found: list[Unit]) -> dict[int, int]:
    """Each chapter's units (a chapter with none has none listed)."""
    out: dict[int, int] = {}
    for unit in found:
        out[unit.chapter] = max(out.get(unit.chapter, 0), unit.index)
    return out


def planned(found: list[Unit], episodes: int) -> list[Entry]:
    """The season storyboard proposes: ``episodes`` runs of units, balanced by length."""
    return [Entry(n, "", (found[a].chapter, found[a].index), (found[b].chapter, found[b].index), "")
            for n, (a, b) in enumerate(balanced(found, episodes), 1)]


def segments(story: Story, season: list[Entry], found: list[Unit], shape: Shape, *,
             rules: int = 1) -> list[Segment]:
    """Each episode's call, in order, over the units of ``found`` its entry names, asked and
    judged by ``rules`` (``Chapter.rules``)."""
    at = {(u.chapter, u.index): n for n, u in enumerate(found)}
    out: list[Segment] = []
    for entry in season:
        first, last = at.get(entry.first), at.get(entry.last)
        if first is None or last is None or last < first:
            continue
        own = found[first:last + 1]
        lines = replace(piece(story, own[0].start, own[-1].end, entry.episode, entry.episode),
                        shots=shape.shots, shot_seconds=shape.seconds, rules=rules)
        chapter = next(c for c in story.chapters if c.number == own[0].chapter)
        said = tuple(f"{u.ref} {_words(u.text)}" for u in own)
        out.append(Segment(entry, chapter, lines, said,
                           tuple(containing(story, lines.first, lines.last))))
    return out


def _words(text: str) -> str:
    words = text.split()
    return " ".join(words[:WORDS]) + (" ..." if len(words) > WORDS else "")
