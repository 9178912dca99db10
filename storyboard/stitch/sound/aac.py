"""ADTS packets into an .m4a track: read AAC-LC frames, tell where they may be spliced, write MP4.

ffmpeg's native AAC encoder starts every encode with one packet of priming (1024 samples) and pads
the last packet. An ADTS file keeps neither fact, so the stitcher carries the exact sample count
itself and ``write_m4a`` writes it back the way ffmpeg's mp4 muxer does: an edit list that skips
the priming and ends on the last real sample, in the media's own timescale (no rounding).

``window`` reads the window sequence that opens a packet, and ``follows`` says whether two packets
may stand next to each other: the MDCT overlap only lines up when the sequences chain legally.

The file is written moov-first (like ``-movflags +faststart``), without times or an encoder
string, so the same packets always give the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from storyboard.files import write_atomic
from storyboard.media.muxing.boxes import LANGUAGE_UND, MATRIX, MAX_U32, box, data_information, full, handler

FRAME = 1024  # samples per AAC-LC packet
RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
LC_PROFILE = 1  # the ADTS profile field is the audio object type minus one
SCE, CPE, DSE, FIL = 0, 1, 4, 6  # id_syn_ele values
ONLY_LONG, LONG_START, EIGHT_SHORT, LONG_STOP = range(4)


@dataclass(frozen=True)
class Stream:
    config: bytes  # AudioSpecificConfig: object type 2, sample-rate index, channel configuration
    sample_rate: int
    channels: int
    packets: list[bytes]  # raw_data_block payloads, without ADTS headers or CRC


@dataclass(frozen=True)
class Window:
    sequence: int  # 0 ONLY_LONG, 1 LONG_START, 2 EIGHT_SHORT, 3 LONG_STOP
    shape: int  # 0 sine, 1 KBD


def _bits(data: bytes, start: int, count: int) -> int:
    """``count`` bits of ``data`` from bit ``start``, most significant first."""
    first, last = start // 8, (start + count + 7) // 8
    chunk = int.from_bytes(data[first:last], "big")
    return (chunk >> (last * 8 - start - count)) & ((1 << count) - 1)


# --- reading ADTS -----------------------------------------------------------------------------


def _frame(data: bytes, at: int, name: str) -> tuple[int, int, int, int]:
    """The ADTS frame at byte ``at``: (sample-rate index, channel configuration, header length,
    frame length). ValueError, naming the file and the offset, when it is not a usable frame."""
    def bad(why: str) -> ValueError:
        return ValueError(f"{name}: {why} at byte {at}")

    head = data[at:at + 7]
    if len(head) < 7:
        raise bad("truncated ADTS header")
    if _bits(head, 0, 12) != 0xFFF or _bits(head, 13, 2) != 0:
        raise bad("no ADTS sync word")
    if (profile := _bits(head, 16, 2)) != LC_PROFILE:
        raise bad(f"AAC profile {profile} is not LC")
    rate, channels, length = _bits(head, 18, 4), _bits(head, 23, 3), _bits(head, 30, 13)
    header = 7 if _bits(head, 15, 1) else 9  # protection_absent == 0: a CRC follows
    if rate >= len(RATES) or channels == 0:
        raise bad(f"unsupported sampling index {rate} or channel configuration {channels}")
    if _bits(head, 54, 2) != 0:
        raise bad("more than one raw_data_block in a frame (not supported)")
    if length <= header or at + length > len(data):
        raise bad(f"truncated ADTS frame ({length} bytes announced, {len(data) - at} left)")
    return rate, channels, header, length


def read_adts(path: Path) -> Stream:
    """Every raw_data_block of an AAC-LC ADTS file, with the stream's AudioSpecificConfig."""
    data = path.read_bytes()
    if not data:
        raise ValueError(f"{path}: empty file, no ADTS frame at byte 0")
    packets: list[bytes] = []
    layout: tuple[int, int] | None = None
    at = 0
    while at < len(data):
        rate, channels, header, length = _frame(data, at, str(path))
        if layout is not None and layout != (rate, channels):
            raise ValueError(f"{path}: sample rate or channels change at byte {at}")
        layout = (rate, channels)
        packets.append(data[at + header:at + length])
        at += length
    assert layout is not None
    config = (2 << 11 | layout[0] << 7 | layout[1] << 3).to_bytes(2, "big")
    return Stream(config, RATES[layout[0]], 8 if layout[1] == 7 else layout[1], packets)


