"""A take and the lock into its picture as one provider drew it: what an approval is of.

The same request drawn by two providers is two pictures: a board approved as ``local`` drew it
is not the board ``dashscope`` draws for its video. ``approve`` records the sha256 of the picture
it approves and the provider that drew it (``approved_on``); ``approve --provider NAME`` and
``takes --provider NAME`` mean that provider's pictures: the lock's record where it names that
provider, else the file in that provider's cache (the lock keeps one record per take, the last
drawn). An approval from before ``approved_on`` is read back from the lock's record of the
picture it approved.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from storyboard.language.request import CompiledShot
from storyboard.media.probes.probe import sha256_file
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import (
    DRAFT_LOCK,
    LockEntry,
    LockFile,
    TakeState,
    read_lock,
    take_key,
)


@dataclass(frozen=True)
class Drawer:
    """The provider a take command means (``--provider``): its name, as the lock records who
    drew a take, and the cache its pictures are kept in."""

    name: str
    cache_key: str


def _entries(lock: LockFile, take: CompiledShot,
             drafts: dict[str, LockEntry] | None = None) -> list[LockEntry]:
    """The lock's and the drafts' lock's records of ``take`` as it is now (``drafts``: the
    drafts' lock's shots, read once by a caller that asks for many takes)."""
    if drafts is None:
        drafts = read_lock(lock.path.parent / DRAFT_LOCK).shots
    found = (lock.shots.get(take_key(take), {}), drafts.get(take_key(take), {}))
    return [entry for entry in found if entry.get("hash") == take.hash]


def drawn(shot: CompiledShot, lock: LockFile, drawer: Drawer) -> dict[int, str]:
    """Each take of ``shot`` that ``drawer`` drew: take -> the sha256 of its picture (the lock's
    record where it names that provider, else the bytes of the file in its cache)."""
    cache = OutputCache(lock.path.parent, drawer.cache_key)
    drafts = read_lock(lock.path.parent / DRAFT_LOCK).shots
    found: dict[int, str] = {}
    for take in shot.all_takes():
        recorded = next((str(e["output_sha256"]) for e in _entries(lock, take, drafts)
                         if e.get("provider") == drawer.name and e.get("output_sha256")), None)
        digest = recorded or _plain_digest(cache.path(take.hash))
        if digest is not None:
            found[take.take] = digest
    return found


def _plain_digest(path: Path) -> str | None:
    """The sha256 of ``path`` when it is a plain file (a link or nothing: None)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        return sha256_file(path)
    except OSError:
        return None


def pictures(shot: CompiledShot, lock: LockFile, drawer: Drawer | None
             ) -> dict[int, str | None]:
    """Each rendered take of ``shot`` and the sha256 of its picture: ``drawer``'s, or (None) as
    the lock records it, whoever drew it last (None where it records none)."""
    if drawer is not None:
        return dict(drawn(shot, lock, drawer))
    drafts = read_lock(lock.path.parent / DRAFT_LOCK).shots
    found: dict[int, str | None] = {}
    for take in shot.all_takes():
        entries = _entries(lock, take, drafts)
        if entries:
            found[take.take] = next((str(e["output_sha256"]) for e in entries
                                     if e.get("output_sha256")), None)
    return found


def drawer_of(lock: LockFile, take: CompiledShot) -> str:
    """The provider that drew ``take`` as the lock records it last (``""``: not said)."""
    return next((str(e["provider"]) for e in _entries(lock, take) if e.get("provider")), "")


def approved_on(state: TakeState, lock: LockFile, take: CompiledShot) -> str:
    """The provider that drew the approved picture of ``take`` (``""``: not known): as
    ``approve`` recorded it, else the lock's record of that very picture."""
    said = state.get("approved_on")
    if isinstance(said, str) and said:
        return said
    picture = state.get("approved_sha256")
    return next((str(e.get("provider") or "") for e in _entries(lock, take)
                 if picture and e.get("output_sha256") == picture), "")
