"""An episode's version files and their made lines' measurements into what the sheet shows of each
language: its lines, each with its fit (seconds over its window, or fits, or not made yet), and
the version's stitched episode.

The versions are the files there are (``languages/<lang>/<EP>.yaml``), in the order of their
language tags; a file that does not read is left out here (``check`` says why, at its line).
A line's length is its measurement (``versioncheck.measured``, written when it is made), never
a guess from its letters: until it is made, the sheet says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.language.fit import over
from storyboard.language.versioncheck import measured, seconds_of
from storyboard.language.versions import FOLDER, read_version, version_path


@dataclass(frozen=True)
class LineFit:
    """One line of a version as the sheet shows it."""

    shot: str
    n: int
    speaker: str
    text: str
    window: float
    seconds: float | None  # as made and measured (None: not made yet)

    @property
    def over(self) -> float:
        """Seconds past its window (0 when it fits or is not made)."""
        return over(self.seconds, self.window)

    @property
    def fit(self) -> str:
        if self.seconds is None:
            return "not made yet"
        if self.over:
            return f"{self.seconds:.2f} s, {self.over:.2f} s over its {self.window:g} s window"
        return f"{self.seconds:.2f} s of its {self.window:g} s window"


@dataclass(frozen=True)
class EpisodeVersion:
    """One language's version of an episode: its lines and its stitched episode's link."""

    language: str
    lines: tuple[LineFit, ...]
    video: str = ""  # "" until ``render --language`` stitched it

    @property
    def over(self) -> int:
        return sum(1 for line in self.lines if line.over)


def episode_versions(root: Path, episode: str, out: Path,
                     link: Callable[[Path], str]) -> tuple[EpisodeVersion, ...]:
    """Each version of ``episode`` there is a file of (``out``: the original's output folder,
    whose ``<lang>/<EP>.mp4`` is the version's episode; ``link``: a file's link on the page)."""
    folder = root / FOLDER
    if not folder.is_dir():
        return ()
    found = []
    for language in sorted(p.name for p in folder.iterdir() if p.is_dir()):
        path = version_path(root, language, episode)
        if not path.is_file():
            continue
        try:
            version = read_version(path)
        except StoryboardError:
            continue
        table = measured(root, language, episode)
        lines = tuple(LineFit(line.shot, line.n, line.speaker, line.text, line.window,
                              seconds_of(table, line)) for line in version.lines)
        video = out / language / f"{episode}.mp4"
        found.append(EpisodeVersion(language, lines, link(video) if video.is_file() else ""))
    return tuple(found)