# --- where packets may be spliced -------------------------------------------------------------


def _skip_extras(packet: bytes, at: int) -> int:
    """The bit offset past any FIL or DSE elements starting at ``at`` (ffmpeg's encoder puts a FIL
    naming itself before the channel element of some packets)."""
    while at + 3 <= len(packet) * 8 and (kind := _bits(packet, at, 3)) in (FIL, DSE):
        if kind == FIL:  # id_syn_ele(3), count(4), esc_count(8) when count is 15
            count, at = _bits(packet, at + 3, 4), at + 7
            if count == 15:
                count, at = count + _bits(packet, at, 8) - 1, at + 8
        else:  # id_syn_ele(3), tag(4), data_byte_align_flag(1), count(8), esc_count(8) when 255
            align, count, at = _bits(packet, at + 7, 1), _bits(packet, at + 8, 8), at + 16
            if count == 255:
                count, at = count + _bits(packet, at, 8), at + 8
            if align:
                at = -(-at // 8) * 8
        at += count * 8
    return at


def window(packet: bytes) -> Window | None:
    """The window of the packet's first channel element; None when there is none to read (a CPE
    without a common window, another element, a packet too short)."""
    at = _skip_extras(packet, 0)
    if at + 3 > len(packet) * 8:
        return None
    kind = _bits(packet, at, 3)
    if kind == CPE and at + 8 <= len(packet) * 8 and _bits(packet, at + 7, 1):
        at += 8  # id_syn_ele(3), element_instance_tag(4), common_window(1)
    elif kind == SCE:
        at += 15  # id_syn_ele(3), element_instance_tag(4), global_gain(8)
    else:
        return None
    if at + 4 > len(packet) * 8:
        return None
    return Window(_bits(packet, at + 1, 2), _bits(packet, at + 3, 1))


def follows(before: Window, after: Window) -> bool:
    """Whether ``after`` may come right after ``before`` in one stream (ISO 14496-3 window
    sequence transitions: long windows end in a long start, short ones in a long stop)."""
    if before.sequence in (ONLY_LONG, LONG_STOP):
        return after.sequence in (ONLY_LONG, LONG_START)
    return after.sequence in (EIGHT_SHORT, LONG_STOP)


# --- writing MP4 ------------------------------------------------------------------------------


def _descriptor(tag: int, body: bytes) -> bytes:
    """An MPEG-4 descriptor, its length in four 7-bit bytes as ffmpeg writes it."""
    n = len(body)
    return bytes([tag, 0x80 | n >> 21 & 0x7F, 0x80 | n >> 14 & 0x7F, 0x80 | n >> 7 & 0x7F, n & 0x7F]) + body


def _bitrates(stream: Stream, duration: int) -> tuple[int, int]:
    """(max, average) bits per second: the average over the track as ffmpeg computes it, the
    maximum over any one-second run of packets (what the field means), never below the average."""
    sizes = [len(p) for p in stream.packets]
    average = sum(sizes) * 8 * stream.sample_rate // duration
    per = min(len(sizes), max(1, stream.sample_rate // FRAME))
    run = peak = sum(sizes[:per])
    for i in range(per, len(sizes)):
        run += sizes[i] - sizes[i - per]
        peak = max(peak, run)
    return max(average, peak * 8 * stream.sample_rate // (per * FRAME)), average


def _esds(stream: Stream, duration: int) -> bytes:
    peak, average = _bitrates(stream, duration)
    largest = max(len(p) for p in stream.packets)
    decoder = (struct.pack(">BB", 0x40, 0x15) + largest.to_bytes(3, "big")  # MPEG-4 audio; audio stream
               + struct.pack(">II", peak, average) + _descriptor(5, stream.config))
    es = struct.pack(">HB", 1, 0) + _descriptor(4, decoder) + _descriptor(6, b"\x02")
    return full(b"esds", 0, 0, _descriptor(3, es))


def _stbl(stream: Stream, duration: int, offset: int) -> bytes:
    n = len(stream.packets)
    last = duration - (n - 1) * FRAME
    runs = [(n, FRAME)] if last == FRAME else [(n - 1, FRAME), (1, last)] if n > 1 else [(1, last)]
    rate = stream.sample_rate if stream.sample_rate <= 0xFFFF else 0  # 16.16 fixed point, as ffmpeg
    mp4a = box(b"mp4a", bytes(6), struct.pack(">H", 1), bytes(8),
               struct.pack(">HHHHI", stream.channels, 16, 0, 0, rate << 16), _esds(stream, duration))
    return box(
        b"stbl",
        full(b"stsd", 0, 0, struct.pack(">I", 1), mp4a),
        full(b"stts", 0, 0, struct.pack(f">I{2 * len(runs)}I", len(runs), *sum(runs, ()))),
        full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, n, 1)),
        full(b"stsz", 0, 0, struct.pack(f">II{n}I", 0, n, *(len(p) for p in stream.packets))),
        full(b"stco", 0, 0, struct.pack(">II", 1, offset)),
        full(b"sgpd", 1, 0, b"roll", struct.pack(">IIh", 2, 1, -1)),  # AAC: roll_distance -1
        full(b"sbgp", 0, 0, b"roll", struct.pack(">III", 1, n, 1)))


def _moov(stream: Stream, samples: int, priming: int, offset: int) -> bytes:
    rate, duration = stream.sample_rate, priming + samples
    mvhd = full(b"mvhd", 0, 0, struct.pack(">IIIIIH", 0, 0, rate, samples, 0x10000, 0x100),
                bytes(10), MATRIX, bytes(24), struct.pack(">I", 2))
    tkhd = full(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, samples), bytes(8),
                struct.pack(">hhhH", 0, 1, 0x100, 0), MATRIX, bytes(8))
    elst = full(b"elst", 0, 0, struct.pack(">IIiI", 1, samples, priming, 0x10000))
    mdhd = full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, rate, duration, LANGUAGE_UND, 0))
    hdlr = handler(b"soun", b"SoundHandler")
    dinf = data_information()
    minf = box(b"minf", full(b"smhd", 0, 0, bytes(4)), dinf, _stbl(stream, duration, offset))
    trak = box(b"trak", tkhd, box(b"edts", elst), box(b"mdia", mdhd, hdlr, minf))
    return box(b"moov", mvhd, trak)


