"""A take's file into its people: each sampled frame's faces embedded, the costume under each
face as a colour histogram, the frame's light; what cannot be measured is said, never guessed.

A frontal face at least ``detector.MIN_WIDTH`` wide is embedded; a turned one (a profile) or a
smaller one is kept as ``Unseen`` with why (a too-small face with the costume under it: the
person's box in a wide shot). The costume box is the region under the face (from a quarter of
the face's height below its chin, twice the face's height deep, the face's width and half of it
either side); with less than a quarter of that room in the frame there is none. Its colours are
first balanced by the face's (a grade that tints the whole frame tints the face alike, a
recoloured costume does not), then reduced to their chroma (blue minus luma, red minus luma: a
grade that only brightens or darkens moves neither, a near-black or a white costume has none),
counted in a ``BINS`` x ``BINS`` histogram over +-``SPAN`` shared between the four nearest bins
(so a slight tint does not jump a bin), normalised. The light is the mean luma (BT.601) and the
mean blue minus mean red of the frame (every other row and column) outside its people (each face
found, ``AROUND`` face widths either side of it, from half a face above it to the frame's foot:
its costume is ``look``'s, not the grade's); the whole frame when they leave less than ``KEEP``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from storyboard.media import memo
from storyboard.media.faces import detector
from storyboard.media.faces import frames as framing
from storyboard.media.faces.record import VERSION, Box, Face, FrameFacts, People, Unseen

BINS, SPAN = 8, 0.4  # the costume's chroma histogram: bins a side, over -SPAN..SPAN (0..1 RGB)
BELOW, DEPTH, SIDE = 0.25, 2.0, 0.5  # the costume box, in face heights (side: face widths)
AROUND, KEEP = 1.5, 0.1  # a person's column left out of the light (face widths); the least left
LUMA = (0.299, 0.587, 0.114)  # BT.601


def measure(path: Path, kind: str, times: Sequence[float] | None = None, *,
            faces: bool = True, small: bool = True) -> People:
    """The people of ``path`` (``kind``: ``video``, sampled at ``times``; ``image``: its frame);
    ``faces`` False: the light alone (no face to look for); ``small`` False: faces under 80 px
    not looked for (a character's picture). ``detector.FacesMissing`` without the extra.
    Remembered for the life of the process as a probe is (``memo.recall``: a copy of a file
    measured already is not decoded again)."""
    asked = ("people", kind, None if times is None else tuple(times), faces, small, VERSION)
    return memo.recall(asked, path, lambda: _measure(path, kind, times, faces, small))


def _measure(path: Path, kind: str, times: Sequence[float] | None, faces: bool,
             small: bool) -> People:
    found = detector.load() if faces else None
    pictures = framing.read_frames(path, None if kind == "image" else times or [0.0])
    facts = tuple(_frame(found, f, small) for f in pictures)
    width, height = (pictures[0].width, pictures[0].height) if pictures else (0, 0)
    return People("image" if kind == "image" else "video", facts, width=width, height=height,
                  searched=faces)


def _frame(found: detector.Models | None, frame: framing.Frame, small: bool) -> FrameFacts:
    rgb = np.frombuffer(frame.rgb, dtype=np.uint8).reshape(frame.height, frame.width, 3)
    if found is None:  # the light alone
        return FrameFacts(frame.time, *light(rgb))
    detected = found.detect(rgb, small=small)
    faces, unseen = [], []
    for face in detected:
        if face.turned:
            unseen.append(Unseen(face.box, "profile"))
        elif face.width < detector.MIN_WIDTH:
            unseen.append(Unseen(face.box, "too small", costume(rgb, face.box)))
        else:
            faces.append(Face(face.box, face.score, found.embed(rgb, face.box),
                              costume(rgb, face.box)))
    luma, balance = light(rgb, [d.box for d in detected])
    return FrameFacts(frame.time, luma, balance, tuple(faces), tuple(unseen))


def costume_box(box: Box, width: int, height: int) -> Box | None:
    """The region under a face, inside a frame ``width`` x ``height``; None without room."""
    left, top, right, bottom = box
    face_w, face_h = right - left, bottom - top
    wanted = (int(left - SIDE * face_w), int(bottom + BELOW * face_h),
              int(right + SIDE * face_w), int(bottom + (BELOW + DEPTH) * face_h))
    inside = (max(0, wanted[0]), max(0, wanted[1]), min(width, wanted[2]), min(height, wanted[3]))
    if inside[3] - inside[1] < DEPTH * face_h / 4 or inside[2] <= inside[0]:
        return None
    return inside


def costume(rgb: np.ndarray, box: Box) -> tuple[float, ...] | None:
    """The colours of the costume box under ``box``: a normalised histogram of their chroma,
    balanced by the face's (``BINS`` x ``BINS``, blue minus luma by red minus luma); None when
    the frame has no room under the face."""
    region = costume_box(box, rgb.shape[1], rgb.shape[0])
    if region is None:
        return None
    left, top, right, bottom = region
    pixels = rgb[top:bottom, left:right].reshape(-1, 3).astype(np.float32) / 255.0
    skin = rgb[box[1]:box[3], box[0]:box[2]].reshape(-1, 3).astype(np.float32).mean(axis=0)
    pixels = pixels * (skin.mean() / np.maximum(skin, 1.0))  # the face's colour cast, taken out
    luma = pixels @ np.array(LUMA, dtype=np.float32)
    hist = _soft_histogram(pixels[:, 2] - luma, pixels[:, 0] - luma)
    total = float(hist.sum())
    return tuple(round(float(v) / total, 5) for v in hist) if total else None


def _soft_histogram(blue: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Each (blue, red) point shared between its four nearest of ``BINS`` x ``BINS`` bin
    centres over -SPAN..SPAN (a point past the edge counts at the edge), flattened."""
    def place(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.clip((np.clip(values, -SPAN, SPAN) + SPAN) / (2 * SPAN) * BINS - 0.5, 0, BINS - 1)
        low = np.minimum(np.floor(at).astype(np.int64), BINS - 2)
        return low, at - low
    (row, up), (col, right) = place(blue), place(red)
    hist = np.zeros(BINS * BINS, dtype=np.float64)
    for step_r, weight_r in ((0, 1 - up), (1, up)):
        for step_c, weight_c in ((0, 1 - right), (1, right)):
            hist += np.bincount((row + step_r) * BINS + col + step_c, weights=weight_r * weight_c,
                                minlength=BINS * BINS)
    return hist


def light(rgb: np.ndarray, people: Sequence[Box] = ()) -> tuple[float, float]:
    """A frame's mean luma (BT.601, 0..255) and mean blue minus mean red, over every other pixel
    outside the columns of ``people`` (faces' boxes; the whole frame when they leave less than
    ``KEEP``)."""
    outside = np.ones(rgb.shape[:2], dtype=bool)
    for left, top, right, _ in people:
        wide = right - left
        outside[max(0, top - wide // 2):, max(0, int(left - AROUND * wide)):
                max(0, int(right + AROUND * wide))] = False
    if outside.mean() < KEEP:
        outside[:] = True
    pixels = rgb[::2, ::2][outside[::2, ::2]].reshape(-1, 3).astype(np.float32)
    if not len(pixels):
        return 0.0, 0.0
    means = pixels.mean(axis=0)
    return (round(float(np.dot(LUMA, means)), 3), round(float(means[2] - means[0]), 3))
