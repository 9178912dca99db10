"""An episode's version files and their made lines' measurements into what the sheet shows of each
language: its lines, each with its fit (seconds over its window, or fits, or not made yet), and
the version's stitched episode.

The versions are the files there are (``languages/<lang>/<EP>.yaml``), in the order of their
language tags; a file that does not read is left out here (``check`` says why, at its line).
A matrix's base (``language.variations.language_versions``) has the versions its language
variations are made as: its files in its own folder when the matrix has other axes
(``languages/<lang>/<base>/``), its episodes where ``render`` stitches them, in the language
variation's own folder (``run.versions.episodes.version_folder``); ``base_places`` finds them.
A line's length is its measurement (``versioncheck.measured``, written when it is made), never
a guess from its letters: until it is made, the sheet says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.language.variations import Variants, language_versions
from storyboard.language.versions.linefit import over
from storyboard.language.versions.versioncheck import measured, seconds_of
from storyboard.language.versions.versionfile import FOLDER, read_version, version_path
from storyboard.run.versions.episodes import version_folder
from storyboard.run.versions.versionroutes import Route


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
    video: str = ""  # "" until ``version render`` stitched it

    @property
    def over(self) -> int:
        return sum(1 for line in self.lines if line.over)


@dataclass(frozen=True)
class VersionPlace:
    """Where one language's version is: its files' folder (``home``: None for
    ``languages/<lang>/``, else a matrix base's ``languages/<lang>/<home>/``) and the folder its
    stitched episodes are in."""

    language: str
    home: str | None
    folder: Path
    made: Path | None = None  # where ``version render`` stitched it, when that is elsewhere

    def video(self, episode: str) -> Path | None:
        """The stitched episode of this version: beside the shown episode, else where
        ``version render`` made it; None when it is not made."""
        for folder in (self.folder, self.made):
            if folder is not None and (folder / f"{episode}.mp4").is_file():
                return folder / f"{episode}.mp4"
        return None


def series_places(root: Path, out: Path, made: Path | None = None) -> tuple[VersionPlace, ...]:
    """A series' versions: each ``languages/<lang>/`` folder there is, its episodes in
    ``out/<lang>/`` (``out``: the shown episodes' folder), else in ``made/<lang>/`` (the
    series' output folder, where ``version render`` stitches them: the studio shows drafts)."""
    folder = root / FOLDER
    if not folder.is_dir():
        return ()
    return tuple(VersionPlace(name, None, out / name, made / name if made else None)
                 for name in sorted(p.name for p in folder.iterdir() if p.is_dir()))


def base_places(every: Variants, episodes_dir: Path | None) -> dict[str, tuple[VersionPlace, ...]]:
    """Each base of a matrix (by name) -> its language variations' versions: the files of its
    home, the episodes in the folder ``render`` makes each language variation in (``every``:
    every variation of the matrix, so a base's versions are found when only it is shown)."""
    found: dict[str, list[VersionPlace]] = {}
    for name, made in language_versions(every).items():
        base = made.base.manifest
        if base is None or made.base.name is None:
            continue
        route = Route(name, base, made.language, made.home)
        folder = version_folder(base, episodes_dir, made.language, route.made_as)
        found.setdefault(made.base.name, []).append(VersionPlace(made.language, made.home,
                                                                 folder))
    return {base: tuple(sorted(places, key=lambda p: p.language))
            for base, places in found.items()}


def episode_versions(root: Path, episode: str, places: tuple[VersionPlace, ...],
                     link: Callable[[Path], str]) -> tuple[EpisodeVersion, ...]:
    """Each version of ``episode`` there is a file of, among ``places`` (its episode:
    ``<folder>/<EP>.mp4``; ``link``: a file's link on the page)."""
    found = []
    for place in places:
        path = version_path(root, place.language, episode, place.home)
        if not path.is_file():
            continue
        try:
            version = read_version(path, root)
        except StoryboardError:
            continue
        table = measured(root, place.language, episode, place.home)
        lines = tuple(LineFit(line.shot, line.n, line.speaker, line.text, line.window,
                              seconds_of(table, line)) for line in version.lines)
        video = place.video(episode)
        found.append(EpisodeVersion(place.language, lines, link(video) if video else ""))
    return tuple(found)
