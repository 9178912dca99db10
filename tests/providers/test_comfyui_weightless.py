"""The two workflows a real ComfyUI runs without any model file, through the ``comfyui`` provider
on the emulator: the emulator's node table is the real server's (docs/gpus.md says when and from
which commit it was recorded, and that these workflows ran there end to end)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import storyboard
from storyboard.emulator.comfyui.nodes import recorded
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.media import ffmpeg
from storyboard.providers.comfyui import workflow as wf
from tests.fixtures.comfyui import WEIGHTLESS, prompts, weightless_series


def test_both_weightless_workflows_render_to_the_shots_length(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """PNG frames, and a video from ``CreateVideo``: each 3 s shot at 8 fps is 24 frames on a
    model without Wan's 4k + 1 rule, so each take lasts 3.0 s, as on the real server."""
    with ComfyUIServer(ComfyConfig(job_time=0.05)) as gpu:
        series = weightless_series(tmp_path, [gpu.url], make_media)
        report = storyboard.render(series, out=tmp_path / "out")
        assert report.ok, report
        assert len(prompts(gpu)) == 2 and set(gpu.stats()["executed"].values()) == {1}
        takes = [shot.output for shot in report.run.shots]
        for take in takes:
            assert take is not None
            video = ffmpeg.probe(take)
            assert video.duration == 3.0 and video.video is not None
            assert (video.video.width, video.video.height, video.video.fps) == (1280, 720, 8.0)
        assert ffmpeg.probe(tmp_path / "out" / "ep01.mp4").duration == 6.0


def test_the_weightless_workflows_name_only_nodes_of_the_recorded_comfyui() -> None:
    about, nodes = recorded()
    assert about["version"] == "0.8.0" and len(about["commit"]) == 40
    assert about["classes"] == len(nodes) > 500
    for path in sorted(WEIGHTLESS.glob("*.json")):
        workflow = wf.load_workflow(path)
        classes = {node["class_type"] for node in json.loads(path.read_text()).values()}
        assert classes <= set(nodes), path.name
        assert {"prompt", "width", "height", "frames", "image1"} <= workflow.names
