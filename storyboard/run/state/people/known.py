"""A take's declared pictures and the lock into each character's references and its own lines:
the faces and costume its picture shows, the face its shot's approved board gives it, and how far
apart its genuine appearances are (its calibration).

A character's line is its own when the series gives one (``checks: {characters: {ann:
{identity: 0.45}}}``); else the series' ``checks.identity`` (``look``), raised to the spread its
season shows plus ``MARGIN``: the farthest its face (costume) is from its picture's on the shot's
approved board and on every approved board of the season drawn from that same picture
(``season``: its look in force) (never above ``IDENTITY_CEILING``, dlib's line for one
person; ``LOOK_CEILING`` for a costume). A character whose picture shows no frontal face (a
place, a prop, a cartoon) has no face reference: its identity is not measurable (``n/a``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storyboard.language.request import CompiledShot
from storyboard.media.faces.record import Face, bhattacharyya, distance
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.measured import Thresholds
from storyboard.run.state.people.assign import assign
from storyboard.run.state.people.cast import Picture, approved_board, pictures
from storyboard.run.state.people.records import recorded_people
from storyboard.run.state.people.season import approved_boards, frontal

MARGIN = 0.1  # above the genuine spread of a character's own pictures
IDENTITY_CEILING = 0.6  # dlib's line for one person: a character's line never goes above it
LOOK_CEILING = 0.95


@dataclass
class Known:
    """One character's references in a take: its picture, the faces and costumes to compare
    with, and its lines (``why``: why it has no face to compare with)."""

    picture: Picture
    faces: list[tuple[float, ...]] = field(default_factory=list)
    costumes: list[tuple[float, ...]] = field(default_factory=list)
    identity: float = 0.0
    look: float = 0.0
    why: str = ""


def known_people(root: Path, take: CompiledShot, lock: LockFile,
                 limits: Thresholds) -> dict[str, Known]:
    """Each character ``take`` declares, with its references and lines."""
    found = {p.character: _own(root, p) for p in pictures(root, take, lock)}
    spread = _season_spread(root, lock, take.series, found)
    for name, (far, worn) in _from_board(root, take, lock, found).items():
        was = spread.get(name, (0.0, 0.0))
        spread[name] = (max(was[0], far), max(was[1], worn))
    for name, each in found.items():
        own = limits.characters.get(name, {})
        face_spread, look_spread = spread.get(name, (0.0, 0.0))
        each.identity = own.get("identity", min(IDENTITY_CEILING, max(
            limits.identity, face_spread + MARGIN)))
        each.look = own.get("look", min(LOOK_CEILING, max(limits.look, look_spread + MARGIN)))
    return found


def _own(root: Path, picture: Picture) -> Known:
    if picture.sha256 is None:
        return Known(picture, why=picture.why)
    people = recorded_people(root, picture.sha256)
    if people is None:
        return Known(picture, why="its picture is not measured yet")
    faces = frontal(people)
    if not faces:
        return Known(picture, why="its picture shows no frontal face")
    return Known(picture, [f.embedding for f in faces],
                 [f.costume for f in faces if f.costume is not None])


def _theirs(board: list[Face], found: dict[str, Known]) -> list[tuple[Face, str]]:
    """A board's faces, each given to the character among ``found`` it is (the pairing over
    the board, each nearer its character's picture than dlib's line)."""
    with_faces = {n: k.faces for n, k in found.items() if k.faces}
    return [(face, name) for face, name, far in assign(board, with_faces)
            if far <= IDENTITY_CEILING]


def _from_board(root: Path, take: CompiledShot, lock: LockFile,
                found: dict[str, Known]) -> dict[str, tuple[float, float]]:
    """The face (and costume) the shot's approved board shows of each character, added to the
    references it is compared with; and how far each is from its picture's."""
    sha = approved_board(take, lock)
    spread = {}
    for face, name in _theirs(frontal(recorded_people(root, sha) if sha else None), found):
        each = found[name]
        spread[name] = _apart(face, each)
        each.faces.append(face.embedding)
        if face.costume is not None:
            each.costumes.append(face.costume)
    return spread


def _apart(face: Face, each: Known) -> tuple[float, float]:
    """How far ``face`` and its costume are from the nearest of ``each``'s references."""
    far = min(distance(face.embedding, r) for r in each.faces)
    worn = min((bhattacharyya(face.costume, c) for c in each.costumes),
               default=0.0) if face.costume is not None else 0.0
    return far, worn


def _season_spread(root: Path, lock: LockFile, series: str,
                   found: dict[str, Known]) -> dict[str, tuple[float, float]]:
    """How far each character's face and costume on the season's approved boards drawn from
    its picture (``season``) are, at worst, from its picture's: the genuine spread."""
    spread: dict[str, tuple[float, float]] = {}
    for board in approved_boards(lock, series):
        drawn = {n: k for n, k in found.items() if k.picture.key in board.drawn_from}
        for face, name in _theirs(frontal(recorded_people(root, board.sha256)), drawn):
            far, worn = _apart(face, drawn[name])
            was = spread.get(name, (0.0, 0.0))
            spread[name] = (max(was[0], far), max(was[1], worn))
    return spread
