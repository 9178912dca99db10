"""An x264 stream of distinct pictures held frame by frame with skipped P-frames (``media/h264``).

Issue 66 item 7: a held board is x264's encode of its distinct pictures only; ``hold`` writes each
followed by skipped P-frames (no picture data), and the stream decodes to every picture for its
frames, the same bytes each time; a stream it cannot hold is refused, never written wrong.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from storyboard.animatic.draw import video_encoding
from storyboard.errors import MediaError
from storyboard.media import ffmpeg
from storyboard.media.muxing import h264


def encoded(out: Path, pictures: int, *settings: str) -> bytes:
    """``pictures`` distinct frames of a moving test picture, x264 as the animatic encodes
    (``settings``: others after them), as raw H.264."""
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=12", "-frames:v", str(pictures),
                *video_encoding(12, False), *settings, "-f", "h264", str(out)])
    return out.read_bytes()


def frame_digests(stream: bytes, folder: Path) -> list[str]:
    """Each decoded frame's MD5 of an Annex B ``stream``, in order."""
    source, listing = folder / "stream.h264", folder / "frames.md5"
    source.write_bytes(stream)
    ffmpeg.run(["-f", "h264", "-i", str(source), "-f", "framemd5", str(listing)])
    return [line.split(",")[-1].strip() for line in listing.read_text("utf-8").splitlines()
            if line and not line.startswith("#")]


def test_each_picture_decodes_for_its_frames_and_nothing_else(tmp_path: Path) -> None:
    stream = encoded(tmp_path / "pictures.h264", 4)
    pictures = frame_digests(stream, tmp_path)
    assert len(set(pictures)) == 4
    repeats = (3, 1, 20, 2)  # past 16 frames: the frame numbers wrap (MaxFrameNum 16 or more)
    held = h264.hold(stream, repeats)
    expected = [p for p, count in zip(pictures, repeats, strict=True) for _ in range(count)]
    assert frame_digests(held, tmp_path) == expected
    assert h264.hold(stream, repeats) == held  # the same bytes again
    skipped = len(held) - len(stream)
    assert skipped < 20 * sum(count - 1 for count in repeats)  # a few bytes a frame


def test_a_skipped_frame_is_the_picture_before_it_again(tmp_path: Path) -> None:
    stream = encoded(tmp_path / "one.h264", 1)
    [digest] = frame_digests(stream, tmp_path)
    assert frame_digests(h264.hold(stream, (40,)), tmp_path) == [digest] * 40


def test_a_stream_it_cannot_hold_is_refused(tmp_path: Path) -> None:
    cabac = encoded(tmp_path / "cabac.h264", 2, "-preset", "medium", "-bf", "0", "-refs", "1")
    with pytest.raises(MediaError, match="CABAC"):
        h264.hold(cabac, (1, 2))
    stream = encoded(tmp_path / "two.h264", 2)
    with pytest.raises(MediaError, match="2 picture"):
        h264.hold(stream, (3,))
    with pytest.raises(MediaError, match="at least 1"):
        h264.hold(stream, (3, 0))
    with pytest.raises(MediaError, match="SPS"):
        h264.hold(b"\x00\x00\x00\x01\x65\x88", (1,))


def test_escaping_is_what_the_standard_says() -> None:
    """Escaped: 03 after two zero bytes before 00 to 03; unescaped: back to the same bytes."""
    def by_hand(rbsp: bytes) -> bytes:
        out, zeros = bytearray(), 0
        for byte in rbsp:
            if zeros >= 2 and byte <= 3:
                out.append(3)
                zeros = 0
            out.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        return bytes(out)

    pick = random.Random(66)
    for _ in range(5000):
        rbsp = bytes(pick.choice((0, 0, 0, 1, 2, 3, 4, 255)) for _ in range(pick.randint(0, 24)))
        rbsp += b"\x80"  # an RBSP ends with its stop bit
        assert h264.escape(rbsp) == by_hand(rbsp)
        assert bytes(h264.unescape(h264.escape(rbsp))) == rbsp
