"""ffmpeg's log and ffprobe's JSON into media facts: format, duration, streams.

``ffmpeg -i FILE`` prints what it reads about its input in a human-readable log; its lines have
changed between major versions (``[0x1]`` stream ids from 5.0, no ``tbc`` from 5.0, colour details
and ``start`` from later ones), so ``tests/golden/ffmpeg/`` holds a log of each supported version.
``ffprobe -of json -show_streams -show_format`` says the same as data; both give one ``MediaInfo``.
A ``framecrc`` listing (one packet a line, no decoding) gives each stream's exact end and time base.
No process starts here (``ffmpeg.probe`` runs them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError


def _tail(log: str, keep: int = 1) -> list[str]:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-keep:]


@dataclass(frozen=True)
class StreamInfo:
    kind: str  # "video" | "audio" | other
    codec: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    pix_fmt: str = ""
    sample_rate: int = 0
    channels: str = ""  # "mono", "stereo", "5.1", ...
    attached_pic: bool = False


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    format: str  # demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "png_pipe", "wav"
    duration: float | None  # container duration, seconds
    streams: list[StreamInfo] = field(default_factory=list)

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video" and not s.attached_pic), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


_INPUT_RE = re.compile(r"^Input #0, (?P<fmt>[^ ]+), from")
_DURATION_RE = re.compile(r"Duration: (?P<h>\d+):(?P<m>\d+):(?P<s>[\d.]+)")
_STREAM_RE = re.compile(r"Stream #0:\d+[^:]*: (?P<kind>Video|Audio|Subtitle|Data): (?P<rest>.*)")
_SIZE_RE = re.compile(r"(?<![\w])(\d{2,5})x(\d{2,5})(?![\w])")
_FPS_RE = re.compile(r"([\d.]+k?) fps")
_RATE_RE = re.compile(r"(\d+) Hz")


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses (codec descriptions nest them)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _parse_stream(kind: str, rest: str) -> StreamInfo:
    parts = _split_top_level(rest)
    codec = parts[0].split(" ")[0] if parts else ""
    if kind == "video":
        size = _SIZE_RE.search(rest)
        fps = _FPS_RE.search(rest)
        fps_value = 0.0
        if fps:
            raw = fps.group(1)
            fps_value = float(raw[:-1]) * 1000 if raw.endswith("k") else float(raw)
        pix = parts[1].split("(")[0].strip() if len(parts) > 1 else ""
        return StreamInfo("video", codec, int(size.group(1)) if size else 0,
                          int(size.group(2)) if size else 0, fps_value, pix,
                          attached_pic="attached pic" in rest)
    if kind == "audio":
        rate = _RATE_RE.search(rest)
        channels = parts[2] if len(parts) > 2 else ""
        return StreamInfo("audio", codec, sample_rate=int(rate.group(1)) if rate else 0,
                          channels=channels)
    return StreamInfo(kind, codec)


def parse_probe_log(path: Path, log: str) -> MediaInfo:
    """Parse what ``ffmpeg -i FILE`` prints about its only input."""
    fmt, duration, streams = "", None, []
    for line in log.splitlines():
        stripped = line.strip()
        if m := _INPUT_RE.match(stripped):
            fmt = m.group("fmt")
        elif m := _DURATION_RE.search(stripped):
            duration = int(m.group("h")) * 3600 + int(m.group("m")) * 60 + float(m.group("s"))
        elif m := _STREAM_RE.search(stripped):
            streams.append(_parse_stream(m.group("kind").lower(), m.group("rest")))
    if not fmt:
        raise MediaError(f"{path}: ffmpeg cannot read this file ({_tail(log)[-1:] or 'no output'})")
    return MediaInfo(path, fmt, duration, streams)


def _rate(text: object) -> float:
    """``30/1`` or ``30000/1001`` as frames a second, to the hundredth (as the log prints)."""
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return round(float(value), 2) if value > 0 else 0.0


GUESSED_LAYOUTS = {1: "mono", 2: "stereo"}


def _json_stream(item: dict[str, Any]) -> StreamInfo:
    kind = str(item.get("codec_type") or "")
    codec = str(item.get("codec_name") or "")
    if kind == "video":
        disposition = item.get("disposition") or {}
        return StreamInfo("video", codec, int(item.get("width") or 0),
                          int(item.get("height") or 0),
                          _rate(item.get("avg_frame_rate") or item.get("r_frame_rate")),
                          str(item.get("pix_fmt") or ""),
                          attached_pic=bool(disposition.get("attached_pic")))
    if kind == "audio":
        count = item.get("channels", 0)
        # No layout in the file: ffmpeg's log guesses one for 1 and 2 channels, as here.
        layout = item.get("channel_layout") or GUESSED_LAYOUTS.get(count, f"{count} channels")
        return StreamInfo("audio", codec, sample_rate=int(item.get("sample_rate") or 0),
                          channels=str(layout))
    return StreamInfo(kind, codec)


def parse_probe_json(path: Path, text: str) -> MediaInfo | None:
    """Parse ``ffprobe -of json -show_streams -show_format``; None when it is not such an answer.
    The duration is rounded to the hundredth, as ffmpeg's log prints it, so both sources give
    the same facts."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    fmt = data.get("format") if isinstance(data, dict) else None
    if not isinstance(fmt, dict) or not fmt.get("format_name"):
        return None
    try:
        duration: float | None = round(float(fmt["duration"]), 2)
    except (KeyError, TypeError, ValueError):
        duration = None
    try:
        streams = [_json_stream(item) for item in data.get("streams") or []
                   if isinstance(item, dict)]
    except (TypeError, ValueError):
        return None  # a field of another type than ffprobe writes: the log decides
    return MediaInfo(path, str(fmt["format_name"]), duration, streams)


def framecrc_timebases(listing: str) -> dict[str, Fraction]:
    """Each stream kind's time base in a ``framecrc`` listing (the first stream of each kind)."""
    bases: dict[int, Fraction] = {}
    found: dict[str, Fraction] = {}
    for line in listing.splitlines():
        if line.startswith("#tb "):
            number, tb = line[4:].split(":")
            bases[int(number)] = Fraction(tb.strip())
        elif line.startswith("#media_type "):
            number, kind = line[12:].split(":")
            if int(number) in bases:
                found.setdefault(kind.strip(), bases[int(number)])
        elif line and not line.startswith("#"):
            break
    return found


def parse_framecrc(listing: str) -> tuple[dict[str, float], str]:
    """Stream end times by kind ("video", "audio"), from the packet timestamps of a ``framecrc``
    listing, and its first stream's ``#extradata`` line (the codec's parameter sets)."""
    timebase: dict[int, Fraction] = {}
    kinds: dict[int, str] = {}
    ends: dict[int, int] = {}
    extradata = ""
    for line in listing.splitlines():
        if line.startswith("#tb "):
            number, tb = line[4:].split(":")
            timebase[int(number)] = Fraction(tb.strip())
        elif line.startswith("#media_type "):
            number, kind = line[12:].split(":")
            kinds[int(number)] = kind.strip()
        elif line.startswith("#extradata 0"):
            extradata = line
        elif line and not line.startswith("#"):
            fields = line.split(",")
            stream, pts, dur = int(fields[0]), int(fields[2]), int(fields[3])
            ends[stream] = max(ends.get(stream, 0), pts + dur)
    lengths = {kinds[i]: float(ends[i] * timebase[i]) for i in ends if i in kinds and i in timebase}
    return lengths, extradata
