"""A probe remembered for the life of the process: across a rename the caller says of
(``ffmpeg.moved``: a download verified by its probe and moved into the cache is measured without
probing it again), and, for a small file, by its bytes and suffix (a copy is not probed again);
a file changed after its move, or a large one renamed unsaid, is probed anew."""

from __future__ import annotations

import collections
import os
from dataclasses import replace
from pathlib import Path

import pytest

from storyboard.media import ffmpeg, samples
from storyboard.run.state.cache import CacheEntry, OutputCache


@pytest.fixture
def probed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each file ffmpeg was started on to probe."""
    started: list[Path] = []
    real = ffmpeg.probe_log

    def counted(binary: str, path: Path) -> ffmpeg.MediaInfo:
        started.append(path)
        return real(binary, path)
    monkeypatch.setattr(ffmpeg, "probe_log", counted)
    monkeypatch.setattr(ffmpeg.ffbinary, "ffprobe", lambda: None)
    monkeypatch.setattr(ffmpeg, "CONTENT_MOST", -1)  # by name alone, unless a test says
    monkeypatch.setattr(ffmpeg, "_PROBED", collections.OrderedDict())  # nothing known yet
    monkeypatch.setattr(ffmpeg, "_MOVED", {})
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
    monkeypatch.setattr(ffmpeg, "CONTENT_MOST", 4 * 1024 * 1024)
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
    monkeypatch.setattr(ffmpeg, "CONTENT_MOST", first.stat().st_size - 1)  # now too large
    again = tmp_path / "again.mp4"
    again.write_bytes(first.read_bytes())
    ffmpeg.probe(again)
    assert probed[-1] == again