def _check(stream: Stream, samples: int, priming: int) -> None:
    n, total = len(stream.packets), priming + samples
    if samples <= 0 or priming < 0 or not (n - 1) * FRAME < total <= n * FRAME:
        raise ValueError(f"{n} packets cannot hold {priming} priming + {samples} samples: they need "
                         f"more than {(n - 1) * FRAME} and at most {n * FRAME} in all")
    if total > MAX_U32:
        raise ValueError(f"{total} samples do not fit a 32-bit MP4 duration")


def write_m4a(path: Path, stream: Stream, samples: int, priming: int = FRAME) -> None:
    """Write ``stream`` as an audio-only MP4 (ftyp, moov, mdat) that plays ``samples`` samples per
    channel after skipping ``priming``; atomically (temporary file beside it, then a rename)."""
    _check(stream, samples, priming)
    ftyp = box(b"ftyp", b"M4A ", struct.pack(">I", 0x200), b"M4A isomiso2")
    payload = sum(len(p) for p in stream.packets)
    size = len(ftyp) + len(_moov(stream, samples, priming, 0)) + 8  # stco's value is fixed-width
    if size + payload > MAX_U32:
        raise ValueError(f"{path}: {size + payload} bytes need co64, which is not written")
    data = [ftyp, _moov(stream, samples, priming, size), struct.pack(">I4s", 8 + payload, b"mdat")]
    write_atomic(path, b"".join([*data, *stream.packets]), durable=False)
