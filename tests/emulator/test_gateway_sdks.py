"""The gateways' official client libraries against the emulator: submit a compiled body, poll,
download (issue 21). ``openai`` drives the OpenAI-style dialect, ``wavespeed`` the arrays
marketplace; freepik and roles have no SDK on PyPI, so ``test_gateway_fidelity`` speaks plain HTTP
to them as their seeds describe. Each library is a test-only peer, skipped when not installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.language.request import MediaItem, MediaRef, Mention, ShotRequest, write
from tests.fixtures import web

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # openai: Sora's sunset
KEY = "sdk-key-21"
CDN = "https://cdn.example.com/s"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, api_key=KEY, plain_results=True) as server:
        yield server


def compiled(name: str) -> dict[str, Any]:
    """A shot with a voiced second character, as ``name`` sends it."""
    tokens = (Mention("guitar", "image", 1), " rests; ", Mention("mia", "image", 2), " sings")
    media = (MediaItem("reference_image", MediaRef(url=f"{CDN}/guitar.png"), "Image 1", "guitar"),
             MediaItem("reference_image", MediaRef(url=f"{CDN}/mia.png"), "Image 2", "mia",
                       MediaRef(url=f"{CDN}/mia.wav")))
    request = ShotRequest("wan2.7-r2v", write(tokens), media, "720P", "16:9", 3, False, False,
                          tokens=tokens)
    return DIALECTS[name].body(request, lambda ref: str(ref.url))


def test_openai_sdk_default_multipart_is_told_to_send_json(emu: EmulatorServer) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key=KEY, base_url=emu.gateway_url("openai-video"))
    body = compiled("openai-video")
    with pytest.raises(openai.BadRequestError) as refused:
        client.videos.create(model=body["model"], prompt=body["prompt"],
                             extra_body={"media": body["media"]})
    assert "extra_headers" in str(refused.value) and "JSON" in str(refused.value)
    assert emu.stats()["submissions"]["total"] == 0


def test_openai_sdk_submits_polls_and_downloads(emu: EmulatorServer, tmp_path: Path) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key=KEY, base_url=emu.gateway_url("openai-video"))
    body = compiled("openai-video")
    typed = {"model", "prompt", "seconds", "size"}
    video = client.videos.create(
        **{k: body[k] for k in typed}, extra_body={k: v for k, v in body.items() if k not in typed},
        extra_headers={"Content-Type": "application/json"})
    assert (video.status, video.progress, video.model) == ("queued", 0, "wan2.7-r2v")
    assert video.created_at and getattr(video, "task_id", None) == video.id
    deadline = time.monotonic() + 30
    while video.status not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        video = client.videos.retrieve(video.id)
    assert (video.status, video.progress) == ("completed", 100)
    client.videos.download_content(video.id).write_to_file(tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes()[4:8] == b"ftyp"
    task = emu.service.table.get(video.id)
    assert task is not None and task.submission.prompt == body["prompt"]
    assert task.submission.duration == 3


def test_wavespeed_sdk_runs_an_arrays_body(emu: EmulatorServer, tmp_path: Path) -> None:
    wavespeed = pytest.importorskip("wavespeed")
    client = wavespeed.Client(api_key=KEY, base_url=emu.gateway_url("arrays"))
    model = DIALECTS["arrays"].protocol.submit_path.removeprefix("/api/v3/")
    body = compiled("arrays")
    output = client.run(model, body, timeout=30, poll_interval=0.1)
    url = output["outputs"][0]
    (tmp_path / "out.mp4").write_bytes(web.get(url, timeout=10).content)
    assert (tmp_path / "out.mp4").read_bytes()[4:8] == b"ftyp"
    task = next(t for t in emu.service.table.tasks.values()
                if t.submission.prompt == body["prompt"])
    # the voiced character is Image1, and the emulator gives it the one voice
    assert body["prompt"] == "Image2 rests; Image1 sings"
    assert task.submission.media[0] == {"type": "reference_image", "url": f"{CDN}/mia.png",
                                        "reference_voice": f"{CDN}/mia.wav"}


def test_wavespeed_sdk_sees_a_refused_body(emu: EmulatorServer) -> None:
    wavespeed = pytest.importorskip("wavespeed")
    client = wavespeed.Client(api_key=KEY, base_url=emu.gateway_url("arrays"))
    model = DIALECTS["arrays"].protocol.submit_path.removeprefix("/api/v3/")
    body = {**compiled("arrays"), "images": ["http://cdn.example.com/s/mia.png"]}
    with pytest.raises(RuntimeError, match=r"HTTP 400.*images\[0\] must be an https://"):
        client.run(model, body, timeout=30, poll_interval=0.1)
