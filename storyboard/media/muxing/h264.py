"""An x264 stream of distinct pictures into one that holds each for its frames: skipped P-frames.

A held board (``animatic.held``) shows the same picture for many frames in a row: the whole shot
for a static board, a few frames each step of a slow pan, tilt or zoom. x264 encodes every one of
them, at the same cost whatever is on it. An H.264 P-frame whose every macroblock is skipped (no
motion, no residual) decodes to exactly the picture before it, and carries no picture data: its
bytes depend only on the stream's parameter sets and its frame number. So x264 encodes only the
distinct pictures (``-f h264``: Annex B), and ``hold`` writes each one followed by as many skipped
P-frames as it is held for, renumbering x264's own P-frames (``frame_num``, a field of fixed width:
overwritten in place), into a stream of the same parameter sets (SPS, PPS) that the muxer then
takes by copy. The result decodes frame for frame to the pictures asked for; the same input gives
the same bytes.

Only the streams the animatic's encoding makes are held (CAVLC, one slice a picture, one reference
frame, picture order from the frame numbers, every picture a reference, no weighted prediction):
anything else is refused (``MediaError``), never written wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from storyboard.errors import MediaError

START = b"\x00\x00\x00\x01"
NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS = 1, 5, 7, 8
P_SLICE = 5  # slice_type 5: P, and every slice of the picture is P (x264 writes it so)
SKIPPED_REF_IDC = 2  # a skipped P-frame is a reference picture, as x264's P-frames are
Data = bytes | bytearray  # an RBSP read in place, or written over
HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


# --- NAL units and bits ----------------------------------------------------------------------


def nal_units(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B ``stream``, start codes removed (each still escaped)."""
    units, at = [], stream.find(b"\x00\x00\x01")
    while at >= 0:
        begin = at + 3
        following = stream.find(b"\x00\x00\x01", begin)
        end = len(stream) if following < 0 else following
        unit = stream[begin:end].rstrip(b"\x00") if following >= 0 else stream[begin:end]
        if unit:
            units.append(unit)
        at = following
    return units


def unescape(unit: bytes) -> bytearray:
    """The RBSP of an escaped NAL unit: every emulation prevention byte (00 00 03) removed (in
    an escaped unit, a 03 after two zero bytes is always one)."""
    return bytearray(unit.replace(b"\x00\x00\x03", b"\x00\x00"))


_ESCAPED = re.compile(b"\x00\x00(?=[\x00-\x03])")


def escape(rbsp: bytes) -> bytes:
    """An RBSP escaped for Annex B: 03 after two zero bytes that a byte of 00 to 03 follows."""
    return _ESCAPED.sub(b"\x00\x00\x03", rbsp)


