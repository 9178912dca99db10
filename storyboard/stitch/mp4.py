"""Video entries and an encoded sound into one MP4: samples copied by byte range, tables written here.

The last step of a strict stitch. ffmpeg's concat demuxer probes every entry it opens (it decodes
a few frames of each); here nothing is decoded: each entry's frames (a keyframe first) are copied
byte for byte from their file (``mp4read`` finds them), the sound's packets likewise, and the
sample tables are written anew: one constant frame duration, the keyframes renumbered.

The file looks like ffmpeg's mp4 muxer's with ``+faststart``: ftyp, moov, then one mdat whose
chunks take turns, half a second of each track at a time, as a streaming player expects. Its
movie timescale is the least common multiple of the tracks' (as ffmpeg 9 chooses when it muxes
these), so every duration and the sound's edit list (which skips the encoder's priming) are exact.
The video's sample entry is the first file's ``avc1`` without its ``btrt`` (whose bit rates were
that file's); the sound's is copied as it is. No times, no encoder string: the same inputs always
give the same bytes.

What it does not handle (B-frames, an edit list other than a plain one, frame durations or
parameter sets that differ between files, an entry not starting on a keyframe, a malformed or
truncated file) raises ``Unsupported`` before anything is written; the caller then lets ffmpeg
join the entries.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from storyboard.files import temp_prefix
from storyboard.stitch.boxes import LANGUAGE_UND, MATRIX, MAX_U32, box, data_information, full, handler, u32s
from storyboard.stitch.mp4read import OtherParameterSets, Track, Unsupported, children, tracks
from storyboard.stitch.segments import Entry

__all__ = ["OtherParameterSets", "Unsupported", "join"]

CHUNKS_PER_SECOND = 2
FTYP = box(b"ftyp", b"isom", u32s(0x200), b"isomiso2avc1mp41")
UNITY = 0x10000  # 1.0 in 16.16: an edit's rate, a header's
VISUAL_FIELDS = 78  # bytes of a visual sample entry before its child boxes


def _need(ok: bool, why: str) -> None:
    if not ok:
        raise Unsupported(why)


@dataclass(frozen=True)
class Media:
    """One track of the output: where each sample comes from, how long each lasts, its headers."""

    handler: bytes
    timescale: int
    entry: bytes  # the sample entry box
    stts: tuple[tuple[int, int], ...]  # (count, delta) runs
    sizes: list[int]
    sources: list[tuple[int, int]]  # each sample's (input number, file offset)
    sync: list[int] | None  # 1-based numbers of the sync samples; None: every one is
    skip: int  # the media time it starts at (its edit's), in its timescale
    shown: Fraction  # seconds it plays (its edit's duration)
    size: tuple[int, int] = (0, 0)  # tkhd width and height, 16.16
    extra: tuple[bytes, ...] = ()  # sample tables copied as they are (the sound's sample groups)


# --- the video ----------------------------------------------------------------------------------


def _only(path: Path, kind: bytes) -> Track:
    found = [t for t in tracks(path) if t.handler == kind]
    _need(len(found) == 1, f"{path}: {len(found)} {kind.decode()} tracks")
    return found[0]


def _video_entry(track: Track) -> bytes:
    """The track's ``avc1`` sample entry without its ``btrt`` (those bit rates were its file's)."""
    kind, body = track.entry
    _need(kind == b"avc1" and len(body) >= VISUAL_FIELDS, f"a {kind!r} video sample entry")
    kids = list(children(body, (VISUAL_FIELDS, len(body))))
    _need(any(k == b"avcC" for k, _ in kids), "no avcC in the video sample entry")
    return box(kind, body[:VISUAL_FIELDS], *(box(k, body[s:e]) for k, (s, e) in kids if k != b"btrt"))


def _frame(track: Track, fps: Fraction) -> int:
    """The track's one frame duration, in its timescale: exactly one frame at ``fps``."""
    ticks = track.timescale / fps
    _need(ticks.denominator == 1 and {d for _, d in track.stts} <= {ticks},
          f"frame durations {sorted({d for _, d in track.stts})} at timescale {track.timescale}"
          f" are not one frame at {fps} fps")
    return ticks.numerator


