"""A take's file into the few frames its people are measured on: times chosen, pixels decoded.

A video is sampled at the start, middle and end of each scene (a shot without scenes is one
scene), the frames picked by one ffmpeg run (``select``: the first frame at or after each time)
and scaled to at most ``WIDTH`` wide (720p as it is); an image is its one frame. Pixels come
back as packed RGB bytes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media import ffmpeg, imagehead

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


def read_frames(path: Path, times: Sequence[float] | None) -> list[Frame]:
    """The frames of ``path`` at ``times`` (None: an image's one frame, at 0), in one ffmpeg run:
    each the first frame at or after its time (a time past the end gives none)."""
    wanted = sorted(set(times)) if times is not None else [0.0]
    reader = imagehead.demuxer(path) if times is None else []
    picks = "+".join(f"(isnan(prev_selected_t)+lt(prev_selected_t,{t:.3f}))*gte(t,{t:.3f})"
                     for t in wanted)
    chain = ("" if times is None else f"select='gt({picks},0)',setpts=N/FRAME_RATE/TB,") + \
        f"scale='min({WIDTH},iw)':-2:flags=bilinear,format=rgb24"
    with tempfile.TemporaryDirectory(prefix="storyboard-faces-") as folder:
        out = Path(folder) / "frames.rgb"
        log = ffmpeg.run([*reader, "-i", str(path), "-vf", chain,
                          "-frames:v", str(len(wanted)), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          str(out)], what=f"reading frames of {path.name}")
        size = _SIZE.search(log.split("Output #0", 1)[-1])
        data = out.read_bytes() if out.exists() else b""
    if size is None:
        raise MediaError(f"{path.name} has no picture to measure")
    width, height = int(size.group(1)), int(size.group(2))
    each = width * height * 3
    count = min(len(wanted), len(data) // each) if each else 0
    return [Frame(wanted[i], width, height, data[i * each:(i + 1) * each]) for i in range(count)]


_SIZE = re.compile(r"Video: rawvideo.*?(\d{2,5})x(\d{2,5})")
