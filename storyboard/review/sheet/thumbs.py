"""Videos and images into small JPEG stills, cached by content, shown as ``data:`` URIs or links.

A rendered shot gives its first, middle and last frame; a shot not rendered yet gives its
references (an image as it is, a video's first frame). Each still is taken at an exact frame time
by one single-threaded ffmpeg run with bit-exact flags, so the same inputs give the same bytes and
the sheet diffs cleanly. Stills are cached in ``.storyboard/thumbs/`` by the source's sha256; a
still's file name is a hash of what it shows (the source's content, the time, the width), so the
same name always holds the same picture. The standalone sheet inlines each still as a ``data:``
URI; the studio links them by name (``link``) and serves them itself.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media import ffmpeg
from storyboard.media.probes.probe import sha256_file
from storyboard.stitch.join.concat import as_rate

WIDTH = 320
_TAKING: dict[Path, threading.Event] = {}  # stills being taken in this process, by their file
_TAKING_LOCK = threading.Lock()
_RATES: dict[Path, Fraction] = {}  # clips whose stills are taken at their own rate


@dataclass(frozen=True)
class Still:
    """An image for the page: ``src`` is a data URI or a link by name; ``path`` the cached JPEG
    (for the PNG, and what the studio serves for the link)."""

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
    @classmethod
    def of_series(cls, root: Path, link: str = "") -> Thumbs:
        """The stills of the series at ``root``, in its ``.storyboard/thumbs``."""
        return cls(root / ".storyboard" / "thumbs", link=link)

    def __init__(self, cache_dir: Path, width: int = WIDTH, link: str = "") -> None:
        self.dir = cache_dir
        self.width = width
        self.link = link  # "": each still inline (a data: URI); else the URL its names go under
        self._digests: dict[Path, str] = {}

    def _digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = _content_hash(path)
        return self._digests[path]

    def _out(self, src: Path, at: float | None) -> Path:
        key = f"{self._digest(src)}:{at!r}:{self.width}"
        out = _OUTS.get((self.dir, key))
        if out is None:
            out = self.dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.jpg"
            if len(_OUTS) >= 100_000:
                _OUTS.clear()
            _OUTS[(self.dir, key)] = out
        return out

    def _still(self, src: Path, at: float | None, caption: str) -> Still:
        out = self._out(src, at)
        if not out.is_file():
            take(src, [(at, out)], self.width)
        return Still(self.link + out.name if self.link else _data_uri(out), caption, out)

    def frames(self, video: Path, length: float, fps: Fraction) -> list[Still]:
        """First, middle and last frame of a rendered video (the missing ones by one ffmpeg run:
        a new shot's stills are much of what the studio waits for), at ``fps``, the episode's
        rate; a clip of a lower rate that has no frame there (a draft beside a paid take) gives
        its own frames (its rate kept: asked once)."""
        rate = _RATES.get(video, fps)
        try:
            return self._frames(video, length, rate)
        except MediaError:
            info = ffmpeg.probe(video).video
            own = as_rate(info.fps) if info is not None and info.fps > 0 else rate
            if own == rate:
                raise
            if len(_RATES) >= 10_000:
                _RATES.clear()
            _RATES[video] = own
            return self._frames(video, length, own)

    def _frames(self, video: Path, length: float, fps: Fraction) -> list[Still]:
        times = frame_times(length, fps)
        missing = [(at, out) for _, at in times if not (out := self._out(video, at)).is_file()]
        if missing:
            take(video, missing, self.width)
        return [self._still(video, at, f"{name} frame") for name, at in times]

    def around(self, video: Path, start: float, end: float, length: float) -> list[Still]:
        """A small strip about a stretch of a video: half a second before it, its middle and
        half a second after it (within the video), captioned with their times."""
        last = max(0.0, length - 0.05)
        times = [min(max(0.0, at), last) for at in (start - 0.5, (start + end) / 2, end + 0.5)]
        missing = [(at, out) for at in times if not (out := self._out(video, at)).is_file()]
        if missing:
            take(video, missing, self.width)
        return [self._still(video, at, f"{at:.2f} s") for at in times]

    def image(self, image: Path, caption: str) -> Still:
        return self._still(image, None, caption)

    def video_start(self, video: Path, caption: str) -> Still:
        return self._still(video, 0.0, caption)

    def frame(self, video: Path, index: int, fps: Fraction, caption: str) -> Still:
        """Frame ``index`` of a video (an episode's poster), sought as ``frame_times`` does."""
        return self._still(video, max(0.0, float((index - Fraction(1, 4)) / fps)), caption)


def take(src: Path, picks: Sequence[tuple[float | None, Path]], width: int) -> None:
    """Take the stills ``picks`` (``(at, out)``) of ``src``: a video's by one ffmpeg run. Those
    another thread of this process is taking (the studio takes a new draft's stills ahead of
    its page) are waited for, not taken twice."""
    with _TAKING_LOCK:
        mine = [(at, out) for at, out in picks if out not in _TAKING]
        theirs = [_TAKING[out] for at, out in picks if out in _TAKING]
        for _, out in mine:
            _TAKING[out] = threading.Event()
    try:
        _take(src, mine, width)
    finally:
        with _TAKING_LOCK:
            for _, out in mine:
                _TAKING.pop(out).set()
    for event in theirs:
        event.wait()
    _take(src, [(at, out) for at, out in picks if not out.is_file()], width)  # theirs failed


def _take(src: Path, picks: Sequence[tuple[float | None, Path]], width: int) -> None:
    timed = [(at, out) for at, out in picks if at is not None]
    if len(timed) > 1 and len(timed) == len(picks):
        ffmpeg.stills(src, timed, width=width)
        return
    for at, out in picks:
        ffmpeg.still(src, out, at=at, width=width)


_OUTS: dict[tuple[Path, str], Path] = {}  # a still's file by what it shows
_HASHES: dict[Path, tuple[int, int, str]] = {}  # a source's sha256 by its size and mtime
_URIS: dict[Path, str] = {}  # a still's data: URI (a still's name is a hash of what it shows)
_URI_BYTES = 256 << 20  # what the page's stills may hold in memory in a long-lived process
_HELD = [0]  # bytes in _URIS


def _content_hash(path: Path) -> str:
    """``path``'s sha256, hashed again only when its size or modification time changed (the
    studio rebuilds its page on every save: every draft is not read again each time)."""
    info = path.stat()
    known = _HASHES.get(path)
    if known is not None and known[:2] == (info.st_size, info.st_mtime_ns):
        return known[2]
    digest = sha256_file(path)
    _HASHES[path] = (info.st_size, info.st_mtime_ns, digest)
    return digest


def _data_uri(out: Path) -> str:
    known = _URIS.get(out)
    if known is None:
        known = "data:image/jpeg;base64," + base64.b64encode(out.read_bytes()).decode("ascii")
        if _HELD[0] > _URI_BYTES:
            _URIS.clear()
            _HELD[0] = 0
        _URIS[out] = known
        _HELD[0] += len(known)
    return known
