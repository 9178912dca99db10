"""storyboard.stitch.sound.aac: ADTS packets out of ffmpeg's AAC encoder, spliced, written as .m4a.

Each check runs with the bundled ffmpeg and with Debian's (chosen through STORYBOARD_FFMPEG, as
tests/media/test_every_ffmpeg.py does). ffmpeg's own m4a is the reference; it is written with
``-movie_timescale`` set to the sample rate, as ours is: without it, ffmpeg 5.1 rounds the edit
list to milliseconds (99984 of 100000 samples).
"""

from __future__ import annotations

import array
import contextlib
import itertools
import os
import struct
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storyboard.media import ffbinary, ffmpeg
from storyboard.stitch.sound.aac import Stream, Window, follows, read_adts, window, write_m4a

DEBIAN = "/usr/bin/ffmpeg"
FFPROBE = "/usr/bin/ffprobe"
RATE = 48000
SAMPLES = 100000  # not a multiple of 1024
TONE = f"sine=f=440:sample_rate={RATE},aformat=channel_layouts=stereo,atrim=end_sample={SAMPLES}"
CLICKS = f"aevalsrc=exprs='0.8*lt(mod(n,12000),4)':s={RATE}:d=1,aformat=channel_layouts=stereo"
M4A_REFERENCE = ["-movflags", "+faststart", "-movie_timescale", str(RATE)]


@contextlib.contextmanager
def using(path: str) -> Iterator[str]:
    """storyboard.media.ffmpeg runs ``path`` inside the block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ffbinary.ENV_VAR, path)
        ffbinary.reset()
        try:
            yield path
        finally:
            ffbinary.reset()


@pytest.fixture(scope="module", params=["bundled", "debian"])
def binary(request: pytest.FixtureRequest) -> Iterator[str]:
    path = ffbinary.bundled_path() if request.param == "bundled" else DEBIAN
    if path is None or not os.access(path, os.X_OK):
        pytest.skip(f"no {request.param} ffmpeg here")
    with using(path):
        yield path


@dataclass(frozen=True)
class Encodes:
    tone: Path  # ADTS, 192k
    reference: Path  # ffmpeg's own m4a of the same encode
    other: Path  # ADTS of the same tone at 128k: other packets, same signal
    clicks: Path  # ADTS of clicks every 0.25 s


@pytest.fixture(scope="module")
def encodes(binary: str, tmp_path_factory: pytest.TempPathFactory) -> Encodes:
    folder = tmp_path_factory.mktemp("aac")
    made = Encodes(*(folder / n for n in ("tone.aac", "reference.m4a", "other.aac", "clicks.aac")))
    aac = ["-c:a", "aac", "-b:a", "192k"]
    ffmpeg.run(["-f", "lavfi", "-i", TONE, *aac, "-f", "adts", str(made.tone),
                *aac, *M4A_REFERENCE, str(made.reference),
                "-c:a", "aac", "-b:a", "128k", "-f", "adts", str(made.other)], what="tone encodes")
    ffmpeg.run(["-f", "lavfi", "-i", CLICKS, "-c:a", "aac", "-b:a", "128k", "-f", "adts",
                str(made.clicks)], what="click encode")
    return made


def pcm(src: Path, out: Path) -> tuple[bytes, str]:
    """``src`` decoded to stereo f32le by the current binary, and what ``-v error`` printed."""
    log = ffmpeg.run(["-v", "error", "-i", str(src), "-f", "f32le", str(out)], what=f"decoding {src.name}")
    return out.read_bytes(), log


def probe(path: Path) -> dict[str, str]:
    """ffprobe's facts about the first audio stream."""
    if not os.access(FFPROBE, os.X_OK):
        pytest.skip("no ffprobe here")
    done = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "a:0", "-show_entries",
                           "stream=duration_ts,start_time,duration", "-of", "default=nw=1", str(path)],
                          capture_output=True, text=True, check=True, timeout=60)
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def frames(data: bytes) -> int:
    return len(data) // 8  # stereo float32


def floats(data: bytes) -> array.array[float]:
    return array.array("f", data)


