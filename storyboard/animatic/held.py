"""A board still, a camera move and a shot's spoken line into a held clip: the board animatic's shot.

The board animatic (``out/boards/EP.mp4``) shows each shot as its board held for the shot's length
with a slow move chosen from the shot's camera words (``MOVES``: push in, pull out, pan left or
right, tilt up or down, else static), and the shot's spoken line under it where one was made. The
still is scaled and turned to YUV once, then repeated; a pan or a tilt is a crop that slides across
it, a push in or a pull out a scale each frame. One ffmpeg run (on its SIMD paths: the scales are
bit-exact, and a held board's bytes are recorded in no lock) with the encoding of every clip
(``draw.encoding_args``), so the clips join as the shots' do and the same inputs give the same
bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from storyboard.animatic.draw import (
    BACKGROUND,
    FPS,
    Animatic,
    Graph,
    Sound,
    audio_chain,
    encoding_args,
    filter_text,
)
from storyboard.animatic.shots import request_lines
from storyboard.language.request import ShotRequest
from storyboard.media import ffmpeg

ZOOM = 0.10  # how far a push in or a pull out goes (a tenth of the frame) over the whole shot
MARGIN = 1.10  # a pan or a tilt slides over a still this much larger than the frame

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


def render_held(spec: Held, out: Path) -> Path:
    """Draw ``spec`` into ``out`` (MP4), atomically: the still, moving, with the line's sound.

    On ffmpeg's SIMD paths, not ``PORTABLE_ARGS``' C reference ones: a push in or a pull out
    scales every frame, three times the CPU in C. The scales' flags (``SWS_FLAGS``: bit-exact)
    give the same picture either way; the held board's bytes are no lock's record."""
    graph = Graph()
    video = _moving(spec, graph)
    audio = audio_chain(Animatic(spec.width, spec.height, spec.duration, spec.fps,
                            sounds=spec.sounds), graph)
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*graph.args(video, audio), "-frames:v",
                    str(spec.frames), *encoding_args(spec.fps, spec.draft), "-f", "mp4",
                    str(tmp)], what=f"holding the board {out.name}")
    return out


def _moving(spec: Held, graph: Graph) -> str:
    """The still, fitted once, repeated for every frame, moved (a plain frame without one)."""
    if spec.still is None:
        return graph.chain([graph.input(f"color=c={BACKGROUND}:s={spec.width}x{spec.height}"
                                        f":r={spec.fps}", "-f", "lavfi")],
                           filter_text("format", "yuv420p"))
    wide = spec.move.startswith(("pan", "tilt"))
    width, height = (_even(spec.width * MARGIN), _even(spec.height * MARGIN)) if wide \
        else (spec.width, spec.height)
    base = graph.chain([graph.input(str(spec.still))], *_cover(width, height),
                       filter_text("format", "yuv420p"),
                       filter_text("loop", loop=spec.frames - 1, size=1, start=0),
                       filter_text("setpts", f"N/{spec.fps}/TB"))
    return graph.chain([base], *_move(spec))


def _cover(width: int, height: int) -> list[str]:
    """Scale to cover ``width`` x ``height`` and crop the middle: no bars, whatever its shape."""
    return [filter_text("scale", width, height, force_original_aspect_ratio="increase",
                    flags=ffmpeg.SWS_FLAGS),
            filter_text("crop", width, height)]


def _move(spec: Held) -> list[str]:
    """The filters of ``spec.move`` over a frame of the clip's size (or ``MARGIN`` larger)."""
    length = f"{max(spec.duration, 1e-3):.6f}"
    done = f"min(t/{length},1)"  # 0 at the first frame, 1 at the end
    if spec.move in ("push in", "pull out"):
        zoom = f"(1+{ZOOM}*{done})" if spec.move == "push in" else f"(1+{ZOOM}*(1-{done}))"
        return [filter_text("scale", w=f"2*trunc({spec.width // 2}*{zoom})",
                        h=f"2*trunc({spec.height // 2}*{zoom})", eval="frame",
                        flags=ffmpeg.SWS_FLAGS),
                filter_text("crop", spec.width, spec.height)]
    slide = {"pan right": (done, "0.5"), "pan left": (f"(1-{done})", "0.5"),
             "tilt up": ("0.5", f"(1-{done})"), "tilt down": ("0.5", done)}.get(spec.move)
    if slide is None:
        return [filter_text("null")]
    x, y = slide
    return [filter_text("crop", spec.width, spec.height, f"(iw-ow)*{x}", f"(ih-oh)*{y}")]


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
