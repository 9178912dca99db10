"""A board still, a camera move and a shot's spoken line into a held clip: the board animatic's shot.

The board animatic (``out/boards/EP.mp4``) shows each shot as its board held for the shot's length
with a slow move chosen from the shot's camera words (``MOVES``: push in, pull out, pan left or
right, tilt up or down, else static), and the shot's spoken line under it where one was made. The
still is scaled and turned to YUV once, then repeated; a pan or a tilt is a crop that slides across
it, a push in or a pull out a scale, a few pixels a step (``SLIDE_STEP``, ``ZOOM_STEP``),
evenly through the shot (``steps``).

Most frames of a held board are the frame before them again, so x264 encodes only the distinct
pictures (a static board: one), and ``media.muxing.h264.hold`` holds each for its frames with skipped
P-frames, which carry no picture data; the sound is encoded beside a copy of that stream (a
silent board's is one silent track of its length, made once and copied: ``silence``). Two short
ffmpeg runs (on the SIMD paths: the scales are bit-exact, and a held board's bytes are recorded
in no lock) with the picture encoding of every clip (``draw.video_encoding``: the same SPS and PPS),
so the clips join as the shots' do and the same inputs give the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyboard.animatic.clip import with_sound
from storyboard.animatic.draw import (
    BACKGROUND,
    FPS,
    SAMPLE_RATE,
    TIMESCALE,
    Animatic,
    Sound,
    audio_chain,
    audio_encoding,
    video_encoding,
)
from storyboard.animatic.graph import Graph, filter_text
from storyboard.animatic.shots import request_lines
from storyboard.errors import MediaError
from storyboard.language.request import ShotRequest
from storyboard.media import ffmpeg, imagehead
from storyboard.media.muxing import h264, mp4
from storyboard.media.probes import measure
from storyboard.media.probes.measure import Measured

ZOOM = 0.10  # how far a push in or a pull out goes (a tenth of the frame) over the whole shot
MARGIN = 1.10  # a pan or a tilt slides over a still this much larger than the frame
# Pixels a step: each step is a picture x264 encodes (a zoom's costs the most: it is scaled,
# and every block changes), held for the frames until the next. A pan's or a tilt's crop moves
# by four (two chroma samples); a zoom's frame grows by eight (four at each side, on the crop's
# two-pixel grid). A 720p board's move over 5 s: a pan 33 pictures (6.4 a second), a tilt 19, a
# zoom 17 (a step every 9 frames, 0.6 % of the frame): a board animatic's slow move, at half the
# pictures, and about half the CPU, of steps of two and four (a pan 65 pictures, a zoom 33).
SLIDE_STEP = 4
ZOOM_STEP = 8
FRAMES_A_PICTURE = 2  # a short shot's move: at most a picture every two frames (15 a second)

# The first pattern found in a shot's words decides its move (in this order).
MOVES: tuple[tuple[str, str], ...] = (
    ("pull out", r"\b(pull(s|ing)? (back|out)|zoom(s|ing)? out|dolly (back|out)|crane up)\b"),
    ("push in", r"\b(push(es|ing)? in|zoom(s|ing)? in|dolly( in)?|moves? closer|tracking shot)\b"),
    ("pan left", r"\bpan(s|ning)? (to the )?left\b"),
    ("pan right", r"\bpan(s|ning)?\b"),
    ("tilt down", r"\btilt(s|ing)? down\b"),
    ("tilt up", r"\btilt(s|ing)?\b"),
)
_MOVES = tuple((move, re.compile(pattern, re.IGNORECASE)) for move, pattern in MOVES)
STATIC = "static"


def camera_move(words: str) -> str:
    """The slow move a shot's ``words`` (its prompt and scenes) ask for: the first of ``MOVES``
    whose pattern they hold, else ``static``."""
    return next((move for move, pattern in _MOVES if pattern.search(words)), STATIC)


def held_sounds(request: ShotRequest) -> tuple[Sound, ...]:
    """What a shot's held board plays: its driving audio from the start (a made line), each
    line's own voice at its time; none for a silent request."""
    return request_lines(request)[1]