class Bits:
    """Reads an RBSP bit by bit: fixed-width fields and Exp-Golomb codes."""

    def __init__(self, data: Data, at: int = 0) -> None:
        self.data, self.at = data, at

    def bit(self) -> int:
        if self.at >= 8 * len(self.data):
            raise MediaError("an H.264 header ends before its fields do")
        value = (self.data[self.at >> 3] >> (7 - (self.at & 7))) & 1
        self.at += 1
        return value

    def u(self, width: int) -> int:
        value = 0
        for _ in range(width):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise MediaError("an H.264 header holds an Exp-Golomb code over 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


class Writer:
    """Writes an RBSP bit by bit; ``rbsp`` ends it with the stop bit and the zero padding."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, width: int, value: int) -> None:
        self.bits += [(value >> shift) & 1 for shift in range(width - 1, -1, -1)]

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(2 * code.bit_length() - 1, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def rbsp(self) -> bytes:
        bits = [*self.bits, 1]
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def _overwrite(data: bytearray, at: int, width: int, value: int) -> None:
    """Write ``value`` into the ``width`` bits of ``data`` from bit ``at``."""
    for offset in range(width):
        bit, index = (value >> (width - 1 - offset)) & 1, at + offset
        mask = 1 << (7 - (index & 7))
        data[index >> 3] = data[index >> 3] | mask if bit else data[index >> 3] & ~mask


# --- the parameter sets ----------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """What a skipped P-frame's header needs from the SPS and PPS (and what must hold for one)."""

    frame_num_bits: int
    macroblocks: int
    pps_id: int
    override_refs: bool  # the PPS's default is not one reference: the slice says one
    deblocking_control: bool


def _sps(rbsp: Data) -> tuple[int, int]:
    """(log2 of MaxFrameNum, macroblocks a picture) of an SPS ``rbsp`` (after its NAL header)."""
    bits = Bits(rbsp)
    profile = bits.u(8)
    bits.u(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    if profile in HIGH_PROFILES:
        chroma = bits.ue()
        if chroma == 3:
            bits.u(1)
        bits.ue(), bits.ue(), bits.u(1)  # bit depths, qpprime_y_zero_transform_bypass
        if bits.u(1):
            raise MediaError("an H.264 stream with scaling matrices: not held")
    frame_num_bits = bits.ue() + 4
    if bits.ue() != 2:
        raise MediaError("an H.264 stream whose picture order is not its frame order: not held")
    if bits.ue() != 1:
        raise MediaError("an H.264 stream of more than one reference frame: not held")
    bits.u(1)  # gaps_in_frame_num_value_allowed_flag
    width, height = bits.ue() + 1, bits.ue() + 1
    if not bits.u(1):
        raise MediaError("an interlaced H.264 stream: not held")
    return frame_num_bits, width * height


def _pps(rbsp: Data) -> tuple[int, bool, bool]:
    """(its id, whether a slice must override the references, deblocking control) of a PPS."""
    bits = Bits(rbsp)
    pps_id = bits.ue()
    bits.ue()  # seq_parameter_set_id
    if bits.u(1):
        raise MediaError("a CABAC H.264 stream: not held (only CAVLC)")
    bits.u(1)  # bottom_field_pic_order_in_frame_present_flag
    if bits.ue() != 0:
        raise MediaError("an H.264 stream of slice groups: not held")
    refs = bits.ue() + 1
    bits.ue()  # num_ref_idx_l1_default_active_minus1
    if bits.u(1):
        raise MediaError("an H.264 stream of weighted prediction: not held")
    bits.u(2), bits.se(), bits.se(), bits.se()  # bipred, qp, qs, chroma qp offset
    deblocking = bool(bits.u(1))
    bits.u(1)  # constrained_intra_pred_flag
    if bits.u(1):
        raise MediaError("an H.264 stream of redundant pictures: not held")
    return pps_id, refs != 1, deblocking


def params(units: Sequence[bytes]) -> Params:
    """The one SPS's and one PPS's facts among ``units``; refused when either is missing or
    there are others."""
    sps = [unescape(u[1:]) for u in units if u[0] & 0x1F == NAL_SPS]
    pps = [unescape(u[1:]) for u in units if u[0] & 0x1F == NAL_PPS]
    if len({bytes(s) for s in sps}) != 1 or len({bytes(p) for p in pps}) != 1:
        raise MediaError("an H.264 stream without one SPS and one PPS: not held")
    frame_num_bits, macroblocks = _sps(sps[0])
    pps_id, override, deblocking = _pps(pps[0])
    return Params(frame_num_bits, macroblocks, pps_id, override, deblocking)


# --- pictures --------------------------------------------------------------------------------


def pictures(units: Sequence[bytes]) -> Iterator[list[bytes]]:
    """The access units of ``units``: each picture's slice with the units before it."""
    pending: list[bytes] = []
    for unit in units:
        pending.append(unit)
        if unit[0] & 0x1F in (NAL_SLICE, NAL_IDR):
            yield pending
            pending = []
    if pending:
        raise MediaError("an H.264 stream ends with units of no picture: not held")


def renumbered(unit: bytes, frame_num: int, found: Params) -> bytes:
    """x264's P-slice ``unit`` with its ``frame_num``; refused unless it is a whole picture."""
    if not unit[0] & 0x60:
        raise MediaError("an H.264 stream of pictures that are not references: not held")
    rbsp = unescape(unit[1:])
    bits = Bits(rbsp)
    if bits.ue() != 0:
        raise MediaError("an H.264 stream of more than one slice a picture: not held")
    bits.ue(), bits.ue()  # slice_type, pic_parameter_set_id
    _overwrite(rbsp, bits.at, found.frame_num_bits, frame_num)
    return unit[:1] + escape(bytes(rbsp))


def skipped(frame_num: int, found: Params) -> bytes:
    """A P-picture of every macroblock skipped: the picture before it, again."""
    bits = Writer()
    bits.ue(0)  # first_mb_in_slice
    bits.ue(P_SLICE)
    bits.ue(found.pps_id)
    bits.u(found.frame_num_bits, frame_num)
    bits.u(1, int(found.override_refs))
    if found.override_refs:
        bits.ue(0)  # one reference
    bits.u(1, 0)  # ref_pic_list_modification_flag_l0
    bits.u(1, 0)  # adaptive_ref_pic_marking_mode_flag: the sliding window
    bits.se(0)  # slice_qp_delta
    if found.deblocking_control:
        bits.ue(1)  # disable_deblocking_filter_idc: nothing to filter between skipped blocks
    bits.ue(found.macroblocks)  # mb_skip_run: every macroblock of the picture
    return bytes([SKIPPED_REF_IDC << 5 | NAL_SLICE]) + escape(bits.rbsp())


def hold(stream: bytes, repeats: Sequence[int]) -> bytes:
    """``stream`` (Annex B, one picture for each of ``repeats``) with each picture held for its
    number of frames: the picture, then that many less one skipped P-frames."""
    units = nal_units(stream)
    found = params(units)
    access = list(pictures(units))
    if len(access) != len(repeats) or any(r < 1 for r in repeats):
        raise MediaError(f"an H.264 stream of {len(access)} picture(s) held as {len(repeats)}: "
                         "expected one count of at least 1 a picture")
    out, frame_num, limit = bytearray(), 0, 1 << found.frame_num_bits
    for units_of, count in zip(access, repeats, strict=True):
        *before, picture = units_of
        if picture[0] & 0x1F == NAL_IDR:
            frame_num = 0
        else:
            frame_num = (frame_num + 1) % limit
            picture = renumbered(picture, frame_num, found)
        for unit in (*before, picture):
            out += START + unit
        for _ in range(count - 1):
            frame_num = (frame_num + 1) % limit
            out += START + skipped(frame_num, found)
    return bytes(out)
