"""storyboard.stitch's final join (ffmpeg's concat demuxer): exact, strict, deterministic.

The inputs are real: small libx264 files encoded with the mezzanines' own settings
(``mezzanine.encoder_args``, keyframes forced where bodies start) and AAC sounds from ffmpeg's
encoder and from ``aac.write_m4a``. The joined file must give exactly the entries' frames, on the
frame grid, decoded to the same pictures as the inputs, and the sound's own samples; the same
inputs give the same bytes; a piece with parameter sets of its own (a transition kept from another
x264 build) is found and still decodes right.
"""

from __future__ import annotations

import json
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
from storyboard.stitch import Clip, StitchOptions, prepare_transitions, stitch
from storyboard.stitch.join import blends, mezzanine, segments
from storyboard.stitch.join.concat import EpisodeFormat
from storyboard.stitch.join.segments import Entry
from storyboard.stitch.sound import aac
from storyboard.stitch.stitcher import final_join
from tests.fixtures.stitch_checks import decode_errors, parameter_sets

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
    folder = tmp_path_factory.mktemp("join")
    return {"a": clip(folder / "a.mp4", "testsrc2"), "b": clip(folder / "b.mp4", "testsrc"),
            "c": clip(folder / "c.mp4", "smptebars"),
            "bframes": clip(folder / "bframes.mp4", "testsrc2", "-bf", "2")}


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
    lengths = ffmpeg.stream_lengths(out)
    assert lengths["video"] == lengths["audio"] == pytest.approx(frames(entries) / 30)


ENTRIES = [("a", 0, 20), ("b", 10, 30), ("c", 0, 15), ("a", 30, 40), ("b", 20, 21)]

ENTRIES = [("a", 0, 20), ("b", 10, 30), ("c", 0, 15), ("a", 30, 40), ("b", 20, 21)]


def joinable(entries: Sequence[Entry], sound_file: Path, strict: bool = True) -> segments.Joinable:
    return segments.Joinable(sound_file, strict, tuple(entries), FPS)


def expected_pictures(entries: Sequence[Entry]) -> list[str]:
    pictures = {e.file: picture_md5s(e.file) for e in entries}
    return [m for e in entries for m in pictures[e.file][e.first:e.last]]


@pytest.mark.parametrize("own", [False, True], ids=["ffmpeg-m4a", "write_m4a"])
def test_entries_and_sound_join_exactly(clips: dict[str, Path], tmp_path: Path,
                                        own: bool) -> None:
    entries = [Entry(clips[name], first, last) for name, first, last in ENTRIES]
    sound_file = sound(tmp_path, samples_for(entries), own)
    out = tmp_path / "out" / "joined.mp4"
    out.parent.mkdir()
    final_join(joinable(entries, sound_file), out, tmp_path)
    assert_joined(out, entries, sound_file)
    assert [k for k in os.listdir(out.parent) if k.startswith(".")] == []  # no temporary left


def test_same_inputs_same_bytes_moov_first(clips: dict[str, Path], tmp_path: Path) -> None:
    entries = [Entry(clips[name], first, last) for name, first, last in ENTRIES]
    sound_file = sound(tmp_path, samples_for(entries), True)
    final_join(joinable(entries, sound_file), tmp_path / "one.mp4", tmp_path)
    final_join(joinable(entries, sound_file), tmp_path / "two.mp4", tmp_path)
    assert (tmp_path / "one.mp4").read_bytes() == (tmp_path / "two.mp4").read_bytes()
    kinds = top_level(tmp_path / "one.mp4")
    assert kinds[:2] == [b"ftyp", b"moov"] and kinds[-1] == b"mdat"
    # a 0 10 | b 10 20 | c 0 10 | a 30 | b 20: the inputs' keyframes, where they land
    keys = [i for i, p in enumerate(packets(tmp_path / "one.mp4")) if p["flags"].startswith("K")]
    assert keys == [0, 10, 20, 30, 40, 50, 55, 65]


def test_a_piece_with_b_frames_is_joined_exactly(clips: dict[str, Path], tmp_path: Path) -> None:
    chosen = [Entry(clips["bframes"], 0, 40)]
    sound_file = sound(tmp_path, samples_for(chosen), False)
    out = tmp_path / "out.mp4"
    final_join(joinable(chosen, sound_file), out, tmp_path)
    assert decode_errors(out) == ""
    assert picture_md5s(out) == expected_pictures(chosen)
    assert len(packets(out)) == 40
    assert pcm(out) == pcm(sound_file)


def test_pieces_with_parameter_sets_of_their_own_are_joined_with_them_in_band(
        clips: dict[str, Path], tmp_path: Path) -> None:
    other = clip(tmp_path / "other.mp4", "smptebars", "-x264-params", "cabac=0")  # another PPS
    chosen = [Entry(clips["a"], 0, 20), Entry(other, 10, 30), Entry(clips["b"], 20, 40)]
    sound_file = sound(tmp_path, samples_for(chosen), True)
    out = tmp_path / "out.mp4"
    final_join(joinable(chosen, sound_file, strict=False), out, tmp_path)
    assert decode_errors(out) == ""
    # (joined as strict, the middle piece decodes with the first one's PPS: other pictures)
    assert picture_md5s(out) == expected_pictures(chosen)