@dataclass(frozen=True)
class Held:
    """One board held for a shot: its still (none: a plain frame, the board not made yet), the
    frame's size and length, the move, and the sounds (the shot's made lines, at their times)."""

    still: Path | None
    width: int
    height: int
    duration: float
    move: str = STATIC
    sounds: tuple[Sound, ...] = ()
    fps: int = FPS
    draft: bool = False

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps))


def render_held(spec: Held, out: Path,
                measured: Callable[[Measured | None], None] | None = None) -> Path:
    """Draw ``spec`` into ``out`` (MP4), atomically: the still, moving, with the line's sound;
    ``measured``: hears the still's measurement (``media.probes.measure``'s of an image), made in the
    same run from the frame it decodes anyway, or None when it was not made.

    x264 encodes each distinct picture once (a static board: one; a slow move: one a step of a
    few pixels), and ``h264.hold`` holds each for its frames with skipped P-frames, which carry
    no picture data; the muxing then adds the sound. Two short ffmpeg runs, a fraction of the
    CPU of encoding every frame. On ffmpeg's SIMD paths, not ``PORTABLE_ARGS``' C reference
    ones: the scales' flags (``SWS_FLAGS``: bit-exact) give the same picture either way; the
    held board's bytes are no lock's record."""
    expression, repeats = _steps(spec)
    graph = Graph()
    measuring = measured is not None and spec.still is not None
    video, stats = _moving(spec, graph, expression, len(repeats), measuring)
    with tempfile.TemporaryDirectory(prefix="storyboard-held-") as folder:
        pictures, held = Path(folder) / "pictures.h264", Path(folder) / "held.h264"
        try:
            log = ffmpeg.run([*(["-nostats"] if stats else []), *graph.args(video),
                              "-frames:v", str(len(repeats)),
                              *_encoding(spec), "-fflags", "+bitexact",
                              "-flags:v", "+bitexact", "-f", "h264", str(pictures),
                              *(["-map", stats, "-frames:v", "1", "-f", "null", "-"]
                                if stats else [])],
                             what=f"holding the board {out.name}")
        except BaseException:
            if measured is not None:
                measured(None)
            raise
        if measured is not None:
            measured(measure.image_from_log(spec.still, log) if stats and spec.still else None)
        held.write_bytes(h264.hold(pictures.read_bytes(), repeats))
        _sounded(spec, held, out)
    return out


def shape(spec: Held, clip: Path) -> str | None:
    """What every fact of ``clip`` (``spec``'s held board, drawn) depends on, as a digest: its
    frame, rate, frames and samples, silent or not, the ffmpeg that drew it and its encoding, its
    track's timescale, and its parameter sets (its ``avcC``, read from the head of the file:
    ``moov`` first). Held boards of one shape have the same streams, lengths and parameter sets
    (``stitch.join.facts``' ``alike``). None when its parameter sets are not where they should be."""
    with clip.open("rb") as file:
        head = file.read(HEAD)
    at = head.find(b"avcC") - 4
    size = int.from_bytes(head[at:at + 4], "big") if at >= 0 else 0
    if at < 0 or size < 8 or at + size > len(head):
        return None
    described = {"size": [spec.width, spec.height], "fps": spec.fps, "frames": spec.frames,
                 "samples": _animatic(spec).samples, "voiced": bool(spec.sounds),
                 "draft": spec.draft, "ffmpeg": ffmpeg.binary(), "timescale": TIMESCALE,
                 "encoding": [*_encoding(spec), *audio_encoding()],
                 "avcC": head[at:at + size].hex()}
    text = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


HEAD = 1 << 16  # a held board's header (its moov, first): a few kilobytes


