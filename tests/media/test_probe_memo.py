"""What ffmpeg says of a file (its probe, its measurement, its packets, its people) remembered
for the life of the process (``media.memo``): across a rename the caller says of (``ffmpeg.moved``:
a download verified by its probe and moved into the cache is measured without probing it again),
and, for a small file, by its bytes and suffix (a copy is not read again); a file changed after
its move, or a large one renamed unsaid, is read anew."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.media import ffbinary, ffmpeg, memo, samples
from storyboard.media.faces import frames as framing
from storyboard.media.faces import scan
from storyboard.media.probes.measure import measure
from storyboard.run.state.cache import CacheEntry, OutputCache
from tests.fixtures.ffmpeg_runs import nothing_remembered


@pytest.fixture
def probed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each file ffmpeg was started on to probe."""
    started: list[Path] = []
    real = ffmpeg.probe_log

    def counted(binary: str, path: Path) -> ffmpeg.MediaInfo:
        started.append(path)
        return real(binary, path)
    monkeypatch.setattr(ffmpeg, "probe_log", counted)
    monkeypatch.setattr(ffbinary, "ffprobe", lambda: None)
    monkeypatch.setattr(memo, "CONTENT_MOST", -1)  # by name alone, unless a test says
    nothing_remembered(monkeypatch)  # nothing known yet
    return started


def test_a_download_moved_into_the_cache_is_not_probed_again(tmp_path: Path,
                                                              probed: list[Path]) -> None:
    download = samples.video(tmp_path / ".part.mp4", seconds=1.0)
    facts = ffmpeg.probe(download)  # the download's verification
    cache = OutputCache(tmp_path / "series", "dashscope")
    stored = cache.put(CacheEntry("a" * 64, "b" * 64, "dashscope", "t1", 1, 1.0, 0.1, "USD",
                                  0.0), download)
    assert ffmpeg.probe(stored) == replace(facts, path=stored) and probed == [download]
    twice = stored.with_name("again.mp4")
    before = ffmpeg.file_identity(stored)
    os.replace(stored, twice)
    ffmpeg.moved(before, twice)
    assert ffmpeg.probe(twice) == replace(facts, path=twice)
    assert probed == [download]  # renamed twice: still probed once


def test_a_file_changed_after_its_move_or_moved_unsaid_is_probed_anew(
        tmp_path: Path, probed: list[Path]) -> None:
    first = samples.video(tmp_path / "first.mp4", seconds=1.0)
    ffmpeg.probe(first)
    moved = tmp_path / "moved.mp4"
    before = ffmpeg.file_identity(first)
    os.replace(first, moved)
    ffmpeg.moved(before, moved)
    samples.video(tmp_path / "longer.mp4", seconds=2.0)
    os.replace(tmp_path / "longer.mp4", moved)  # other bytes at the same name
    assert ffmpeg.probe(moved).duration == pytest.approx(2.0, abs=0.1)
    quiet = tmp_path / "quiet.mp4"
    os.replace(moved, quiet)  # a rename nobody said of: not trusted
    ffmpeg.probe(quiet)
    assert probed == [first, moved, quiet]


def test_a_small_files_copy_is_known_by_its_bytes_and_suffix(
        tmp_path: Path, probed: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "CONTENT_MOST", 4 * 1024 * 1024)
    first = samples.video(tmp_path / "first.mp4", seconds=1.0)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(first.read_bytes())
    other = tmp_path / "other.mov"
    other.write_bytes(first.read_bytes())
    facts = ffmpeg.probe(first)
    assert ffmpeg.probe(copy) == replace(facts, path=copy)  # its own path, the same facts
    assert probed == [first]
    ffmpeg.probe(other)  # the same bytes under another suffix: ffmpeg may read it otherwise
    samples.video(tmp_path / "longer.mp4", seconds=2.0)
    assert ffmpeg.probe(tmp_path / "longer.mp4").duration == pytest.approx(2.0, abs=0.1)
    assert probed == [first, other, tmp_path / "longer.mp4"]
    monkeypatch.setattr(memo, "CONTENT_MOST", first.stat().st_size - 1)  # now too large
    again = tmp_path / "again.mp4"
    again.write_bytes(first.read_bytes())
    ffmpeg.probe(again)
    assert probed[-1] == again


