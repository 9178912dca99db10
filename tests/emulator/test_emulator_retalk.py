"""videoretalk on the emulator over loopback (issue 59.3): its own path and body, its usage, one
task at a time per account (the others queue, PENDING), and its faults (refused, lost, slow)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storyboard.emulator import EmulatorServer
from tests.fixtures import web
from tests.fixtures.emulator import wait_for

RETALK = "/services/aigc/image2video/video-synthesis"
SYNTHESIS = "/services/aigc/video-generation/video-synthesis"
HEADERS = {"Authorization": "Bearer sk-test", "X-DashScope-Async": "enable"}
CDN = "https://example.com"
BODY: dict[str, Any] = {"model": "videoretalk",
                        "input": {"video_url": f"{CDN}/take.mp4", "audio_url": f"{CDN}/line.wav"},
                        "parameters": {"video_extension": False}}


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.6, plain_results=True, retry_after=0.1) as emu:
        yield emu


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as client:
        yield client


def submitted(http: httpx.Client, body: dict[str, Any] | None = None) -> str:
    answer = http.post(RETALK, json=body or BODY)
    assert answer.status_code == 200, answer.text
    task: str = answer.json()["output"]["task_id"]
    return task


def test_a_pass_is_served_on_its_own_path_and_billed_by_its_output(http: httpx.Client) -> None:
    done = wait_for(http, submitted(http))
    assert done["output"]["task_status"] == "SUCCEEDED"
    # an unfetched video counts as 5 s: the pass keeps the video's length, bills its output only
    assert done["usage"] == {"video_duration": 5, "video_ratio": "standard"}


@pytest.mark.parametrize(("path", "body", "said"), [
    (SYNTHESIS, BODY, "Model not exist."),
    (RETALK, {**BODY, "model": "wan2.7-r2v"}, "Model not exist."),
    (RETALK, {**BODY, "input": {"video_url": f"{CDN}/take.mp4"}}, "input.audio_url is required"),
    (RETALK, {**BODY, "input": {"audio_url": f"{CDN}/line.wav"}}, "input.video_url is required"),
    (RETALK, {**BODY, "input": {**BODY["input"], "video_url": "file:///x.mp4"}}, "http(s)"),
])
def test_a_pass_sent_wrong_is_refused_unpaid(http: httpx.Client, server: EmulatorServer,
                                             path: str, body: dict[str, Any], said: str) -> None:
    answer = http.post(path, json=body)
    assert answer.status_code == 400 and said in answer.json()["message"], answer.text
    assert server.stats()["submissions"]["total"] == 0


def test_passes_run_one_at_a_time_and_the_others_queue(http: httpx.Client,
                                                       server: EmulatorServer) -> None:
    first, second = submitted(http), submitted(http)
    wait_for(http, first, ("RUNNING",))
    assert http.get(f"/tasks/{second}").json()["output"]["task_status"] == "PENDING"
    assert wait_for(http, first)["output"]["task_status"] == "SUCCEEDED"
    assert wait_for(http, second)["output"]["task_status"] == "SUCCEEDED"
    assert server.stats()["queued"] == {"peak_running": {"videoretalk": 1}, "waited": 1}


def test_a_refused_pass_is_not_a_task(http: httpx.Client, server: EmulatorServer) -> None:
    server.script("retalk:refused=video")
    answer = http.post(RETALK, json=BODY)
    assert answer.status_code == 400 and answer.json()["code"] == "DataInspectionFailed"
    assert server.stats()["submissions"]["total"] == 0
    submitted(http)  # the next one is taken


def test_a_lost_answer_leaves_a_task_the_list_shows(http: httpx.Client,
                                                    server: EmulatorServer) -> None:
    server.script("retalk:lost")
    with pytest.raises(httpx.HTTPError):
        http.post(RETALK, json=BODY)
    assert server.stats()["submissions"]["total"] == 1
    listed = http.get("/tasks", params={"model_name": "videoretalk"}).json()
    assert listed["total"] == 1


def test_a_slow_answer_still_makes_one_task(http: httpx.Client, server: EmulatorServer) -> None:
    server.script("retalk:slow=0.3")
    start = time.monotonic()
    task = submitted(http)
    assert time.monotonic() - start >= 0.3
    assert wait_for(http, task)["output"]["task_status"] == "SUCCEEDED"
    assert server.stats()["requests"]["submit"] == 0  # counted as its own endpoint
    assert server.stats()["requests"]["retalk"] == 1


def test_the_pass_body_is_videoretalks_own() -> None:
    """What the DashScope provider sends for a lip-sync pass: the two files as fields of
    ``input``, no prompt, none of a video model's parameters, on its own path."""
    from pathlib import Path

    from storyboard.dialects import native
    from storyboard.language.request import MediaItem, MediaRef, ShotRequest
    take, track = MediaRef(path=Path("/s/take.mp4")), MediaRef(path=Path("/s/line.wav"))
    request = ShotRequest("videoretalk", "", (MediaItem("source_video", take),
                                              MediaItem("driving_audio", track)),
                          "720P", "16:9", 3, None, False)
    body = native.body(request, lambda ref: f"oss://bucket/{ref.path.name if ref.path else ''}")
    assert body == {"model": "videoretalk", "parameters": {"video_extension": False},
                    "input": {"video_url": "oss://bucket/take.mp4",
                              "audio_url": "oss://bucket/line.wav"}}
    assert native.needs_oss_resolve(body)
    assert native.submit_path("videoretalk") == RETALK
    assert native.submit_path("wan2.7-r2v") == SYNTHESIS
