"""storyboard.stitch.mp4: the strict join written by our own MP4 writer, checked against ffmpeg.

The inputs are real: small libx264 files encoded with the mezzanines' own settings
(``mezzanine.encoder_args``, keyframes forced where bodies start) and AAC sounds from ffmpeg's
encoder and from ``aac.write_m4a``. The joined file must give exactly the entries' frames, on the
frame grid, decoded to the same pictures as the inputs, and the sound's own samples; inputs the
writer does not handle must raise ``Unsupported``, and the stitch then still writes a correct file
through ffmpeg.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import struct
import subprocess
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from storyboard.language.request import Transition
from storyboard.media import ffmpeg
from storyboard.stitch import Clip, StitchOptions, aac, audio, mezzanine, mp4, segments, stitch
from storyboard.stitch import _join as final_join
from storyboard.stitch.concat import EpisodeFormat
from storyboard.stitch.mp4read import tracks
from storyboard.stitch.segments import Entry
from tests.stitch_checks import decode_errors, parameter_sets

FPS = Fraction(30)
FMT = EpisodeFormat(160, 120, FPS)
OPTIONS = StitchOptions(preset="ultrafast")
KEYS = [0, 10, 20, 30]  # forced keyframes of every clip (40 frames)
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
MakeMedia = Callable[..., Path]


def clip(path: Path, pattern: str, *extra: str) -> Path:
    """40 frames of ``pattern``, encoded as a mezzanine is (``extra``: options on top)."""
    ffmpeg.run(["-f", "lavfi", "-i", f"{pattern}=s=160x120:r=30", "-frames:v", "40",
                "-vf", f"format=yuv420p,{mezzanine.UNTAGGED}",
                "-force_key_frames", mezzanine.force_times(KEYS, FPS),
                *mezzanine.encoder_args(FMT, OPTIONS), *extra, str(path)], what="a test clip")
    return path


def sound(folder: Path, samples: int, own: bool) -> Path:
    """A stereo tone of ``samples`` samples as AAC in .m4a: ffmpeg's own file, or ``write_m4a``'s
    from the same encoder's ADTS packets (``own``)."""
    source = (f"sine=f=440:sample_rate=48000,aformat=channel_layouts=stereo,"
              f"atrim=end_sample={samples}")
    if not own:
        out = folder / "ffmpeg.m4a"
        ffmpeg.run(["-f", "lavfi", "-i", source, "-c:a", "aac", "-b:a", "96k", "-f", "mp4",
                    str(out)], what="a test sound")
        return out
    adts, out = folder / "sound.adts", folder / "own.m4a"
    ffmpeg.run(["-f", "lavfi", "-i", source, "-c:a", "aac", "-b:a", "96k", "-f", "adts",
                str(adts)], what="a test sound")
    aac.write_m4a(out, aac.read_adts(adts), samples)
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mp4")
    return {"a": clip(folder / "a.mp4", "testsrc2"), "b": clip(folder / "b.mp4", "testsrc"),
            "c": clip(folder / "c.mp4", "smptebars"),
            "bframes": clip(folder / "bframes.mp4", "testsrc2", "-bf", "2"),
            "timescale": clip(folder / "timescale.mp4", "testsrc",
                              "-video_track_timescale", "15360"),
            "truncated": truncated(clip(folder / "whole.mp4", "testsrc", "-movflags", "+faststart"))}


