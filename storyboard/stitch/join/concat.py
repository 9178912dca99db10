"""Clip files into joinable facts and joined files: probing, compatibility, the stream-copy path.

Joining uses ffmpeg's concat *demuxer*: it reads one file after another, so memory does not grow
with the number of clips, and with ``-c copy`` nothing is decoded at all. That fast path needs
every clip to share codec, size, frame rate, pixel format, sample rate and channel layout; anything
else is normalised first (see ``mezzanine`` and ``segments``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.errors import FFmpegError, MediaError
from storyboard.media import ffmpeg, memo
from storyboard.media.ffmpeg import MediaInfo, StreamInfo
from storyboard.stitch.model import MissingMedia, StitchError, StitchOptions

SAMPLE_RATE = 48000
CHANNELS = "stereo"
PIX_FMT = "yuv420p"
FPS_TOLERANCE = 0.01
PROBE_JOBS = 8  # probes are short and mostly process start-up: more of them at once pays off


@dataclass(frozen=True)
class ClipFacts:
    """What a clip holds: its streams, the exact end of its video and audio, its SPS/PPS checksum."""

    path: Path
    info: MediaInfo
    video_len: float
    audio_len: float | None
    extradata: str = ""
    video_tb: Fraction = Fraction(0)  # the video stream's time base (1/timescale in MP4)

    @property
    def video(self) -> StreamInfo:
        assert self.info.video is not None  # probe_clip refuses files without video
        return self.info.video

    @property
    def audio(self) -> StreamInfo | None:
        return self.info.audio

    @property
    def length(self) -> float:
        """The file's length as the concat demuxer sees it: its longest stream."""
        return max(self.video_len, self.audio_len or 0.0)


@dataclass(frozen=True)
class EpisodeFormat:
    """The one format every clip is brought to before joining."""

    width: int
    height: int
    fps: Fraction
    sample_rate: int = SAMPLE_RATE
    # Every piece's video is written with this MP4 timescale: the concat demuxer copies timestamps
    # as they are, so files with other time bases would land at the wrong times (or collapse).
    timescale: int = 0


def as_rate(fps: float) -> Fraction:
    """A frame rate as an exact fraction; 29.97 means 30000/1001, as it does in video."""
    if abs(fps - round(fps)) < FPS_TOLERANCE:
        return Fraction(round(fps))
    ntsc = round(fps * 1.001)
    if abs(fps - ntsc / 1.001) < FPS_TOLERANCE:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


def require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise MissingMedia(f"{what} not found: {path}")


def probe_clip(path: Path, listing: Path) -> ClipFacts:
    """Stream facts, exact stream lengths and parameter sets from one packet scan (no decoding).

    One ``-c copy -f framecrc`` run gives all three: its log is what ``ffmpeg -i`` prints (parsed
    by ``ffmpeg.parse_probe_log``), its output lists every packet (the same reading as
    ``ffmpeg.stream_lengths``). One process per clip instead of three keeps the copy path fast,
    and the facts are remembered for the life of the process as a probe is (``memo.recall``: the
    same take copied into another series, or stitched again, is not read again).
    """
    require_file(path, "clip")
    found = memo.recall(("clip facts",), path, lambda: _scan(path, listing))
    if found.path == path:
        return found
    return dataclasses.replace(found, path=path, info=dataclasses.replace(found.info, path=path))


def _scan(path: Path, listing: Path) -> ClipFacts:
    """The one packet scan of ``probe_clip``, its listing written to ``listing``."""
    try:
        log = ffmpeg.run(["-i", str(path), "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy",
                          "-f", "framecrc", str(listing)], what=f"reading {path.name}")
    except FFmpegError as exc:
        raise MediaError(f"{path}: ffmpeg cannot read this clip\n{exc}") from exc
    info = ffmpeg.parse_probe_log(path, log)
    if info.video is None:
        raise StitchError(f"{path}: has no video stream to stitch")
    text = listing.read_text(encoding="utf-8", errors="replace")
    lengths, extradata = ffmpeg.parse_framecrc(text)
    video_len = lengths.get("video") or info.duration or 0.0
    if video_len <= 0:
        raise StitchError(f"{path}: cannot tell how long its video is")
    audio_len = lengths.get("audio") if info.audio is not None else None
    video_tb = ffmpeg.framecrc_timebases(text).get("video", Fraction(0))
    return ClipFacts(path, info, video_len, audio_len, extradata, video_tb)


def episode_format(first: ClipFacts, options: StitchOptions) -> EpisodeFormat:
    """Options win; anything they leave out comes from the first clip (sizes made even)."""
    width = options.width or first.video.width
    height = options.height or first.video.height
    fps = as_rate(options.fps) if options.fps else as_rate(first.video.fps or 30.0)
    if width <= 0 or height <= 0:
        raise StitchError(f"{first.path}: cannot tell its frame size; set width and height")
    return EpisodeFormat(width + width % 2, height + height % 2, fps)


def default_timescale(fps: Fraction) -> int:
    """A timescale of at least 10,000 in which every frame lasts a whole number of ticks."""
    return fps.numerator * max(1, math.ceil(10_000 / fps.numerator))


def episode_timescale(facts: Sequence[ClipFacts], fmt: EpisodeFormat) -> int:
    """The timescale of the first clip whose video is reused as is (so it needs no rescaling),
    else one made for the frame rate."""
    for clip in facts:
        tb = clip.video_tb
        if video_matches(clip, fmt) and tb.numerator == 1 and tb.denominator % fmt.fps.numerator == 0:
            return tb.denominator
    return default_timescale(fmt.fps)


def same_timebase(facts: Sequence[ClipFacts]) -> bool:
    """The copy path joins packets as they are: only clips that share one time base."""
    return len({c.video_tb for c in facts}) == 1


def video_matches(clip: ClipFacts, fmt: EpisodeFormat) -> bool:
    v = clip.video
    return (v.codec == "h264" and v.width == fmt.width and v.height == fmt.height
            and v.pix_fmt == PIX_FMT and abs(v.fps - float(fmt.fps)) < FPS_TOLERANCE)


def audio_matches(clip: ClipFacts) -> bool:
    a = clip.audio
    return (a is not None and a.codec == "aac" and a.sample_rate == SAMPLE_RATE
            and a.channels == CHANNELS)


def concat_list(paths: Sequence[Path], list_file: Path) -> Path:
    """Write a concat demuxer list; quotes in paths are escaped the way the demuxer expects."""
    lines = []
    for path in paths:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    list_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list_file


def concat_input(list_file: Path) -> list[str]:
    return ["-f", "concat", "-safe", "0", "-i", str(list_file)]


def copy_join(clips: Sequence[ClipFacts], out: Path, work: Path) -> None:
    """The fast path: concatenate packets as they are (no decoding, no encoding).

    When every clip carries the same SPS/PPS the packets are copied byte for byte. When they differ
    (same size and codec, other encoder settings) the demuxer's ``auto_convert`` repeats each clip's
    parameter sets in-band before its keyframes, so every clip still decodes correctly.
    """
    listing = concat_list([c.path for c in clips], work / "copy.txt")
    auto_convert = "0" if len({c.extradata for c in clips}) == 1 else "1"
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run(["-auto_convert", auto_convert, *concat_input(listing), "-map", "0:v:0",
                    "-map", "0:a:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4",
                    str(tmp)], what=f"joining {len(clips)} clips into {out.name}")
