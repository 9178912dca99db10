"""Clips that prepare to one mezzanine are made once, and no two threads share a temporary file.

Two shots whose clips have the same content (silent 16 fps clips, as ComfyUI's open Wan makes
them; here one clip copied) prepare to the same mezzanine stem. The stitch prepared them in its
thread pool at once: both built it, and one thread removed the ``.framecrc`` listing the other was
about to read (``FileNotFoundError`` from ``mezzanine._describe``). Every build is counted here by
wrapping ``mezzanine._build`` (the real one still runs).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from storyboard.language.request import Transition
from storyboard.media import ffmpeg, samples
from storyboard.stitch import Clip, StitchOptions, prepare, stitch
from storyboard.stitch.join import mezzanine
from tests.fixtures.ffmpeg_runs import nothing_remembered


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The stem of every mezzanine built, in order."""
    made: list[str] = []
    real = mezzanine._build

    def counted(*args: Any, **kwargs: Any) -> None:
        made.append(Path(args[-2]).name)  # (..., stem, audio)
        real(*args, **kwargs)
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(mezzanine, "_build", counted)
    yield made


def twins(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A first shot, then two clips of the same silent 16 fps content under two names."""
    first = samples.video(tmp_path / "a.mp4", 160, 120, seconds=2, fps=16, audio=False)
    twin = samples.video(tmp_path / "b.mp4", 160, 120, seconds=2, fps=16, audio=False,
                         pattern="smptebars")
    return first, twin, Path(shutil.copyfile(twin, tmp_path / "c.mp4"))


def listings(tmp_path: Path) -> list[Path]:
    """A mezzanine's packet listings left behind (a kept transition keeps its own, by design)."""
    return [path for path in (tmp_path / "cache").rglob("*.framecrc")
            if mezzanine.BLEND_MARK not in path.name]


def options(tmp_path: Path) -> StitchOptions:
    return StitchOptions(loudness=None, preset="ultrafast", width=160, height=120, fps=16,
                         jobs=4, cache_dir=tmp_path / "cache")


def test_two_shots_of_one_mezzanine_stitch_with_it_made_once(tmp_path: Path,
                                                             builds: list[str]) -> None:
    a, b, c = twins(tmp_path)
    fade = Transition("crossfade", 0.5)
    clips = [Clip(a), Clip(b, fade), Clip(c, fade)]  # b and c: the same mezzanine
    result = stitch(clips, tmp_path / "ep.mp4", options(tmp_path))
    assert result.out.is_file()
    assert len(builds) == 2 and len(set(builds)) == 2, builds  # a's, and b's and c's one
    assert ffmpeg.probe(result.out).duration == pytest.approx(5.0, abs=0.1)
    assert not listings(tmp_path)


def test_clips_made_ahead_at_once_make_one_mezzanine(tmp_path: Path, builds: list[str]) -> None:
    """Shots that arrive together are prepared ahead from several threads (``prepare``)."""
    a, b, c = twins(tmp_path)
    settings = options(tmp_path)
    start = threading.Barrier(4)

    def ahead(clip: Path) -> bool:
        start.wait()
        return prepare(a, clip, settings)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(ahead, [b, c, b, c]))
    assert done == [True] * 4
    assert len(builds) == 1, builds
    assert not listings(tmp_path)
