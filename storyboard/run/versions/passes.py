"""A version's made lines and the approved takes into the version's lip-sync passes: one pass per
shot with a speaking face on screen, over its approved take, to its lines in the version's
language.

A version line that ``needs_pass`` (any route but ``none``: the speaker's face is on screen)
re-lips the shot's approved take: its made audio at its window on a track as long as the take
(``.storyboard/derived/<sha256>.wav``, by content), and the pass is ``videoretalk``'s, compiled
by ``language.derived`` exactly as ``retake --lipsync`` compiles one: hashed by the take's file
and the track, so the runner prices, journals and caches it and never pays it twice. The pass is
kept under the version's own series name (``SERIES/LANG``), never among the original's takes:
the original cut is left as it was. A line heard only (voiceover, narration) gets no pass, and a
shot with no line needs nothing. Before its lines are made a pass is priced as a placeholder (the
same take, the same seconds, no track yet), so the one consent covers it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.files import state_folder
from storyboard.language.derived import Pass, derived_take
from storyboard.language.request import CompiledShot
from storyboard.language.versions.speech import SpokenLine
from storyboard.language.versions.versionfile import needs_pass
from storyboard.media.inputs.track import laid_track
from storyboard.media.probes.probe import sha256_file
from storyboard.run.choices.passes import check_pass
from storyboard.run.state.lock.derived import TRACKS
from storyboard.run.versions.cut import Approved, VersionCut
from storyboard.targets.kinds import LIPSYNC_MODEL

Made = Callable[[SpokenLine], Path | None]  # a line's made audio, when it is made
# A track laid already, by what it was laid of (the made lines' files, kept by content, at their
# starts, on a take of these seconds): the run asks its passes more than once.
Laid = dict[tuple[tuple[tuple[str, float], ...], float], tuple[Path, str]]


@dataclass(frozen=True)
class VersionPass:
    """A shot's pass in the version: its request (a placeholder until its lines are made)."""

    shot_id: str
    take: CompiledShot
    ready: bool  # its track is laid: the real pass, not the placeholder that prices it


def pass_lines(cut: VersionCut, shot_id: str) -> list[SpokenLine]:
    """The version lines that re-lip the shot (its on-screen speakers'), in order."""
    episode, _, shot = shot_id.partition("/")
    return [d for d in cut.lines_of(episode, shot) if needs_pass(d.line)]


def version_passes(cut: VersionCut, made: Made, where: tuple[str, str | None],
                   laid_before: Laid | None = None) -> list[VersionPass]:
    """Each shot's pass (in the cut's order): real when its lines are made, else a placeholder;
    ``where``: the provider's host and region (a pass its region does not serve is refused
    before anything is asked); ``laid_before``: tracks laid already, each laid once."""
    found = []
    for shot_id, approved in cut.approved.items():
        lines = pass_lines(cut, shot_id)
        if not lines:
            continue
        check_pass(approved.take, LIPSYNC_MODEL, *where)
        files = [(made(d), d.line.start) for d in lines]
        laid = [(path, start) for path, start in files if path is not None]
        ready = len(laid) == len(files)
        track = _track(cut.manifest.root, laid, approved, laid_before) if ready else None
        found.append(VersionPass(shot_id, _pass(cut, approved, track), ready))
    return found


def _pass(cut: VersionCut, approved: Approved, track: tuple[Path, str] | None) -> CompiledShot:
    asked = Pass("lipsync", LIPSYNC_MODEL) if track is None else \
        Pass("lipsync", LIPSYNC_MODEL, track=track[0], track_sha256=track[1])
    made = derived_take(approved.shot, approved.take, approved.take.take, asked, approved.video,
                        approved.sha256)
    return replace(made, series=cut.name, id=approved.shot.id, take=1)


def _track(root: Path, clips: list[tuple[Path, float]], approved: Approved,
           laid_before: Laid | None) -> tuple[Path, str]:
    """The pass's audio: the lines at their windows on silence as long as the take, kept by its
    content (the same lines on the same take are the same file, the same pass)."""
    seconds = float(approved.take.request.duration)
    key = (tuple((str(path), start) for path, start in clips), seconds)
    known = (laid_before or {}).get(key)
    if known is not None and known[0].is_file():
        return known
    folder = state_folder(root / TRACKS)
    made = laid_track(clips, seconds, folder / f".track-{os.getpid()}.wav")
    sha = sha256_file(made)
    final = folder / f"{sha}.wav"
    made.replace(final)
    if laid_before is not None:
        laid_before[key] = (final, sha)
    return final, sha
