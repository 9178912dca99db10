"""MP4 files into their tracks' sample tables: what ``mp4`` needs to copy samples by byte range.

Reads the boxes ffmpeg's mp4 muxer writes (one ``moov``, sample tables with ``stco`` or ``co64``)
and resolves each sample's size and file offset. It reads only the headers of top-level boxes and
the ``moov``; every read is bounded by its box, and its box by the file. A file it cannot read
exactly (truncated, malformed, fragmented, composition offsets, several sample entries, a sample
past the end of the file) raises ``Unsupported``, never another error, so the caller can let
ffmpeg handle it instead.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_MOOV = 64 << 20  # bytes: far beyond any episode's sample tables
MAX_SAMPLES = 1 << 24  # per track: 77 hours of 60 fps video (a damaged count is not believed)
Span = tuple[int, int]  # a box's body, [start, end) in the bytes it was read from


class Unsupported(Exception):
    """An input the MP4 writer does not handle: the caller joins the files with ffmpeg instead."""


class OtherParameterSets(Unsupported):
    """Files whose video sample entries (their SPS/PPS) differ: not one strict stream; joined with
    each file's parameter sets repeated in-band instead."""


@dataclass(frozen=True)
class Track:
    """One track: its samples (sizes, file offsets, sync ones, durations) and its headers."""

    handler: bytes  # b"vide", b"soun", ...
    timescale: int  # the media's
    movie_timescale: int  # the file's (edit list durations are in it)
    entry: tuple[bytes, bytes]  # the one sample entry: (kind, body)
    sizes: tuple[int, ...]
    offsets: tuple[int, ...]
    sync: frozenset[int] | None  # 0-based numbers of the sync samples; None: every sample is
    stts: tuple[tuple[int, int], ...]  # (count, delta) runs
    edits: tuple[tuple[int, int, int], ...]  # (segment duration, media time, rate 16.16)
    size: tuple[int, int]  # tkhd width and height, 16.16 fixed point
    extra: tuple[tuple[bytes, bytes], ...]  # sample groups and dependency flags: (kind, body)

    def is_sync(self, sample: int) -> bool:
        return self.sync is None or sample in self.sync


def _need(ok: bool, why: str) -> None:
    if not ok:
        raise Unsupported(why)


def _ints(data: bytes, at: int, end: int, fmt: str) -> tuple[int, ...]:
    """``fmt`` unpacked from ``data`` at ``at``, which must end by ``end``."""
    _need(at >= 0 and at + struct.calcsize(fmt) <= min(end, len(data)), "a box is cut short")
    values: tuple[int, ...] = struct.unpack_from(fmt, data, at)
    return values


def children(data: bytes, span: Span) -> Iterator[tuple[bytes, Span]]:
    """Each box in ``data[span]``: its kind and its body."""
    at, end = span
    while at < end:
        size, kind = _ints(data, at, end, ">I4s")[0], data[at + 4:at + 8]
        head = 8
        if size == 1:
            size, head = _ints(data, at + 8, end, ">Q")[0], 16
        elif size == 0:
            size = end - at
        _need(head <= size <= end - at, f"box {kind!r} overruns its parent")
        yield kind, (at + head, at + size)
        at += size


def _kids(data: bytes, span: Span) -> dict[bytes, list[Span]]:
    found: dict[bytes, list[Span]] = {}
    for kind, body in children(data, span):
        found.setdefault(kind, []).append(body)
    return found


def _maybe(kids: dict[bytes, list[Span]], kind: bytes) -> Span | None:
    spans = kids.get(kind, [])
    _need(len(spans) <= 1, f"{len(spans)} {kind!r} boxes where one belongs")
    return spans[0] if spans else None


def _one(kids: dict[bytes, list[Span]], kind: bytes) -> Span:
    span = _maybe(kids, kind)
    _need(span is not None, f"no {kind!r} box")
    assert span is not None
    return span


def _full(data: bytes, span: Span, versions: tuple[int, ...] = (0,)) -> tuple[int, int]:
    """A full box's version (one of ``versions``) and where its fields start."""
    version = _ints(data, span[0], span[1], ">B")[0]
    _need(version in versions, f"box version {version}")
    return version, span[0] + 4


