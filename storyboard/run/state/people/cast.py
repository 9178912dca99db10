"""A take and the lock into the pictures its people are judged against: each character the shot
declares with the picture it wears there (its sheet, a file, its look's picture in that episode),
and the shot's approved board.

A picture is a file by its content digest (a path the series names), or a cast asset's take (a
sheet made from words: the take the shot uses, found in the lock by its hash). A URL, or an asset
not made yet, has no file here: its character is not measured (said, ``why``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard.language.request import BOARDS, CompiledShot, MediaRef
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.people.records import file_digest
from storyboard.run.state.people.season import picture_key

BASE = "base"  # the look a character wears when it wears none of its looks


@dataclass(frozen=True)
class Picture:
    """A character's picture in a take: how it is named, the look it is, its file and digest
    (both None when it has no file here, ``why`` says so)."""

    character: str
    shown: str  # media/cast/ann.png, cast/ann
    look: str
    file: Path | None
    sha256: str | None
    why: str = ""
    key: str | None = None  # how the lock's boards name it (``season.picture_key``)


def pictures(root: Path, take: CompiledShot, lock: LockFile) -> list[Picture]:
    """Each character ``take`` declares, with the picture it wears there, in name order."""
    return [_picture(root, take, lock, name, ref) for name, ref in sorted(take.people.items())]


def _picture(root: Path, take: CompiledShot, lock: LockFile, name: str,
             ref: MediaRef) -> Picture:
    look = take.looks.get(name, BASE)
    if ref.path is not None:
        shown = _shown(root, ref.path)
        sha = file_digest(ref.path)
        return Picture(name, shown, look, ref.path, sha,
                       "" if ref.path.is_file() else "its picture is not there", sha)
    if ref.asset is not None:
        return _made(root, take, lock, name, ref.asset, look)
    return Picture(name, str(ref), look, None, None, "its picture is not a file here")


def _made(root: Path, take: CompiledShot, lock: LockFile, name: str, asset: str,
          look: str) -> Picture:
    """A picture made from words: the take of ``asset`` the shot uses, as the lock has it."""
    wanted = take.needs.get(asset)
    for key, entry in sorted(lock.shots.items()):
        if key.partition("#")[0] != f"{take.series}/{asset}" or entry.get("hash") != wanted:
            continue
        sha, cache_key = entry.get("output_sha256"), entry.get("cache_key")
        if isinstance(sha, str) and isinstance(cache_key, str):
            file = OutputCache(root, cache_key).path(str(wanted))
            return Picture(name, asset, look, file, sha, "" if file.is_file() else
                           "its picture is not in this clone's cache",
                           picture_key(sha, asset, wanted))
    return Picture(name, asset, look, None, None, "its picture is not made yet")


def approved_board(take: CompiledShot, lock: LockFile) -> str | None:
    """The sha256 of the board ``take``'s shot approved (None: none approved, or a board of
    its own: a still, measured as a picture of its characters anyway)."""
    if take.board is None or take.board.asset is None or not take.board.asset.startswith(BOARDS):
        return None
    state = lock.takes.get(f"{take.series}/{take.board.asset}", {})
    sha = state.get("approved_sha256")
    return sha if isinstance(sha, str) and state.get("approved") is not None else None


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
