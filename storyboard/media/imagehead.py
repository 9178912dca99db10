"""A file's first bytes into its type (``sniff``), and image headers into their sizes: PNG, JPEG,
WebP and BMP, read before any pixel is.

A picture's width and height are written near its start (PNG's IHDR, JPEG's SOF marker, WebP's
VP8/VP8L/VP8X chunk, BMP's info header), so a file can be held to a pixel limit before a decoder
allocates its frame: a 0.8 MB PNG of zeros can say 16000x16000 (768 MB decoded). ``size`` reads
only those bytes; ``too_many_pixels`` is the check ``probe`` makes before ffmpeg sees the file. A
header that cannot be read gives None (ffmpeg then says what it is). A GIF (or any other type) is
never handed to ffmpeg at all: ``sniff`` calls it unknown, and it is refused as that.
A PNG's header also says what it decodes to: ``png_input`` tells ffmpeg, so it decodes it once.

A still is never left to ffmpeg's guess of its format (``demuxer``): ffmpeg 9 took a PNG whose
compressed rows put the byte 0x47 every 204 bytes 40 times in a row for an MPEG transport stream
(whose sync byte it is, at a score above the PNG reader's) and failed it with "End of file"; the
file's own signature names its reader instead.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAX_PIXELS = 8000 * 8000  # the largest picture any model takes (8000 px a side)
HEAD = 32  # bytes that hold every format's size except JPEG's (found by walking its markers)
JPEG_SEGMENTS = 256  # markers walked at most before the frame header; past them: unknown
SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers (not DHT, JPG, DAC)
STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # markers without a length


def size(path: Path, kind: str) -> tuple[int, int] | None:
    """``(width, height)`` from the header of ``path``, a ``kind`` image (``sniff``'s word);
    None when the header is not there or not readable."""
    try:
        with path.open("rb") as handle:
            return read_size(handle, kind)
    except OSError:
        return None


def read_size(handle: BinaryIO, kind: str) -> tuple[int, int] | None:
    """``size`` of an image read from ``handle`` (a file, or the bytes of a ``data:`` URI)."""
    return _jpeg(handle) if kind == "jpeg" else _fixed(kind, handle.read(HEAD))


def over_limit(found: tuple[int, int] | None) -> tuple[int, int] | None:
    """``found`` when it holds more than ``MAX_PIXELS`` pixels (never to be decoded)."""
    return found if found is not None and found[0] * found[1] > MAX_PIXELS else None


def too_many_pixels(path: Path, kind: str) -> tuple[int, int] | None:
    """The header's size when it holds more than ``MAX_PIXELS`` pixels (never to be decoded)."""
    return over_limit(size(path, kind))


def _fixed(kind: str, head: bytes) -> tuple[int, int] | None:
    reader = {"png": _png, "webp": _webp, "bmp": _bmp}.get(kind)
    if reader is None or len(head) < HEAD:
        return None
    return reader(head)


def _png(head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (int.from_bytes(head[24:27], "little") + 1,
                int.from_bytes(head[27:30], "little") + 1)
    return None


def _bmp(head: bytes) -> tuple[int, int] | None:
    header = int.from_bytes(head[14:18], "little")
    if header == 12:  # OS/2's core header: 16-bit sizes
        width, height = struct.unpack("<HH", head[18:22])
        return width, height
    if header < 40:
        return None
    width, height = struct.unpack("<ii", head[18:26])
    return abs(width), abs(height)  # a negative height: rows top to bottom


def _jpeg(handle: BinaryIO) -> tuple[int, int] | None:
    """The frame header's size, walking the markers after SOI (APPn, DQT, DHT ...)."""
    if handle.read(2) != b"\xff\xd8":
        return None
    for _ in range(JPEG_SEGMENTS):
        marker = _marker(handle)
        if marker is None or marker == 0xDA:  # scan data before any frame header
            return None
        if marker in STANDALONE:
            continue
        length = handle.read(2)
        if len(length) < 2 or (span := int.from_bytes(length, "big")) < 2:
            return None
        if marker in SOF:
            frame = handle.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        handle.seek(span - 2, 1)
    return None


def _marker(handle: BinaryIO) -> int | None:
    """The next marker's code: a 0xFF, any fill 0xFFs, then the code."""
    if handle.read(1) != b"\xff":
        return None
    code = handle.read(1)
    while code == b"\xff":
        code = handle.read(1)
    return code[0] if code else None


# Each still's reader by ``sniff``'s word, the one ffmpeg 5.1 and 9 chose for it when they
# guessed right (so what is decoded is the same): a JPEG's is ``image2``, told to take its name as
# it is (a ``%`` in it is no frame-number pattern).
READERS = {"png": ("-f", "png_pipe"), "jpeg": ("-f", "image2", "-pattern_type", "none"),
           "webp": ("-f", "webp_pipe")}


def demuxer(path: Path) -> list[str]:
    """The input options naming a PNG's, JPEG's or WebP's reader, by its signature (never
    ffmpeg's guess); none for any other file, or one that cannot be read (ffmpeg then says what
    it is)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD)
    except OSError:
        return []
    return list(READERS.get(sniff(head), ()))


def sniff(head: bytes) -> str:
    """The content type from a file's first bytes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:10] == b"qt" else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mov"
    return "unknown"


PNG_FORMATS = {(8, 2): "rgb24", (8, 6): "rgba"}  # (bit depth, colour type): ffmpeg's decoded
PNG_CHUNKS = 64  # chunks walked at most before the image data; past them: not declared


def png_input(path: Path) -> list[str]:
    """Input options that tell ffmpeg what a PNG decodes to (its pixel format and size, from its
    header), so it decodes the picture once, not a second time to find them out; for any other
    file, or a PNG of another depth or colour type, or with a transparent colour (``tRNS``:
    decoded with alpha), its reader alone (``demuxer``), and ffmpeg finds the rest."""
    try:
        with path.open("rb") as handle:
            head = handle.read(33)
            found = _png_format(head)
            if found is None or not _no_transparency(handle):
                return demuxer(path)
    except OSError:
        return []
    (width, height), pixels = found
    return ["-f", "png_pipe", "-pixel_format", pixels, "-video_size", f"{width}x{height}"]


def _png_format(head: bytes) -> tuple[tuple[int, int], str] | None:
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    pixels = PNG_FORMATS.get((depth, colour))
    return None if pixels is None or not width or not height else ((width, height), pixels)


def _no_transparency(handle: BinaryIO) -> bool:
    """Whether the chunks after IHDR (``handle`` there) reach the image data with no ``tRNS``."""
    for _ in range(PNG_CHUNKS):
        header = handle.read(8)
        if len(header) < 8:
            return False
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IDAT":
            return True
        if kind == b"tRNS":
            return False
        handle.seek(length + 4, 1)  # the chunk's data and its CRC
    return False
