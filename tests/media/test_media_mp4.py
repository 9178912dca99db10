"""A held H.264 stream and a sound track's MP4 muxed in Python (``media.muxing.mp4``, issue 66 item 7): the
file ffmpeg's copy would write, as its readers see it: the same streams, lengths, parameter sets
and time base, the same frames and sound; what it does not take is refused, never written wrong."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from storyboard.animatic.draw import TIMESCALE, audio_encoding, video_encoding
from storyboard.errors import MediaError
from storyboard.media import ffmpeg
from storyboard.media.muxing import h264, mp4
from storyboard.stitch.join.concat import probe_clip


def pictures(folder: Path, count: int, fps: int) -> bytes:
    """``count`` distinct 320x180 pictures, encoded as every clip is (Annex B)."""
    out = folder / "pictures.h264"
    ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=s=320x180:r={fps}", "-frames:v", str(count),
                *video_encoding(fps, False), "-fflags", "+bitexact", "-flags:v", "+bitexact",
                "-f", "h264", str(out)])
    return out.read_bytes()


def silent(folder: Path, seconds: float) -> Path:
    out = folder / "silence.m4a"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", str(seconds),
                *audio_encoding(), "-map_metadata", "-1", "-fflags", "+bitexact",
                "-flags:a", "+bitexact", "-f", "mp4", str(out)])
    return out


def by_ffmpeg(stream: Path, sound: Path, out: Path, fps: int) -> Path:
    ffmpeg.run(["-f", "h264", "-r", str(fps), "-i", str(stream), "-i", str(sound), "-map", "0:v",
                "-map", "1:a", "-c", "copy", "-video_track_timescale", str(TIMESCALE),
                "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact",
                "-f", "mp4", str(out)])
    return out


def frames(video: Path) -> list[str]:
    """Each decoded frame's and sound packet's line of ``framemd5`` (stream, times, digest)."""
    out = video.with_suffix(".md5")
    ffmpeg.run(["-i", str(video), "-f", "framemd5", str(out)])
    return [line for line in out.read_text("utf-8").splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("fps", [30, 12])
def test_a_held_stream_muxed_in_python_reads_as_ffmpegs_copy(tmp_path: Path, fps: int) -> None:
    held = h264.hold(pictures(tmp_path, 4, fps), [fps // 2, 1, fps, fps // 2 - 1])  # 2 s
    stream = tmp_path / "held.h264"
    stream.write_bytes(held)
    sound = silent(tmp_path, 2.0)
    ours = tmp_path / "ours.mp4"
    mp4.mux(held, sound, ours, (320, 180), fps, TIMESCALE)
    theirs = by_ffmpeg(stream, sound, tmp_path / "theirs.mp4", fps)
    mine, ffmpegs = probe_clip(ours, tmp_path / "a.crc"), probe_clip(theirs, tmp_path / "b.crc")
    assert (mine.info.format, mine.info.duration, mine.info.streams) == \
        (ffmpegs.info.format, ffmpegs.info.duration, ffmpegs.info.streams)
    assert (mine.video_len, mine.audio_len, mine.extradata, mine.video_tb) == \
        (ffmpegs.video_len, ffmpegs.audio_len, ffmpegs.extradata, ffmpegs.video_tb)
    assert mine.video_len == 2.0 and mine.video_tb == Fraction(1, TIMESCALE)
    assert frames(ours) == frames(theirs) and len(frames(ours)) > 2 * fps
    head = ours.read_bytes()
    assert head.find(b"moov") < head.find(b"mdat")  # moov first: ``+faststart``'s
    again = tmp_path / "again.mp4"
    mp4.mux(held, sound, again, (320, 180), fps, TIMESCALE)
    assert again.read_bytes() == head  # the same inputs, the same bytes


def test_what_it_does_not_take_is_refused(tmp_path: Path) -> None:
    held = h264.hold(pictures(tmp_path, 2, 12), [6, 6])
    sound = silent(tmp_path, 1.0)
    with pytest.raises(MediaError, match="ticks"):
        mp4.mux(held, sound, tmp_path / "a.mp4", (320, 180), 7, TIMESCALE)  # 15360 / 7
    with pytest.raises(MediaError, match="SPS and PPS"):
        mp4.mux(held[held.find(b"\x00\x00\x00\x01", 8):], sound, tmp_path / "b.mp4", (320, 180),
                12, TIMESCALE)  # its SPS cut off
    plain = tmp_path / "plain.mp4"
    plain.write_bytes(mp4.box(b"ftyp", mp4.FTYP))
    with pytest.raises(MediaError, match="moov"):
        mp4.mux(held, plain, tmp_path / "c.mp4", (320, 180), 12, TIMESCALE)
    assert not any((tmp_path / name).exists() for name in ("a.mp4", "b.mp4", "c.mp4"))
