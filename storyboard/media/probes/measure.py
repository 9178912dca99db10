"""A take's file into its measurements: one ffmpeg pass, its log parsed into facts.

A video is decoded once, its frames (scaled down to ``WIDTH`` wide: the detectors need no more)
through ``scdet`` (scene-change scores: a cut inside a shot), ``blackdetect`` and ``freezedetect``,
its sound through ``silencedetect``, ``astats`` (the peak and how often it is reached: clipping)
and ``ebur128`` (integrated loudness). An image goes through ``signalstats`` (how far apart its
darkest and brightest tenth are: a blank picture); a voice is timed. The detectors record
generously (``FLOOR``): what counts as a finding is judged later against the settings, so a
changed threshold never measures a file again. ``VERSION`` names what is measured; a version that
measures more measures each file once more.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storyboard.media import ffmpeg, imagehead, memo

VERSION = 1
WIDTH = 320  # frames are scaled to this width before the detectors run
FLOOR = {"scene": 5.0, "black": 0.1, "freeze": 0.2, "silence": 0.2}  # what the detectors record
BLACK_PIXEL = 0.10  # a pixel this dark (of full scale) counts as black
FREEZE_NOISE = 0.003  # frames closer than this count as the same picture
SILENCE_DB = -50  # quieter than this counts as silence
IMAGE_FILTERS = "format=yuv420p,signalstats,metadata=print"  # an image's frame, to its spread


@dataclass(frozen=True)
class Measured:
    """What one pass over a file found (times in seconds from its start)."""

    kind: str  # "video" | "image" | "audio"
    seconds: float = 0.0
    width: int = 0
    height: int = 0
    has_audio: bool = False
    cuts: list[tuple[float, float]] = field(default_factory=list)  # (time, scdet score 0..100)
    black: list[tuple[float, float]] = field(default_factory=list)  # (start, end)
    frozen: list[tuple[float, float]] = field(default_factory=list)
    silence: list[tuple[float, float]] = field(default_factory=list)
    peak_db: float | None = None  # the loudest sample, dBFS
    peak_count: int = 0  # how many times it was reached
    loudness: float | None = None  # integrated loudness, LUFS
    spread: float | None = None  # an image's luma between its 10th and 90th percentile
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measured:
        pairs = ("cuts", "black", "frozen", "silence")
        values: dict[str, Any] = {k: [tuple(p) for p in v] if k in pairs else v
                                  for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**values)


KINDS = ("video", "image", "audio")


def trusted(data: object) -> Measured | None:
    """A measurement read from outside this clone (a team's store) if it is whole: a known
    kind, each field of its type, every number finite, sizes and counts not negative, made by
    this version or a later one; else None (measure the file here)."""
    if not isinstance(data, dict):
        return None
    try:
        found = Measured.from_dict(data)
    except (TypeError, ValueError):
        return None
    return found if _whole(found) and found.version >= VERSION else None


def _whole(found: Measured) -> bool:
    pairs = [p for spans in (found.cuts, found.black, found.frozen, found.silence) for p in spans]
    if not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        return False
    counts = (found.width, found.height, found.peak_count, found.version)
    optional = [v for v in (found.peak_db, found.loudness, found.spread) if v is not None]
    return (found.kind in KINDS and type(found.has_audio) is bool
            and all(type(c) is int and c >= 0 for c in counts)
            and _finite(found.seconds) and found.seconds >= 0
            and all(_finite(v) for v in (*optional, *(v for p in pairs for v in p))))


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def measure(path: Path, kind: str = "video") -> Measured:
    """Measure ``path`` (``kind``: video, image or audio) in one ffmpeg run; an image whose
    header holds more pixels than any model takes is not decoded (its size is all it gives).
    Remembered for the life of the process as a probe is (``memo.recall``: a copy of a file
    measured already is not measured again); each caller gets its own copy."""
    found = memo.recall(("measure", kind, VERSION), path, lambda: _measure(path, kind))
    return copy.deepcopy(found)


def _measure(path: Path, kind: str) -> Measured:
    if kind == "image" and (declared := _too_large(path)) is not None:
        return Measured("image", width=declared[0], height=declared[1])
    if kind == "image":
        return _image(path)
    info = ffmpeg.probe(path)
    if kind == "audio":
        return Measured("audio", seconds=info.duration or 0.0)
    return _video(path, info)


def _video(path: Path, info: ffmpeg.MediaInfo) -> Measured:
    video, audio = info.video, info.audio
    chains, maps = [], []
    if video is not None:
        chains.append(f"[0:v]scale={WIDTH}:-2,scdet=t={FLOOR['scene']},"
                      f"blackdetect=d={FLOOR['black']}:pix_th={BLACK_PIXEL},"
                      f"freezedetect=n={FREEZE_NOISE}:d={FLOOR['freeze']}[vo]")
        maps += ["-map", "[vo]"]
    if audio is not None:
        chains.append(f"[0:a]silencedetect=n={SILENCE_DB}dB:d={FLOOR['silence']},"
                      "astats=metadata=0,ebur128=framelog=verbose[ao]")
        maps += ["-map", "[ao]"]
    log = ffmpeg.run(["-nostats", "-i", str(path), "-filter_complex", ";".join(chains), *maps,
                      "-f", "null", "-"], what=f"measuring {path.name}")
    seconds = info.duration or 0.0
    return Measured(
        "video", seconds=seconds, width=video.width if video else 0,
        height=video.height if video else 0, has_audio=audio is not None, cuts=cuts(log),
        black=spans(log, "black_start", "black_end", seconds),
        frozen=spans(log, "freeze_start", "freeze_end", seconds),
        silence=spans(log, "silence_start", "silence_end", seconds),
        peak_db=_number(log, r"Overall[\s\S]*?Peak level dB: (\S+)"),
        peak_count=int(_number(log, r"Overall[\s\S]*?Peak count: (\S+)") or 0),
        loudness=_number(log, r"Integrated loudness:\s*I:\s*(\S+) LUFS") if audio else None)


def _too_large(path: Path) -> tuple[int, int] | None:
    try:
        with path.open("rb") as handle:
            kind = imagehead.sniff(handle.read(32))
    except OSError:
        return None
    return imagehead.too_many_pixels(path, kind)


def _image(path: Path) -> Measured:
    """An image's size and spread from one ffmpeg run: its log says what its input is (as
    ``ffmpeg -i`` does), so no probe is started for it (a system ffprobe's start-up was a third
    of an image's measuring). The spread is of the luma alone, which a 4:2:0 frame holds as a
    4:4:4 one does, pixel for pixel; signalstats's work on its quarter-size chroma is half of
    the 4:4:4 frame's whole."""
    log = ffmpeg.run(["-nostats", *imagehead.demuxer(path), "-i", str(path), "-vf", IMAGE_FILTERS,
                      "-frames:v", "1",
                      "-f", "null", "-"], what=f"measuring {path.name}")
    return image_from_log(path, log)


def decodes(path: Path) -> bool:
    """Whether measuring the image ``path`` decodes it (its header's pixels not too many)."""
    return _too_large(path) is None


def image_from_log(path: Path, log: str) -> Measured:
    """The image ``path``'s measurement from the log of an ffmpeg run whose first input it is
    and which sends its one frame through ``IMAGE_FILTERS`` (``_image``'s, or another run's that
    decodes it anyway: the held board's)."""
    low = _number(log, r"lavfi\.signalstats\.YLOW=(\S+)")
    high = _number(log, r"lavfi\.signalstats\.YHIGH=(\S+)")
    video = ffmpeg.parse_probe_log(path, _INPUT_PART.split(log)[0]).video
    spread = None if low is None or high is None else round(high - low, 3)
    return Measured("image", width=video.width if video else 0,
                    height=video.height if video else 0, spread=spread)


_INPUT_PART = re.compile(r"\n(?:Stream mapping:|Output #)")  # what follows is not the input
_SCENE = re.compile(r"lavfi\.scd\.score: ([\d.]+), lavfi\.scd\.time: ([\d.]+)")


def cuts(log: str) -> list[tuple[float, float]]:
    """``scdet``'s scene changes: (time, score)."""
    return [(round(float(t), 3), round(float(s), 3)) for s, t in _SCENE.findall(log)]


def spans(log: str, start: str, end: str, seconds: float) -> list[tuple[float, float]]:
    """The (start, end) pairs a detector logged as ``start: T`` ... ``end: T``; one still open
    at the end of the file ends there."""
    found: list[tuple[float, float]] = []
    opened: float | None = None
    for name, value in re.findall(rf"\b({start}|{end})[:=]\s*(-?[\d.]+)", log):
        if name == start:
            opened = max(0.0, float(value))
        elif opened is not None:
            found.append((round(opened, 3), round(float(value), 3)))
            opened = None
    if opened is not None and seconds > opened:
        found.append((round(opened, 3), round(seconds, 3)))
    return found


def _number(log: str, pattern: str) -> float | None:
    match = re.search(pattern, log)
    if match is None:
        return None
    try:
        value = float(match.group(1))
    except ValueError:
        return None
    return round(value, 3) if math.isfinite(value) else None