def test_our_m4a_plays_like_ffmpegs_own(encodes: Encodes, tmp_path: Path) -> None:
    stream = read_adts(encodes.tone)
    assert (stream.config, stream.sample_rate, stream.channels) == (b"\x11\x90", RATE, 2)
    assert b"".join(stream.packets) in encodes.reference.read_bytes()  # the very same packets
    ours = tmp_path / "ours.m4a"
    write_m4a(ours, stream, SAMPLES)
    facts = probe(ours)
    assert facts["duration_ts"] == str(SAMPLES)
    reference = probe(encodes.reference)
    assert [facts[k] for k in ("duration_ts", "start_time")] == [
        reference[k] for k in ("duration_ts", "start_time")]
    mine, log = pcm(ours, tmp_path / "ours.pcm")
    theirs, _ = pcm(encodes.reference, tmp_path / "theirs.pcm")
    assert log == ""
    # ffmpeg 5.1's mov demuxer drops the priming but not the padding after the end (100352 samples
    # for either file); the bundled one plays exactly SAMPLES (test_the_bundled_ffmpeg_plays_...)
    assert frames(mine) == frames(theirs) and mine == theirs


CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"udta"}
OWN_FIELDS = {b"stsd": 8, b"mp4a": 28}  # boxes with children after fields of their own
STBL = "/moov/trak/mdia/minf/stbl"


def boxes(data: bytes, at: int = 0, end: int | None = None, path: str = "") -> dict[str, bytes]:
    """Every box by its path: a leaf's payload, a parent's own fields (or nothing)."""
    found: dict[str, bytes] = {}
    while at < (len(data) if end is None else end):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        name = f"{path}/{kind.decode()}"
        if kind in CONTAINERS or kind in OWN_FIELDS:
            children = at + 8 + OWN_FIELDS.get(kind, 0)
            found[name] = data[at + 8:children]
            found.update(boxes(data, children, at + size, name))
        else:
            found[name] = data[at + 8:at + size]
        at += size
    return found


def test_the_boxes_are_ffmpegs_own(encodes: Encodes, tmp_path: Path) -> None:
    stream = read_adts(encodes.tone)
    write_m4a(tmp_path / "ours.m4a", stream, SAMPLES)
    data = (tmp_path / "ours.m4a").read_bytes()
    ours, theirs = boxes(data), boxes(encodes.reference.read_bytes())
    assert list(ours)[:2] == ["/ftyp", "/moov"] and list(ours)[-1] == "/mdat"
    differ = {name for name in ours.keys() | theirs.keys() if ours.get(name) != theirs.get(name)}
    # ffmpeg also writes an empty metadata list and a free box; its offsets differ by as much
    assert differ == {f"{STBL}/stsd/mp4a/esds", f"{STBL}/stco", "/moov/udta", "/moov/udta/meta", "/free"}
    assert struct.unpack(">III", ours[f"{STBL}/stco"]) == (0, 1, data.index(b"mdat") + 4)
    esds, their_esds = ours[f"{STBL}/stsd/mp4a/esds"], theirs[f"{STBL}/stsd/mp4a/esds"]
    # ES_Descriptor(ES_ID 1), DecoderConfigDescriptor: MPEG-4 audio, audio stream, buffer, max, average
    assert esds[4:12] == their_esds[4:8] + b"\x22" + their_esds[9:12]  # 3 config bytes shorter
    assert esds[17:19] == their_esds[17:19] == b"\x40\x15"
    buffer, peak, average = int.from_bytes(esds[19:22], "big"), *struct.unpack(">II", esds[22:30])
    assert buffer == max(len(p) for p in stream.packets)
    assert average == struct.unpack(">I", their_esds[26:30])[0] and peak >= average
    assert esds[30:35] == b"\x05\x80\x80\x80\x02" and esds[35:37] == stream.config == their_esds[35:37]
    assert esds[37:] == their_esds[40:] == b"\x06\x80\x80\x80\x01\x02"


def test_the_bundled_ffmpeg_plays_exactly_the_samples_asked(encodes: Encodes, tmp_path: Path) -> None:
    stream = read_adts(encodes.tone)
    for samples in (SAMPLES, SAMPLES - 500, (len(stream.packets) - 1) * 1024 - 1024 + 1):
        write_m4a(tmp_path / "ours.m4a", stream, samples)
        with using(ffbinary.bundled_path() or "ffmpeg"):
            data, log = pcm(tmp_path / "ours.m4a", tmp_path / "ours.pcm")
        assert log == "" and frames(data) == samples


