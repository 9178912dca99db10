"""Clip cues into episode subtitles: SRT and WebVTT sidecars, and an ASS script for burning in.

Cue times are relative to their clip; each clip's start in the episode (transition overlaps
included) shifts them onto the episode clock. Times are rounded to whole milliseconds once, then
formatted, so a cue at 1.9996 s reads ``00:00:02,000`` and never ``00:00:01,1000``.

A long line is split into readable cues of about equal length: lines of at most ``LINE``
characters (a longer word alone on its line), at most ``LINES`` to a cue, each cue on screen for
its share of the line's time by its number of characters (the speaker's name only on the first).

Cues never overlap: where two cues meet (two lines across a transition), the earlier one hands
over to the later one at the middle of their overlap (or, when that would leave either less than
``MIN_CUE`` seconds, they share the overlap as one two-line cue). A cue's text can never start a
cue of its own: blank lines are dropped and ``-->`` gets an invisible WORD JOINER inside it, so no
line of dialogue reads as a timing line. SRT ends every cue with a blank line, WebVTT likewise
after its ``WEBVTT`` header.

What a line says is text, shown as written in every file: no player reads markup from it. Each
format escapes it its own way, with invisible WORD JOINERs where it has no escape of its own:

- SRT (``srt_escape``): players read ``<i>``/``<font>`` tags and ASS override blocks (``{\\an8}``,
  ``{\\b1}``) from SubRip, and ffmpeg's SubRip decoder hands every other ``{...}`` to libass,
  which hides it. A backslash gets a WORD JOINER after it (no ``\\N``, ``\\h`` or ``{\\``),
  a brace becomes ``\\{`` (a WORD JOINER after it) or ``\\}``, as libass draws them, and ``<``
  gets a WORD JOINER after it, so it starts no tag.
- WebVTT: ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;``.
- Burn-in: an ASS file written here (user text reaches ffmpeg only inside a subtitle file, never in
  a filter argument), escaped as libass draws it literally (``libass_escape``): a backslash gets a
  WORD JOINER after it and braces become ``\\{`` and ``\\}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.files import write_atomic
from storyboard.stitch.model import Clip, SafeArea

WORD_JOINER = "\u2060"
MIN_CUE = 0.3  # seconds: a hand-over never leaves a cue shorter than this
LINE = 42  # characters on a subtitle line, as broadcasters' guidelines keep them
LINES = 2  # lines to a cue


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
    """Every clip's cues shifted by the clip's start, clamped to the clip, in time order, with
    overlaps handed over (see the module docstring)."""
    out: list[TimedCue] = []
    for clip, start, length in zip(clips, starts, lengths, strict=True):
        for cue in clip.cues:
            begin, end = max(0.0, cue.start), min(cue.end, length)
            text = _clean(cue.text)
            if end <= begin or not text:
                continue
            if cue.speaker:
                text = f"{cue.speaker}: {text}"
            out += readable(_ms(start + begin), _ms(start + end), text)
    return without_overlaps(sorted(out, key=lambda c: (c.start, c.end)))


def wrapped(text: str) -> list[str]:
    """``text`` in lines of at most ``LINE`` characters, broken at spaces (its own lines kept)."""
    lines: list[str] = []
    for own in text.split("\n"):
        line = ""
        for word in own.split():
            if line and len(line) + 1 + len(word) > LINE:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return [line for line in lines if line]


def readable(start: float, end: float, text: str) -> list[TimedCue]:
    """One cue's text as cues of at most ``LINES`` lines of ``LINE`` characters, of about equal
    length, the time shared by their length in characters (the last ending at ``end``)."""
    lines = wrapped(text)
    if len(lines) <= LINES:
        return [TimedCue(start, end, "\n".join(lines))]
    parts = balanced(text.split(), -(-len(lines) // LINES))
    total = sum(len(part) for part in parts)
    cues, at, done = [], start, 0
    for part in parts:
        done += len(part)
        until = end if done == total else _ms(start + (end - start) * done / total)
        cues.append(TimedCue(at, until, part))
        at = until
    return cues


def balanced(words: list[str], count: int) -> list[str]:
    """``words`` in at least ``count`` cues of about equal length, each at most ``LINES`` lines."""
    total = sum(len(word) + 1 for word in words)
    groups: list[list[str]] = [[]]
    done = 0
    for word in words:
        if groups[-1] and done >= total * len(groups) / count:
            groups.append([])
        groups[-1].append(word)
        done += len(word) + 1
    parts = [wrapped(" ".join(group)) for group in groups]
    if any(len(part) > LINES for part in parts):
        return balanced(words, count + 1)
    return ["\n".join(part) for part in parts]


def _ms(seconds: float) -> float:
    """Rounded to the millisecond once, so the files and the overlap check agree."""
    return round(seconds * 1000) / 1000


def without_overlaps(cues: Sequence[TimedCue]) -> list[TimedCue]:
    """Sorted cues with no two on screen at once: hand over at the middle, or share as one cue."""
    out: list[TimedCue] = []
    for cue in cues:
        last = out[-1] if out else None
        if last is None or last.end <= cue.start:
            out.append(cue)
            continue
        middle = _ms((cue.start + last.end) / 2)
        if cue.end > last.end and middle - last.start >= MIN_CUE and cue.end - middle >= MIN_CUE:
            out[-1] = TimedCue(last.start, middle, last.text)
            out.append(TimedCue(middle, cue.end, cue.text))
        else:  # one inside the other, or too short to split: both lines share the time
            out[-1] = TimedCue(last.start, max(last.end, cue.end), f"{last.text}\n{cue.text}")
    return out


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


def _no_timing(text: str) -> str:
    """Text that no subtitle parser reads as a timing line."""
    return text.replace("-->", "--" + WORD_JOINER + ">")


def srt_escape(text: str) -> str:
    """Text that SubRip players (ffmpeg's decoder and libass: mpv, the ``subtitles`` filter; VLC)
    show as text: no ``<tag>``, no ``{\\override}`` or ``{y:i}`` block, no ``\\N`` break."""
    text = text.replace("\\", "\\" + WORD_JOINER)
    text = text.replace("{", "\\{" + WORD_JOINER).replace("}", "\\}")
    return _no_timing(text.replace("<", "<" + WORD_JOINER))


def to_srt(cues: Sequence[TimedCue]) -> str:
    """SubRip: numbered cues, each ended by a blank line."""
    return "".join(f"{i}\n{srt_time(c.start)} --> {srt_time(c.end)}\n{srt_escape(c.text)}\n\n"
                   for i, c in enumerate(cues, 1))


def _vtt_escape(text: str) -> str:
    return _no_timing(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def to_vtt(cues: Sequence[TimedCue]) -> str:
    """WebVTT: the header, then each cue, each followed by a blank line."""
    blocks = "".join(f"{vtt_time(c.start)} --> {vtt_time(c.end)}\n{_vtt_escape(c.text)}\n\n"
                     for c in cues)
    return f"WEBVTT\n\n{blocks}"


def libass_escape(text: str) -> str:
    """Text that libass draws literally: no ``\\N`` line breaks, no hidden ``{...}`` blocks."""
    text = text.replace("\\", "\\" + WORD_JOINER)
    return text.replace("{", "\\{").replace("}", "\\}")


def burn_spans(cues: Sequence[TimedCue], fps: Fraction, total: int) -> list[tuple[int, int]]:
    """The episode frames [first, end) each cue is drawn on when burnt in: its ASS times (whole
    centiseconds), with a frame to spare either side for libass's millisecond rounding."""
    spans = []
    for cue in cues:
        start, end = Fraction(round(cue.start * 100), 100), Fraction(round(cue.end * 100), 100)
        first = math.floor(start * fps) - 1
        last = math.ceil(end * fps) + 1
        spans.append((max(0, first), min(total, last)))
    return spans


def ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    hours, cs = divmod(cs, 360_000)
    minutes, cs = divmod(cs, 6000)
    secs, cs = divmod(cs, 100)
    return f"{hours:d}:{minutes:02d}:{secs:02d}.{cs:02d}"


_ASS_HEAD = """[Script Info]
ScriptType: v4.00+
PlayResX: {width}
PlayResY: {height}
WrapStyle: 0
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, \
Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,DejaVu Sans,{size},&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,\
0,0,1,{outline},0,2,{left},{right},{bottom},1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def burn_ass(cues: Sequence[TimedCue], width: int, height: int,
             safe: SafeArea | None = None) -> str:
    """An ASS script for the ``subtitles`` filter (libass), its text escaped to draw as written:
    bottom-centred, inside ``safe`` (its bottom, left and right margins; else 4 % of the height
    on each side)."""
    size = max(8, round(min(width, height) * 0.055))
    margin = max(4, round(height * 0.04))
    _, bottom, left, right = (margin, margin, margin, margin) if safe is None else \
        safe.pixels(width, height)
    head = _ASS_HEAD.format(width=width, height=height, size=size, outline=max(1, size // 14),
                            left=left, right=right, bottom=bottom)
    events = "".join(f"Dialogue: 0,{ass_time(c.start)},{ass_time(c.end)},Default,,0,0,0,,"
                     f"{_ass_text(c.text)}\n" for c in cues)
    return head + events


def _ass_text(text: str) -> str:
    """Our line breaks become ASS ``\\N``; everything else is drawn literally."""
    return "\\N".join(libass_escape(line) for line in text.split("\n"))


def write_sidecars(cues: Sequence[TimedCue], video: Path) -> tuple[Path, Path]:
    """``episode.srt`` and ``episode.vtt`` beside ``episode.mp4``."""
    return (write_atomic(video.with_suffix(".srt"), to_srt(cues), durable=False),
            write_atomic(video.with_suffix(".vtt"), to_vtt(cues), durable=False))
