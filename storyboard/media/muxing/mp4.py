"""A held H.264 stream and an AAC track's MP4 into one MP4: a silent held board's muxing, in Python.

A silent held board (``animatic.held``) is its held picture stream (Annex B, ``h264.hold``) and the
shared silent track (an MP4 ffmpeg made), both copied: an ffmpeg run that only copies costs a
process start, a probe of each input and a rewrite for ``+faststart``. ``mux`` writes the same
file's parts in Python instead: ``ftyp``, then ``moov`` (the silent track's ``mvhd``, a video
``trak`` of one sample a frame, each frame's NAL units length-prefixed, its ``avcC`` from the
stream's SPS and PPS as ffmpeg writes it, and the silent track's own ``trak`` with its chunk
offsets moved), then ``mdat``. The same inputs give the same bytes.

Only what the held boards make is taken (a Constrained Baseline or Main stream of one slice a
picture, its frame a whole number of the track's ticks, a sound file of one ``mdat`` with 32-bit
chunk offsets); anything else is refused (``MediaError``), and the caller muxes with ffmpeg.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media.muxing.boxes import LANGUAGE_UND, MATRIX, box, data_information, full, handler
from storyboard.media.muxing.h264 import HIGH_PROFILES, NAL_IDR, NAL_PPS, NAL_SPS, nal_units, pictures

FTYP = b"isom\x00\x00\x02\x00isomiso2avc1mp41"  # ffmpeg's for an MP4 of H.264 and AAC


def children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Each box in ``data[start:end]``: its type, where it starts and where it ends."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size < 8 or at + size > end:
            raise MediaError("an MP4 box runs past its parent (64-bit sizes are not read)")
        yield kind, at, at + size
        at += size


def find(data: bytes, *path: bytes) -> tuple[int, int]:
    """Where the box at ``path`` (its types from the top, each the first of its type) is."""
    start, end = 0, len(data)
    for kind in path:
        found = next(((s, e) for k, s, e in children(data, start, end) if k == kind), None)
        if found is None:
            raise MediaError(f"an MP4 without {b'/'.join(path).decode()}")
        start, end = found[0] + 8, found[1]
    return start - 8, end


def mux(stream: bytes, sound: Path, out: Path, size: tuple[int, int], fps: int,
        timescale: int) -> None:
    """``stream`` (Annex B, a ``size`` picture a frame at ``fps``) and ``sound``'s one track into
    ``out`` (MP4, ``moov`` first), the video on a track of ``timescale`` ticks a second."""
    if timescale % fps:
        raise MediaError(f"a frame of 1/{fps} s is no whole number of 1/{timescale} s ticks")
    units = nal_units(stream)
    access = list(pictures(units))
    samples = [b"".join(struct.pack(">I", len(u)) + u for u in each) for each in access]
    synced = [n + 1 for n, each in enumerate(access) if any(u[0] & 0x1F == NAL_IDR for u in each)]
    audio = sound.read_bytes()
    mvhd = _box_at(audio, b"moov", b"mvhd")
    if mvhd[8]:
        raise MediaError("a sound file of 64-bit times (an mvhd of version 1)")
    movie_scale, sound_duration = struct.unpack(">II", mvhd[20:28])
    video = Video(units, samples, synced, size, fps, timescale,
                  len(samples) * movie_scale // fps)
    sound_trak, (data_start, data_end) = _box_at(audio, b"moov", b"trak"), find(audio, b"mdat")
    head = box(b"ftyp", FTYP)
    video_at = len(head) + 8 + len(mvhd) + len(video.trak(0)) + len(sound_trak) + 8
    sound_at = video_at + sum(len(s) for s in samples)
    movie = bytearray(mvhd)
    struct.pack_into(">I", movie, 24, max(video.movie_duration, sound_duration))
    struct.pack_into(">I", movie, len(movie) - 4, 3)  # next_track_ID
    moov = box(b"moov", bytes(movie), video.trak(video_at),
               _moved(sound_trak, sound_at - (data_start + 8)))
    if len(head) + len(moov) + 8 != video_at:
        raise MediaError("an MP4's header changed size as it was written")
    out.write_bytes(head + moov + box(b"mdat", *samples, audio[data_start + 8:data_end]))


def _box_at(data: bytes, *path: bytes) -> bytes:
    start, end = find(data, *path)
    return data[start:end]


@dataclass(frozen=True)
class Video:
    """The video track's facts: the stream's NAL units, its samples (a frame each) and which
    are sync samples (numbered from 1), its size, rate and ticks, its length in the movie's."""

    units: list[bytes]
    samples: list[bytes]
    synced: list[int]
    size: tuple[int, int]
    fps: int
    timescale: int
    movie_duration: int

    def trak(self, at: int) -> bytes:
        """The video ``trak`` (track 1), its samples in one chunk at ``at``."""
        return _video_trak(self, at)


