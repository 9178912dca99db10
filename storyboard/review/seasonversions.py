"""A delivered episode's language versions, each a row of the season's manifest with its own cost.

A version stitched (``out/<lang>/<EP>.mp4``, by ``version render``) is delivered beside its
episode: its file and subtitles in ``season/<lang>/``, its row after the episode's. Its cost is
what the journal says its own work cost: its lip-sync passes (kept under the version's own name,
``SERIES/LANG``) and its lines (``lines/LANG/EP/...``), rounded as every cost of the manifest,
never folded into the original episode's (whose cost leaves out every version's rows: a journal
row of a version is one whose series is ``SERIES/LANG``). Its title is the version's (its title
card's words, else the episode's) and its hook its last line's words: the episode's ``hook:`` is
in the original's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledEpisode, Manifest
from storyboard.language.versions import languages as langs
from storyboard.language.versions.speech import KIND
from storyboard.language.versions.versionfile import Version, read_version, version_path
from storyboard.run.state.tasks.attempts import Attempt


@dataclass(frozen=True)
class Delivered:
    """One stitched version of an episode, as its manifest row says it."""

    language: str
    title: str
    video: Path
    hook: str
    cost: float


def is_version(row: Attempt) -> bool:
    """A journal row of a version's work (its passes: series ``SERIES/LANG``)."""
    return "/" in row.series


def languages(manifest: Manifest) -> tuple[str, dict[str, tuple[str, ...]]]:
    """The series' original language ("" when it declares none) and each episode's versions."""
    try:
        source = load_source(manifest.source)
    except StoryboardError:  # the render compiled it: a file changed since is said elsewhere
        return "", {}
    series = source.series.data
    found = {ep: langs.versions_of(series, data) for ep, data in langs.episode_ids(source).items()}
    return langs.original(series) or "", found


def delivered(manifest: Manifest, out_dir: Path, episode: CompiledEpisode,
              versions: Sequence[str], journal: tuple[Sequence[Attempt], str]) -> list[Delivered]:
    """Each of ``versions`` of ``episode`` stitched in ``out_dir/<lang>/``, in the series' order."""
    rows, currency = journal
    out = []
    for language in versions:
        video = out_dir / language / f"{episode.id}.mp4"
        if not video.is_file():
            continue
        version = _version(manifest.root, language, episode.id)
        title = version.title.text if version is not None and version.title is not None \
            and version.title.text.strip() else episode.title
        hook = " ".join(version.lines[-1].text.split()) if version and version.lines else ""
        out.append(Delivered(language, title, video, hook,
                             version_cost(manifest.name, language, episode.id, rows, currency)))
    return out


def version_cost(series: str, language: str, episode: str, journal: Sequence[Attempt],
                 currency: str) -> float:
    """What the journal says the ``language`` version of ``episode`` cost, in ``currency``: its
    passes and its lines."""
    passes, lines = f"{series}/{language}", f"{language}/{episode}/"
    return round(sum(row.cost for row in journal
                     if row.cost and (row.currency or currency) == currency
                     and ((row.series == passes and row.episode == episode) or
                          (row.series == series and row.episode == KIND
                           and row.shot.startswith(lines)))), 4)


def _version(root: Path, language: str, episode: str) -> Version | None:
    try:
        return read_version(version_path(root, language, episode), root)
    except (OSError, StoryboardError):
        return None
