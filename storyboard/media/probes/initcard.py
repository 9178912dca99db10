"""PNG files into a verdict: whether one is a grey placeholder card an older ``storyboard init`` drew.

Versions of ``init`` before the cast was generated drew a card for each character and place: a PNG
of 384x512 (a person or a prop) or 512x288 (a place), 8-bit RGB, a flat 0x808080 background with
the name in white in the middle and "PLACEHOLDER - replace this image" in white near the bottom.
Such a file is worth nothing as a reference to a paid model, so the compiler refuses it for one.

The card is recognised by its content, never by its name or path (a user may have moved or renamed
it): the size and format above, then every pixel decoded and held to the recipe. Every pixel is a
neutral grey (R = G = B) no darker than the background (white text, anti-aliased, on 0x808080);
most of them are the background exactly; the top rows are background only; and there is white
both in the middle band (the name) and in the bottom band (the word). A real picture fails within
its first row or two, so only a real card is decoded whole; rows that repeat the row above (the
background, as PNG's filters write it) are taken without decoding them byte by byte.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIZES = ((384, 512), (512, 288))  # (width, height): the portrait and landscape cards
BACKGROUND = 0x80
WHITE = 0xF0  # the text's brightest pixels are white; anti-aliasing makes the rest lighter greys
MIN_BACKGROUND = 0.6  # at least this share of the pixels is the background exactly
TOP_ROWS = 32  # background only (the name is centred, the word near the bottom)
BOTTOM_BAND = 48  # the word sits in the bottom rows
MAX_READ = 4 << 20  # a card is a few KB: more than this is not one
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_init_card(path: Path) -> bool:
    """Whether ``path`` holds a placeholder card an older ``init`` drew (see the module's text);
    False for anything else, an unreadable file included."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_READ + 1)
    except OSError:
        return False
    if len(data) > MAX_READ or not data.startswith(SIGNATURE):
        return False
    found = _chunks(data)
    if found is None:
        return False
    header, idat = found
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if (width, height) not in SIZES or (depth, colour, interlace) != (8, 2, 0):
        return False
    stride = width * 3
    try:
        raw = zlib.decompressobj().decompress(idat, height * (stride + 1) + 1)
    except zlib.error:
        return False
    if len(raw) != height * (stride + 1):
        return False
    return _matches(raw, width, height)


def _chunks(data: bytes) -> tuple[bytes, bytes] | None:
    """The IHDR's body and every IDAT's data joined; None when the chunks are broken."""
    at, header, idat = len(SIGNATURE), b"", []
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if len(body) != length:
            return None
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        at += 12 + length
    if len(header) != 13 or not idat:
        return None
    return header, b"".join(idat)


def _matches(raw: bytes, width: int, height: int) -> bool:
    stride = width * 3
    prior = bytes(stride)
    background = bytes([BACKGROUND]) * stride
    plain = 0
    white_rows: list[int] = []
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], raw[start + 1:start + 1 + stride], prior)
        if row is None or not _neutral(row) or min(row) < BACKGROUND:
            return False
        if y < TOP_ROWS and row != background:
            return False
        plain += row.count(BACKGROUND) // 3 if row != background else width
        if max(row) >= WHITE:
            white_rows.append(y)
        prior = row
    middle = range(height // 4, height * 3 // 4)
    return (plain >= MIN_BACKGROUND * width * height
            and any(y in middle for y in white_rows)
            and any(y >= height - BOTTOM_BAND for y in white_rows))


def _neutral(row: bytes) -> bool:
    return row[0::3] == row[1::3] == row[2::3]


def _unfilter(kind: int, line: bytes, prior: bytes) -> bytes | None:
    """One row of 3-byte pixels as it was before PNG's filter ``kind``; None for an unknown one."""
    if kind == 0:
        return line
    if kind == 2:
        return prior if line.count(0) == len(line) else bytes(
            (a + b) & 0xFF for a, b in zip(line, prior, strict=True))
    if kind == 1 and line.count(0, 3) == len(line) - 3:
        return line[:3] * (len(line) // 3)  # one colour: only the first pixel is written
    if kind == 4 and line.count(0) == len(line) and _flat(prior):
        return prior  # the row above again (the background): Paeth predicts every byte
    if kind not in (1, 3, 4):
        return None
    return _sequential(kind, line, prior)


def _flat(row: bytes) -> bool:
    return row == row[:3] * (len(row) // 3)


def _sequential(kind: int, line: bytes, prior: bytes) -> bytes:
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - 3] if i >= 3 else 0
        up = prior[i]
        if kind == 1:
            guess = left
        elif kind == 3:
            guess = (left + up) >> 1
        else:
            corner = prior[i - 3] if i >= 3 else 0
            guess = _paeth(left, up, corner)
        out[i] = (out[i] + guess) & 0xFF
    return bytes(out)


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    near_left, near_up, near_corner = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
    if near_left <= near_up and near_left <= near_corner:
        return left
    return up if near_up <= near_corner else corner