def _check_edit(track: Track, last: int, fps: Fraction) -> None:
    """The file's edit list (if any) is one plain edit showing frames 0 to ``last`` as they are."""
    if not track.edits:
        return
    _need(len(track.edits) == 1 and track.edits[0][1:] == (0, UNITY), f"edit list {track.edits}")
    _need((last - 1) / fps < Fraction(track.edits[0][0], track.movie_timescale),
          "frames past the end of the file's edit list")


def _check_video(path: Path, track: Track, first: Track, entry: bytes, fps: Fraction) -> None:
    _need(track.timescale == first.timescale and _frame(track, fps) == _frame(first, fps),
          f"{path}: a timescale or frame duration other than the first file's")
    if _video_entry(track) != entry:
        raise OtherParameterSets(f"{path}: a sample entry (parameter sets) of its own")
    _need(not track.extra, f"{path}: sample groups or dependency flags on the video")


def _check_entry(entry: Entry, track: Track, fps: Fraction) -> None:
    _need(0 <= entry.first < entry.last <= len(track.sizes),
          f"{entry.file}: no frames {entry.first}-{entry.last}")
    _need(track.is_sync(entry.first), f"{entry.file}: frame {entry.first} is not a keyframe")
    _check_edit(track, entry.last, fps)


def _video(entries: Sequence[Entry], found: dict[Path, Track], fps: Fraction) -> Media:
    files, first = list(found), found[entries[0].file]
    entry = _video_entry(first)
    for path, track in found.items():
        _check_video(path, track, first, entry, fps)
    sizes: list[int] = []
    sources: list[tuple[int, int]] = []
    sync: list[int] = []
    for e in entries:
        track, number = found[e.file], files.index(e.file)
        _check_entry(e, track, fps)
        sync += [len(sizes) + 1 + i - e.first for i in range(e.first, e.last) if track.is_sync(i)]
        sizes += track.sizes[e.first:e.last]
        sources += [(number, at) for at in track.offsets[e.first:e.last]]
    count = len(sizes)
    return Media(b"vide", first.timescale, entry, ((count, _frame(first, fps)),), sizes, sources,
                 None if len(sync) == count else sync, 0, count / fps, first.size)


# --- the sound ----------------------------------------------------------------------------------


def _sound_edit(path: Path, track: Track) -> tuple[int, Fraction]:
    """(media time skipped, seconds shown): the sound's one plain edit (the encoder's priming
    skipped, the padding after the last real sample cut), or the whole media."""
    duration = sum(count * delta for count, delta in track.stts)
    if not track.edits:
        return 0, Fraction(duration, track.timescale)
    ((shown, skip, rate),) = track.edits if len(track.edits) == 1 else ((0, -1, 0),)
    _need(shown > 0 and 0 <= skip < duration and rate == UNITY, f"{path}: edit list {track.edits}")
    return skip, Fraction(shown, track.movie_timescale)


def _sound(path: Path, number: int) -> Media:
    track = _only(path, b"soun")
    skip, shown = _sound_edit(path, track)
    kind, body = track.entry
    return Media(b"soun", track.timescale, box(kind, body), track.stts, list(track.sizes),
                 [(number, at) for at in track.offsets],
                 None if track.sync is None else [n + 1 for n in sorted(track.sync)], skip, shown,
                 extra=tuple(box(k, b) for k, b in track.extra))


# --- where the samples go ------------------------------------------------------------------------


Chunk = tuple[int, int, int, int]  # (half second, track number, first sample, end sample)


@dataclass(frozen=True)
class Layout:
    """The mdat: its chunks in order, and for each track its chunks' offsets and sample counts."""

    order: list[Chunk]
    offsets: list[list[int]]  # from the start of the mdat's payload
    counts: list[list[int]]
    payload: int  # bytes


