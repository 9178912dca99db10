"""A run's takes into their people, measured once each (and every picture they declare), and
their findings added to the run's report; without the ``faces`` extra the report says how to
add it and nothing else changes.

A video is sampled at the start, middle and end of each of its request's scenes
(``media.faces.frames.sample_times``) over the file's measured length; an image (a board: it
declares someone) is its one frame; a sheet, a voice, a line are not measured here. The pictures
are measured first, so a take is judged against them; a take none of whose pictures shows a
frontal face has its light measured alone (no face looked for: a cartoon, a prop, a place).
What cannot be measured (``n/a``) is left out of the run's report: ``takes`` says it.
With a team's store, each file's people are taken from it when a teammate measured them, and put
there when measured here (``Shared``), so a fresh clone measures nothing the team has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from storyboard.language.request import CompiledShot
from storyboard.media.faces.detector import FacesMissing, missing
from storyboard.media.faces.frames import sample_times
from storyboard.media.faces.record import People
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock, take_key
from storyboard.run.state.measured import NOT_MEASURABLE, Report, Thresholds, kind_of, recorded
from storyboard.run.state.people.cast import pictures
from storyboard.run.state.people.findings import people_findings
from storyboard.run.state.people.records import current, measure_people, recorded_people


def not_measured() -> str | None:
    """What a run says when the ``faces`` extra is missing (None: it is installed)."""
    absent = missing()
    return None if absent is None else f"identity, look and grade are not measured: {FacesMissing(absent)}"


class Shared(Protocol):
    """A team's store, as measuring uses it (``run.state.sharing.StoreLink``)."""

    def adopt_people(self, sha: str, *, faces: bool = True) -> bool: ...

    def share_people(self, sha: str, *, check: bool = False) -> None: ...


def measure_people_of(root: Path, cache: OutputCache, takes: Iterable[CompiledShot],
                      limits: Thresholds, report: Report, store: Shared | None = None) -> None:
    """Measure the people of each of ``takes`` the cache holds (and of the pictures it
    declares), and add what they show to ``report``. The lock is read once, after the run: its
    takes (an episode's others, for the grade) and approved boards (for a character's line)."""
    absent = not_measured()
    if absent is not None:
        report.notes.append(absent)
        return
    lock = read_lock(lock_path(root))
    mine = [t for t in takes if _has_people(t) and cache.get(t.hash) is not None]
    faced = {t.hash: _any_face(root, t, lock, store) for t in mine}
    measured = []
    for take in mine:
        sha = measure_take(root, cache, take, store, faced=faced[take.hash])
        if sha is not None:
            measured.append((take, sha))
    for take, sha in measured:  # what cannot be measured is in ``takes``, not in a run's report
        said = [f for f in people_findings(root, sha, take, limits, lock)
                if f.severity != NOT_MEASURABLE]
        if said:
            key = take_key(take)
            report.findings[key] = sorted([*report.findings.get(key, []), *said],
                                          key=lambda f: (f.start, f.kind))


def measure_take(root: Path, cache: OutputCache, take: CompiledShot, store: Shared | None,
                 *, faced: bool) -> str | None:
    """The people of ``take``'s file measured (``faced``: a picture it declares shows a face,
    so faces are looked for): its sha256, or None when it is not in the cache or cannot be
    measured."""
    entry = cache.get(take.hash)
    if entry is None:
        return None
    found = recorded(root, entry.sha256)
    seconds = found.seconds if found is not None else float(take.request.duration)
    times = sample_times(seconds, [(s.start, s.end) for s in take.request.scenes])
    people = _people(root, store, cache.path(take.hash), entry.sha256, kind_of(take), times,
                     faces=faced)
    return None if people is None else entry.sha256


def measure_ahead(root: Path, cache: OutputCache, take: CompiledShot, lock: LockFile,
                  store: Shared | None) -> None:
    """``take``'s people (and its pictures') measured as it arrives, exactly as the run's end
    would measure them, when that is known already: every picture it declares in hand (in
    ``lock``, the run's, or made by the run), and a video's length measured (its frames are
    sampled over it). Else left for the end."""
    if not _has_people(take):
        return
    entry = cache.get(take.hash)
    if entry is None or (kind_of(take) == "video" and recorded(root, entry.sha256) is None):
        return
    lock = _with_made(lock, cache, take)
    shown = pictures(root, take, lock)
    if any(p.file is None or p.sha256 is None or not p.file.is_file() for p in shown):
        return
    measure_take(root, cache, take, store, faced=_any_face(root, take, lock, store))


def _with_made(lock: LockFile, cache: OutputCache, take: CompiledShot) -> LockFile:
    """``lock`` with each picture ``take`` needs that this run made (in the cache, and not yet
    in the lock, which is written at the run's end) as the end will read it there."""
    held = {(k.partition("#")[0], e.get("hash")) for k, e in lock.shots.items()}
    made = {}
    for asset, wanted in sorted(take.needs.items()):
        key = f"{take.series}/{asset}"
        entry = None if (key, wanted) in held else cache.get(wanted)
        if entry is not None:
            made[key] = {"hash": wanted, "output_sha256": entry.sha256,
                         "cache_key": cache.cache_key}
    return replace(lock, shots={**lock.shots, **made}) if made else lock


def _any_face(root: Path, take: CompiledShot, lock: LockFile, store: Shared | None) -> bool:
    """Whether a picture ``take`` declares shows a frontal face (each measured here, once): if
    none does, there is no one to look for in the take, and its light alone is measured."""
    found = False
    for picture in pictures(root, take, lock):
        if picture.file is not None and picture.sha256 is not None and picture.file.is_file():
            people = _people(root, store, picture.file, picture.sha256, "image", small=False)
            found = found or (people is not None and any(f.faces for f in people.frames))
    return found


def _people(root: Path, store: Shared | None, path: Path, sha256: str, kind: str,
            times: Sequence[float] | None = None, *, faces: bool = True,
            small: bool = True) -> People | None:
    """``path``'s people: this clone's, else the team's (``store``), else measured here (and
    then put in the store)."""
    if store is None or current(recorded_people(root, sha256), faces=faces) \
            or store.adopt_people(sha256, faces=faces):
        return measure_people(root, path, sha256, kind, times, faces=faces, small=small)
    found = measure_people(root, path, sha256, kind, times, faces=faces, small=small)
    if found is not None:
        store.share_people(sha256)
    return found


def _has_people(take: CompiledShot) -> bool:
    """Whether ``take`` is measured for people: a video (its light at least), or a picture that
    declares someone (a board); a sheet, a voice or a line is not."""
    kind = kind_of(take)
    return kind == "video" or (kind == "image" and bool(take.people))