def _table(data: bytes, span: Span, row: str) -> tuple[int, ...]:
    """A table box's rows (each ``row``, a struct format; flattened), after its entry count."""
    _, at = _full(data, span)
    count = _ints(data, at, span[1], ">I")[0]
    _need(count * struct.calcsize(">" + row) <= span[1] - at - 4, "a sample table is cut short")
    fmt = f">{count * len(row)}{row[0]}" if len(set(row)) == 1 else ">" + row * count
    return _ints(data, at + 4, span[1], fmt)


def _sizes(data: bytes, stbl: dict[bytes, list[Span]]) -> tuple[int, ...]:
    _need(b"stz2" not in stbl, "compact sample sizes (stz2)")
    span = _one(stbl, b"stsz")
    _, at = _full(data, span)
    constant, count = _ints(data, at, span[1], ">II")
    _need(count <= MAX_SAMPLES, f"{count} samples")
    if constant:
        return (constant,) * count
    _need(count * 4 <= span[1] - at - 8, "the sample size table is cut short")
    return _ints(data, at + 8, span[1], f">{count}I")


def _chunks(data: bytes, stbl: dict[bytes, list[Span]]) -> tuple[int, ...]:
    short, long = _maybe(stbl, b"stco"), _maybe(stbl, b"co64")
    _need((short is None) != (long is None), "not one chunk offset table")
    return _table(data, short, "I") if short else _table(data, long or (0, 0), "Q")


def _offsets(stsc: tuple[int, ...], chunks: tuple[int, ...], sizes: tuple[int, ...]
             ) -> tuple[int, ...]:
    """Each sample's file offset, from the sample-to-chunk runs and the chunk offsets."""
    runs = [stsc[n:n + 3] for n in range(0, len(stsc), 3)]
    _need(not runs or runs[0][0] == 1, "a sample-to-chunk table not starting at chunk 1")
    offsets: list[int] = []
    for n, (first, per, entry) in enumerate(runs):
        stop = runs[n + 1][0] if n + 1 < len(runs) else len(chunks) + 1
        _need(first < stop <= len(chunks) + 1 and per > 0 and entry == 1, "bad sample-to-chunk")
        for chunk in chunks[first - 1:stop - 1]:
            _need(len(offsets) + per <= len(sizes), "more samples in chunks than sizes")
            for size in sizes[len(offsets):len(offsets) + per]:
                offsets.append(chunk)
                chunk += size
    _need(len(offsets) == len(sizes), "fewer samples in chunks than sizes")
    return tuple(offsets)