def test_a_copys_measurement_packets_and_people_are_read_once(
        tmp_path: Path, probed: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """What else ffmpeg says of a file is remembered as its probe is: a small file's copy is not
    measured, its packets not read and its frames not decoded again; other bytes are; a caller
    that changes its measurement changes no one else's."""
    monkeypatch.setattr(memo, "CONTENT_MOST", 4 * 1024 * 1024)
    asked: list[str] = []
    run, lengths, frames = ffmpeg.run, ffmpeg._stream_lengths, framing.read_frames

    def ran(args: list[str], **kwargs: Any) -> str:
        if str(kwargs.get("what", "")).startswith("measuring"):
            asked.append("measuring")
        return run(args, **kwargs)

    def read(binary: str, path: Path) -> tuple[tuple[str, float], ...]:
        asked.append("packets")
        return lengths(binary, path)

    def decoded(path: Path, times: Any) -> list[framing.Frame]:
        asked.append("frames")
        return frames(path, times)
    monkeypatch.setattr(ffmpeg, "run", ran)
    monkeypatch.setattr(ffmpeg, "_stream_lengths", read)
    monkeypatch.setattr(framing, "read_frames", decoded)
    first = samples.video(tmp_path / "first.mp4", seconds=1.0)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(first.read_bytes())
    for path in (first, copy):
        found = measure(path, "video")
        lengths_of = ffmpeg.stream_lengths(path)
        people = scan.measure(path, "video", [0.1, 0.5], faces=False)
    assert asked == ["measuring", "packets", "frames"]
    assert found == measure(first, "video") and found.seconds == pytest.approx(1.0, abs=0.1)
    assert lengths_of == ffmpeg.stream_lengths(first) and len(people.frames) == 2
    found.black.append((0.0, 1.0))  # a caller's own copy
    assert measure(copy, "video").black == []
    samples.video(tmp_path / "longer.mp4", seconds=2.0)
    os.replace(tmp_path / "longer.mp4", copy)  # other bytes at the copy's name
    assert measure(copy, "video").seconds == pytest.approx(2.0, abs=0.1)
    ffmpeg.stream_lengths(copy)
    scan.measure(copy, "video", [0.1, 0.5], faces=False)
    assert asked == ["measuring", "packets", "frames"] * 2
    probes = list(probed)
    memo.forget("measure")  # a bench timing the measurement: it runs again, the probe stays known
    measure(copy, "video")
    assert asked == ["measuring", "packets", "frames"] * 2 + ["measuring"] and probed == probes


def test_a_clips_facts_are_scanned_once_for_its_copies_and_anew_for_other_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.stitch.join.concat import probe_clip

    nothing_remembered(monkeypatch)
    scans: list[str] = []
    run = ffmpeg.run

    def ran(args: list[str], **kwargs: Any) -> str:
        scans.extend(["scan"] if "framecrc" in args else [])
        return run(args, **kwargs)
    monkeypatch.setattr(ffmpeg, "run", ran)
    first = samples.video(tmp_path / "first.mp4", seconds=1.0)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(first.read_bytes())
    facts = probe_clip(first, tmp_path / "a.framecrc")
    again = probe_clip(copy, tmp_path / "b.framecrc")
    assert scans == ["scan"] and again.path == copy and again.info.path == copy
    assert replace(again, path=first, info=replace(again.info, path=first)) == facts
    samples.video(tmp_path / "longer.mp4", seconds=2.0)
    os.replace(tmp_path / "longer.mp4", copy)  # other bytes at the copy's name
    assert probe_clip(copy, tmp_path / "c.framecrc").video_len == pytest.approx(2.0, abs=0.1)
    assert scans == ["scan", "scan"]
