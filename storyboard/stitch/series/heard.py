"""A take and the lines heard over it (narration, off-screen speakers) into one clip for the episode.

A line routed ``none`` is never in the picture's mouths: storyboard makes it in the speaker's
designed voice and lays it over the take from its window's start, mixed with the take's own sound
(``amix`` without normalising, so neither is turned down), cut at the take's end. The video is
copied as it is; the sound is kept lossless (ALAC), since the episode's mezzanine reads it again.
The mixed clip is named by the content of everything in it, so the same take and lines give the
same file, made once. A version in another language (``dubbed``) takes the shot's own sound out
(it carries the original language's speech) and lays the version's lines on silence instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.media.probes.probe import sha256_file

HEARD_VERSION = 1
DUBBED = "dubbed"  # in a mixed clip's name: the take's own sound left out
SAMPLE_RATE = 48000
Heard = tuple[Path, float]  # a made line's file and where in the take it starts (seconds)


def with_heard(video: Path, lines: Sequence[Heard], folder: Path) -> Path:
    """``video`` with ``lines`` mixed into its sound (``video`` itself when there are none)."""
    if not lines:
        return video
    return _made(video, lines, folder, own=True)


def dubbed(video: Path, lines: Sequence[Heard], folder: Path) -> Path:
    """``video`` with its own sound replaced by ``lines`` on silence, cut at its end (a version's
    shot: the take's sound carries the original's speech); ``video`` itself with no lines."""
    if not lines:
        return video
    return _made(video, lines, folder, own=False)


def _made(video: Path, lines: Sequence[Heard], folder: Path, *, own: bool) -> Path:
    described: list[object] = [HEARD_VERSION, sha256_file(video),
                               [[sha256_file(path), round(start, 6)] for path, start in lines]]
    if not own:
        described.append(DUBBED)
    name = hashlib.sha256(json.dumps(described).encode("utf-8")).hexdigest()[:32]
    target = folder / f"{name}.mp4"
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _mix(video, lines, target, own=own)
    return target


def _mix(video: Path, lines: Sequence[Heard], target: Path, *, own: bool) -> None:
    info = ffmpeg.probe(video)
    seconds = info.duration or 0.0
    sound = "[0:a:0]anull" if own and info.audio is not None else \
        f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=duration={seconds:.6f}"
    chains = [f"{sound}{_FORMAT}[take]"]
    chains += [_line(index, start) for index, (_, start) in enumerate(lines, start=1)]
    labels = "".join(f"[l{i}]" for i in range(1, len(lines) + 1))
    chains.append(f"[take]{labels}amix=inputs={len(lines) + 1}:duration=first:normalize=0,"
                  "aformat=sample_fmts=s32p[a]")
    inputs = [arg for path, _ in lines for arg in ("-i", str(path))]
    with ffmpeg.atomic_output(target) as tmp:
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, "-i", str(video), *inputs,
                    "-filter_complex", ";".join(chains), "-map", "0:v:0", "-map", "[a]",
                    "-c:v", "copy", "-c:a", "alac", "-fflags", "+bitexact", "-flags:a",
                    "+bitexact", "-map_metadata", "-1", "-f", "mp4", str(tmp)],
                   what=f"mixing the heard lines into {video.name}")


_FORMAT = f",aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


def _line(index: int, start: float) -> str:
    delay = round(max(start, 0.0) * SAMPLE_RATE)
    return f"[{index}:a:0]asetpts=PTS-STARTPTS{_FORMAT},adelay=delays={delay}S:all=1[l{index}]"
