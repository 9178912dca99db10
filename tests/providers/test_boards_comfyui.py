"""A board made on your own GPUs: a ComfyUI image workflow with the video workflows' placeholders."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from storyboard.emulator.cast.standins import picture, png_size
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.errors import ProblemsFound
from storyboard.language.request import AssetRequest, CompiledShot, MediaRef, ShotRequest
from storyboard.providers.comfyui.check import offline_problems
from storyboard.providers.comfyui.provider import ComfyUIProvider
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.run import render
from storyboard.run.trip.model import RunOptions, RunResult, Wiring
from storyboard.targets.cast.assets import COMFYUI_IMAGE, SEEDREAM_45_ARK

# A text-and-references image workflow as exported with "Save (API)": the references loaded
# (``{{image1}}``, ``{{image2}}``), the prompt, the size and the seed filled, one picture saved.
BOARD_FLOW = {
    "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "qwen_image_edit.safetensors",
                                                 "weight_dtype": "default"}},
    "2": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_2.5_vl.safetensors",
                                                 "type": "qwen_image", "device": "default"}},
    "3": {"class_type": "VAELoader", "inputs": {"vae_name": "qwen_image_vae.safetensors"}},
    "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}", "clip": ["2", 0]}},
    "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 0]}},
    "10": {"class_type": "LoadImage", "inputs": {"image": "{{image1}}"}},
    "11": {"class_type": "LoadImage", "inputs": {"image": "{{image2}}"}},
    "12": {"class_type": "EmptyLatentImage", "inputs": {"width": "{{width}}",
                                                        "height": "{{height}}", "batch_size": 1}},
    "20": {"class_type": "KSampler", "inputs": {
        "model": ["1", 0], "seed": "{{seed}}", "steps": 20, "cfg": 4.0, "sampler_name": "euler",
        "scheduler": "simple", "positive": ["4", 0], "negative": ["5", 0],
        "latent_image": ["12", 0], "denoise": 1.0}},
    "21": {"class_type": "VAEDecode", "inputs": {"samples": ["20", 0], "vae": ["3", 0]}},
    "22": {"class_type": "SaveImage", "inputs": {"images": ["21", 0],
                                                 "filename_prefix": "board"}},
}


def board(root: Path, model: str = COMFYUI_IMAGE.id) -> CompiledShot:
    refs = []
    for name in ("mia", "tom"):
        path = root / f"{name}.png"
        path.write_bytes(picture(320, 180, name))
        refs.append(MediaRef(path=path))
    asset = AssetRequest("image", model, "image 1 hands image 2 a cup. Close-up.",
                         "ep01/counter", refs=tuple(refs), size="1280*720", subject="board",
                         seed=11)
    digest = hashlib.sha256(repr(asset).encode()).hexdigest() + ".png"
    request = ShotRequest(model=model, prompt=asset.prompt, media=(), resolution="",
                          ratio="16:9", duration=0, prompt_extend=None, watermark=False, seed=11)
    return CompiledShot("cafe", "boards", "ep01/counter", request, digest, asset=asset)


def settings(root: Path, url: str) -> ComfySettings:
    (root / "board.json").write_text(json.dumps(BOARD_FLOW))
    return ComfySettings.from_mapping({"instances": [url],
                                       "workflows": {COMFYUI_IMAGE.id: "board.json"}}, root)


def test_a_board_is_made_by_an_image_workflow_and_cached(tmp_path: Path) -> None:
    shot = board(tmp_path)
    with ComfyUIServer(ComfyConfig(job_time=0.1, plain=True)) as server:
        async def go() -> RunResult:
            provider = ComfyUIProvider(settings(tmp_path, server.url), tmp_path)
            try:
                return await render([shot], provider, RunOptions(poll_schedule=(0.05,)),
                                    Wiring(series_dir=tmp_path))
            finally:
                await provider.aclose()
        result = asyncio.run(go())
        assert [s.state for s in result.shots] == ["done"], result.shots
        sent = list(server.stats()["prompts"])
    assert len(sent) == 1
    found = list((tmp_path / ".storyboard" / "cache").rglob(shot.hash))
    assert len(found) == 1
    size = png_size(found[0].read_bytes())
    assert size is not None and size[:2] == (1280, 720)  # the board's size, one picture


def test_an_image_workflow_is_checked_against_the_board_before_anything_is_sent(
        tmp_path: Path) -> None:
    flow = {k: v for k, v in BOARD_FLOW.items() if k != "11"}  # no {{image2}}
    (tmp_path / "board.json").write_text(json.dumps(flow))
    shot = board(tmp_path)
    problems = offline_problems({"workflows": {COMFYUI_IMAGE.id: "board.json"}}, tmp_path,
                                [shot])
    assert any("a reference image number 2" in d.message and "{{image2}}" in d.message
               for d in problems), problems


def test_comfyui_refuses_a_board_another_vendor_makes(tmp_path: Path) -> None:
    provider = ComfyUIProvider(settings(tmp_path, "http://127.0.0.1:9"), tmp_path)
    with pytest.raises(ProblemsFound) as found:
        provider.check_shots([board(tmp_path, SEEDREAM_45_ARK.id)])
    assert "make it with --provider ark first" in found.value.diagnostics[0].message
    assert provider.refused([board(tmp_path)]) == []