def _chunks(media: Media, track: int) -> list[Chunk]:
    """The track's samples cut where each half second starts (those before the start go first)."""
    chunks: list[Chunk] = []
    first, at, scale = 0, -media.skip, media.timescale
    for count, delta in media.stts:
        end = first + count
        while first < end:
            half = max(0, CHUNKS_PER_SECOND * at // scale)
            following = -(-(half + 1) * scale // CHUNKS_PER_SECOND)  # where the next one starts
            n = min(end - first, -(-(following - at) // delta)) if delta else end - first
            if chunks and chunks[-1][0] == half:
                chunks[-1] = (half, track, chunks[-1][2], first + n)
            else:
                chunks.append((half, track, first, first + n))
            first, at = first + n, at + n * delta
    return chunks


def _layout(medias: Sequence[Media]) -> Layout:
    order = sorted(chunk for n, media in enumerate(medias) for chunk in _chunks(media, n))
    offsets: list[list[int]] = [[] for _ in medias]
    counts: list[list[int]] = [[] for _ in medias]
    at = 0
    for _, n, first, end in order:
        offsets[n].append(at)
        counts[n].append(end - first)
        at += sum(medias[n].sizes[first:end])
    return Layout(order, offsets, counts, at)


# --- the boxes ----------------------------------------------------------------------------------


def _stsc(counts: Sequence[int]) -> bytes:
    rows: list[tuple[int, int, int]] = []
    for n, count in enumerate(counts):
        if not rows or rows[-1][1] != count:
            rows.append((n + 1, count, 1))
    return full(b"stsc", 0, 0, u32s(len(rows), *chain.from_iterable(rows)))


def _stsz(sizes: Sequence[int]) -> bytes:
    if sizes and all(s == sizes[0] for s in sizes):
        return full(b"stsz", 0, 0, u32s(sizes[0], len(sizes)))
    return full(b"stsz", 0, 0, u32s(0, len(sizes), *sizes))


def _stco(offsets: Sequence[int], wide: bool) -> bytes:
    if wide:
        return full(b"co64", 0, 0, u32s(len(offsets)), struct.pack(f">{len(offsets)}Q", *offsets))
    return full(b"stco", 0, 0, u32s(len(offsets), *offsets))


def _stbl(media: Media, offsets: Sequence[int], counts: Sequence[int], wide: bool) -> bytes:
    stss = [] if media.sync is None else [full(b"stss", 0, 0, u32s(len(media.sync), *media.sync))]
    return box(b"stbl", full(b"stsd", 0, 0, u32s(1), media.entry),
               full(b"stts", 0, 0, u32s(len(media.stts), *chain.from_iterable(media.stts))),
               *stss, _stsc(counts), _stsz(media.sizes), _stco(offsets, wide), *media.extra)


def _u32(value: int, what: str) -> int:
    _need(0 <= value <= MAX_U32, f"{what} ({value}) does not fit 32 bits")
    return value


def _trak(media: Media, track_id: int, duration: int, offsets: Sequence[int],
          counts: Sequence[int], wide: bool) -> bytes:
    sound = media.handler == b"soun"
    tkhd = full(b"tkhd", 0, 3, u32s(0, 0, track_id, 0, duration), bytes(8),
                struct.pack(">hhhH", 0, int(sound), 0x100 if sound else 0, 0), MATRIX,
                u32s(*media.size))
    _need(media.skip < 1 << 31, "an edit starting too late")
    elst = full(b"elst", 0, 0, u32s(1, duration), struct.pack(">iI", media.skip, UNITY))
    media_duration = _u32(sum(c * d for c, d in media.stts), "a media duration")
    mdhd = full(b"mdhd", 0, 0, u32s(0, 0, media.timescale, media_duration),
                struct.pack(">HH", LANGUAGE_UND, 0))
    hdlr = handler(media.handler, b"SoundHandler" if sound else b"VideoHandler")
    header = full(b"smhd", 0, 0, bytes(4)) if sound else full(b"vmhd", 0, 1, bytes(8))
    minf = box(b"minf", header, data_information(), _stbl(media, offsets, counts, wide))
    return box(b"trak", tkhd, box(b"edts", elst), box(b"mdia", mdhd, hdlr, minf))


def _moov(medias: Sequence[Media], layout: Layout, base: int, wide: bool) -> bytes:
    """The moov for an mdat whose payload starts at byte ``base`` of the file."""
    scale = math.lcm(*(m.timescale for m in medias))
    _need(scale <= MAX_U32, f"no 32-bit movie timescale for {[m.timescale for m in medias]}")
    durations = [_u32(math.floor(m.shown * scale + Fraction(1, 2)), "a track duration")
                 for m in medias]
    mvhd = full(b"mvhd", 0, 0, u32s(0, 0, scale, max(durations), UNITY),
                struct.pack(">H", 0x100), bytes(10), MATRIX, bytes(24), u32s(len(medias) + 1))
    return box(b"moov", mvhd, *(
        _trak(m, n + 1, durations[n], [base + o for o in layout.offsets[n]], layout.counts[n], wide)
        for n, m in enumerate(medias)))


def _mdat(payload: int) -> bytes:
    if payload + 8 <= MAX_U32:
        return struct.pack(">I4s", payload + 8, b"mdat")
    return struct.pack(">I4sQ", 1, b"mdat", payload + 16)


def _head(medias: Sequence[Media], layout: Layout) -> bytes:
    """ftyp, moov and the mdat's header: chunk offsets 32-bit (stco) when they all fit, else
    64-bit (co64, 4 bytes more per chunk)."""
    mdat = _mdat(layout.payload)
    chunks = sum(len(offsets) for offsets in layout.offsets)
    last = max((offsets[-1] for offsets in layout.offsets if offsets), default=0)
    base = len(FTYP) + len(_moov(medias, layout, 0, True)) - 4 * chunks + len(mdat)
    wide = base + last > MAX_U32
    base += 4 * chunks if wide else 0
    head = FTYP + _moov(medias, layout, base, wide) + mdat
    assert len(head) == base
    return head


# --- writing ------------------------------------------------------------------------------------


def _runs(media: Media, first: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(input number, offset, size) of the byte ranges holding samples [first, end): adjacent
    samples of one file read at once."""
    number, at, size = media.sources[first][0], media.sources[first][1], 0
    for (n, offset), length in zip(media.sources[first:end], media.sizes[first:end], strict=True):
        if (n, offset) != (number, at + size):
            yield number, at, size
            number, at, size = n, offset, 0
        size += length
    yield number, at, size


def _copy(out: BinaryIO, inputs: Sequence[BinaryIO], medias: Sequence[Media],
          order: Sequence[Chunk]) -> None:
    for _, n, first, end in order:
        for number, at, size in _runs(medias[n], first, end):
            inputs[number].seek(at)
            data = inputs[number].read(size)
            _need(len(data) == size, "an input file shrank while it was copied")
            out.write(data)


def _write(out: Path, paths: Sequence[Path], medias: Sequence[Media]) -> None:
    layout = _layout(medias)
    head = _head(medias, layout)
    tmp = out.with_name(f"{temp_prefix(out.stem)}{os.urandom(4).hex()}{out.suffix}")
    try:
        with ExitStack() as stack:
            inputs = [stack.enter_context(path.open("rb")) for path in paths]
            file = stack.enter_context(tmp.open("xb"))
            file.write(head)
            _copy(file, inputs, medias, layout.order)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def join(entries: Sequence[Entry], fps: Fraction, sound: Path, out: Path) -> None:
    """Write ``out``: the ``entries``' frames one after the other, each one frame at ``fps``, and
    the sound of ``sound`` (an .m4a), atomically. ``Unsupported`` (``out`` untouched) when an
    input is not one this writer joins exactly."""
    _need(bool(entries), "no video entries")
    found = {path: _only(path, b"vide") for path in dict.fromkeys(e.file for e in entries)}
    video = _video(entries, found, fps)
    _write(out, [*found, sound], [video, _sound(sound, len(found))])
