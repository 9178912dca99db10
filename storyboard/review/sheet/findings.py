"""Each take's measurement and each shot's last failure into what the sheet (and the studio) say
of them: a take's findings as lines, a failed attempt as where it stopped and whether it was billed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, Manifest
from storyboard.review.sheet.thumbs import Still, Thumbs
from storyboard.run.choices.checks import output_sha256
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockFile, take_key
from storyboard.run.state.measured import NOT_MEASURABLE, Finding, thresholds
from storyboard.run.state.people.findings import findings_of
from storyboard.run.state.tasks.journal import Attempt, read_status
from storyboard.run.trip.cancel import failure_of
from storyboard.stitch.series.cut import video_length


@dataclass(frozen=True)
class Strip:
    """One finding of the used take, and a few frames about it."""

    line: str  # "cut at 2.00 s (error): ..."
    stills: tuple[Still, ...]


def findings_by_take(manifest: Manifest, lock: LockFile
                     ) -> Callable[[CompiledShot], tuple[Finding, ...]]:
    """A take's findings, judged by the series' ``checks:`` (none: never measured); what could
    not be measured (``n/a``: no frontal face) is ``takes``' to say, not a finding here."""
    limits = thresholds(manifest.checks)
    return lambda take: tuple(f for f in findings_of(manifest.root, output_sha256(take, lock),
                                                     take, limits, lock) or ()
                              if f.severity != NOT_MEASURABLE)


def strips_by_take(manifest: Manifest, lock: LockFile, thumbs: Thumbs,
                   findings: Callable[[CompiledShot], tuple[Finding, ...]]
                   ) -> Callable[[CompiledShot], tuple[Strip, ...]]:
    """Each finding of a take with a strip of frames about it, from the file its provider
    rendered (no frames when that file is not in this clone's cache)."""

    def of(take: CompiledShot) -> tuple[Strip, ...]:
        found = findings(take)
        video = rendered_file(manifest.root, lock, take) if found else None
        length = video_length(video) if video is not None else 0.0
        return tuple(Strip(f.line(), () if video is None else
                           tuple(thumbs.around(video, f.start, f.end, length))) for f in found)
    return of


def rendered_file(root: Path, lock: LockFile, take: CompiledShot) -> Path | None:
    """The cached file of ``take``, from the cache of the provider the lock says rendered it."""
    entry = lock.shots.get(take_key(take), {})
    key = entry.get("cache_key")
    if entry.get("hash") != take.hash or not isinstance(key, str):
        return None
    cache = OutputCache(root, key)
    return cache.path(take.hash) if cache.has(take.hash) else None


def failures_by_take(manifest: Manifest) -> dict[str, str]:
    """Each take (its lock key) whose latest attempt at its current version failed: the failure
    in words (``refused at submit, nothing billed: content refusal of the prompt``) and its code.
    A journal that cannot be read says nothing here (``status`` says why)."""
    current = {take_key(t): t.hash for shot in manifest.shots() for t in shot.all_takes()}
    try:
        rows = read_status(manifest.root)
    except StoryboardError:
        return {}
    latest: dict[str, Attempt] = {r.key: r for r in rows if current.get(r.key) == r.shot_hash}
    said = {key: _said(row) for key, row in latest.items()}
    return {key: text for key, text in said.items() if text}


def _said(row: Attempt) -> str:
    failure = failure_of(row)
    if failure is None:
        return ""
    return f"{failure.words()} ({failure.code})" if failure.code else failure.words()