def crossfaded(make_media: MakeMedia, tmp_path: Path, cache: Path
               ) -> tuple[list[Clip], StitchOptions]:
    shots = [make_media("video", tmp_path / f"{n}.mp4", width=160, height=120, seconds=s,
                        pattern=p) for n, s, p in (("a", 2.0, "testsrc2"), ("b", 1.5, "testsrc"))]
    options = StitchOptions(loudness=None, preset="ultrafast", cache_dir=cache)
    return [Clip(shots[0]), Clip(shots[1], Transition("crossfade", 0.5))], options


def kept_blends(cache: Path) -> list[Path]:
    return sorted((cache / "mezzanine").glob(f"*{mezzanine.BLEND_MARK}*.mp4"))


def test_a_stitch_with_crossfades_is_strict(make_media: MakeMedia, tmp_path: Path) -> None:
    clips_, options = crossfaded(make_media, tmp_path, tmp_path / "cache")
    assert prepare_transitions(clips_, options) == 1  # listed as it is encoded, ahead
    assert [b.with_suffix(blends.LISTING).is_file() for b in kept_blends(tmp_path / "cache")] == [
        True]
    result = stitch(clips_, tmp_path / "ep.mp4", options)
    assert decode_errors(result.out) == "" and parameter_sets(result.out) == (1, 1)
    assert len(packets(result.out)) == 90
    lengths = ffmpeg.stream_lengths(result.out)
    assert lengths["video"] == pytest.approx(3.0) and lengths["audio"] == pytest.approx(3.0)
    (blend,) = kept_blends(tmp_path / "cache")  # its parameter sets, listed when it was encoded
    listing = blend.with_suffix(blends.LISTING).read_text(encoding="utf-8")
    records = [json.loads(r.read_text()) for r in (tmp_path / "cache" / "mezzanine").glob("*.json")]
    assert {r["extradata"] for r in records} == {
        line for line in listing.splitlines() if line.startswith("#extradata 0")}
    os.utime(blend, (0, 0))  # unused for long: pruned with its listing
    mezzanine.prune(tmp_path / "cache" / "mezzanine")
    assert kept_blends(tmp_path / "cache") == []
    assert not blend.with_suffix(blends.LISTING).exists()


@pytest.mark.parametrize("listed", [True, False], ids=["listed-by-its-build", "kept-unlisted"])
def test_a_transition_kept_from_another_x264_build_is_joined_with_its_own_parameter_sets(
        make_media: MakeMedia, tmp_path: Path, listed: bool) -> None:
    cache = tmp_path / "cache"
    clips_, options = crossfaded(make_media, tmp_path, cache)
    first = picture_md5s(stitch(clips_, tmp_path / "first.mp4", options).out)
    (blend,) = kept_blends(cache)
    old = picture_md5s(blend)
    foreign = tmp_path / "foreign.mp4"  # the same frames, encoded without CABAC: another PPS
    ffmpeg.run(["-i", str(blend), *mezzanine.encoder_args(FMT, OPTIONS, quick=True),
                "-x264-params", "cabac=0", str(foreign)], what="a foreign transition")
    shutil.copyfile(foreign, blend)
    blend.with_suffix(blends.LISTING).unlink()
    if listed:  # as its own build would have listed it
        blends.parameter_sets([blend], tmp_path)
    result = stitch(clips_, tmp_path / "again.mp4", options)
    at = next(i for i in range(len(first)) if first[i:i + len(old)] == old)
    assert decode_errors(result.out) == ""
    assert picture_md5s(result.out) == first[:at] + picture_md5s(blend) + first[at + len(old):]
    assert parameter_sets(result.out) != (1, 1)  # carried in-band


def test_a_clip_with_b_frames_is_joined(clips: dict[str, Path], tmp_path: Path) -> None:
    shot = tmp_path / "shot.mp4"  # the B-frame clip, with a sound: remuxed as it is ("copy")
    ffmpeg.run(["-i", str(clips["bframes"]), "-f", "lavfi", "-i", "sine=d=1.5", "-c:v", "copy",
                "-c:a", "aac", "-shortest", str(shot)])
    options = StitchOptions(loudness=-16.0, preset="ultrafast", cache_dir=tmp_path / "cache")
    result = stitch([Clip(shot), Clip(shot)], tmp_path / "ep.mp4", options)
    assert result.path_taken == "normalized"
    assert decode_errors(result.out) == ""
    assert len(packets(result.out)) == 80
    one = picture_md5s(clips["bframes"])
    assert picture_md5s(result.out) == one + one
