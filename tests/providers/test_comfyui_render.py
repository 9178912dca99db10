"""The example series rendered on emulated ComfyUI instances: dispatch, resume, restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import storyboard
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.run import read_status
from storyboard.run.setup import make_provider
from tests.fixtures.comfyui import prompts, series_on, wait_until
from tests.fixtures.patience import LOADED

PHANTOM = "wan-phantom-references.json"
SHOTS = 4  # ballad, reply, order, serve
EP02 = 2  # order, serve: what the slower tests render (results drawn plain, once per size)


def test_the_example_series_renders_once_over_two_instances(tmp_path: Path) -> None:
    """Both episodes: references, a voice, and a shot whose first frame is the one before's
    last (uploaded as ``{{first_frame}}``); results drawn from the graph's values."""
    with ComfyUIServer(ComfyConfig(job_time=0.1)) as a, \
            ComfyUIServer(ComfyConfig(job_time=0.1)) as b:
        series = series_on(tmp_path, [a, b], PHANTOM, short=True)
        the_plan = storyboard.plan(series)
        assert the_plan.total_cost == 0 and len(the_plan.to_render) == SHOTS
        assert the_plan.price_model.startswith("free (your GPUs): 2 instances")
        # free: no --yes needed
        report = storyboard.render(series, out=tmp_path / "out")
        assert report.ok, report
        sent = prompts(a, b)
        assert len(sent) == SHOTS and set(sent.values()) == {1}
        assert a.stats()["executed"] and b.stats()["executed"]
        assert [e.state for e in report.episodes] == ["stitched", "stitched"]
        assert (tmp_path / "out" / "ep01.mp4").is_file()
        # seeds reached the graph typed: the series sets seed 1234
        assert set(a.stats()["seeds"].values()) | set(b.stats()["seeds"].values()) == {1234}
        # a second render sends nothing
        again = storyboard.render(series, out=tmp_path / "out")
        assert again.ok and prompts(a, b) == sent
        # and a plan now knows their throughput
        provider = make_provider(storyboard.compile(series))
        assert "of wall time (their recent throughput)" in provider.plan_note(60)  # type: ignore[attr-defined]


def render_process(series: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "storyboard", "render", str(series),
                             "ep02", "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "CI": "1"})


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_and_resume_send_nothing_again(tmp_path: Path) -> None:
    with ComfyUIServer(ComfyConfig(job_time=1.0, plain=True)) as a, \
            ComfyUIServer(ComfyConfig(job_time=1.0, plain=True)) as b:
        series = series_on(tmp_path, [a, b], PHANTOM, short=True)
        child = render_process(series, tmp_path / "out")
        wait_until(lambda: len(prompts(a, b)) >= 1)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=LOADED)
        assert child.returncode == -signal.SIGKILL
        before = prompts(a, b)
        resumed = render_process(series, tmp_path / "out")
        out, err = resumed.communicate(timeout=LOADED)
        assert resumed.returncode == 0, out + err
        after = prompts(a, b)
        assert set(after.values()) == {1} and len(after) == EP02  # each shot sent once
        assert all(after[p] == 1 for p in before)  # the killed run's jobs were never resent
        assert (tmp_path / "out" / "ep02.mp4").is_file()


def test_a_restarted_instance_loses_its_job_and_it_is_requeued_once(tmp_path: Path) -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.8, plain=True)) as a, \
            ComfyUIServer(ComfyConfig(job_time=0.8, plain=True)) as b:
        series = series_on(tmp_path, [a, b], PHANTOM, short=True)
        result: dict[str, object] = {}
        worker = threading.Thread(target=lambda: result.update(
            report=storyboard.render(series, episode="ep02", out=tmp_path / "out")))
        worker.start()
        wait_until(lambda: a.stats()["running"] is not None)
        dropped = a.restart()
        worker.join(120)
        report = result["report"]
        assert getattr(report, "ok", False), report
        assert len(dropped) == 1
        lost = dropped[0]
        sent = prompts(a, b)
        assert sent[lost] == 2  # the lost job, re-queued exactly once
        assert sorted(sent.values()) == [1] * (EP02 - 1) + [2]
        job = json.loads((series / ".storyboard" / "comfyui" / "jobs" / f"{lost}.json")
                         .read_text())
        assert job["requeued"] == 1 and "re-queued" in job["notes"][0]
        assert all(row.state == "done" for row in read_status(series))


