"""Diagnostics into places on the sheet: each problem on its shot, else its episode, else the series.

A shot owns the lines of its file from where its mapping starts to where the next shot (of any
episode in that file) starts; an episode owns the rest of its file. So ``check``'s problems land
on the panels they are about, and a broken series still gets a useful sheet.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from storyboard.errors import Diagnostic
from storyboard.language.request import CompiledShot, Manifest


class Placed:
    def __init__(self, manifest: Manifest, diagnostics: Sequence[Diagnostic]) -> None:
        self.shots: dict[str, list[str]] = {}
        self.episodes: dict[str, list[str]] = {}
        self.series: list[str] = []
        starts = self._starts(manifest)
        files = {e.span.file: e.id for e in manifest.episodes if e.span is not None}
        for diagnostic in diagnostics:
            self._place(diagnostic, starts, files)

    @staticmethod
    def _starts(manifest: Manifest) -> dict[str, list[tuple[int, int, str]]]:
        starts: dict[str, list[tuple[int, int, str]]] = {}
        for shot in manifest.shots():
            if shot.span is not None:
                starts.setdefault(shot.span.file, []).append(
                    (shot.span.line, shot.span.col, _key(shot)))
        return {file: sorted(found) for file, found in starts.items()}

    def _place(self, diagnostic: Diagnostic, starts: dict[str, list[tuple[int, int, str]]],
               files: dict[str, str]) -> None:
        text = diagnostic.format()
        span = diagnostic.span
        if span is None:
            self.series.append(text)
            return
        found = starts.get(span.file, [])
        at = bisect_right(found, (span.line, span.col, "\uffff")) - 1
        if at >= 0:
            self.shots.setdefault(found[at][2], []).append(text)
        elif span.file in files:
            self.episodes.setdefault(files[span.file], []).append(text)
        else:
            self.series.append(text)

    def for_shot(self, shot: CompiledShot) -> tuple[str, ...]:
        return tuple(self.shots.get(_key(shot), ()))

    def for_episode(self, episode: str) -> tuple[str, ...]:
        return tuple(self.episodes.get(episode, ()))

    def for_series(self) -> tuple[str, ...]:
        return tuple(self.series)


def _key(shot: CompiledShot) -> str:
    return f"{shot.episode}/{shot.id}"
