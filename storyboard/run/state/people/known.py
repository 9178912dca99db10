"""A take's declared pictures and the lock into each character's references and its own lines:
the faces and costume its picture shows, the face its shot's approved board gives it, and how far
apart those genuinely are (its calibration).

A character's line is its own when the series gives one (``checks: {characters: {ann:
{identity: 0.45}}}``); else the series' ``checks.identity`` (``look``), raised to the spread its
own approved pictures show plus ``MARGIN`` (never above ``IDENTITY_CEILING``, dlib's line for one
person; ``LOOK_CEILING`` for a costume). A character whose picture shows no frontal face (a
place, a prop, a cartoon) has no face reference: its identity is not measurable (``n/a``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storyboard.language.request import CompiledShot
from storyboard.media.faces.record import Face, People, bhattacharyya, distance
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.measured import Thresholds
from storyboard.run.state.people.assign import assign
from storyboard.run.state.people.cast import Picture, approved_board, pictures
from storyboard.run.state.people.records import recorded_people

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
    board_spread = _from_board(root, take, lock, found)
    for name, each in found.items():
        own = limits.characters.get(name, {})
        face_spread, look_spread = board_spread.get(name, (0.0, 0.0))
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
    faces = _frontal(people)
    if not faces:
        return Known(picture, why="its picture shows no frontal face")
    return Known(picture, [f.embedding for f in faces],
                 [f.costume for f in faces if f.costume is not None])


def _frontal(people: People) -> list[Face]:
    """The frontal faces of a picture, largest first."""
    faces = [f for frame in people.frames for f in frame.faces]
    return sorted(faces, key=lambda f: -(f.box[2] - f.box[0]))


def _from_board(root: Path, take: CompiledShot, lock: LockFile,
                found: dict[str, Known]) -> dict[str, tuple[float, float]]:
    """The approved board's faces added to the characters they are (each nearer its picture
    than dlib's line), and how far each is from its picture and costume: the genuine spread."""
    sha = approved_board(take, lock)
    board = recorded_people(root, sha) if sha else None
    with_faces = {n: k.faces for n, k in found.items() if k.faces}
    if board is None or not with_faces:
        return {}
    spread: dict[str, tuple[float, float]] = {}
    for face, name, far in assign(_frontal(board), with_faces):
        if far > IDENTITY_CEILING:
            continue
        each = found[name]
        worn = [bhattacharyya(face.costume, c) for c in each.costumes] if face.costume else []
        spread[name] = (min(distance(face.embedding, r) for r in each.faces), min(worn, default=0.0))
        each.faces.append(face.embedding)
        if face.costume is not None:
            each.costumes.append(face.costume)
    return spread
