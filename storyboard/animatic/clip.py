"""An ``Animatic`` into its MP4 clip: a still one's distinct pictures held, a moving one drawn whole.

A local animatic's picture changes only where a scene text or a caption comes on or goes off,
unless a video backdrop plays under it or the sweep bar (``motion``) crosses it. Such a still
animatic (``is_still``) is drawn as its distinct pictures: one a span of frames that show the same
texts (``picture_starts``, from the frames' times exactly as drawtext's ``enable`` reads them), each
the frame it stands for drawn by the same graph (``draw.video_chain``); x264 encodes those
pictures alone, with the encoding of every clip, ``media.muxing.h264.hold`` holds each for its frames
with skipped P-frames (which carry no picture data), and a second run adds the sound (encoded as
every clip's is) beside a copy of that picture. Both runs on ``PORTABLE_ARGS``' C reference paths:
the clip's bytes are recorded in lock files. The clip is a drop-in for the every-frame one
(``draw.render_frames``): the same size, frame rate, frames, samples, SPS and PPS, so the stitch
joins it by copy; a picture decodes to what the every-frame clip shows, within x264's loss.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Sequence
from pathlib import Path

from storyboard.animatic.draw import (
    TIMESCALE,
    Animatic,
    audio_chain,
    audio_encoding,
    render_frames,
    video_chain,
    video_encoding,
    window,
)
from storyboard.animatic.graph import Graph, TextFiles
from storyboard.media import ffmpeg
from storyboard.media.muxing import h264

__all__ = ["is_still", "picture_starts", "render", "render_picture", "with_sound"]


def render(spec: Animatic, out: Path) -> None:
    """Draw ``spec`` into ``out`` (MP4), atomically: a still one's distinct pictures held, any
    other every frame (``draw.render_frames``); raise FFmpegError if ffmpeg fails."""
    if is_still(spec):
        _render_held(spec, picture_starts(spec), out)
    else:
        render_frames(spec, out)


def render_picture(spec: Animatic, out: Path) -> None:
    """Draw ``spec``'s first frame into ``out`` (an RGB PNG), atomically, on the C reference
    paths with bit-exact flags: the same spec gives the same bytes (the emulator's pictures)."""
    with tempfile.TemporaryDirectory(prefix="storyboard-picture-") as folder, \
            ffmpeg.atomic_output(out) as tmp:
        g = Graph()
        video = video_chain(spec, g, TextFiles(Path(folder)), (0,), "rgb24")
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, *g.args(video), "-frames:v", "1",
                    *ffmpeg.BITEXACT, "-f", "image2", "-c:v", "png", str(tmp)],
                   what=f"drawing {out.name}")


def is_still(spec: Animatic) -> bool:
    """Whether ``spec``'s picture changes only where a text comes on or goes off: no sweep bar,
    no backdrop but an image (an image demuxer's: one picture)."""
    if spec.motion:
        return False
    if spec.backdrop is None:
        return True
    found = ffmpeg.probe(spec.backdrop).format
    return found == "image2" or found.endswith("_pipe")


def picture_starts(spec: Animatic) -> tuple[int, ...]:
    """The frames where ``spec``'s picture changes (0 first): where the set of texts and captions
    shown changes. Frame ``k`` shows a text iff ``gte(t,start)*lt(t,end)`` at ``t = k * (1/fps)``,
    the double drawtext's ``enable`` computes from the frame's time (``draw.video_chain`` gives
    every frame the time base ``1/fps``), against the bounds as the option writes them."""
    bounds = [(float(start), float(end)) for item in (*spec.texts, *spec.captions)
              if (found := window(item, spec.duration)) is not None for start, end in (found,)]
    step = 1 / spec.fps

    def shown(frame: int) -> tuple[bool, ...]:
        t = frame * step
        return tuple(start <= t < end for start, end in bounds)

    return (0, *(k for k in range(1, spec.frames) if shown(k) != shown(k - 1)))


def _render_held(spec: Animatic, starts: tuple[int, ...], out: Path) -> None:
    """The pictures at ``starts`` encoded once each, held to their next one (the last to the
    clip's end), with the sound."""
    repeats = tuple(b - a for a, b in itertools.pairwise((*starts, spec.frames)))
    with tempfile.TemporaryDirectory(prefix="storyboard-animatic-") as name:
        folder = Path(name)
        pictures, held = folder / "pictures.h264", folder / "held.h264"
        g = Graph()
        video = video_chain(spec, g, TextFiles(folder), starts)
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, *g.args(video), "-frames:v", str(len(starts)),
                    *video_encoding(spec.fps, spec.draft), "-fflags", "+bitexact",
                    "-flags:v", "+bitexact", "-f", "h264", str(pictures)],
                   what=f"drawing {out.name}")
        held.write_bytes(h264.hold(pictures.read_bytes(), repeats))
        with_sound(held, out, spec.fps, spec if spec.audio else None, ffmpeg.PORTABLE_ARGS,
                   what=f"drawing {out.name} with its sound")


def with_sound(video: Path, out: Path, fps: int, sound: Animatic | Path | None,
               first: Sequence[str] = (), *, what: str) -> None:
    """A held picture (raw H.264 at ``fps``, copied) and its sound into ``out`` (MP4, bit-exact):
    ``sound`` an animatic's (its audio chain, encoded as every clip's is), a silent track to copy
    (a path), or none (no audio stream); ``first`` the ffmpeg options before the inputs (a clip's
    ``PORTABLE_ARGS``; none for a held board, on the SIMD paths)."""
    g = Graph()
    picture = g.input(str(video), "-f", "h264", "-r", str(fps)).strip("[]")
    if isinstance(sound, Animatic):
        streams, encoding = g.args(picture, audio_chain(sound, g)), audio_encoding()
    elif sound is not None:
        g.input(str(sound))
        streams, encoding = [*g.inputs, "-map", "0:v", "-map", "1:a"], ["-c:a", "copy"]
    else:
        streams, encoding = [*g.inputs, "-map", picture], ["-an"]
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*first, *streams, "-c:v", "copy", "-video_track_timescale", str(TIMESCALE),
                    *encoding, "-movflags", "+faststart", "-map_metadata", "-1", "-fflags",
                    "+bitexact", "-flags:a", "+bitexact", "-f", "mp4", str(tmp)], what=what)
