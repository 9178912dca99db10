"""The studio's quick drafts (``storyboard.run.drafts``) and the stills taken by one ffmpeg run.

A small series (ffmpeg test sources) is drafted as the studio drafts it (``preview``) and as
``render --draft`` does: the same cached videos and draft lock, but no journal row for the quick
path; a draft that fails ends its shot ``failed`` and leaves the episode unstitched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import MediaError
from storyboard.media import ffmpeg, samples
from storyboard.review.sheet.thumbs import Thumbs, frame_times
from storyboard.run import drafts, read_status
from storyboard.run.pipeline import render_series
from storyboard.run.setup import RenderFlags, prepare
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import lock_path, read_lock
from storyboard.stitch.join.facts import FactStore
from tests.fixtures.drafts import make_series


def test_the_studio_drafts_without_a_journal_and_render_draft_finds_them(tmp_path: Path) -> None:
    manifest = make_series(tmp_path / "series")
    setup = prepare(manifest, provider="local", draft=True, preview=True)
    assert drafts.quick(setup)
    assert not drafts.quick(prepare(manifest, provider="local", draft=True))  # render --draft
    report = render_series(manifest, RenderFlags("local", draft=True, yes=True,
                           out=tmp_path / "studio", preview=True))
    assert report.run is not None and [s.state for s in report.run.shots] == ["done", "done"]
    assert [e.state for e in report.episodes] == ["stitched"]
    assert read_status(manifest.root) == []  # free drafts: nothing to resume
    cache = OutputCache(manifest.root, setup.provider.cache_key)
    shots = manifest.shots()
    assert all(cache.has(s.hash) for s in shots)
    facts = FactStore(manifest.root / ".storyboard" / "stitch-cache" / "facts")
    assert all(facts.recorded(cache.path(s.hash)) is not None for s in shots)
    locked = read_lock(lock_path(manifest.root, proxy=True)).shots  # the draft lock, as a run's
    assert sorted(entry["hash"] for entry in locked.values()) == sorted(s.hash for s in shots)
    assert not lock_path(manifest.root).exists()  # never the committed lock
    again = render_series(manifest, RenderFlags("local", draft=True, yes=True))
    assert again.run is not None and [s.state for s in again.run.shots] == ["cached", "cached"]


def test_a_draft_that_fails_ends_its_shot_failed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = make_series(tmp_path / "series")

    def broken(*args: object, **kwargs: object) -> None:
        raise MediaError("no drawing today")

    monkeypatch.setattr(drafts, "render_shot", broken)
    report = render_series(manifest, RenderFlags("local", draft=True, yes=True,
                           out=tmp_path / "studio", preview=True))
    assert report.run is not None
    assert [(s.state, s.message) for s in report.run.shots] == [("failed", "no drawing today")] * 2
    assert [e.state for e in report.episodes] == ["skipped"]
    assert not list((manifest.root / ".storyboard" / "cache").rglob("*.part.mp4"))


def test_stills_taken_by_one_run_are_the_bytes_of_one_run_each(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    samples.video(video, seconds=2)
    times = [at for _, at in frame_times(2.0, ffmpeg.probe(video).video.fps)]  # type: ignore[union-attr]
    ffmpeg.stills(video, [(at, tmp_path / f"many-{i}.jpg") for i, at in enumerate(times)],
                  width=160)
    for i, at in enumerate(times):
        ffmpeg.still(video, tmp_path / f"one-{i}.jpg", at=at, width=160)
        assert (tmp_path / f"one-{i}.jpg").read_bytes() == (tmp_path / f"many-{i}.jpg").read_bytes()
    stills = Thumbs(tmp_path / "thumbs", width=160).frames(video, 2.0,
                                                           ffmpeg.probe(video).video.fps)  # type: ignore[union-attr]
    assert [s.path.read_bytes() for s in stills] == [
        (tmp_path / f"one-{i}.jpg").read_bytes() for i in range(3)]