def truncated(path: Path) -> Path:
    """``path`` (moov first) cut off in the middle of its samples."""
    data = path.read_bytes()
    cut = path.with_name("truncated.mp4")
    cut.write_bytes(data[:len(data) * 3 // 5])
    return cut


def frames(entries: Sequence[Entry]) -> int:
    return sum(e.last - e.first for e in entries)


def samples_for(entries: Sequence[Entry]) -> int:
    return frames(entries) * 48000 // 30


def packets(path: Path, stream: str = "v:0") -> list[dict[str, Any]]:
    if not os.access(FFPROBE, os.X_OK):
        pytest.skip("no ffprobe here")
    proc = subprocess.run([FFPROBE, "-v", "error", "-select_streams", stream, "-show_entries",
                           "packet=pts,dts,duration,flags", "-of", "json", str(path)],
                          capture_output=True, text=True, check=True)
    found: list[dict[str, Any]] = json.loads(proc.stdout)["packets"]
    return found


def decoded(path: Path, *args: str) -> bytes:
    proc = subprocess.run([ffmpeg.binary(), "-nostdin", "-v", "error", "-i", str(path), *args],
                          capture_output=True, check=True)
    return proc.stdout


def picture_md5s(path: Path) -> list[str]:
    listing = decoded(path, "-map", "0:v:0", "-f", "framemd5", "-").decode()
    return [line.split(",")[-1].strip() for line in listing.splitlines()
            if line and not line.startswith("#")]


def pcm(path: Path) -> bytes:
    return decoded(path, "-map", "0:a:0", "-c:a", "pcm_f32le", "-f", "f32le", "-")


def top_level(path: Path) -> list[bytes]:
    data, at, kinds = path.read_bytes(), 0, []
    while at < len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        size = struct.unpack_from(">Q", data, at + 8)[0] if size == 1 else size
        kinds.append(kind)
        at += size
    return kinds


def assert_joined(out: Path, entries: Sequence[Entry], sound_file: Path) -> None:
    """``out`` holds exactly the entries' frames, on the frame grid, keyframes where the inputs
    had them, one SPS/PPS, decoded as the inputs decode; and the sound's own samples."""
    assert decode_errors(out) == ""
    assert parameter_sets(out) == (1, 1)
    got = packets(out)
    assert len(got) == frames(entries)
    assert [(int(p["pts"]), int(p["dts"]), int(p["duration"])) for p in got] == [
        (i * 3000, i * 3000, 3000) for i in range(len(got))]
    expected_keys = [p["flags"].startswith("K") for e in entries
                     for p in packets(e.file)[e.first:e.last]]
    assert [p["flags"].startswith("K") for p in got] == expected_keys
    pictures = {e.file: picture_md5s(e.file) for e in entries}
    assert picture_md5s(out) == [m for e in entries for m in pictures[e.file][e.first:e.last]]
    assert pcm(out) == pcm(sound_file)  # (ffmpeg 5.1 decodes past the edit list's end)
    _, track = tracks(out)  # the edit list: the priming skipped, then exactly the samples
    ((duration, skip, _),) = track.edits
    assert (Fraction(duration, track.movie_timescale) * 48000, skip) == (samples_for(entries), 1024)


ENTRIES = [("a", 0, 20), ("b", 10, 30), ("c", 0, 15), ("a", 30, 40), ("b", 20, 21)]


@pytest.mark.parametrize("own", [False, True], ids=["ffmpeg-m4a", "write_m4a"])
def test_entries_and_sound_join_exactly(clips: dict[str, Path], tmp_path: Path,
                                        own: bool) -> None:
    entries = [Entry(clips[name], first, last) for name, first, last in ENTRIES]
    sound_file = sound(tmp_path, samples_for(entries), own)
    out = tmp_path / "joined.mp4"
    mp4.join(entries, FPS, sound_file, out)
    assert_joined(out, entries, sound_file)
    lengths = ffmpeg.stream_lengths(out)
    assert lengths["video"] == lengths["audio"] == pytest.approx(frames(entries) / 30)
    assert [k for k in os.listdir(tmp_path) if k.startswith(".")] == []  # no temporary left


def test_same_inputs_same_bytes_moov_first(clips: dict[str, Path], tmp_path: Path) -> None:
    entries = [Entry(clips[name], first, last) for name, first, last in ENTRIES]
    sound_file = sound(tmp_path, samples_for(entries), True)
    mp4.join(entries, FPS, sound_file, tmp_path / "one.mp4")
    mp4.join(entries, FPS, sound_file, tmp_path / "two.mp4")
    assert (tmp_path / "one.mp4").read_bytes() == (tmp_path / "two.mp4").read_bytes()
    assert top_level(tmp_path / "one.mp4") == [b"ftyp", b"moov", b"mdat"]
    video, track = tracks(tmp_path / "one.mp4")
    assert (video.handler, track.handler) == (b"vide", b"soun")
    assert len(video.offsets) > 1 and len(track.offsets) > 1
    # a 0 10 | b 10 20 | c 0 10 | a 30 | b 20: the inputs' keyframes, where they land
    assert video.sync == frozenset({0, 10, 20, 30, 40, 50, 55, 65})


@pytest.mark.parametrize(("entries", "why"), [
    ([("bframes", 0, 40)], "composition offsets"),
    ([("a", 0, 20), ("b", 5, 20)], "not a keyframe"),
    ([("a", 0, 20), ("timescale", 0, 20)], "timescale"),
    ([("a", 0, 41)], "no frames"),
    ([("a", 0, 20), ("truncated", 0, 10)], "past the end of the file"),
])
def test_what_it_does_not_join_is_unsupported(clips: dict[str, Path], tmp_path: Path,
                                              entries: list[tuple[str, int, int]],
                                              why: str) -> None:
    chosen = [Entry(clips[name], first, last) for name, first, last in entries]
    sound_file = sound(tmp_path, samples_for(chosen), True)
    with pytest.raises(mp4.Unsupported, match=why):
        mp4.join(chosen, FPS, sound_file, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_damaged_files_are_unsupported_never_an_error(clips: dict[str, Path],
                                                      tmp_path: Path) -> None:
    data = clips["a"].read_bytes()  # mdat first, moov at the end
    fast = tmp_path / "fast.mp4"
    ffmpeg.run(["-i", str(clips["a"]), "-c", "copy", "-movflags", "+faststart", str(fast)])
    moov_first = fast.read_bytes()
    damaged = tmp_path / "damaged.mp4"
    cuts = [(data, n) for n in range(0, len(data), max(1, len(data) // 200))]
    cuts += [(moov_first, n) for n in range(0, 2000, 7)] + [(moov_first, len(moov_first) - 1)]
    for source, n in cuts:
        damaged.write_bytes(source[:n])
        with pytest.raises(mp4.Unsupported):
            tracks(damaged)
    moov_at = moov_first.index(b"moov") - 4
    for n in range(moov_at, moov_at + 3000, 3):  # one byte changed: read, or Unsupported
        changed = bytearray(moov_first)
        changed[n] ^= 0xFF
        damaged.write_bytes(bytes(changed))
        with contextlib.suppress(mp4.Unsupported):
            tracks(damaged)
    stsz = moov_first.index(b"stsz") + 8  # a constant sample size, four billion samples: refused
    damaged.write_bytes(moov_first[:stsz] + struct.pack(">II", 1, 0xFFFFFFF0)
                        + moov_first[stsz + 8:])
    with pytest.raises(mp4.Unsupported, match="samples"):
        tracks(damaged)


def test_more_than_four_gigabytes_get_64_bit_offsets() -> None:
    video = mp4.Media(b"vide", 90000, b"", ((3, 90000),), [2**31, 2**31, 10],
                      [(0, 0)] * 3, None, 0, Fraction(3))  # one sample a second: three chunks
    layout = mp4._layout([video])
    head = mp4._head([video], layout)
    assert b"co64" in head and b"stco" not in head
    assert head[-16:-8] == struct.pack(">I4s", 1, b"mdat")
    assert struct.unpack(">Q", head[-8:])[0] == 16 + 2**32 + 10


def joinable(entries: Sequence[Entry], sound_file: Path) -> segments.Joinable:
    return segments.Joinable(sound_file, True, tuple(entries), FPS)


def spied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which of our writer and ffmpeg's mux wrote the file, in order."""
    calls: list[str] = []
    real_join, real_mux = mp4.join, audio.mux

    def join(*args: Any) -> None:
        calls.append("mp4")
        real_join(*args)

    def mux(*args: Any, **kw: Any) -> None:
        calls.append("ffmpeg")
        real_mux(*args, **kw)

    monkeypatch.setattr(mp4, "join", join)
    monkeypatch.setattr(audio, "mux", mux)
    return calls


def test_the_join_falls_back_to_ffmpeg(clips: dict[str, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:
    chosen = [Entry(clips["bframes"], 0, 40)]
    sound_file = sound(tmp_path, samples_for(chosen), False)
    calls = spied(monkeypatch)
    with caplog.at_level(logging.DEBUG, "storyboard.stitch"):
        final_join(joinable(chosen, sound_file), tmp_path / "out.mp4", tmp_path)
    assert calls == ["mp4", "ffmpeg"]
    assert "composition offsets" in caplog.text
    out = tmp_path / "out.mp4"
    assert decode_errors(out) == ""
    pictures = {e.file: picture_md5s(e.file) for e in chosen}
    assert picture_md5s(out) == [m for e in chosen for m in pictures[e.file][e.first:e.last]]
    assert len(packets(out)) == 40
    assert pcm(out) == pcm(sound_file)


def test_pieces_with_parameter_sets_of_their_own_are_joined_with_them_in_band(
        clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = clip(tmp_path / "other.mp4", "smptebars", "-x264-params", "cabac=0")  # another PPS
    chosen = [Entry(clips["a"], 0, 20), Entry(other, 10, 30), Entry(clips["b"], 20, 40)]
    sound_file = sound(tmp_path, samples_for(chosen), True)
    with pytest.raises(mp4.OtherParameterSets):
        mp4.join(chosen, FPS, sound_file, tmp_path / "strict.mp4")
    calls = spied(monkeypatch)
    final_join(joinable(chosen, sound_file), tmp_path / "out.mp4", tmp_path)
    assert calls == ["mp4", "ffmpeg"]
    out = tmp_path / "out.mp4"
    assert decode_errors(out) == ""
    pictures = {e.file: picture_md5s(e.file) for e in chosen}
    # (joined as strict, the middle piece decodes with the first one's PPS: other pictures)
    assert picture_md5s(out) == [m for e in chosen for m in pictures[e.file][e.first:e.last]]


def test_a_stitch_with_crossfades_is_joined_by_the_writer(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shots = [make_media("video", tmp_path / f"{n}.mp4", width=160, height=120, seconds=s,
                        pattern=p) for n, s, p in (("a", 2.0, "testsrc2"), ("b", 1.5, "testsrc"))]
    calls = spied(monkeypatch)
    options = StitchOptions(loudness=None, preset="ultrafast", cache_dir=tmp_path / "cache")
    result = stitch([Clip(shots[0]), Clip(shots[1], Transition("crossfade", 0.5))],
                    tmp_path / "ep.mp4", options)
    assert calls == ["mp4"]
    assert decode_errors(result.out) == "" and parameter_sets(result.out) == (1, 1)
    assert len(packets(result.out)) == 90
    lengths = ffmpeg.stream_lengths(result.out)
    assert lengths["video"] == pytest.approx(3.0) and lengths["audio"] == pytest.approx(3.0)


def test_a_clip_with_b_frames_is_joined_by_ffmpeg(clips: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    shot = tmp_path / "shot.mp4"  # the B-frame clip, with a sound: remuxed as it is ("copy")
    ffmpeg.run(["-i", str(clips["bframes"]), "-f", "lavfi", "-i", "sine=d=1.5", "-c:v", "copy",
                "-c:a", "aac", "-shortest", str(shot)])
    calls = spied(monkeypatch)
    options = StitchOptions(loudness=-16.0, preset="ultrafast", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.DEBUG, "storyboard.stitch"):
        result = stitch([Clip(shot), Clip(shot)], tmp_path / "ep.mp4", options)
    assert result.path_taken == "normalized"
    assert calls == ["mp4", "ffmpeg"]
    assert "composition offsets" in caplog.text
    assert decode_errors(result.out) == ""
    assert len(packets(result.out)) == 80
