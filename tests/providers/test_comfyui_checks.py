"""A workflow's mistakes are located errors before any job is sent: a misspelt placeholder, a node
the server lacks, a shot needing an input the workflow has no placeholder for."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import storyboard
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.language.hashing import take_of
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.providers.comfyui import workflow as wf
from storyboard.providers.comfyui.provider import ComfyUIProvider, prompt_id
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.targets.video.models import model_of
from tests.fixtures.comfyui import WORKFLOWS, series_on

PHANTOM = "wan-phantom-references.json"


@pytest.fixture
def gpu() -> Iterator[ComfyUIServer]:
    with ComfyUIServer(ComfyConfig(job_time=0.05, plain=True)) as server:
        yield server


def nothing_sent(server: ComfyUIServer) -> None:
    stats = server.stats()
    assert stats["prompts"] == {} and stats["uploads"] == 0


def problems(series: Path) -> list[str]:
    with pytest.raises(ProblemsFound) as raised:
        storyboard.render(series, out=series / "out")
    return [d.format() for d in raised.value.diagnostics]


def test_a_misspelt_placeholder_is_located_in_the_workflow(tmp_path: Path,
                                                           gpu: ComfyUIServer) -> None:
    series = series_on(tmp_path, [gpu], PHANTOM)
    path = series / "workflows" / PHANTOM
    path.write_text(path.read_text().replace('"{{prompt}}"', '"{{promt}}"'))
    found = problems(series)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if "{{promt}}" in text)
    assert len(found) == 1
    assert f"{PHANTOM}:{line}:" in found[0]
    assert "node 4 (CLIPTextEncode) input 'text': unknown placeholder {{promt}}" in found[0]
    assert "did you mean {{prompt}}?" in found[0]
    nothing_sent(gpu)


def test_a_node_the_server_lacks_is_named(tmp_path: Path) -> None:
    config = ComfyConfig(job_time=0.05, plain=True, missing_nodes=("WanPhantomSubjectToVideo",))
    with ComfyUIServer(config) as gpu:
        series = series_on(tmp_path, [gpu], PHANTOM)
        found = problems(series)
        assert len(found) == 1
        assert (f"node 18: 'WanPhantomSubjectToVideo' is not a node this ComfyUI has "
                f"({gpu.url}: GET /object_info)") in found[0]
        assert "custom node" not in found[0]  # a core node this server lacks
        assert found[0].startswith(str(series / "workflows" / PHANTOM) + ":")
        nothing_sent(gpu)


def test_a_placeholder_on_an_input_the_node_lacks(tmp_path: Path, gpu: ComfyUIServer) -> None:
    series = series_on(tmp_path, [gpu], PHANTOM)
    path = series / "workflows" / PHANTOM
    graph = json.loads(path.read_text())
    graph["20"]["inputs"]["noise_seed"] = graph["20"]["inputs"].pop("seed")
    path.write_text(json.dumps(graph, indent=2))
    found = problems(series)
    assert any(f"node 20 (KSampler) input 'noise_seed': KSampler on {gpu.url} has no "
               "input 'noise_seed'" in f for f in found)
    nothing_sent(gpu)


def test_a_shot_needing_an_input_the_workflow_lacks(tmp_path: Path, gpu: ComfyUIServer) -> None:
    """VACE takes one reference image: ballad has two, a reference video and a voice."""
    series = series_on(tmp_path, [gpu], "wan-vace-references.json")
    found = problems(series)
    ballad = [f for f in found if "shot ep01/ballad" in f]
    assert ballad and all(f.startswith(str(series / "episodes" / "01-first-meeting.yaml") + ":")
                          for f in ballad)
    said = "\n".join(ballad)
    for name in ("{{image2}}", "{{video1}}", "{{audio1}}"):
        assert f"the workflow has no {name} placeholder" in said
    assert any("shot ep01/reply" in f and "{{first_frame}}" in f for f in found)
    nothing_sent(gpu)


def test_the_cli_prints_the_located_error_and_exits_non_zero(tmp_path: Path,
                                                             gpu: ComfyUIServer) -> None:
    series = series_on(tmp_path, [gpu], PHANTOM)
    path = series / "workflows" / PHANTOM
    path.write_text(path.read_text().replace('"{{seed}}"', '"seed {{seed}}"'))
    done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series)],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"},
                          timeout=120, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "a placeholder must be the whole value" in done.stdout + done.stderr
    nothing_sent(gpu)


def located_at(text: str, needle: str) -> tuple[int, int]:
    """The line and column (1-based) where ``needle`` begins in ``text``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def test_a_missing_workflow_file_and_an_unknown_key(tmp_path: Path, gpu: ComfyUIServer) -> None:
    series = series_on(tmp_path, [gpu], "nowhere.json",
                       workflows={"wan2.7-r2v": "workflows/gone.json"})
    text = (series / "storyboard.yaml").read_text()
    with pytest.raises(ProblemsFound) as raised:
        storyboard.render(series)
    checked = [d.format() for d in storyboard.check(series) if d.severity == "error"]
    for found in ([d.format() for d in raised.value.diagnostics], checked):
        assert len(found) == 2, found
        for entry, needle in [("workflows/nowhere.json", "workflows/nowhere.json"),
                              ("workflows/gone.json", "workflows/gone.json")]:
            line, col = located_at(text, needle)
            said = next(f for f in found if entry in f)
            assert f"storyboard.yaml:{line}:{col}" in said
            assert "is not a file in the series folder" in said
    done = subprocess.run([sys.executable, "-m", "storyboard", "check", str(series)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "provider-workflow" in subprocess.run(
        [sys.executable, "-m", "storyboard", "check", str(series), "--json"],
        capture_output=True, text=True, timeout=120, check=False).stdout
    doc = yaml.safe_load((series / "storyboard.yaml").read_text())
    doc["provider"]["instance"] = "http://127.0.0.1:1"
    (series / "storyboard.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ProblemsFound) as raised:
        storyboard.compile(series)
    assert "instance" in raised.value.format()
    nothing_sent(gpu)


def test_ui_format_and_placeholders_in_prose_are_refused(tmp_path: Path) -> None:
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(ProblemsFound, match="1 problem"):
        wf.load_workflow(ui)
    broken = tmp_path / "broken.json"
    broken.write_text('{"1": {"class_type": "X", "inputs": {}},\n  oops}')
    with pytest.raises(ProblemsFound) as raised:
        wf.load_workflow(broken)
    assert f"{broken}:2:" in raised.value.format()


def test_values_are_typed_and_media_in_label_order(tmp_path: Path, gpu: ComfyUIServer) -> None:
    series = series_on(tmp_path, [gpu], PHANTOM)
    manifest = storyboard.compile(series)
    ballad = manifest.episodes[0].shots[0]
    values = wf.shot_values(ballad, 16)
    assert values.scalars["seed"] == 1234 and isinstance(values.scalars["frames"], int)
    assert values.scalars["frames"] == 10 * 16 + 1
    assert wf.wan_frames(5, 30) == 153 and wf.wan_frames(5, 24) == 121  # always 4k + 1
    assert (values.scalars["width"], values.scalars["height"]) == (1280, 720)
    assert sorted(values.media) == ["audio1", "image1", "image2", "video1"]
    assert values.media["video1"].name == "sam.mp4"
    assert values.media["audio1"].name == "mia.wav"
    workflow = wf.load_workflow(series / "workflows" / PHANTOM)
    from storyboard.emulator.comfyui.nodes import object_info
    graph = workflow.fill({**values.scalars, **{k: "x.png" for k in values.media}},
                          object_info())
    assert graph["20"]["inputs"]["seed"] == 1234
    assert "16" not in graph  # no first frame: its LoadImage is cut ...
    assert "images.image4" not in graph["17"]["inputs"]  # ... with the optional input it fed
    second = take_of(ballad, 2, 2**31 - 1)  # a take: its own seed, its own prompt id
    assert wf.shot_values(second, 16).scalars["seed"] == second.request.seed != 1234
    assert prompt_id("k", second) != prompt_id("k", ballad)
    assert "seed" in wf.needed(second)


@pytest.mark.parametrize(("model", "frames"), [
    ("wan2.7-r2v", 17), ("wan2.7-i2v", 17), ("wan3.0-video", 17),  # Wan's 4k + 1
    ("kling-v3-omni", 16), ("happyhorse-1.1-r2v", 16), ("doubao-seedance-2-0-260128", 16),
])
def test_frames_take_wans_rule_only_on_the_models_that_declare_it(model: str, frames: int) -> None:
    """A 2 s shot at 8 fps: 16 frames (2 s exactly), 17 on a Wan model (4k + 1)."""
    request = ShotRequest(model, "p", (), "720P", "16:9", 2, False, False)
    values = wf.shot_values(CompiledShot("s", "e", "x", request, "0" * 64), 8)
    assert values.scalars["frames"] == frames
    assert (model_of(model).frame_rule == "4k+1") == (frames == 17)  # type: ignore[union-attr]


@pytest.mark.parametrize(("block", "said"), [
    ({"workflow": "w.json", "region": "intl"}, "region is not a comfyui setting"),
    ({"workflow": "w.json", "fps": 0}, "provider.fps: expected a whole number 1..120"),
    ({"workflow": "w.json", "fps": True}, "provider.fps"),
    ({"workflow": "w.json", "instances": ["ftp://x"]}, "provider.instances: expected a list"),
    ({}, "comfyui needs a workflow"),
])
def test_settings_refused_plainly(tmp_path: Path, block: dict[str, object], said: str) -> None:
    with pytest.raises(StoryboardError, match=re.escape(said)):
        ComfySettings.from_mapping({"name": "comfyui", **block}, tmp_path)


def test_settings_defaults(tmp_path: Path) -> None:
    (tmp_path / "w.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    settings = ComfySettings.from_mapping({"name": "comfyui", "workflow": "w.json",
                                           "workflows": {"ep01/a": "b.json"}}, tmp_path)
    assert settings.instances == ("http://127.0.0.1:8188",) and settings.fps == 16
    assert settings.workflows == {"ep01/a": tmp_path / "b.json"}
    provider = ComfyUIProvider(settings, tmp_path)
    assert provider.traits.paid is False and provider.traits.writes_lock
    assert not any(provider.prices.per_second.values())


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.json")))
def test_every_example_workflow_fits_the_core_nodes(name: str) -> None:
    """Each example loads, names only core nodes and inputs, and once filled (media cut where a
    shot has none) is a graph ComfyUI's validation accepts."""
    from storyboard.emulator.comfyui.nodes import object_info, validate
    workflow = wf.load_workflow(WORKFLOWS / name)
    info = object_info()
    wf.check_nodes(workflow, info, "the emulator")
    scalars = {"prompt": "p", "negative_prompt": "", "seed": 1, "width": 832, "height": 480,
               "frames": 81, "fps": 16, "duration": 5}
    media = {slot.name: f"{slot.name}.png" for slot in workflow.slots if slot.name not in scalars}
    assert validate(workflow.fill({**scalars, **media}, info), set(info), set(media.values())) \
        is None
    assert {"prompt", "seed", "width", "height", "frames"} <= workflow.names


def test_storyboard_config_shows_one_job_per_instance(tmp_path: Path,
                                                      gpu: ComfyUIServer) -> None:
    from storyboard.run.config import effective
    series = series_on(tmp_path, [gpu, gpu], PHANTOM)
    rows = {row.name: row for row in effective(storyboard.compile(series))}
    assert (rows["provider"].value, rows["concurrency"].value) == ("comfyui", "2")


def test_voices_come_before_audio_items(tmp_path: Path) -> None:
    def ref(name: str) -> MediaRef:
        return MediaRef(path=tmp_path / name)
    media = (MediaItem("reference_audio", ref("bed.wav"), "Audio 1"),
             MediaItem("reference_image", ref("mia.png"), "Image 1", "mia", voice=ref("mia.wav")),
             MediaItem("reference_video", ref("sam.mp4"), "Video 1", "sam"),
             MediaItem("last_frame", ref("end.png")))
    request = ShotRequest("wan2.7-r2v", "p", media, "720P", "9:16", 5, False, False)
    named = {name: r.path.name for name, r in wf.media_of(
        CompiledShot("s", "e", "x", request, "0" * 64), None) if r.path is not None}
    assert named == {"image1": "mia.png", "video1": "sam.mp4", "last_frame": "end.png",
                     "audio1": "mia.wav", "audio2": "bed.wav"}
    assert wf.shot_values(CompiledShot("s", "e", "x", request, "0" * 64), 16).scalars[
        "width"] == 720


def test_check_and_plan_read_every_workflow_a_shot_would_use(tmp_path: Path) -> None:
    """No server is asked (none listens at the instance): a ``{{promt}}`` typo and a shot its
    workflow cannot take are located errors at ``check`` and ``plan``, as at ``render``."""
    from click.testing import CliRunner

    from storyboard.cli import cli
    series = series_on(tmp_path, [], PHANTOM, instances=["http://127.0.0.1:9"])
    path = series / "workflows" / PHANTOM
    path.write_text(path.read_text().replace('"{{prompt}}"', '"{{promt}}"'))
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "{{promt}}" in text)
    for command in (["check", str(series)], ["check", str(series), "--provider", "comfyui"],
                    ["plan", str(series)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1, result.output
        assert f"{PHANTOM}:{line}:" in result.output and "unknown placeholder {{promt}}" in (
            result.output), result.output
        assert "did you mean {{prompt}}?" in result.output and "Traceback" not in result.output
    report = json.loads(CliRunner().invoke(cli, ["check", str(series), "--json"]).output)
    assert any("{{promt}}" in d["message"] and d["line"] == line for d in report)
    assert CliRunner().invoke(cli, ["check", str(series), "--provider", "local"]).exit_code == 0
    vace = series_on(tmp_path / "vace", [], "wan-vace-references.json",
                     instances=["http://127.0.0.1:9"])
    result = CliRunner().invoke(cli, ["check", str(vace)])
    assert result.exit_code == 1
    assert "01-first-meeting.yaml" in result.output and "shot ep01/ballad" in result.output
    assert "the workflow has no {{image2}} placeholder" in result.output
