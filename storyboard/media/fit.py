"""Pictures into ones a video model takes: a still too large scaled down before it is sent on.

A board made at 4K (Seedream makes nothing under 2560x1440, Kling's 3.0 Omni up to 4K) is more
than a video model needs for a first frame or a reference, and more than some take: it would
swell a request body past its limit (a ``data:`` URI) or pass the model's own largest side or file
size. ``fitted`` gives the picture as it is when it fits, else a copy scaled down (its shape kept,
both sides even) in ``folder``, named by the source's content and the bounds, drawn once: the same
source gives the same bytes (one thread, bit-exact flags), so a retry sends what was sent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from storyboard.media import ffmpeg, imagehead, probe

SEND_SIDE = 2048  # a still's longest side sent to a video model that names no limit of its own


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
            kind = probe.sniff(handle.read(32))
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
    if not out.is_file():
        _scale(path, out, width, height, "png")
    if max_bytes and out.stat().st_size > max_bytes:
        out = folder / f"{digest}-{width}x{height}.jpg"
        if not out.is_file():
            _scale(path, out, width, height, "mjpeg")
    return out


def _scale(source: Path, out: Path, width: int, height: int, codec: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    pixels = "rgb24" if codec == "png" else "yuvj444p"
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, "-i", str(source), "-vf",
                    f"scale={width}:{height}:flags={ffmpeg.SWS_FLAGS},format={pixels}",
                    "-frames:v", "1", "-update", "1", *ffmpeg.BITEXACT, "-f", "image2",
                    "-c:v", codec, *(["-q:v", "2"] if codec == "mjpeg" else []), str(tmp)],
                   what=f"scaling {source.name} to {width}x{height}")