def _samples(data: bytes, stbl: dict[bytes, list[Span]], file_size: int
             ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Each sample's size and file offset; all of them inside the file."""
    sizes = _sizes(data, stbl)
    offsets = _offsets(_table(data, _one(stbl, b"stsc"), "III"), _chunks(data, stbl), sizes)
    _need(all(o + s <= file_size for o, s in zip(offsets, sizes, strict=True)),
          "samples past the end of the file (truncated?)")
    return sizes, offsets


def _sync(data: bytes, stbl: dict[bytes, list[Span]], count: int) -> frozenset[int] | None:
    span = _maybe(stbl, b"stss")
    if span is None:
        return None
    numbers = _table(data, span, "I")
    _need(all(1 <= n <= count for n in numbers), "a sync sample past the last sample")
    return frozenset(n - 1 for n in numbers)


def _durations(data: bytes, stbl: dict[bytes, list[Span]], count: int
               ) -> tuple[tuple[int, int], ...]:
    flat = _table(data, _one(stbl, b"stts"), "II")
    runs = tuple((flat[n], flat[n + 1]) for n in range(0, len(flat), 2))
    _need(sum(c for c, _ in runs) == count, "sample durations and sizes disagree")
    return runs


def _entry(data: bytes, stbl: dict[bytes, list[Span]]) -> tuple[bytes, bytes]:
    span = _one(stbl, b"stsd")
    _, at = _full(data, span)
    entries = list(children(data, (at + 4, span[1])))
    _need(_ints(data, at, span[1], ">I")[0] == 1 and len(entries) == 1, "not one sample entry")
    kind, (start, end) = entries[0]
    return kind, data[start:end]


EXTRA = (b"sgpd", b"sbgp", b"sdtp")  # tables by sample number: kept as they are
KNOWN = (b"stsd", b"stts", b"stss", b"stsc", b"stsz", b"stco", b"co64", *EXTRA)


def _stbl(data: bytes, span: Span) -> dict[bytes, list[Span]]:
    stbl = _kids(data, span)
    unknown = sorted(set(stbl) - set(KNOWN))
    _need(not unknown, f"sample table boxes {unknown} (composition offsets or others)")
    return stbl


def _edits(data: bytes, trak: dict[bytes, list[Span]]) -> tuple[tuple[int, int, int], ...]:
    edts = _maybe(trak, b"edts")
    if edts is None:
        return ()
    span = _one(_kids(data, edts), b"elst")
    version, _ = _full(data, span, (0, 1))
    rows = _table(data, span, "QqI" if version else "IiI")
    return tuple((rows[n], rows[n + 1], rows[n + 2]) for n in range(0, len(rows), 3))


def _media(data: bytes, mdia: dict[bytes, list[Span]]) -> tuple[bytes, int]:
    """(handler type, timescale) of a track's media."""
    hdlr = _one(mdia, b"hdlr")
    _need(hdlr[0] + 12 <= hdlr[1], "a handler box is cut short")
    mdhd = _one(mdia, b"mdhd")
    version, at = _full(data, mdhd, (0, 1))
    timescale = _ints(data, at + (16 if version else 8), mdhd[1], ">I")[0]
    _need(timescale > 0, "a zero timescale")
    return data[hdlr[0] + 8:hdlr[0] + 12], timescale


def _size(data: bytes, tkhd: Span) -> tuple[int, int]:
    """A track header's width and height (16.16 fixed point)."""
    version, _ = _full(data, tkhd, (0, 1))
    _need(tkhd[1] - tkhd[0] == (96 if version else 84), "a track header of an odd size")
    width, height = _ints(data, tkhd[1] - 8, tkhd[1], ">II")
    return width, height


def _track(data: bytes, span: Span, movie_timescale: int, file_size: int) -> Track:
    trak = _kids(data, span)
    mdia = _kids(data, _one(trak, b"mdia"))
    handler, timescale = _media(data, mdia)
    stbl = _stbl(data, _one(_kids(data, _one(mdia, b"minf")), b"stbl"))
    sizes, offsets = _samples(data, stbl, file_size)
    extra = tuple((k, data[s:e]) for k in EXTRA for s, e in stbl.get(k, []))
    return Track(handler, timescale, movie_timescale, _entry(data, stbl), sizes, offsets,
                 _sync(data, stbl, len(sizes)), _durations(data, stbl, len(sizes)),
                 _edits(data, trak), _size(data, _one(trak, b"tkhd")), extra)


def _header(file: BinaryIO, at: int, end: int) -> tuple[bytes, int, int]:
    """The top-level box at ``at``: its kind, where its body starts, where it ends."""
    file.seek(at)
    head = file.read(16)
    size, kind = _ints(head, 0, len(head), ">I")[0], head[4:8]
    start = at + (16 if size == 1 else 8)
    size = _ints(head, 8, len(head), ">Q")[0] if size == 1 else size or end - at
    _need(start - at <= size <= end - at, f"box {kind!r} runs past the end of the file")
    return kind, start, at + size


def _moov(path: Path) -> tuple[bytes, int]:
    """The file's ``moov`` box (its body) and the file's size."""
    with path.open("rb") as file:
        end, at, moov = os.fstat(file.fileno()).st_size, 0, None
        while at < end:
            kind, start, at = _header(file, at, end)
            _need(kind != b"moof" and (kind != b"moov" or moov is None),
                  f"a fragmented file or a second moov ({kind!r})")
            if kind == b"moov":
                _need(at - start <= MAX_MOOV, "a huge moov")
                file.seek(start)
                moov = file.read(at - start)
                _need(len(moov) == at - start, "the file shrank while read")
    _need(moov is not None, "no moov box")
    assert moov is not None
    return moov, end


def tracks(path: Path) -> list[Track]:
    """Every track of the MP4 file at ``path``. Unsupported when it cannot be read exactly."""
    try:
        moov, file_size = _moov(path)
        top = _kids(moov, (0, len(moov)))
        _need(b"mvex" not in top, "a fragmented file")
        mvhd = _one(top, b"mvhd")
        version, at = _full(moov, mvhd, (0, 1))
        movie_timescale = _ints(moov, at + (16 if version else 8), mvhd[1], ">I")[0]
        return [_track(moov, span, movie_timescale, file_size) for span in top.get(b"trak", [])]
    except OSError as exc:
        raise Unsupported(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except Unsupported as exc:
        raise Unsupported(f"{path}: {exc}") from exc
