"""The official ``dashscope`` SDK against the emulator: a reference client agrees with our server.

Needs the SDK (a test-only peer, never a core dependency); skipped when it is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer


@pytest.fixture
def sdk_emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    dashscope = pytest.importorskip("dashscope")  # here: collecting the suite does not import it
    with EmulatorServer(latency=0.2, plain_results=True, api_key="sk-sdk") as server:
        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
        # The SDK reads the variable at import time too: point the module attribute as well.
        monkeypatch.setattr(dashscope, "base_http_api_url", server.base_url)
        yield server


def test_async_call_wait_and_upload(sdk_emu: EmulatorServer, make_media: Callable[..., Path],
                                    tmp_path: Path) -> None:
    from dashscope import VideoSynthesis

    image = make_media("image", tmp_path / "hero.png", width=320, height=320)
    media: list[dict[str, Any]] = [{"type": "reference_image", "url": f"file://{image}"}]
    started = VideoSynthesis.async_call(model="wan2.7-r2v", prompt="Image 1 waves",
                                        media=media, resolution="720P", duration=2,
                                        prompt_extend=False, api_key="sk-sdk")
    assert started.status_code == 200, started
    assert started.output.task_status == "PENDING"
    done = VideoSynthesis.wait(started, api_key="sk-sdk")
    assert done.status_code == 200, done
    assert done.output.task_status == "SUCCEEDED"
    assert done.output.video_url.startswith(sdk_emu.origin)
    stats = sdk_emu.stats()
    assert stats["uploads"] == 1 and stats["submissions"]["total"] == 1
    assert stats["requests"]["policy"] == 1


def test_sdk_sees_errors(sdk_emu: EmulatorServer) -> None:
    from dashscope import VideoSynthesis

    refused = VideoSynthesis.async_call(model="wan2.7-r2v", prompt="x", api_key="sk-wrong",
                                        media=[{"type": "reference_image",
                                                "url": "https://example.com/a.png"}])
    assert (refused.status_code, refused.code) == (401, "InvalidApiKey")


def test_wan30_with_a_reference_audio(sdk_emu: EmulatorServer, make_media: Callable[..., Path],
                                      tmp_path: Path) -> None:
    """wan3.0-video through the SDK: its voice a ``reference_audio`` item, uploaded by the SDK
    under a policy for wan3.0-video; ``audio`` and ``ratio`` pass as parameters."""
    from dashscope import VideoSynthesis

    image = make_media("image", tmp_path / "mia.png", width=320, height=320)
    voice = make_media("voice", tmp_path / "mia.wav")
    media: list[dict[str, Any]] = [{"type": "reference_image", "url": f"file://{image}"},
                                   {"type": "reference_audio", "url": f"file://{voice}"}]
    started = VideoSynthesis.async_call(model="wan3.0-video", prompt="Image 1 sings Audio 1",
                                        media=media, resolution="480P", ratio="16:9",
                                        duration=2, audio=True, api_key="sk-sdk")
    assert started.status_code == 200, started
    done = VideoSynthesis.wait(started, api_key="sk-sdk")
    assert done.status_code == 200, done
    assert done.output.task_status == "SUCCEEDED"
    assert (done.usage.SR, done.usage.output_video_duration) == (480, 2)
    stats = sdk_emu.stats()
    assert stats["uploads"] == 2 and stats["requests"]["policy"] >= 1
    task = next(iter(sdk_emu.service.table.tasks.values()))
    assert task.submission.model == "wan3.0-video"
    assert task.body["parameters"]["audio"] is True
    assert [m["type"] for m in task.submission.media] == ["reference_image", "reference_audio"]
    assert all(m["url"].startswith("oss://") for m in task.submission.media)


@pytest.mark.parametrize(("model", "media_type", "extra"), [
    ("happyhorse-1.1-r2v", "reference_image", {"ratio": "21:9"}),
    ("MiniMax/MiniMax-H3", "image_url", {"resolution": "768P", "duration": 4}),
])
def test_the_models_of_issue_49_through_the_sdk(
        sdk_emu: EmulatorServer, make_media: Callable[..., Path], tmp_path: Path, model: str,
        media_type: str, extra: dict[str, Any]) -> None:
    """HappyHorse and MiniMax H3 on DashScope through the official SDK: uploaded under a policy
    for the model, their own media type names and parameters accepted, the task finished."""
    from dashscope import VideoSynthesis

    # a picture both take (HappyHorse: its short side at least 400 px)
    image = make_media("image", tmp_path / "mia.png", width=480, height=480)
    params: dict[str, Any] = {"resolution": "720P", "duration": 3, "watermark": False, **extra}
    started = VideoSynthesis.async_call(
        model=model, prompt="[Image 1] waves", api_key="sk-sdk",
        media=[{"type": media_type, "url": f"file://{image}"}], **params)
    assert started.status_code == 200, started
    done = VideoSynthesis.wait(started, api_key="sk-sdk")
    assert done.status_code == 200 and done.output.task_status == "SUCCEEDED", done
    task = next(iter(sdk_emu.service.table.tasks.values()))
    assert task.submission.model == model and sdk_emu.stats()["uploads"] == 1
    assert task.submission.media[0]["type"] == "reference_image"  # as the service reads it
