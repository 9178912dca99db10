"""Stitching real (tiny) clips: the copy path, normalisation, transitions, errors, atomicity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.errors import FFmpegError
from storyboard.language.request import Transition
from storyboard.media import ffmpeg
from storyboard.stitch import (
    Clip,
    MissingMedia,
    Music,
    OutputNotWritable,
    StitchOptions,
    TransitionTooLong,
    stitch,
)

MakeMedia = Callable[..., Path]
FRAME = 1 / 30
FAST = StitchOptions(preset="ultrafast", loudness=None)


def clip(make_media: MakeMedia, tmp_path: Path, name: str, **kw: object) -> Path:
    kw.setdefault("width", 160)
    kw.setdefault("height", 120)
    kw.setdefault("seconds", 1.0)
    return make_media("video", tmp_path / f"{name}.mp4", **kw)


def video_packets(path: Path, tmp_path: Path, *, keyframes: bool = True) -> list[tuple[str, str]]:
    """(size, checksum) of every video packet, read without decoding.

    ``keyframes=False`` skips keyframes, which legitimately gain in-band SPS/PPS when clips with
    different encoder settings are joined; every other packet must still be byte-identical.
    """
    listing = tmp_path / f"{path.stem}.framecrc"
    ffmpeg.run(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", str(listing)])
    rows = [[f.strip() for f in line.split(",")] for line in listing.read_text().splitlines()
            if line and not line.startswith("#")]
    return [(r[4], r[5]) for r in rows if keyframes or "F=0x0" in r[6:]]


def assert_faststart(path: Path) -> None:
    head = path.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")  # the index comes first: streams at once


def assert_in_sync(out: Path) -> dict[str, float]:
    lengths = ffmpeg.stream_lengths(out)
    assert set(lengths) == {"video", "audio"}
    assert abs(lengths["audio"] - lengths["video"]) <= FRAME
    return lengths


def test_matching_clips_take_the_copy_path_and_keep_their_packets(
        make_media: MakeMedia, tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a", tone=440)
    b = clip(make_media, tmp_path, "b", tone=660, pattern="testsrc")
    result = stitch([Clip(a), Clip(b), Clip(a)], tmp_path / "ep.mp4", FAST)
    assert result.path_taken == "copy"
    expected = [*video_packets(a, tmp_path), *video_packets(b, tmp_path),
                *video_packets(a, tmp_path)]
    assert video_packets(result.out, tmp_path) == expected  # bit-identical: a real stream copy
    assert abs(assert_in_sync(result.out)["video"] - 3.0) <= FRAME
    assert result.starts == pytest.approx((0.0, 1.0, 2.0), abs=1e-6)
    assert_faststart(result.out)
    info = ffmpeg.probe(result.out)
    assert info.video is not None and (info.video.width, info.video.height) == (160, 120)


def _mono(src: Path, dst: Path) -> Path:
    ffmpeg.run(["-i", str(src), "-c:v", "copy", "-c:a", "aac", "-ac", "1", str(dst)])
    return dst


def _resampled(src: Path, dst: Path) -> Path:
    ffmpeg.run(["-i", str(src), "-c:v", "copy", "-c:a", "aac", "-ar", "44100", str(dst)])
    return dst


ODD_ONES: dict[str, Callable[[MakeMedia, Path], Path]] = {
    "other size": lambda mm, d: clip(mm, d, "big", width=320, height=240),
    "other fps": lambda mm, d: clip(mm, d, "fps25", fps=25),
    "no audio": lambda mm, d: clip(mm, d, "silent", audio=False),
    "mono": lambda mm, d: _mono(clip(mm, d, "stereo"), d / "mono.mp4"),
    "44.1 kHz": lambda mm, d: _resampled(clip(mm, d, "r48"), d / "r44.mp4"),
}


@pytest.mark.parametrize("odd", list(ODD_ONES))
def test_a_differing_clip_is_normalised_and_the_others_copied(
        make_media: MakeMedia, tmp_path: Path, odd: str) -> None:
    first = clip(make_media, tmp_path, "first", seconds=2.0)
    other = ODD_ONES[odd](make_media, tmp_path)
    result = stitch([Clip(first), Clip(other)], tmp_path / "ep.mp4", FAST)
    assert result.path_taken == "normalized"
    info = ffmpeg.probe(result.out)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height, info.video.fps) == (160, 120, 30)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == \
        ("aac", 48000, "stereo")
    lengths = assert_in_sync(result.out)
    assert abs(lengths["video"] - 3.0) <= FRAME
    # The matching first clip kept its own packets: only the odd one was re-encoded.
    first_packets = video_packets(first, tmp_path, keyframes=False)
    assert len(first_packets) > 30
    joined = video_packets(result.out, tmp_path, keyframes=False)
    assert joined[:len(first_packets)] == first_packets


def test_loudness_or_music_alone_forces_normalisation(make_media: MakeMedia,
                                                      tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a")
    result = stitch([Clip(a), Clip(a)], tmp_path / "ep.mp4",
                    StitchOptions(preset="ultrafast", loudness=-16))
    assert result.path_taken == "normalized"
    assert abs(assert_in_sync(result.out)["video"] - 2.0) <= FRAME


TRANSITIONS = [("crossfade", 0.5), ("fade", 0.4), ("dissolve", 0.3), ("wipeleft", 0.5),
               ("wipeup", 0.2), ("slideright", 0.5), ("slidedown", 0.7)]


@pytest.mark.parametrize(("kind", "seconds"), TRANSITIONS)
def test_transitions_last_exactly_the_sum_minus_the_overlaps(
        make_media: MakeMedia, tmp_path: Path, kind: str, seconds: float) -> None:
    a = clip(make_media, tmp_path, "a", seconds=1.5)
    b = clip(make_media, tmp_path, "b", seconds=1.0, pattern="testsrc", tone=660)
    c = clip(make_media, tmp_path, "c", seconds=2.0, width=320, height=240, fps=25)
    clips = [Clip(a), Clip(b, Transition(kind, seconds)), Clip(c, Transition("crossfade", 0.3))]
    result = stitch(clips, tmp_path / "ep.mp4", FAST)
    assert result.path_taken == "filtered"
    assert_faststart(result.out)
    expected = 1.5 + 1.0 + 2.0 - seconds - 0.3
    lengths = assert_in_sync(result.out)
    assert abs(lengths["video"] - expected) <= FRAME
    assert abs(result.duration - expected) <= FRAME
    assert result.starts == pytest.approx((0.0, 1.5 - seconds, 2.5 - seconds - 0.3), abs=FRAME)


def test_a_transition_longer_than_a_clip_names_the_clip(make_media: MakeMedia,
                                                        tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "long", seconds=2.0)
    b = clip(make_media, tmp_path, "short", seconds=1.0)
    with pytest.raises(TransitionTooLong, match=r"short\.mp4.*1\.5 s.*longer than the clip"):
        stitch([Clip(a), Clip(b, Transition("crossfade", 1.5))], tmp_path / "ep.mp4", FAST)
    assert not (tmp_path / "ep.mp4").exists()


def test_a_clip_cannot_hold_two_transitions_longer_than_itself(make_media: MakeMedia,
                                                               tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a")
    mid = clip(make_media, tmp_path, "middle")
    clips = [Clip(a), Clip(mid, Transition("fade", 0.6)), Clip(a, Transition("fade", 0.6))]
    with pytest.raises(TransitionTooLong, match=r"middle\.mp4.*overlap"):
        stitch(clips, tmp_path / "ep.mp4", FAST)


def test_a_missing_music_file_is_named(make_media: MakeMedia, tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a")
    missing = tmp_path / "nowhere" / "theme.mp3"
    with pytest.raises(MissingMedia, match=r"music file not found: .*theme\.mp3"):
        stitch([Clip(a)], tmp_path / "ep.mp4", StitchOptions(music=Music(missing)))


def test_a_missing_clip_is_named(tmp_path: Path) -> None:
    with pytest.raises(MissingMedia, match=r"clip not found: .*gone\.mp4"):
        stitch([Clip(tmp_path / "gone.mp4")], tmp_path / "ep.mp4", FAST)


def test_an_unwritable_output_folder_is_a_clear_error(make_media: MakeMedia,
                                                      tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a")
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(OutputNotWritable, match=r"cannot write .*ep\.mp4"):
        stitch([Clip(a)], blocker / "ep.mp4", FAST)
    assert blocker.read_text() == "not a folder"


def test_an_ffmpeg_failure_leaves_no_file_behind(make_media: MakeMedia, tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    bad = StitchOptions(preset="no-such-preset", loudness=None)
    with pytest.raises(FFmpegError, match="ffmpeg said"):
        stitch([Clip(a), Clip(a, Transition("crossfade", 0.2))], out_dir / "ep.mp4", bad)
    assert list(out_dir.iterdir()) == []  # no episode, no temp file, no work folder
