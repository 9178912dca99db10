"""Kinds and bodies into ISO BMFF boxes: the writing helpers ``stitch.sound.aac`` and ``muxing.mp4`` share.

Only what both writers need, with the values ffmpeg's mp4 muxer writes: the identity matrix of a
movie or track header, the 'und' language of a media header, and the data reference that says
every sample is in this file.
"""

from __future__ import annotations

import struct

MAX_U32 = 0xFFFFFFFF
MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
LANGUAGE_UND = 0x55C4  # 'und', packed ISO 639-2


def box(kind: bytes, *parts: bytes) -> bytes:
    """A box of ``kind`` around ``parts`` (a 32-bit size: none of ours is larger)."""
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    """A full box: version and flags, then ``parts``."""
    return box(kind, struct.pack(">I", version << 24 | flags), *parts)


def u32s(*values: int) -> bytes:
    """``values`` as big-endian unsigned 32-bit integers."""
    return struct.pack(f">{len(values)}I", *values)


def handler(kind: bytes, name: bytes) -> bytes:
    """An ``hdlr`` box: handler ``kind`` (``vide``, ``soun``) named ``name``."""
    return full(b"hdlr", 0, 0, struct.pack(">I4s", 0, kind), bytes(12), name + b"\0")


def data_information() -> bytes:
    """A ``dinf`` box whose one data reference is this file itself."""
    return box(b"dinf", full(b"dref", 0, 0, u32s(1), full(b"url ", 0, 1)))
