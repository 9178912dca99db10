"""Feedback while working: stitching shows itself, local shots never "download", nothing is cut
mid-word or left with an empty field, failures leave no empty folder and no stale temporaries."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from storyboard.cli import cli
from storyboard.errors import StoryboardError
from storyboard.files import clean_stale_temporaries
from storyboard.language.compile import compile_source
from storyboard.language.read.series import load_source
from storyboard.media.ffprogress import Progress
from storyboard.review.progress import LiveProgress, episode_line
from storyboard.run import ShotEvent, pipeline, rendering
from storyboard.run.setup import Callbacks, RenderFlags
from storyboard.stitch import Clip, StitchOptions, stitch
from storyboard.stitch.series.episodes import EpisodeOutput
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
HEAD = MIA_HEAD
ONE = "- id: one\n  shots:\n    - {id: a, prompt: '@mia waves'}\n"


def test_no_empty_fields_in_an_episode_line() -> None:
    up_to_date = EpisodeOutput("ep01", Path("out/ep01.mp4"), "up to date", duration=16.5)
    assert episode_line(up_to_date) == "episode ep01: up to date out/ep01.mp4 (16.50 s)"
    stitched = EpisodeOutput("ep01", Path("out/ep01.mp4"), "stitched", 16.5, "filtered")
    assert episode_line(stitched) == "episode ep01: stitched out/ep01.mp4 (16.50 s, filtered)"
    assert episode_line(EpisodeOutput("e", Path("e.mp4"), "skipped")) == "episode e: skipped e.mp4"


def test_a_stitching_line_says_its_place_and_how_far_its_run_is() -> None:
    run = Progress("encoding the episode's sound", 31.5, 62.0)
    stitching = EpisodeOutput("ep02", Path("out/ep02.mp4"), "stitching", started=100.0,
                              progress=run, number=2, count=8)
    assert episode_line(stitching, 141.2) == (
        "episode ep02: stitching out/ep02.mp4 (2 of 8, 41 s so far, encoding the episode's "
        "sound: 31.5 of 62.0 s)")


def test_long_messages_wrap_instead_of_being_cut() -> None:
    out = io.StringIO()
    console = Console(file=out, width=60, force_terminal=False)
    message = "failed: " + " ".join(f"word{i:02d}" for i in range(40)) + " THE-END"
    with LiveProgress(console, "USD") as live:
        live.event(ShotEvent(episode="e", shot="a", state="failed", elapsed=1.0,
                             spent_so_far=0.0, message=message))
    text = out.getvalue()
    assert "THE-END" in text and "…" not in text
    assert all(f"word{i:02d}" in text for i in range(40))


def test_a_task_s_progress_shows_beside_its_state() -> None:
    """A provider that says how far a task is (ComfyUI's /ws): ``running 45%``, and the
    step in words; the next state without a fraction drops it."""
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)
    with LiveProgress(console, "USD") as live:
        live.event(ShotEvent("e", "a", "running", 1.0, 0.0, "node 3 (KSampler): step 9 of 20",
                             progress=0.45))
        shown = live.render()
        live.event(ShotEvent("e", "b", "running", 1.0, 0.0, "RUNNING"))
    first = Console(file=io.StringIO(), width=100, record=True)
    first.print(shown)
    text = first.export_text()
    assert "running 45%" in text and "step 9 of 20" in text
    final = out.getvalue()
    assert "running 45%" in final and final.count("%") == 1


def test_stitching_is_announced_before_it_runs(tmp_path: Path, make_media: MakeMedia,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    series = write_series(tmp_path / "s", make_media, ONE, head=HEAD)
    heard: list[str] = []
    events: list[str] = []
    compiled = compile_source(load_source(series))
    pipeline.render_series(compiled, RenderFlags(draft=True, yes=True),
                           Callbacks(on_event=lambda e: events.append(e.state),
                                     on_episode=lambda e: heard.append(e.state)))
    assert heard[0] == "stitching" and heard[-1] == "stitched"  # its runs' reports between
    assert set(heard[1:-1]) <= {"stitching"}
    assert "downloading" not in events and events[-1] == "done"


def test_a_failed_render_leaves_no_empty_output_folder(tmp_path: Path, make_media: MakeMedia,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    series = write_series(tmp_path / "s", make_media, ONE, head=HEAD)

    def broken(*args: object, **kwargs: object) -> object:
        raise StoryboardError("the run failed")

    monkeypatch.setattr(rendering, "_run", broken)
    out = tmp_path / "deep" / "er" / "out"
    result = CliRunner().invoke(cli, ["render", str(series), "--draft", "-o", str(out)])
    assert result.exit_code == 1 and "the run failed" in result.output
    assert not (tmp_path / "deep").exists()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_killed_stitch_is_cleaned_up_by_the_next(tmp_path: Path, make_media: MakeMedia) -> None:
    dead, alive = _dead_pid(), os.getpid()
    stale = [tmp_path / f".stitch-p{dead}-abcd1234", tmp_path / ".stitch-old12345"]
    for folder in stale:
        (folder / "piece00000.mp4").parent.mkdir()
        (folder / "piece00000.mp4").write_bytes(b"x")
    stale_file = tmp_path / f".ep01.p{dead}.k2j4x9_q.mp4"
    running = tmp_path / f".ep02.p{alive}.abcdefgh.mp4"  # a live process's: kept
    mine = tmp_path / ".my-notes.txt"  # not ours: kept
    for path in (stale_file, running, mine):
        path.write_bytes(b"x")
    clip = make_media("video", tmp_path / "clip.mp4", width=160, height=120, seconds=1.0)
    stitch([Clip(clip)], tmp_path / "ep01.mp4", StitchOptions(preset="ultrafast", loudness=None))
    assert not any(p.exists() for p in (*stale, stale_file))
    assert running.exists() and mine.exists()
    assert clean_stale_temporaries(tmp_path) == []


def test_a_pipe_hears_of_finished_shots_while_the_run_goes_on() -> None:
    """Not a terminal (``render > log 2>&1``): the first finished shot and every failure print a
    line at once, the rest at most one line per interval; the table comes at the end."""
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    with LiveProgress(console, "USD", every=3600) as live:
        for shot in ("a", "b", "c"):
            live.event(ShotEvent("e", shot, "queued", 0.0, 0.0))
        live.event(ShotEvent("e", "a", "done", 1.0, 0.5))
        assert out.getvalue().splitlines() == [
            "progress: 1 of 3 shot(s) settled (1 done); spent 0.50 USD; last: e/a done"]
        live.event(ShotEvent("e", "b", "cached", 1.0, 0.5))
        assert len(out.getvalue().splitlines()) == 1  # within the interval: no line
        live.event(ShotEvent("e", "c", "failed", 2.0, 0.5, "content policy"))
        assert out.getvalue().splitlines()[-1] == (
            "progress: 3 of 3 shot(s) settled (1 cached, 1 done, 1 failed); spent 0.50 USD; "
            "last: e/c failed - content policy")


def test_a_render_into_a_log_file_says_how_far_it_is(tmp_path: Path,
                                                    make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, ONE, head=HEAD)
    log = tmp_path / "log"
    with log.open("wb") as sink:
        done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series),
                               "--draft"], stdout=sink, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=300, check=False)
    text = log.read_text("utf-8")
    assert done.returncode == 0, text
    assert "progress: 1 of 1 shot(s) settled (1 done); spent 0.00 USD; last: one/a done" in text


def test_render_takes_q_for_quiet(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, ONE, head=HEAD)
    result = CliRunner().invoke(cli, ["render", str(series), "--draft", "-q"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
