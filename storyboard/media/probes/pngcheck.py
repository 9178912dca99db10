"""PNG files into a verdict: whole and readable, checked chunk by chunk in pure Python.

A made picture is checked on arrival before it enters the cache. For a PNG that is done here
instead of by an ffprobe process (a process per picture is most of a board's arrival on a busy
machine): the signature, ``IHDR`` first with a size and a colour type PNG knows, every critical
chunk's CRC, an ``IEND``, and the ``IDAT`` stream inflated (streamed, never held) to exactly the
bytes its rows need; what decoders pass over (a damaged ancillary chunk, bytes after ``IEND``) is
passed over here too. A file cut short, a flipped byte or a wrong length is a
problem; a header over the pixel limit is not inflated (``imagehead.too_many_pixels``: the
caller's rule).

A whole PNG's facts are read here too (``whole``: its size, and whether it decodes with alpha, as
ffmpeg's decoder gives it), so measuring one starts no ffmpeg process at all.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from storyboard.media.imagehead import MAX_PIXELS

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples a pixel
DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
STEP = 1 << 16  # inflated bytes at a time


def is_png(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SIGNATURE)) == SIGNATURE
    except OSError:
        return False


def problem(path: Path) -> str | None:
    """What makes ``path`` (a PNG) unreadable, or None when it is whole."""
    found = _walked(path)
    return found if isinstance(found, str) else None


def _walked(path: Path) -> list[tuple[bytes, bytes]] | str:
    """``path``'s chunks when it is a whole PNG, else what makes it unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if not data.startswith(SIGNATURE):
        return "not a PNG"
    chunks = _chunks(data)
    if isinstance(chunks, str):
        return chunks
    return _header_problem(chunks) or _pixels_problem(chunks) or chunks


@dataclass(frozen=True)
class Header:
    """A whole PNG's size, and whether it decodes with alpha."""

    width: int
    height: int
    alpha: bool


def whole(path: Path) -> Header | None:
    """``path``'s ``Header`` when it is a whole PNG (``problem`` finds nothing), else None (ffmpeg
    then says what it is). Its alpha is ffmpeg's: a colour type with an alpha sample (4, 6), or
    a ``tRNS`` chunk before the image data on grey (of 2 bits or more) or RGB; a palette's
    ``tRNS`` stays in its palette (``pal8``)."""
    chunks = _walked(path)
    if isinstance(chunks, str):
        return None
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    before = [kind for kind, _ in chunks[:next(i for i, (k, _) in enumerate(chunks)
                                                if k == b"IDAT")]]
    trns = b"tRNS" in before and (colour == 2 or (colour == 0 and depth > 1))
    return Header(width, height, colour in (4, 6) or trns)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]] | str:
    """Each chunk's (type, data), CRCs checked; a problem's words when the walk fails."""
    found: list[tuple[bytes, bytes]] = []
    offset = len(SIGNATURE)
    while offset < len(data):
        if offset + 12 > len(data):
            return "cut short inside a chunk header"
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        end = offset + 12 + length
        if end > len(data):
            return f"cut short inside its {kind.decode('latin-1')} chunk"
        body = data[offset + 8:end - 4]
        critical = kind[:1].isupper()  # a damaged ancillary chunk is skipped, as decoders do
        if critical and zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"its {kind.decode('latin-1')} chunk is damaged (CRC)"
        found.append((kind, body))
        offset = end
        if kind == b"IEND":
            return found  # what follows it, decoders never read
    return "cut short: no IEND chunk"


def _header_problem(chunks: list[tuple[bytes, bytes]]) -> str | None:
    kind, body = chunks[0]
    if kind != b"IHDR" or len(body) != 13:
        return "no IHDR chunk first"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
    if not width or not height:
        return f"a size of {width}x{height}"
    if depth not in DEPTHS.get(colour, ()):
        return f"a bit depth of {depth} with colour type {colour}"
    if interlace not in (0, 1):
        return f"an unknown interlace method {interlace}"
    return None


def _pixels_problem(chunks: list[tuple[bytes, bytes]]) -> str | None:
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if width * height > MAX_PIXELS:
        return None  # never inflated: the pixel limit refuses it by its header
    stream = b"".join(body for kind, body in chunks if kind == b"IDAT")
    if not stream:
        return "no image data (IDAT)"
    wanted = _raw_size(width, height, depth * CHANNELS[colour], interlace)
    inflater, got = zlib.decompressobj(), 0
    try:
        got += len(inflater.decompress(stream, STEP))
        while inflater.unconsumed_tail and got <= wanted:
            got += len(inflater.decompress(inflater.unconsumed_tail, STEP))
    except zlib.error as exc:
        return f"its image data does not inflate ({exc})"
    if got != wanted or not inflater.eof:
        return f"its image data holds {got} bytes where its rows need {wanted}"
    return None


def _raw_size(width: int, height: int, bits: int, interlace: int) -> int:
    """The inflated bytes: each row a filter byte and its pixels (each Adam7 pass its own)."""
    if interlace == 0:
        return height * (1 + (width * bits + 7) // 8)
    total = 0
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        cols, rows = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if cols > 0 and rows > 0:
            total += rows * (1 + (cols * bits + 7) // 8)
    return total
