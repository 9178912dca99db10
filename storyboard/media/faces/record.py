"""What measuring a file's people found, as plain data: stored as JSON, read back, compared.

A measurement names its ``VERSION``: a file measured by an older one is measured again. Two
faces are compared by the Euclidean distance of their embeddings (dlib's line for one person:
0.6); two costumes by the Bhattacharyya distance of their colour histograms (0 the same, 1 none
in common).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

VERSION = 2  # 2: the costume's chroma histogram; a small face's costume; light outside people
EMBEDDING = 128  # numbers in a face's embedding
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Face:
    """A frontal face: its box, the detector's score, its embedding and the colours of the box
    under it (None: no room under it in the frame)."""

    box: Box
    score: float
    embedding: tuple[float, ...]
    costume: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Unseen:
    """A face found but not embedded: ``why`` is ``profile`` or ``too small`` (a too-small face
    keeps the colours of the box under it: the person's costume in a wide shot)."""

    box: Box
    why: str
    costume: tuple[float, ...] | None = None


@dataclass(frozen=True)
class FrameFacts:
    """One sampled frame: when, its light (mean luma 0..255; mean blue minus mean red), its
    faces and the faces it shows that cannot be measured."""

    time: float
    luma: float
    balance: float
    faces: tuple[Face, ...] = ()
    unseen: tuple[Unseen, ...] = ()


@dataclass(frozen=True)
class People:
    """A file's sampled frames, as measured by ``version``."""

    kind: str  # "video" | "image"
    frames: tuple[FrameFacts, ...] = ()
    version: int = VERSION
    width: int = 0  # the size the frames were measured at
    height: int = 0
    searched: bool = True  # whether faces were looked for (False: the light alone)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> People:
        frames = tuple(FrameFacts(
            float(f["time"]), float(f["luma"]), float(f["balance"]),
            tuple(Face(_box(x["box"]), float(x["score"]), tuple(float(v) for v in x["embedding"]),
                       _colours(x.get("costume"))) for x in f.get("faces", ())),
            tuple(Unseen(_box(u["box"]), str(u["why"]), _colours(u.get("costume")))
                  for u in f.get("unseen", ())))
            for f in data.get("frames", ()))
        return cls(str(data["kind"]), frames, int(data.get("version", 0)),
                   int(data.get("width", 0)), int(data.get("height", 0)),
                   data.get("searched", True) is True)


def _box(value: Any) -> Box:
    left, top, right, bottom = (int(v) for v in value)
    return left, top, right, bottom


def _colours(value: Any) -> tuple[float, ...] | None:
    return None if value is None else tuple(float(v) for v in value)


def trusted(data: object) -> People | None:
    """A measurement read from disk if it is whole (every number finite, each embedding 128
    long, made by this version or a later one); else None (measure the file again)."""
    if not isinstance(data, dict):
        return None
    try:
        found = People.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None
    numbers = [v for f in found.frames for v in (f.time, f.luma, f.balance, *(
        n for x in f.faces for n in (x.score, *x.embedding, *(x.costume or ()))), *(
        n for u in f.unseen for n in u.costume or ()))]
    whole = found.kind in ("video", "image") and all(math.isfinite(v) for v in numbers) and all(
        len(x.embedding) == EMBEDDING for f in found.frames for x in f.faces)
    return found if whole and found.version >= VERSION else None


def distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """How far apart two faces are (below 0.6: one person, by dlib's measure)."""
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def bhattacharyya(p: tuple[float, ...], q: tuple[float, ...]) -> float:
    """How far apart two normalised histograms are: 0 the same, 1 nothing in common."""
    overlap = sum(math.sqrt(max(0.0, x) * max(0.0, y)) for x, y in zip(p, q, strict=True))
    return math.sqrt(max(0.0, 1.0 - min(1.0, overlap)))