def _video_trak(video: Video, at: int) -> bytes:
    units, samples, synced, movie_duration = (video.units, video.samples, video.synced,
                                              video.movie_duration)
    (width, height), timescale, fps = video.size, video.timescale, video.fps
    sps = next((u for u in units if u[0] & 0x1F == NAL_SPS), None)
    pps = next((u for u in units if u[0] & 0x1F == NAL_PPS), None)
    if sps is None or pps is None or len(sps) < 4 or sps[1] in HIGH_PROFILES:
        raise MediaError("an H.264 stream without its SPS and PPS, or of a high profile")
    frames, tick = len(samples), timescale // fps
    tkhd = full(b"tkhd", 0, 3, struct.pack(">5I", 0, 0, 1, 0, movie_duration), bytes(8),
                struct.pack(">HHHH", 0, 0, 0, 0), MATRIX, struct.pack(">II", width << 16,
                                                                        height << 16))
    edts = box(b"edts", full(b"elst", 0, 0, struct.pack(">IIiI", 1, movie_duration, 0, 0x10000)))
    avcc = box(b"avcC", bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
               struct.pack(">H", len(sps)), sps, b"\x01", struct.pack(">H", len(pps)), pps)
    entry = box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16),
                struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1), bytes(32),
                struct.pack(">Hh", 0x18, -1), avcc, box(b"pasp", struct.pack(">II", 1, 1)))
    table = box(b"stbl", full(b"stsd", 0, 0, struct.pack(">I", 1), entry),
                full(b"stts", 0, 0, struct.pack(">III", 1, frames, tick)),
                full(b"stss", 0, 0, struct.pack(f">I{len(synced)}I", len(synced), *synced)),
                full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1)),
                full(b"stsz", 0, 0, struct.pack(f">II{frames}I", 0, frames,
                                             *(len(s) for s in samples))),
                full(b"stco", 0, 0, struct.pack(">II", 1, at)))
    media = box(b"mdia", full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale,
                                                      frames * tick, LANGUAGE_UND, 0)),
                handler(b"vide", b"VideoHandler"),
                box(b"minf", full(b"vmhd", 0, 1, bytes(8)), data_information(), table))
    return box(b"trak", tkhd, edts, media)


def _moved(trak: bytes, shift: int) -> bytes:
    """``trak`` (the sound's) as track 2, its chunk offsets moved by ``shift``."""
    moved = bytearray(trak)
    tkhd = 8 + find(trak[8:], b"tkhd")[0]
    if trak[tkhd + 8]:
        raise MediaError("a sound track of 64-bit times (a tkhd of version 1)")
    struct.pack_into(">I", moved, tkhd + 20, 2)  # track_ID
    start, end = find(trak, b"trak", b"mdia", b"minf", b"stbl", b"stco")
    count = struct.unpack(">I", trak[start + 12:start + 16])[0]
    if end - start != 16 + 4 * count:
        raise MediaError("a sound track's chunk offsets are not where they should be")
    for n in range(count):
        at = start + 16 + 4 * n
        struct.pack_into(">I", moved, at, struct.unpack(">I", trak[at:at + 4])[0] + shift)
    return bytes(moved)