def test_a_job_lost_twice_fails_and_says_so(tmp_path: Path) -> None:
    with ComfyUIServer(ComfyConfig(job_time=1.5, plain=True)) as a:
        series = series_on(tmp_path, [a], PHANTOM, short=True)
        result: dict[str, object] = {}
        worker = threading.Thread(target=lambda: result.update(
            report=storyboard.render(series, episode="ep02", out=tmp_path / "out")))
        worker.start()
        wait_until(lambda: a.stats()["running"] is not None)
        first = a.restart()[0]
        wait_until(lambda: a.stats()["prompts"].get(first) == 2)
        assert first in a.restart()
        worker.join(120)
        report = result["report"]
        run = getattr(report, "run", None)
        failed = [r for r in getattr(run, "shots", []) if r.state == "failed"]
        assert len(failed) == 1 and "lost this job again" in failed[0].message
        assert a.stats()["prompts"][first] == 2  # never a third time


def silent_workflow(series: Path, output: str) -> str:
    """The references workflow as open Wan weights run it: a video with no sound (its voice is
    loaded but linked to nothing), saved by ``SaveVideo``, by Video Helper Suite's node, or as
    image frames (``SaveImage``)."""
    graph = json.loads((series / "workflows" / PHANTOM).read_text("utf-8"))
    del graph["22"]["inputs"]["audio"]
    if output == "VHS_VideoCombine":
        del graph["22"], graph["23"]
        graph["23"] = {"class_type": "VHS_VideoCombine", "inputs": {
            "images": ["21", 0], "frame_rate": "{{fps}}", "loop_count": 0,
            "filename_prefix": "video/storyboard", "format": "video/h264-mp4",
            "pingpong": False, "save_output": True}}
    if output == "SaveImage":  # the frames alone: joined into the shot's video when downloaded
        del graph["22"], graph["23"]
        graph["23"] = {"class_type": "SaveImage", "inputs": {
            "images": ["21", 0], "filename_prefix": "storyboard"}}
    name = f"silent-{output}.json"
    (series / "workflows" / name).write_text(json.dumps(graph), "utf-8")
    return name


@pytest.mark.parametrize("output", ["SaveVideo", "VHS_VideoCombine", "SaveImage"])
def test_your_gpus_silent_videos_are_accepted_and_the_episode_gets_silence(
        tmp_path: Path, output: str) -> None:
    """Issue 45.2: Wan 2.1/2.2 make no sound; the shot is kept as silent, never refused."""
    from storyboard.media import ffmpeg
    with ComfyUIServer(ComfyConfig(job_time=0.1, plain=True)) as a:
        series = series_on(tmp_path, [a], PHANTOM, short=True)
        name = silent_workflow(series, output)
        text = (series / "storyboard.yaml").read_text("utf-8")
        (series / "storyboard.yaml").write_text(text.replace(PHANTOM, name), "utf-8")
        report = storyboard.render(series, episode="ep02", out=tmp_path / "out")
        assert report.ok, report
        assert len(prompts(a)) == EP02 and set(prompts(a).values()) == {1}
        videos = list((series / ".storyboard" / "cache").rglob("*.mp4"))
        assert videos and all(ffmpeg.probe(v).audio is None for v in videos)
        episode = ffmpeg.probe(tmp_path / "out" / "ep02.mp4")
        assert episode.audio is not None and episode.video is not None
