"""Pictures into ones a video model takes: a still too large scaled down before it is sent on.

A board made at 4K (Seedream makes nothing under 2560x1440, Kling's 3.0 Omni up to 4K) is more
than a video model needs for a first frame or a reference, and more than some take: it would
swell a request body past its limit (a ``data:`` URI) or pass the model's own largest side or file
size. ``fitted`` gives the picture as it is when it fits, else a copy scaled down (its shape kept,
both sides even) in ``folder``, named by the source's content and the bounds: the same source
gives the same bytes (one thread, bit-exact flags), so a retry sends what was sent.

A copy is never trusted by its name. A gateway fetches it from the folder the user hosts, where
anything can replace it (another picture, a link): once a process the copy is drawn again beside
it and compared byte for byte, and a file that is not exactly those bytes, or is no plain file, is
replaced by them (kept untouched when it is, so a sync does not send it again); after that, in
the same process, it is checked by its digest each time it is asked for.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.files import NEW_FILE_MODE, temp_prefix
from storyboard.media import ffmpeg, imagehead

SEND_SIDE = 2048  # a still's longest side sent to a video model that names no limit of its own

_DRAWN: dict[Path, str] = {}  # each copy drawn afresh by this process: the sha256 of its bytes
_DRAWING = threading.Lock()


def scaled_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled so the longer side is at most ``longest`` (both even)."""
    scale = min(1.0, longest / max(width, height, 1))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def fitted(path: Path, folder: Path, *, longest: int = SEND_SIDE, max_bytes: int = 0) -> Path:
    """``path`` when its longer side is at most ``longest`` and it has at most ``max_bytes``
    (0: any), else its scaled-down PNG copy in ``folder`` (a JPEG when the PNG is still too
    large). A file whose size cannot be read is returned as it is (the checks say what it is)."""
    try:
        with path.open("rb") as handle:
            kind = imagehead.sniff(handle.read(32))
    except OSError:
        return path  # the upload says what is missing, as for any file
    found = imagehead.size(path, kind)
    if found is None:
        return path
    too_big = max_bytes and path.stat().st_size > max_bytes
    if max(found) <= longest and not too_big:
        return path
    width, height = scaled_size(*found, longest if max(found) > longest else max(found))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    out = folder / f"{digest}-{width}x{height}.png"
    _copy(path, out, width, height, "png")
    if max_bytes and out.stat().st_size > max_bytes:
        out = folder / f"{digest}-{width}x{height}.jpg"
        _copy(path, out, width, height, "mjpeg")
    return out


def _copy(source: Path, out: Path, width: int, height: int, codec: str) -> None:
    """Make ``out`` exactly ``source`` scaled: drawn afresh once a process and put in place
    unless ``out`` already is those bytes; later, checked against them by its digest."""
    key = out.absolute()
    with _DRAWING:
        known = _DRAWN.get(key)
    if known is not None and _holds(out, known):
        return
    drawn = _draw(source, out, width, height, codec)
    with _DRAWING:
        _DRAWN[key] = drawn


def _holds(out: Path, digest: str) -> bool:
    """Whether ``out`` is a plain file (no link) whose bytes have the sha256 ``digest``."""
    try:
        return not out.is_symlink() and out.is_file() and _sha256(out) == digest
    except OSError:
        return False


def _draw(source: Path, out: Path, width: int, height: int, codec: str) -> str:
    """``source`` scaled into a new file beside ``out``, renamed onto ``out`` when that is not
    already the same bytes (a rename replaces a link itself, never what it points at); the
    copy's sha256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=temp_prefix(out.stem), suffix=out.suffix,
                                    dir=out.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        _scale(source, tmp, width, height, codec)
        digest = _sha256(tmp)
        if not _holds(out, digest):
            tmp.chmod(NEW_FILE_MODE)  # mkstemp makes it private; a hosted copy is an ordinary file
            _replace(tmp, out)
        return digest
    finally:
        tmp.unlink(missing_ok=True)


def _replace(tmp: Path, out: Path) -> None:
    try:
        os.replace(tmp, out)
    except OSError as exc:  # a folder in its place, say
        raise MediaError(f"cannot write the scaled copy {out} ({exc.strerror}): "
                                 "remove what is there; storyboard draws it again") from exc


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scale(source: Path, out: Path, width: int, height: int, codec: str) -> None:
    pixels = "rgb24" if codec == "png" else "yuvj444p"
    ffmpeg.run([*ffmpeg.PORTABLE_ARGS, *imagehead.demuxer(source), "-i", str(source), "-vf",
                f"scale={width}:{height}:flags={ffmpeg.SWS_FLAGS},format={pixels}",
                "-frames:v", "1", "-update", "1", *ffmpeg.BITEXACT, "-f", "image2",
                "-c:v", codec, *(["-q:v", "2"] if codec == "mjpeg" else []), str(out)],
               what=f"scaling {source.name} to {width}x{height}")
