"""A take's file into the few frames its people are measured on: times chosen, pixels decoded.

A video is sampled at the start, middle and end of each scene (a shot without scenes is one
scene), each frame decoded by its own short ffmpeg run and scaled to at most ``WIDTH`` wide
(720p as it is); an image is its one frame. Pixels come back as packed RGB bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media import ffmpeg
from storyboard.media.probes import imagehead

WIDTH = 1280  # frames wider than this are scaled down to it
EDGE = 0.05  # seconds inside a scene's ends (a scene's first and last frames may be a cut's)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: when, its size and its pixels (``width * height * 3`` bytes, RGB)."""

    time: float
    width: int
    height: int
    rgb: bytes


def sample_times(seconds: float, scenes: Sequence[tuple[float, float]] = ()) -> list[float]:
    """The start, middle and end of each scene inside a file ``seconds`` long, each once, in
    order (no scenes: the whole file is one)."""
    if seconds <= 0:
        return [0.0]
    spans = [(max(0.0, s), min(seconds, e)) for s, e in scenes if min(seconds, e) > max(0.0, s)]
    found: set[float] = set()
    for start, end in spans or [(0.0, seconds)]:
        inner = min(EDGE, (end - start) / 4)
        found |= {round(start + inner, 3), round((start + end) / 2, 3), round(end - inner, 3)}
    return sorted(found)


def scaled(width: int, height: int) -> tuple[int, int]:
    """The size a frame is measured at: at most ``WIDTH`` wide, both sides even."""
    if width <= 0 or height <= 0:
        raise MediaError("a picture of no size cannot be measured")
    w = min(width, WIDTH)
    return max(2, w // 2 * 2), max(2, round(height * w / width / 2) * 2)


def read_frames(path: Path, times: Sequence[float] | None) -> list[Frame]:
    """The frames of ``path`` at ``times`` (None: an image's one frame, at 0)."""
    reader = imagehead.demuxer(path) if times is None else []
    info = ffmpeg.probe(path)
    if info.video is None:
        raise MediaError(f"{path.name} has no picture to measure")
    width, height = scaled(info.video.width, info.video.height)
    with tempfile.TemporaryDirectory(prefix="storyboard-faces-") as folder:
        out = Path(folder) / "frame.rgb"
        frames = []
        for at in ([0.0] if times is None else times):
            seek = [] if times is None else ["-ss", f"{at:.3f}"]
            ffmpeg.run([*seek, *reader, "-i", str(path), "-frames:v", "1",
                        "-vf", f"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24",
                        str(out)], what=f"reading a frame of {path.name}")
            data = out.read_bytes() if out.exists() else b""
            if len(data) == width * height * 3:
                frames.append(Frame(at, width, height, data))
            out.unlink(missing_ok=True)
    return frames