def _encoding(spec: Held) -> list[str]:
    """The picture encoding of every clip (``draw.video_encoding``: its SPS and PPS), on one
    x264 thread (``X264_THREADS``): a held board's few pictures gain nothing from frame threads
    but their start, and the pool runs one board a core."""
    args = video_encoding(spec.fps, spec.draft)
    at = args.index("-threads") + 1
    return [*args[:at], str(X264_THREADS), *args[at + 1:]]


X264_THREADS = 1  # fixed, as ``draw.X264_THREADS``: the same bytes on any machine


def _sounded(spec: Held, video: Path, out: Path) -> None:
    """The held picture (raw H.264, copied) and the shot's sound into ``out``: a silent board's
    the shared silent track (``silence``, copied: no encoding; by ``media.muxing.mp4``, no ffmpeg run,
    unless it refuses them), else its sound encoded."""
    if not spec.sounds:
        with contextlib.suppress(MediaError), ffmpeg.atomic_output(out) as tmp:
            mp4.mux(video.read_bytes(), silence(spec, out.parent), tmp,
                    (spec.width, spec.height), spec.fps, TIMESCALE)
            return
    with_sound(video, out, spec.fps, _animatic(spec) if spec.sounds else silence(spec, out.parent),
               what=f"holding the board {out.name} with its sound")


def silence(spec: Held, folder: Path) -> Path:
    """The silent track of ``spec``'s length (AAC, as every clip's sound is encoded), made once
    into ``folder`` and copied into every silent held board of that length: one encoding, not
    one a board. Named by its samples and the ffmpeg that made it (its bytes are that one's)."""
    made = _animatic(spec)
    who = hashlib.sha256(ffmpeg.binary().encode()).hexdigest()[:12]
    path = folder / f"silence-{SAMPLE_RATE}-{made.samples}-{who}.m4a"
    with _SILENCE:  # made once, not by each pool thread that first needs it
        if not path.is_file():
            graph = Graph()
            audio = audio_chain(made, graph)
            with ffmpeg.atomic_output(path) as tmp:  # another process's at once: the same bytes
                ffmpeg.run([*graph.args(audio), *audio_encoding(), "-map_metadata", "-1",
                            "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp4",
                            str(tmp)], what=f"the silent track {path.name}")
    return path


_SILENCE = threading.Lock()


def _animatic(spec: Held) -> Animatic:
    return Animatic(spec.width, spec.height, spec.duration, spec.fps, sounds=spec.sounds)


def pictures(spec: Held) -> int:
    """How many distinct pictures drawing ``spec`` encodes: one a step of its move (at most one a
    frame), one for a board that holds still: what its drawing costs, near enough."""
    return len(_steps(spec)[1])


def work(spec: Held) -> int:
    """About what drawing ``spec`` costs, in pictures encoded: its ``pictures``, a zoom's twice
    (each is scaled as well)."""
    return pictures(spec) * (2 if spec.move in ("push in", "pull out") else 1)


