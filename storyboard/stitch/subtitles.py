"""Clip cues into episode subtitles: SRT and WebVTT sidecars, and an SRT made safe for burning in.

Cue times are relative to their clip; each clip's start in the episode (transition overlaps
included) shifts them onto the episode clock. Times are rounded to whole milliseconds once, then
formatted, so a cue at 1.9996 s reads ``00:00:02,000`` and never ``00:00:01,1000``.

User text reaches ffmpeg only inside a subtitle file, never in a filter argument. The burn-in file
is escaped for libass, which would otherwise read ``\\N`` as a line break and hide ``{...}`` as
override tags: a backslash gets an invisible WORD JOINER after it, braces become ``\\{`` and
``\\}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.files import write_text_atomic
from storyboard.stitch.model import Clip

WORD_JOINER = "\u2060"


@dataclass(frozen=True)
class TimedCue:
    """A cue on the episode clock, with its speaker prefix already applied."""

    start: float
    end: float
    text: str


def _clean(text: str) -> str:
    """One cue's text: no carriage returns, no blank lines (both formats end a cue at one)."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def episode_cues(clips: Sequence[Clip], starts: Sequence[float],
                 lengths: Sequence[float]) -> list[TimedCue]:
    """Every clip's cues shifted by the clip's start, clamped to the clip, in time order."""
    out: list[TimedCue] = []
    for clip, start, length in zip(clips, starts, lengths, strict=True):
        for cue in clip.cues:
            begin, end = max(0.0, cue.start), min(cue.end, length)
            text = _clean(cue.text)
            if end <= begin or not text:
                continue
            if cue.speaker:
                text = f"{cue.speaker}: {text}"
            out.append(TimedCue(start + begin, start + end, text))
    return sorted(out, key=lambda c: (c.start, c.end))


def _clock(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def srt_time(seconds: float) -> str:
    return _clock(seconds, ",")


def vtt_time(seconds: float) -> str:
    return _clock(seconds, ".")


def to_srt(cues: Sequence[TimedCue]) -> str:
    blocks = [f"{i}\n{srt_time(c.start)} --> {srt_time(c.end)}\n{c.text}\n"
              for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[TimedCue]) -> str:
    blocks = [f"{vtt_time(c.start)} --> {vtt_time(c.end)}\n{_vtt_escape(c.text)}\n" for c in cues]
    return "\n".join(["WEBVTT\n", *blocks])


def libass_escape(text: str) -> str:
    """Text that libass draws literally: no ``\\N`` line breaks, no hidden ``{...}`` blocks."""
    text = text.replace("\\", "\\" + WORD_JOINER)
    return text.replace("{", "\\{").replace("}", "\\}")


def burn_srt(cues: Sequence[TimedCue]) -> str:
    """An SRT for the ``subtitles`` filter (libass), escaped so the text renders as written."""
    return to_srt([TimedCue(c.start, c.end, libass_escape(c.text)) for c in cues])


def write_sidecars(cues: Sequence[TimedCue], video: Path) -> tuple[Path, Path]:
    """``episode.srt`` and ``episode.vtt`` beside ``episode.mp4``."""
    return (write_text_atomic(video.with_suffix(".srt"), to_srt(cues)),
            write_text_atomic(video.with_suffix(".vtt"), to_vtt(cues)))
