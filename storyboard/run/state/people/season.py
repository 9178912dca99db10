"""The lock's approved boards into each character's season: every approved board, across the
season's episodes, drawn from the very picture a character wears in a take (its look in force
there), with the faces it shows. What a character's line is calibrated on, beside its picture.

A board's entry in the lock names the pictures it was drawn from (a file by its content's
sha256, a sheet made from words by its asset and the hash of the take used); a board drawn from a
character's picture in another look (another file, another sheet) is another look's, and not
counted. Only approved boards count: a picked one is a choice, not a genuine appearance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.language.request import BOARDS
from storyboard.media.faces.record import Face, People
from storyboard.run.state.lock.lockfile import LockFile


@dataclass(frozen=True)
class Board:
    """An approved board: where it is (``boards/EP/SHOT``), its file's sha256 and how the
    pictures it was drawn from are named (``picture_key``)."""

    key: str
    sha256: str
    drawn_from: frozenset[str]


def picture_key(sha256: str | None, asset: str | None = None, asset_hash: str | None = None
                ) -> str | None:
    """How a picture is named across the season: a made sheet by its asset and the take's hash
    (``cast/ann@HASH``), else a file by its content (None: neither known)."""
    if asset is not None:
        return f"{asset}@{asset_hash}" if asset_hash else None
    return sha256


def approved_boards(lock: LockFile, series: str) -> list[Board]:
    """Every approved board of ``series`` whose take the lock still records, in key order."""
    prefix = f"{series}/{BOARDS}/"
    wanted = {key: sha for key, state in lock.takes.items() if key.startswith(prefix)
              and state.get("approved") is not None
              and isinstance(sha := state.get("approved_sha256"), str)}
    found: dict[str, Board] = {}
    for key, entry in lock.shots.items():  # one pass, in the lock's order: a season has many
        board = key.partition("#")[0]
        if board in wanted and board not in found and entry.get("output_sha256") == wanted[board]:
            found[board] = Board(board.removeprefix(f"{series}/"), wanted[board], _drawn_from(entry))
    return [found[k] for k in sorted(found)]


def _drawn_from(entry: Mapping[str, Any]) -> frozenset[str]:
    media = entry.get("media")
    keys = (picture_key(_text(m.get("sha256")), _text(m.get("asset")), _text(m.get("asset_hash")))
            for m in (media.values() if isinstance(media, dict) else ()) if isinstance(m, dict))
    return frozenset(k for k in keys if k)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def frontal(people: People | None) -> list[Face]:
    """The frontal faces a picture's (a board's) people show, largest first (none: not
    measured)."""
    if people is None:
        return []
    faces = [f for frame in people.frames for f in frame.faces]
    return sorted(faces, key=lambda f: -(f.box[2] - f.box[0]))
