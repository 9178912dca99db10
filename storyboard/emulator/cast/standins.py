"""Prompts and lines into deterministic media: PNG pictures and WAV speech, in pure Python.

The emulator's stand-ins for generated images and spoken lines. The same seed text gives the same
bytes (no time, no randomness, no process): a picture is bands of colours drawn from a hash of the
prompt, seed and references; speech is one short tone per character, pitched by the voice, as
long in all as the local stand-in's (``targets.cast.assets.spoken_seconds``).
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
import zlib

from storyboard.targets.cast.assets import character_seconds

BANDS = 6  # colour bands down the picture
STRIPES = 8  # and stripes across it
MAX_SPEECH_SECONDS = 60.0


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _row(colours: bytes, width: int) -> bytes:
    """One scan line: a filter byte, then ``STRIPES`` stripes of the given RGB triples."""
    pixels = bytearray()
    for x in range(STRIPES):
        start, end = width * x // STRIPES, width * (x + 1) // STRIPES
        pixels += colours[3 * x: 3 * x + 3] * (end - start)
    return b"\x00" + bytes(pixels)


def picture(width: int, height: int, *seed: str) -> bytes:
    """A ``width`` by ``height`` RGB PNG (no alpha) whose colours come from ``seed``."""
    key = _digest(*seed)
    palette = hashlib.sha256(key).digest() + hashlib.sha256(key + b"1").digest() \
        + hashlib.sha256(key + b"2").digest() + hashlib.sha256(key + b"3").digest()
    raw = bytearray()
    for y in range(BANDS):
        start, end = height * y // BANDS, height * (y + 1) // BANDS
        colours = palette[(3 * STRIPES * y) % 96:][:3 * STRIPES].ljust(3 * STRIPES, b"\x80")
        raw += _row(colours, width) * (end - start)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + _chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int, bool] | None:
    """A PNG's width, height and whether it has an alpha channel; None if it is not a PNG."""
    if len(data) < 26 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height), data[25] in (4, 6)


def pcm(text: str, voice: str, sample_rate: int) -> bytes:
    """16-bit mono samples of ``text`` in ``voice``: a tone per character, the voice's pitch."""
    base = 110 + _digest("voice", voice)[0] % 120
    tones: dict[tuple[float, int], bytes] = {}
    frames = bytearray()
    for char in text.strip():  # as long as ``spoken_seconds`` says (the local stand-in's length)
        per = max(1, round(sample_rate * character_seconds(char)))
        if len(frames) + 2 * per > 2 * sample_rate * MAX_SPEECH_SECONDS:
            break
        pitch = 0.0 if char.isspace() else base * (1 + (ord(char) % 12) / 12)
        if (pitch, per) not in tones:
            step = 2 * math.pi * pitch / sample_rate
            tones[pitch, per] = struct.pack(f"<{per}h", *(int(8000 * math.sin(step * i))
                                                          for i in range(per)))
        frames += tones[pitch, per]
    return bytes(frames)


def speech(text: str, voice: str, sample_rate: int = 24000) -> bytes:
    """A WAV file of ``text`` spoken in ``voice`` (see ``pcm``)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm(text, voice, sample_rate))
    return out.getvalue()
