"""ffmpeg into Python: the one module that finds, probes with and runs ffmpeg.

The binary is chosen by what it can do (``storyboard.media.ffbinary``): an explicit choice, else the one
shipped in the ``imageio-ffmpeg`` wheel, else the one on PATH, so ``pip install`` alone sets a machine
up and any ffmpeg from 4.4 up works. ffprobe is not in that wheel, so probing parses ``ffmpeg -i``
(stream facts) and the ``framecrc`` muxer (exact stream lengths, from packet timestamps, without decoding).

Commands are argument lists, never shell strings. Graphs are built with ffmpeg-python (re-exported here
as ``graph`` so no other module imports it) and compiled to argument lists for our own runner. Outputs
are written to a temporary file beside the target and renamed on success, so a failed run never leaves
a half-written file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ffmpeg as graph  # ffmpeg-python: graph building only; we run the commands ourselves

from storyboard.errors import FFmpegError, MediaError
from storyboard.files import NEW_FILE_MODE, temp_prefix
from storyboard.media import ffbinary, ffprogress, imagehead, memo, processes
from storyboard.media.mediainfo import (  # re-exported: callers read them from here
    MediaInfo,
    StreamInfo,
    framecrc_timebases,
    parse_framecrc,
    parse_probe_json,
    parse_probe_log,
)

__all__ = [
    "PORTABLE_ARGS",
    "SWS_FLAGS",
    "MediaInfo",
    "StreamInfo",
    "atomic_output",
    "binary",
    "contact_sheet",
    "filter_value",
    "font_path",
    "framecrc_timebases",
    "graph",
    "last_frame",
    "parse_framecrc",
    "parse_probe_json",
    "parse_probe_log",
    "probe",
    "probe_log",
    "probe_with_ffprobe",
    "run",
    "run_graph",
    "still",
    "stream_lengths",
]

LOG_TAIL_LINES = 15
# swscale's SIMD paths round differently on different CPUs; these flags make every scale and pixel
# format conversion give the same bytes everywhere (the C reference results).
SWS_FLAGS = "bicubic+accurate_rnd+full_chroma_int+bitexact"
GRAPH_PREFIX = f"sws_flags={SWS_FLAGS};"  # applies to the scalers a filtergraph inserts itself
# ffmpeg's own SIMD code (the AAC encoder's transforms, resampling) sums floats in another order on
# another CPU. Renders whose bytes are recorded (the local provider's shots, cards, the last frames
# they are drawn on) run its C reference paths instead: the same bytes on every machine. libx264
# is bit-exact across CPUs by itself. It costs little: x264 does most of the work.
PORTABLE_ARGS = ("-cpuflags", "0")
FONT_FILE = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"


def binary() -> str:
    """The ffmpeg executable chosen by what it can do (see ``storyboard.media.ffbinary``)."""
    return ffbinary.current().require()


def font_path() -> Path:
    """The font shipped with the package, for drawtext."""
    return FONT_FILE


_CAUSE_RE = re.compile(
    r"error|not found|no such|invalid|unknown|unrecognized|no space|permission denied|failed|"
    r"cannot|could not|unable|does not|not supported|out of memory|too many|killed", re.I)
CAUSE_LINES = 8


def _tail(text: str) -> list[str]:
    """The lines that name the cause (errors anywhere in the log), then the last few lines.

    ffmpeg often prints the cause (``No space left on device``, ``Option 'x' not found``) early
    and its encoders' statistics after it, so the plain tail alone would hide it.
    """
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    causes = [line for line in lines if _CAUSE_RE.search(line)][:CAUSE_LINES]
    tail = lines[-(LOG_TAIL_LINES - len(causes)):] if len(causes) < LOG_TAIL_LINES else []
    return [*causes, *(line for line in tail if line not in causes)]


def _who() -> str:
    """The binary in use and its version, for failure messages."""
    return ffbinary.current().chosen.label


def run(args: Sequence[str], *, what: str = "ffmpeg", timeout: float | None = None,
        length: float | None = None) -> str:
    """Run ffmpeg with ``args`` (no shell); return its log (stderr). Raise FFmpegError on failure.
    Inside ``ffprogress.listening`` the run reports its progress (``length``: how long its output
    will be, in seconds, when the caller knows)."""
    cmd = [binary(), "-hide_banner", "-nostdin", "-y", *args]
    heard = ffprogress.listener()
    try:
        if heard is not None:
            code, log = ffprogress.run_listened(cmd, what, length, timeout, heard)
        else:
            proc = processes.run(cmd, timeout)
            code, log = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"{what}: ffmpeg took longer than {timeout} s") from exc
    except OSError as exc:
        raise FFmpegError(f"{what}: cannot start ffmpeg ({exc})") from exc
    if code is None:
        raise FFmpegError(f"{what}: ffmpeg took longer than {timeout} s")
    if code != 0:
        raise FFmpegError(f"{what} failed ({_who()}, exit {code})", _tail(log))
    return log


def decode_problem(path: Path) -> str | None:
    """What stops ffmpeg decoding the whole of ``path`` (a picture cut short, a damaged stream),
    or None when every byte of it decodes: an error is an error, not a log line passed over.
    ffmpeg that cannot start or runs out of time says nothing of the file: raised, not judged."""
    try:
        run(["-v", "error", "-err_detect", "explode", "-xerror", *imagehead.demuxer(path),
             "-i", str(path), "-f", "null", "-"], what="decoding the picture", timeout=120)
    except FFmpegError as exc:
        if not exc.log_tail:
            raise
        invalid = any("Invalid data" in line for line in exc.log_tail)
        return "ffmpeg cannot decode all of it" + (" (invalid data)" if invalid else "")
    return None


def filter_value(text: str) -> str:
    """``text`` as an option value inside a hand-written filtergraph: escaped once for the option
    parser (``\\ ' :``) and again for the graph parser (``\\ ' [ ] , ;``), as ffmpeg's
    filtergraph escaping rules require, so any path survives."""
    once = text.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "".join("\\" + c if c in "\\'[],;" else c for c in once)


def run_graph(stream: Any, *, what: str = "ffmpeg", timeout: float | None = None,
              length: float | None = None) -> str:
    """Compile an ffmpeg-python output node to arguments and run it with ``run``."""
    args = graph.get_args(stream)
    if "-filter_complex" in args:
        at = args.index("-filter_complex") + 1
        args[at] = GRAPH_PREFIX + args[at]
    return run(args, what=what, timeout=timeout, length=length)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename onto it only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target.stem), suffix=target.suffix,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(NEW_FILE_MODE)  # mkstemp makes it private; an output is an ordinary file
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# --- probing ---------------------------------------------------------------------------------


FileKey = memo.FileKey
file_identity = memo.file_identity  # what names one version of a file (``media.memo``)
moved = memo.moved  # a file renamed: what was said of it holds (``media.memo``)


def probe(path: Path) -> MediaInfo:
    """Stream facts of a media file: from a system ffprobe's JSON when there is one
    (``ffbinary.ffprobe``), else from ffmpeg's own log; remembered for the life of the process
    (``memo.recall``: per version of the file, across a rename, and a small file by its bytes)."""
    prober = ffbinary.ffprobe()
    found = memo.recall(("probe", prober), path, lambda: _probe(prober, path))
    return found if found.path == path else dataclasses.replace(found, path=path)


def _probe(prober: str | None, path: Path) -> MediaInfo:
    found = probe_with_ffprobe(prober, path) if prober is not None else None
    return found or probe_log(binary(), path)


def probe_with_ffprobe(prober: str, path: Path) -> MediaInfo | None:
    """``path``'s facts from ``prober``'s JSON; None when it cannot tell (the log then decides,
    with its own words for a file it cannot read)."""
    cmd = [prober, "-v", "error", "-of", "json", "-show_streams", "-show_format",
           *imagehead.demuxer(path), str(path)]
    try:
        proc = processes.run(cmd, 60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_probe_json(path, proc.stdout) if proc.returncode == 0 else None


def probe_log(ffmpeg_binary: str, path: Path) -> MediaInfo:
    """``path``'s facts from ffmpeg's own log (``ffmpeg -i FILE``)."""
    cmd = [ffmpeg_binary, "-hide_banner", "-nostdin", *imagehead.demuxer(path), "-i", str(path)]
    try:
        proc = processes.run(cmd, 60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaError(f"{path}: cannot probe with ffmpeg ({exc})") from exc
    return parse_probe_log(path, proc.stderr)


def stream_lengths(path: Path) -> dict[str, float]:
    """Exact end time in seconds of the first video and first audio stream, from packet timestamps.

    Reads packets with ``-c copy -f framecrc`` (no decoding), so it is exact and cheap; remembered
    as ``probe`` is (``memo.recall``).
    """
    return dict(memo.recall(("stream lengths",), path, lambda: _stream_lengths(binary(), path)))


def _stream_lengths(ffmpeg_binary: str, path: Path) -> tuple[tuple[str, float], ...]:
    out = processes.run(
        [ffmpeg_binary, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0?", "-map", "0:a:0?",
         "-c", "copy", "-f", "framecrc", "-"], 120)
    if out.returncode != 0:
        raise MediaError(f"{path}: cannot read packets ({_tail(out.stderr)[-1:]})")
    return tuple(parse_framecrc(out.stdout)[0].items())


def last_frame(video: Path, out: Path) -> Path:
    """Write the last frame of ``video`` as a PNG (for ``first_frame: {from: SHOT}``)."""
    with atomic_output(out) as tmp:
        # Seek near the end and reverse that last second: its last frame comes out first, the
        # only one converted and written (each frame was converted and written as a PNG before,
        # 10 to 20 times the work, for the same bytes). ``reverse`` holds that second's frames.
        run([*PORTABLE_ARGS, "-sseof", "-1", "-i", str(video), "-vf", "reverse",
             "-update", "1", "-frames:v", "1",
             "-sws_flags", SWS_FLAGS, "-fflags", "+bitexact", "-flags:v", "+bitexact",
             "-f", "image2", "-c:v", "png", str(tmp)], what=f"taking the last frame of {video.name}")
    return out


def frames_video(frames: Sequence[Path], fps: float, out: Path) -> Path:
    """Still frames (named ``000000.png`` on, in one folder) into a silent H.264 video at
    ``fps``: what a ComfyUI workflow that saves image frames made."""
    if not frames or not math.isfinite(fps) or fps <= 0:
        raise MediaError(f"cannot make a video of {len(frames)} frame(s) at {fps} fps")
    pattern = frames[0].parent / f"%06d{frames[0].suffix}"
    with atomic_output(out) as tmp:
        run(["-framerate", f"{fps:.6f}", "-start_number", "0", "-i", str(pattern),
             "-frames:v", str(len(frames)), "-c:v", "libx264", "-preset", "veryfast",
             "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-an",
             "-f", "mp4", str(tmp)], what=f"joining {len(frames)} frames into a video")
    return out


def video_frames(video: Path, folder: Path, stem: str) -> list[Path]:
    """Every frame of ``video`` as a PNG in ``folder`` (``STEM_00000.png`` on), in order."""
    folder.mkdir(parents=True, exist_ok=True)
    run([*PORTABLE_ARGS, "-i", str(video), "-an", "-start_number", "0", "-fflags", "+bitexact",
         "-flags:v", "+bitexact", "-f", "image2", "-c:v", "png",
         str(folder / f"{stem}_%05d.png")], what=f"taking the frames of {video.name}")
    return sorted(folder.glob(f"{stem}_*.png"))


# --- stills and contact sheets (the review sheet) ---------------------------------------------

BITEXACT = ["-threads", "1", "-fflags", "+bitexact", "-flags", "+bitexact"]


def still(src: Path, out: Path, *, at: float | None, width: int) -> Path:
    """One frame of ``src`` (at ``at`` seconds of a video; an image as it is, read by the reader
    its signature names: ``imagehead.demuxer``), ``width`` pixels wide, as a JPEG. Same input,
    same bytes: one thread, exact seek, no encoder tags."""
    seek = ["-ss", f"{at:.6f}"] if at is not None else []
    with atomic_output(out) as tmp:
        run([*seek, *imagehead.demuxer(src), "-i", str(src), "-frames:v", "1",
             *_still_args(width), str(tmp)],
            what=f"taking a still of {src.name}")
        if tmp.stat().st_size == 0:
            raise MediaError(f"{src}: no frame at {at or 0:g} s to take a still of")
    return out


def _still_args(width: int) -> list[str]:
    return ["-vf", f"scale={width}:-2,format=yuvj420p", *BITEXACT, "-c:v", "mjpeg", "-q:v", "4",
            "-f", "image2"]


def stills(src: Path, picks: Sequence[tuple[float, Path]], *, width: int) -> None:
    """Several stills of a video with one video stream (``(at, out)`` each) by one ffmpeg run,
    each from its own sought input: the bytes ``still`` gives, for one start-up, not several."""
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_output(out)) for _, out in picks]
        inputs = [arg for at, _ in picks for arg in ("-ss", f"{at:.6f}", "-i", str(src))]
        outputs = [arg for index, tmp in enumerate(temps)
                   for arg in ("-map", f"{index}:v:0", "-frames:v", "1", *_still_args(width),
                               str(tmp))]
        run([*inputs, *outputs], what=f"taking a still of {src.name}")
        for (at, _), tmp in zip(picks, temps, strict=True):
            if tmp.stat().st_size == 0:
                raise MediaError(f"{src}: no frame at {at or 0:g} s to take a still of")


def contact_sheet(cells: Sequence[tuple[Path | None, Path]], out: Path, *, columns: int,
                  width: int, height: int, label_height: int = 40) -> Path:
    """A grid of ``cells`` (an image, or None for a blank, and a text file holding its caption)
    as one PNG.

    Captions reach drawtext only through ``textfile=`` with expansion off, never spliced into
    the filter string, so any text comes out as written."""
    tiles = []
    sources = _split_inputs([image for image, _ in cells], width, height)
    for (_, caption), source in zip(cells, sources, strict=True):
        tile = (source.filter("scale", width, height, force_original_aspect_ratio="decrease")
                .filter("pad", width, height + label_height, "(ow-iw)/2", f"(oh-ih-{label_height})/2",
                        color="0x202020")
                .drawtext(fontfile=str(font_path()), textfile=str(caption), expansion="none",
                          fontsize=label_height // 2, fontcolor="white", x="(w-text_w)/2",
                          y=f"h-{label_height}+(({label_height}-text_h)/2)"))
        tiles.append(tile)
    rows = -(-len(cells) // columns)
    cell_h = height + label_height
    layout = "|".join(f"{(i % columns) * width}_{(i // columns) * cell_h}"
                      for i in range(len(cells)))
    grid = (graph.filter(tiles, "xstack", inputs=len(tiles), layout=layout, fill="black")
            if len(tiles) > 1 else tiles[0])
    grid = grid.filter("pad", columns * width, rows * cell_h, 0, 0, color="black")
    with atomic_output(out) as tmp:
        stream = graph.output(grid, str(tmp), vframes=1, f="image2", vcodec="png",
                              **{"fflags": "+bitexact", "flags": "+bitexact", "threads": 1})
        run(graph.get_args(stream), what=f"drawing the contact sheet {out.name}")
    return out


def _reader(image: Path) -> dict[str, str]:
    """A still's reader as ffmpeg-python's input keyword (``imagehead.demuxer``)."""
    found = imagehead.demuxer(image)
    return dict(zip((name.lstrip("-") for name in found[::2]), found[1::2], strict=True))


def _split_inputs(images: Sequence[Path | None], width: int, height: int) -> list[Any]:
    """One stream per cell; an image used by several cells is read once and split (ffmpeg-python
    merges identical nodes, and a node feeding two filters needs an explicit ``split``)."""
    counts: dict[Path | None, int] = {}
    for image in images:
        counts[image] = counts.get(image, 0) + 1
    split: dict[Path | None, Any] = {}
    for image, count in counts.items():
        source = (graph.input(str(image), **_reader(image)) if image is not None else
                  graph.input(f"color=c=0x333333:s={width}x{height}:d=1", f="lavfi"))
        split[image] = source.split() if count > 1 else source
    used: dict[Path | None, int] = {}
    streams = []
    for image in images:
        index = used[image] = used.get(image, -1) + 1
        streams.append(split[image][index] if counts[image] > 1 else split[image])
    return streams