def splice_point(first: list[bytes], second: list[bytes]) -> int:
    """The middlemost k where second[k] may follow first[k - 1]."""
    middle = len(first) // 2
    for k in sorted(range(1, len(first)), key=lambda k: abs(k - middle)):
        before, after = window(first[k - 1]), window(second[k])
        if before is not None and after is not None and follows(before, after):
            return k
    raise AssertionError("no splice point")


def test_a_splice_of_two_encodes_decodes_cleanly_to_the_exact_length(
        encodes: Encodes, binary: str, tmp_path: Path) -> None:
    first, second = read_adts(encodes.tone), read_adts(encodes.other)
    assert len(first.packets) == len(second.packets) and first.packets != second.packets
    k = splice_point(first.packets, second.packets)
    spliced = Stream(first.config, RATE, 2, first.packets[:k] + second.packets[k:])
    decoded = {}
    with using(ffbinary.bundled_path() or "ffmpeg"):
        for name, stream in {"spliced": spliced, "first": first, "second": second}.items():
            write_m4a(tmp_path / f"{name}.m4a", stream, SAMPLES)
            decoded[name], log = pcm(tmp_path / f"{name}.m4a", tmp_path / f"{name}.pcm")
            assert log == ""
    assert frames(decoded["spliced"]) == SAMPLES
    # output block i overlap-adds packets i-1 and i: after the priming, block k-1 mixes the encodes;
    # before it, the first encode plays exactly; after it, the second one, all but exactly (the
    # decoder's state, its noise generator, runs on from the first encode's packets): -50 dB
    cut = (k - 1) * 1024 * 8
    assert decoded["spliced"][:cut] == decoded["first"][:cut]
    ours, theirs = (floats(decoded[name][cut + 1024 * 8:]) for name in ("spliced", "second"))
    error = sum((a - b) ** 2 for a, b in zip(ours, theirs, strict=True))
    assert error < 1e-5 * sum(b * b for b in theirs)
    if os.access(DEBIAN, os.X_OK):
        with using(DEBIAN):
            assert pcm(tmp_path / "spliced.m4a", tmp_path / "debian.pcm")[1] == ""


def test_it_muxes_with_video_like_ffmpegs_own(encodes: Encodes, tmp_path: Path) -> None:
    ours = tmp_path / "ours.m4a"
    write_m4a(ours, read_adts(encodes.tone), SAMPLES)
    video = tmp_path / "v.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=s=64x64:r=30:d={SAMPLES / RATE}", "-c:v", "libx264",
                "-preset", "ultrafast", str(video)], what="video")
    durations = []
    for audio in (ours, encodes.reference):
        out = tmp_path / f"out-{audio.stem}.mp4"
        ffmpeg.run(["-v", "error", "-i", str(video), "-i", str(audio), "-map", "0:v", "-map", "1:a",
                    "-c", "copy", str(out)], what="muxing")
        durations.append(probe(out))
    assert durations[0] == durations[1]
    assert float(durations[0]["duration"]) == pytest.approx(SAMPLES / RATE, abs=1e-3)


def test_a_tone_is_all_long_windows_and_clicks_bring_short_ones(encodes: Encodes) -> None:
    tone = [window(p) for p in read_adts(encodes.tone).packets]
    assert all(w is not None and w.sequence == 0 for w in tone[4:])  # stereo: CPE, common window
    clicks = [window(p) for p in read_adts(encodes.clicks).packets]
    assert any(w is not None and w.sequence == 2 for w in clicks)
    pairs = [(a, b) for a, b in itertools.pairwise(clicks) if a and b]
    assert len(pairs) > len(clicks) // 2 and all(follows(a, b) for a, b in pairs)


