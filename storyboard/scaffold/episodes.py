"""Timed shots into episodes of a length: a long screenplay with no sections cut at its scenes.

A screenplay with ``#`` sections (or act markers such as ``ACT ONE``) is split by them. One with
neither is cut into episodes of about ``minutes`` each: as many as its length holds (rounded to the
nearest whole number, at least one), each cut at a scene heading (inside a scene only when that scene
alone is longer than an episode), near an equal share of the whole. ``by_size`` splits an episode
whose file would pass the loader's limit.
"""

from __future__ import annotations

from collections.abc import Callable

from storyboard.scaffold.timing import Episode, Shot

DEFAULT_MINUTES = 10.0


def scenes(shots: list[Shot]) -> list[list[Shot]]:
    """The shots grouped by the heading they come from (a long scene's parts stay together)."""
    groups: list[list[Shot]] = []
    for shot in shots:
        if groups and groups[-1][0].line == shot.line:
            groups[-1].append(shot)
        else:
            groups.append([shot])
    return groups


def _cuttable(group: list[Shot], share: float) -> list[list[Shot]]:
    """A scene as one piece, or shot by shot when it alone is longer than ``share``."""
    return [group] if sum(s.duration for s in group) <= share else [[shot] for shot in group]


def by_length(episode: Episode, minutes: float) -> list[Episode]:
    """``episode`` cut at scene headings into parts of about ``minutes`` each."""
    total = episode.seconds()
    count = max(1, round(total / (minutes * 60)))
    if count == 1:
        return [episode]
    share = total / count
    parts: list[list[Shot]] = [[]]
    elapsed = 0
    groups = [part for group in scenes(episode.shots) for part in _cuttable(group, share)]
    for group in groups:
        length = sum(shot.duration for shot in group)
        if parts[-1] and len(parts) < count and elapsed + length / 2 > len(parts) * share:
            parts.append([])
        parts[-1].extend(group)
        elapsed += length
    return [Episode(f"Part {n}", episode.line, shots, episode.comments if n == 1 else [])
            for n, shots in enumerate(parts, 1)]


def by_size(episode: Episode, size: Callable[[Episode], int], limit: int) -> list[Episode]:
    """``episode``, halved at a shot until each part's file (``size``) is within ``limit``."""
    if len(episode.shots) < 2 or size(episode) <= limit:
        return [episode]
    middle = len(episode.shots) // 2
    halves = [Episode(episode.title, episode.line, episode.shots[:middle], episode.comments),
              Episode(episode.title, episode.line, episode.shots[middle:])]
    return [part for half in halves for part in by_size(half, size, limit)]
