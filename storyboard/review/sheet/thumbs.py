"""Videos and images into small JPEG stills, cached by content, served as ``data:`` URIs.

A rendered shot gives its first, middle and last frame; a shot not rendered yet gives its
references (an image as it is, a video's first frame). Each still is taken at an exact frame time
by one single-threaded ffmpeg run with bit-exact flags, so the same inputs give the same bytes and
the sheet diffs cleanly. Stills are cached in ``.storyboard/thumbs/`` by the source's sha256.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.media.probe import sha256_file

WIDTH = 320
_TAKING: dict[Path, threading.Event] = {}  # stills being taken in this process, by their file
_TAKING_LOCK = threading.Lock()


@dataclass(frozen=True)
class Still:
    """An image for the page: ``src`` is a data URI; ``path`` the cached JPEG (for the PNG)."""

    src: str
    caption: str
    path: Path


def frame_times(length: float, fps: Fraction) -> list[tuple[str, float]]:
    """First, middle and last frame of a ``length``-second video, as seek times that land
    exactly on those frames (a quarter frame early: the seek keeps the first frame at or after)."""
    frames = max(1, round(length * fps))
    picks = [("first", 0), ("middle", (frames - 1) // 2), ("last", frames - 1)]
    return [(name, max(0.0, float((index - Fraction(1, 4)) / fps))) for name, index in picks]


class Thumbs:
    def __init__(self, cache_dir: Path, width: int = WIDTH) -> None:
        self.dir = cache_dir
        self.width = width
        self._digests: dict[Path, str] = {}

    def _digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = sha256_file(path)
        return self._digests[path]

    def _out(self, src: Path, at: float | None) -> Path:
        key = f"{self._digest(src)}:{at!r}:{self.width}"
        return self.dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.jpg"

    def _still(self, src: Path, at: float | None, caption: str) -> Still:
        out = self._out(src, at)
        if not out.is_file():
            take(src, out, at, self.width)
        data = base64.b64encode(out.read_bytes()).decode("ascii")
        return Still(f"data:image/jpeg;base64,{data}", caption, out)

    def frames(self, video: Path, length: float, fps: Fraction) -> list[Still]:
        """First, middle and last frame of a rendered video (the missing ones taken side by
        side: a new shot's stills are most of what the studio waits for)."""
        times = frame_times(length, fps)
        if all(self._out(video, at).is_file() for _, at in times):
            return [self._still(video, at, f"{name} frame") for name, at in times]
        with ThreadPoolExecutor(max_workers=max(1, len(times))) as pool:
            return list(pool.map(lambda t: self._still(video, t[1], f"{t[0]} frame"), times))

    def image(self, image: Path, caption: str) -> Still:
        return self._still(image, None, caption)

    def video_start(self, video: Path, caption: str) -> Still:
        return self._still(video, 0.0, caption)

    def frame(self, video: Path, index: int, fps: Fraction, caption: str) -> Still:
        """Frame ``index`` of a video (an episode's poster), sought as ``frame_times`` does."""
        return self._still(video, max(0.0, float((index - Fraction(1, 4)) / fps)), caption)


def take(src: Path, out: Path, at: float | None, width: int) -> None:
    """Take one still into ``out``; while another thread of this process takes the same one
    (the studio takes a new draft's stills ahead of its page), wait for it instead."""
    with _TAKING_LOCK:
        taking = _TAKING.get(out)
        if taking is None:
            _TAKING[out] = threading.Event()
    if taking is not None:
        taking.wait()
        if not out.is_file():  # the other taker failed: its error is ours to see
            ffmpeg.still(src, out, at=at, width=width)
        return
    try:
        ffmpeg.still(src, out, at=at, width=width)
    finally:
        with _TAKING_LOCK:
            _TAKING.pop(out).set()
