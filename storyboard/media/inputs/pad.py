"""A made line's audio into the audio a model is handed: padded to the model's shortest, the words kept.

A line shorter than a model takes as driving audio (wan2.7-i2v: 2 s) is never re-worded: it is
padded, with silence or a quiet room tone, to that length. Its words start ``lead`` seconds in
(the line's scene start: the driving audio runs from the shot's first frame) and are copied
unchanged; padding goes before them (the lead) and after them (up to the minimum). One ffmpeg
run, bit-exact output: the same line, lead and minimum make the same bytes. ``Padded.words`` is
where the words are, which a take's measurement checks, never the padding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from storyboard.media import ffmpeg

PADS = ("silence", "room_tone")
ROOM_TONE = "anoisesrc=color=pink:amplitude=0.003:seed=59:sample_rate={rate}:duration={seconds}"
SILENCE = "anullsrc=channel_layout=mono:sample_rate={rate},atrim=duration={seconds}"
BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


@dataclass(frozen=True)
class Padded:
    """The audio handed over, how long it lasts, and where the words are in it (seconds)."""

    path: Path
    seconds: float
    words: tuple[float, float]


def padding(words: float, lead: float, minimum: float) -> tuple[float, float]:
    """The seconds of padding before and after ``words`` seconds of speech: the lead, then what
    takes the whole to ``minimum`` (none after when the words already reach it)."""
    if not all(0 <= value < 1e6 for value in (words, lead, minimum)):  # NaN fails too
        raise ValueError(f"padding needs finite seconds >= 0: words {words}, lead {lead}, "
                         f"minimum {minimum}")
    return lead, max(0.0, round(minimum - lead - words, 6))


def pad_line(source: Path, folder: Path, *, lead: float, minimum: float,
             kind: str = "silence") -> Padded:
    """``source`` (a made line) as the audio to hand over, in ``folder`` (named by the source's
    content and the padding, so it is made once); the source itself when nothing is padded."""
    if kind not in PADS:
        raise ValueError(f"pad {kind!r}; expected one of {', '.join(PADS)}")
    info = ffmpeg.probe(source)
    words = info.duration or 0.0
    before, after = padding(words, lead, minimum)
    if not before and not after:
        return Padded(source, words, (0.0, words))
    rate = info.audio.sample_rate if info.audio is not None and info.audio.sample_rate else 24000
    out = folder / f"{_name(source, kind, before, after)}.wav"
    if not out.exists():
        _write(source, out, kind, rate, (before, after))
    return Padded(out, round(before + words + after, 6), (before, round(before + words, 6)))


def _name(source: Path, kind: str, before: float, after: float) -> str:
    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"{kind}:{before:.6f}:{after:.6f}".encode())
    return digest.hexdigest()[:32]


def _write(source: Path, out: Path, kind: str, rate: int, pads: tuple[float, float]) -> None:
    """One ffmpeg run: the padding made by a source filter, the words as they are, joined."""
    pattern = ROOM_TONE if kind == "room_tone" else SILENCE
    parts, inputs = [], ["-i", str(source)]
    graph = [f"[0:a]aformat=sample_fmts=s16:sample_rates={rate}:channel_layouts=mono[words]"]
    for index, seconds in enumerate(pads):
        if seconds > 0:
            graph.append(pattern.format(rate=rate, seconds=f"{seconds:.6f}") +
                         f",aformat=sample_fmts=s16:channel_layouts=mono[pad{index}]")
            parts.append(f"[pad{index}]")
        if index == 0:
            parts.append("[words]")
    graph.append(f"{''.join(parts)}concat=n={len(parts)}:v=0:a=1[out]")
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*inputs, "-filter_complex", ";".join(graph), "-map", "[out]",
                    "-c:a", "pcm_s16le", *BITEXACT, str(tmp)],
                   what=f"padding {source.name}")
