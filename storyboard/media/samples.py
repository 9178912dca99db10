"""ffmpeg test sources and drawings into small media files: for tests, benchmarks and the examples.

Nothing is downloaded: every image, video and voice clip is drawn by ffmpeg's lavfi sources; the
examples' figures are flat shapes (``Box``, ``Oval``) painted by ``drawbox`` and ``geq``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.media import ffmpeg


def image(path: Path, width: int = 320, height: int = 320, *, color: str | None = None,
          pattern: str = "testsrc2") -> Path:
    """A still image (format from the suffix: .png, .jpg, .bmp, .webp)."""
    source = f"color=c={color}:s={width}x{height}" if color else f"{pattern}=s={width}x{height}"
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run(["-f", "lavfi", "-i", source, "-frames:v", "1", "-update", "1",
                    "-pix_fmt", "rgb24" if path.suffix == ".png" else "yuvj420p"
                    if path.suffix in (".jpg", ".jpeg") else "bgr24" if path.suffix == ".bmp"
                    else "yuv420p", str(tmp)], what=f"making {path.name}")
    return path


def video(path: Path, width: int = 320, height: int = 240, seconds: float = 2.0, *,
          fps: int = 30, audio: bool = True, tone: int = 440, pattern: str = "testsrc2") -> Path:
    """A short H.264 clip (with an AAC tone unless ``audio`` is False)."""
    args = ["-f", "lavfi", "-i", f"{pattern}=s={width}x{height}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:d={seconds}",
                 "-c:a", "aac", "-ac", "2", "-b:a", "64k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p",
             "-t", str(seconds), "-movflags", "+faststart"]
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run([*args, str(tmp)], what=f"making {path.name}")
    return path


def voice(path: Path, seconds: float = 2.0, *, tone: int = 330) -> Path:
    """A voice-like clip (a warbling tone), WAV or MP3 by suffix."""
    source = (f"sine=frequency={tone}:sample_rate=24000:d={seconds},"
              f"vibrato=f=5:d=0.5,volume=0.6")
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run(["-f", "lavfi", "-i", source, "-ac", "1", str(tmp)], what=f"making {path.name}")
    return path


# --- drawings: flat shapes on a plain background, for media that read as what they stand for ---


@dataclass(frozen=True)
class Box:
    """A filled rectangle: top-left corner, size, colour (``0xRRGGBB``)."""

    x: int
    y: int
    w: int
    h: int
    color: str


@dataclass(frozen=True)
class Oval:
    """A filled ellipse: centre, radii, colour; ``dy`` moves it by that expression of ``T``
    (seconds) in a clip, such as ``4*sin(8*PI*T)`` for a strumming hand."""

    cx: int
    cy: int
    rx: int
    ry: int
    color: str
    dy: str = "0"


Shape = Box | Oval


def _rgb(color: str) -> tuple[int, int, int]:
    value = int(color.removeprefix("0x").removeprefix("#"), 16)
    return value >> 16 & 255, value >> 8 & 255, value & 255


def _oval_filter(oval: Oval) -> str:
    inside = (f"lte(pow((X-{oval.cx})/{oval.rx},2)+pow((Y-{oval.cy}-({oval.dy}))/{oval.ry},2),1)")
    # Outside the oval's box nothing is inside it: ``if`` evaluates only the branch it takes, so
    # the box test first spares most pixels the ellipse's arithmetic (the same pixels either way).
    box = f"between(X,{oval.cx - oval.rx},{oval.cx + oval.rx})"
    if oval.dy == "0":
        box += f"*between(Y,{oval.cy - oval.ry},{oval.cy + oval.ry})"
    r, g, b = _rgb(oval.color)
    return ":".join(f"{'geq=' if key == 'r' else ''}{key}='if({box},if({inside},{value},{key}(X,Y)),"
                    f"{key}(X,Y))'" for key, value in (("r", r), ("g", g), ("b", b)))


def _shape_filter(shape: Shape) -> str:
    if isinstance(shape, Oval):
        return _oval_filter(shape)
    return f"drawbox=x={shape.x}:y={shape.y}:w={shape.w}:h={shape.h}:color={shape.color}:t=fill"


def _moves(shape: Shape) -> bool:
    return isinstance(shape, Oval) and shape.dy != "0"


def drawing_graph(width: int, height: int, background: str, shapes: Sequence[Shape], *,
                  seconds: float | None = None, fps: int = 15) -> str:
    """The lavfi source that paints ``shapes`` in order over a ``background`` colour.

    In a clip (``seconds``) the shapes before the first that moves are painted once, on the first
    frame, which ``loop`` repeats for the clip's length: they are the same on every frame, so each
    frame is the same as if all were painted on it (the same bytes), and only the shapes from the
    first that moves on are painted frame by frame (``geq`` evaluates each pixel of each frame)."""
    if not seconds:
        return ",".join([f"color=c={background}:s={width}x{height}", "format=gbrp",
                         *(_shape_filter(shape) for shape in shapes)])
    still = next((n for n, shape in enumerate(shapes) if _moves(shape)), len(shapes))
    steps = [f"color=c={background}:s={width}x{height}:r={fps}:d={seconds}", "format=gbrp",
             *(_shape_filter(shape) for shape in shapes[:still]), "loop=loop=-1:size=1",
             f"trim=duration={seconds}", *(_shape_filter(shape) for shape in shapes[still:])]
    return ",".join(steps)


def drawing(path: Path, width: int, height: int, background: str,
            shapes: Sequence[Shape]) -> Path:
    """A still drawing (PNG): the same bytes on every run."""
    source = drawing_graph(width, height, background, shapes)
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, "-f", "lavfi", "-i", source, "-frames:v", "1",
                    "-update", "1", "-pix_fmt", "rgb24", "-sws_flags", ffmpeg.SWS_FLAGS,
                    "-fflags", "+bitexact", "-flags:v", "+bitexact", str(tmp)],
                   what=f"drawing {path.name}")
    return path


def animation(path: Path, width: int, height: int, background: str, shapes: Sequence[Shape], *,
              seconds: float, fps: int = 15, sound: str | None = None) -> Path:
    """A short drawn H.264 clip (shapes may move with ``T``), with ``sound`` (an ``aevalsrc``
    expression of ``t``) as its AAC track: one thread, bit-exact, the same bytes every run."""
    args = [*ffmpeg.PORTABLE_ARGS, "-f", "lavfi", "-i",
            drawing_graph(width, height, background, shapes, seconds=seconds, fps=fps)]
    if sound:
        args += ["-f", "lavfi", "-i", f"aevalsrc='{sound}':s=48000:d={seconds}",
                 "-c:a", "aac", "-ac", "2", "-b:a", "48k"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p",
             "-threads", "1", "-sws_flags", ffmpeg.SWS_FLAGS, "-t", str(seconds),
             "-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1",
             "-movflags", "+faststart"]
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run([*args, str(tmp)], what=f"drawing {path.name}")
    return path


FLAWS = ("cut", "black", "frozen", "silence", "short")


def flawed(source: Path, path: Path, flaw: str, seconds: float) -> Path:
    """``source`` (``seconds`` long) with one flaw in its middle second: a hard cut (the picture
    negated from the middle on), a black second, a frozen second, a silent second, or the
    clip 0.5 s short. For tests, benchmarks and the emulator's ``task:`` faults."""
    if flaw not in FLAWS:
        raise ValueError(f"unknown flaw {flaw!r}; expected one of: {', '.join(FLAWS)}")
    info = ffmpeg.probe(source)
    fps = round(info.video.fps) if info.video is not None and info.video.fps else 24
    mid = seconds / 2
    video = {"cut": f"negate=enable='gte(t,{mid:g})'",
             "black": f"drawbox=c=black:t=fill:enable='between(t,{mid - 0.5:g},{mid + 0.5:g})'",
             # freezeframes, not loop: ffmpeg 5.1's loop froze the rest of the clip
             "frozen": f"split[a][b];[a][b]freezeframes=first={int((mid - 0.5) * fps)}:"
                       f"last={int((mid - 0.5) * fps) + fps - 1}:"
                       f"replace={int((mid - 0.5) * fps)}"}.get(flaw, "null")
    audio = f"volume=enable='between(t,{mid - 0.5:g},{mid + 0.5:g})':volume=0" \
        if flaw == "silence" else "anull"
    length = seconds - 0.5 if flaw == "short" else seconds
    has_audio = info.audio is not None
    args = ["-i", str(source), "-vf", video, *(["-af", audio, "-c:a", "aac"] if has_audio
                                               else []),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", str(fps),
            "-t", f"{length:g}", "-movflags", "+faststart"]
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run([*args, str(tmp)], what=f"making {path.name}")
    return path