def _steps(spec: Held) -> tuple[str, tuple[int, ...]]:
    return steps(_span(spec) // _step(spec), spec.frames, spec.fps)


def steps(moves: int, frames: int, fps: int) -> tuple[str, tuple[int, ...]]:
    """A move of ``moves`` steps (``moves`` + 1 positions) over ``frames`` frames, as distinct
    pictures: the ffmpeg expression of the position a picture shows (0 to ``moves``; from its
    time ``t``, a picture a frame at ``fps``: a filter's frame count is counted differently by
    different ffmpeg releases), and the frames each picture is held for, in order (frame ``k``
    shows picture ``k * pictures // frames``: evenly through the shot, the last position at its
    end); at most a picture every ``FRAMES_A_PICTURE`` frames, so a short shot's move costs
    no more than its length."""
    pictures = max(1, min(moves + 1, -(-frames // FRAMES_A_PICTURE)))
    if pictures == 1:
        return "0", (frames,)
    number = f"trunc(t*{fps}+0.5)"
    expression = number if pictures == moves + 1 else f"trunc({number}*{moves}/{pictures - 1})"
    starts = [-(-i * frames // pictures) for i in range(pictures + 1)]
    return expression, tuple(b - a for a, b in itertools.pairwise(starts))


def _span(spec: Held) -> int:
    """How many pixels ``spec``'s move goes (0: it holds still)."""
    if spec.still is None or spec.move == STATIC:
        return 0
    if spec.move in ("push in", "pull out"):
        return _even(spec.width * (1 + ZOOM)) - spec.width
    if spec.move.startswith("pan"):
        return _even(spec.width * MARGIN) - spec.width
    return _even(spec.height * MARGIN) - spec.height


def _step(spec: Held) -> int:
    """How many pixels ``spec``'s move goes a step (``ZOOM_STEP``, ``SLIDE_STEP``)."""
    return ZOOM_STEP if spec.move in ("push in", "pull out") else SLIDE_STEP


def _moving(spec: Held, graph: Graph, step: str, pictures: int, measuring: bool = False
            ) -> tuple[str, str | None]:
    """The still, fitted once, repeated for each of the ``pictures``, moved to the position
    ``step`` (an expression of the picture's number) says; a plain frame without one. With
    ``measuring``, the still's decoded frame is also sent through ``measure.IMAGE_FILTERS``
    (its label the second of the two)."""
    if spec.still is None:
        return graph.chain([graph.input(f"color=c={BACKGROUND}:s={spec.width}x{spec.height}"
                                        f":r={spec.fps}", "-f", "lavfi")],
                           filter_text("format", "yuv420p")), None
    wide = spec.move.startswith(("pan", "tilt"))
    width, height = (_even(spec.width * MARGIN), _even(spec.height * MARGIN)) if wide \
        else (spec.width, spec.height)
    still, stats = graph.input(str(spec.still), *imagehead.png_input(spec.still)), None
    if measuring:  # the one decoded frame, to the picture and to the measuring
        graph.chains.append(f"{still}split=2[still][measured]")
        still, stats = "[still]", graph.chain(["[measured]"], measure.IMAGE_FILTERS)
    base = graph.chain([still], *_cover(width, height),
                       filter_text("format", "yuv420p"),
                       filter_text("loop", loop=pictures - 1, size=1, start=0),
                       filter_text("settb", f"1/{spec.fps}"), filter_text("setpts", "N"))
    return graph.chain([base], *_move(spec, f"({step})")), stats


def _cover(width: int, height: int) -> list[str]:
    """Scale to cover ``width`` x ``height`` and crop the middle: no bars, whatever its shape."""
    return [filter_text("scale", width, height, force_original_aspect_ratio="increase",
                    flags=ffmpeg.SWS_FLAGS),
            filter_text("crop", width, height)]


def _move(spec: Held, step: str) -> list[str]:
    """The filters that put a picture at ``step`` of ``spec.move``: a zoom ``ZOOM_STEP`` pixels
    wider a step, a crop ``SLIDE_STEP`` further (over a frame ``MARGIN`` larger)."""
    pixels = _step(spec)
    at, back = f"{pixels}*{step}", f"{pixels}*({_span(spec) // pixels}-{step})"
    if spec.move in ("push in", "pull out"):
        wide = f"({spec.width}+{at if spec.move == 'push in' else back})"
        return [filter_text("scale", w=wide, h=f"2*trunc({wide}*{spec.height}/{2 * spec.width})",
                        eval="frame", flags=ffmpeg.SWS_FLAGS),
                # the scale keeps the shape by the pixels' (x264 takes the first picture's
                # into the SPS): square again, so every held board has the same SPS
                filter_text("crop", spec.width, spec.height), filter_text("setsar", 1)]
    slide = {"pan right": (at, "(ih-oh)/2"), "pan left": (back, "(ih-oh)/2"),
             "tilt up": ("(iw-ow)/2", back), "tilt down": ("(iw-ow)/2", at)}.get(spec.move)
    if slide is None:
        return [filter_text("null")]
    x, y = slide
    return [filter_text("crop", spec.width, spec.height, x, y)]


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