def packet(bits: str) -> bytes:
    bits += "0" * (-len(bits) % 8)
    return int(bits or "0", 2).to_bytes(len(bits) // 8, "big")


@pytest.mark.parametrize(("bits", "expected"), [
    ("000" "0101" "10010110" "0" "10" "1", Window(2, 1)),  # SCE: tag, global_gain, ics_info
    ("001" "0000" "1" "0" "11" "0", Window(3, 0)),  # CPE with a common window
    ("001" "0000" "0" "10010110" "0" "01" "0", None),  # CPE without one
    ("110" "0010" + "1" * 16 + "001" "0000" "1" "0" "01" "1", Window(1, 1)),  # FIL (2 bytes), CPE
    # an empty FIL, then a DSE (byte-aligned, one byte of data), then an SCE
    ("110" "0000" "100" "0000" "1" "00000001" "0" "11111111" "000" "0000" "11111111" "0" "11" "1",
     Window(3, 1)),
    ("111", None),  # END
    ("", None),
])
def test_window_reads_hand_made_packets(bits: str, expected: Window | None) -> None:
    assert window(packet(bits)) == expected


def test_follows_is_the_window_sequence_grammar() -> None:
    allowed = {(0, 0), (0, 1), (3, 0), (3, 1), (1, 2), (1, 3), (2, 2), (2, 3)}
    for before in range(4):
        for after in range(4):
            assert follows(Window(before, 0), Window(after, 1)) == ((before, after) in allowed)


def patched(data: bytes, bit: int, width: int, value: int) -> bytes:
    """``data`` with the ``width`` bits from bit ``bit`` set to ``value``."""
    number = int.from_bytes(data, "big")
    shift = len(data) * 8 - bit - width
    number = number & ~(((1 << width) - 1) << shift) | value << shift
    return number.to_bytes(len(data), "big")


Change = Callable[[bytes, int], bytes]  # (the file, the second frame's offset) -> a bad file


@pytest.mark.parametrize(("name", "change", "message"), [
    ("garbage", lambda d, second: b"RIFF" + bytes(200), "no ADTS sync word at byte 0"),
    ("truncated", lambda d, second: d[:-3], "truncated ADTS frame .* at byte"),
    ("empty", lambda d, second: b"", "empty file, no ADTS frame at byte 0"),
    ("he-aac", lambda d, second: patched(d, second * 8 + 16, 2, 0), "not LC at byte {second}"),
    ("mono mid-stream", lambda d, second: patched(d, second * 8 + 23, 3, 1),
     "channels change at byte {second}"),
    ("two blocks", lambda d, second: patched(d, 54, 2, 1), "raw_data_block .* at byte 0"),
])
def test_read_adts_refuses_bad_files(encodes: Encodes, tmp_path: Path, name: str, change: Change,
                                     message: str) -> None:
    data = encodes.tone.read_bytes()
    second = int.from_bytes(data[3:6], "big") >> 5 & 0x1FFF  # the first frame's length
    bad = tmp_path / f"{name}.aac"
    bad.write_bytes(change(data, second))
    with pytest.raises(ValueError, match=message.format(second=second)) as caught:
        read_adts(bad)
    assert str(bad) in str(caught.value)


def with_crc(frame: bytes) -> bytes:
    """An ADTS frame as written with protection_absent 0: two bytes longer, a CRC after the header."""
    header = patched(patched(frame[:7], 15, 1, 0), 30, 13, len(frame) + 2)
    return header + b"\xab\xcd" + frame[7:]


def test_read_adts_drops_the_crc(encodes: Encodes, tmp_path: Path) -> None:
    stream = read_adts(encodes.tone)
    data, parts, at = encodes.tone.read_bytes(), [], 0
    for payload in stream.packets[:3]:
        parts.append(with_crc(data[at:at + 7 + len(payload)]))
        at += 7 + len(payload)
    (tmp_path / "crc.aac").write_bytes(b"".join(parts))
    assert read_adts(tmp_path / "crc.aac") == Stream(stream.config, RATE, 2, stream.packets[:3])


def test_write_m4a_refuses_a_length_the_packets_cannot_hold(encodes: Encodes, tmp_path: Path) -> None:
    stream = read_adts(encodes.tone)
    n = len(stream.packets)
    for samples in (0, (n - 1) * 1024 - 1024, n * 1024 - 1024 + 1):
        with pytest.raises(ValueError, match="packets cannot hold"):
            write_m4a(tmp_path / "x.m4a", stream, samples)
    assert not list(tmp_path.iterdir())


def test_the_same_packets_give_the_same_bytes(encodes: Encodes, tmp_path: Path) -> None:
    stream = read_adts(encodes.tone)
    write_m4a(tmp_path / "a.m4a", stream, SAMPLES)
    write_m4a(tmp_path / "b.m4a", read_adts(encodes.tone), SAMPLES)
    assert (tmp_path / "a.m4a").read_bytes() == (tmp_path / "b.m4a").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.m4a", "b.m4a"]  # no temporaries left
    data = (tmp_path / "a.m4a").read_bytes()
    assert data[4:8] == b"ftyp" and data[32:36] == b"moov" and data.find(b"mdat") > data.find(b"moov")
