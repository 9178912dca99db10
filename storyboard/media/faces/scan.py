"""A take's file into its people: each sampled frame's faces embedded, the costume under each
face as a colour histogram, the frame's light; what cannot be measured is said, never guessed.

A frontal face at least ``detector.MIN_WIDTH`` wide is embedded; a turned one (a profile) or a
smaller one is kept as ``Unseen`` with why. The costume box is the region under the face (from a
quarter of the face's height below its chin, twice the face's height deep, the face's width and
half of it either side); with less than a quarter of that room in the frame there is none. Its
colours are first balanced by the face's (a grade that tints the whole frame tints the face alike,
a recoloured costume does not); its histogram is over hue and saturation (``BINS``: a light or
a grade that only brightens or darkens moves neither), its dark pixels counted apart (``DARK``),
normalised. The light is the frame's mean luma (BT.601) and its mean blue minus mean red.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from storyboard.media.faces import detector
from storyboard.media.faces import frames as framing
from storyboard.media.faces.record import Box, Face, FrameFacts, People, Unseen

BINS = (12, 4)  # hue, saturation
DARK = 0.12  # a pixel darker than this (value, 0..1) has no colour to speak of: a bin of its own
BELOW, DEPTH, SIDE = 0.25, 2.0, 0.5  # the costume box, in face heights (side: face widths)


def measure(path: Path, kind: str, times: Sequence[float] | None = None, *,
            faces: bool = True, small: bool = True) -> People:
    """The people of ``path`` (``kind``: ``video``, sampled at ``times``; ``image``: its frame);
    ``faces`` False: the light alone (no face to look for); ``small`` False: faces under 80 px
    not looked for (a character's picture). ``detector.FacesMissing`` without the extra."""
    found = detector.load() if faces else None
    pictures = framing.read_frames(path, None if kind == "image" else times or [0.0])
    facts = tuple(_frame(found, f, small) for f in pictures)
    width, height = (pictures[0].width, pictures[0].height) if pictures else (0, 0)
    return People("image" if kind == "image" else "video", facts, width=width, height=height,
                  searched=faces)


def _frame(found: detector.Models | None, frame: framing.Frame, small: bool) -> FrameFacts:
    rgb = np.frombuffer(frame.rgb, dtype=np.uint8).reshape(frame.height, frame.width, 3)
    luma, balance = light(rgb)
    if found is None:  # the light alone
        return FrameFacts(frame.time, luma, balance)
    faces, unseen = [], []
    for face in found.detect(rgb, small=small):
        if face.turned or face.width < detector.MIN_WIDTH:
            unseen.append(Unseen(face.box, "profile" if face.turned else "too small"))
        else:
            faces.append(Face(face.box, face.score, found.embed(rgb, face.box),
                              costume(rgb, face.box)))
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
    """The colours of the costume box under ``box``: a normalised hue x saturation histogram
    and the share of dark pixels last; None when the frame has no room under the face."""
    region = costume_box(box, rgb.shape[1], rgb.shape[0])
    if region is None:
        return None
    left, top, right, bottom = region
    pixels = rgb[top:bottom, left:right].reshape(-1, 3).astype(np.float32)
    skin = rgb[box[1]:box[3], box[0]:box[2]].reshape(-1, 3).astype(np.float32).mean(axis=0)
    gains = skin.mean() / np.maximum(skin, 1.0)  # the face's colour cast, taken out
    pixels = np.clip(pixels * gains / 255.0, 0.0, 1.0)
    hsv = _hsv(pixels)
    lit = hsv[:, 2] >= DARK
    hist, _, _ = np.histogram2d(hsv[lit, 0], hsv[lit, 1], bins=BINS, range=((0, 1), (0, 1)))
    counts = [*(float(v) for v in hist.ravel()), float((~lit).sum())]
    total = sum(counts)
    return tuple(round(v / total, 5) for v in counts) if total else None


def _hsv(pixels: np.ndarray) -> np.ndarray:
    """RGB (0..1) rows into HSV (0..1) rows."""
    high = pixels.max(axis=1)
    low = pixels.min(axis=1)
    span = high - low
    safe = np.where(span == 0, 1.0, span)
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    hue = np.where(high == r, (g - b) / safe % 6, np.where(high == g, (b - r) / safe + 2,
                                                           (r - g) / safe + 4)) / 6.0
    hue = np.where(span == 0, 0.0, hue) % 1.0
    saturation = np.where(high == 0, 0.0, span / np.where(high == 0, 1.0, high))
    return np.stack([hue, saturation, high], axis=1)


def light(rgb: np.ndarray) -> tuple[float, float]:
    """A frame's mean luma (BT.601, 0..255) and its mean blue minus its mean red."""
    means = rgb.reshape(-1, 3).mean(axis=0)
    luma = 0.299 * means[0] + 0.587 * means[1] + 0.114 * means[2]
    return round(float(luma), 3), round(float(means[2] - means[0]), 3)
