"""Ark's own runtime SDK (``volcengine-ark-runtime``) drives the emulator's Seedance routes.

The official client, pointed at the loopback base URL, creates a task with content items, polls it
to ``succeeded`` and reads its video URL and billed tokens; a refused prompt reaches it as Ark's own
error code. Nothing is mocked: the SDK's own HTTP stack talks to the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.media import samples
from storyboard.targets.video.models import SEEDANCE_20_ARK, tokens_per_second
from tests.fixtures import web

if TYPE_CHECKING:  # the SDK, imported where it runs (collecting the suite does not import it)
    from volcenginesdkarkruntime import Ark

KEY = "ark-sdk-key-3307"
CONTENT: list[Any] = [
    {"type": "text", "text": "Image 1 waves; Audio 1 is her voice"},
    {"type": "image_url", "image_url": {"url": "https://cdn.example.com/mia.png"},
     "role": "reference_image"},
    {"type": "audio_url", "audio_url": {"url": "https://cdn.example.com/mia.wav"},
     "role": "reference_audio"}]


def quick_render(body: dict[str, Any], out: Path, **_: object) -> None:
    samples.video(out, 320, 180, seconds=float(body["parameters"]["duration"]), fps=10)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.1, api_key=KEY, render=quick_render, seed=11) as server:
        yield server


def client(emu: EmulatorServer) -> Ark:
    from volcenginesdkarkruntime import Ark

    return Ark(base_url=emu.gateway_url("ark"), api_key=KEY, max_retries=0)


def test_the_sdk_creates_polls_and_downloads_a_seedance_task(emu: EmulatorServer) -> None:
    ark = client(emu)
    made = ark.content_generation.tasks.create(
        model=SEEDANCE_20_ARK.id, content=CONTENT, resolution="720p", ratio="16:9", duration=4,
        watermark=False, generate_audio=True, seed=-1)
    deadline = time.monotonic() + 30
    while (task := ark.content_generation.tasks.get(task_id=made.id)).status not in (
            "succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (task.status, task.model) == ("succeeded", SEEDANCE_20_ARK.id)
    assert task.usage.completion_tokens == tokens_per_second("720P") * 4
    video = web.get(task.content.video_url)
    assert video.status_code == 200 and len(video.content) > 1000
    sent = emu.service.table.get(made.id)
    assert sent is not None and [m["type"] for m in sent.submission.media] == [
        "reference_image", "reference_audio"]


def test_the_sdk_sees_a_refused_prompt_in_arks_own_words(emu: EmulatorServer) -> None:
    from volcenginesdkarkruntime._exceptions import ArkBadRequestError

    emu.script("submit:moderation")
    with pytest.raises(ArkBadRequestError) as info:
        client(emu).content_generation.tasks.create(model=SEEDANCE_20_ARK.id, content=CONTENT,
                                                    duration=4)
    assert info.value.code == "InputTextSensitiveContentDetected"


def test_the_sdk_is_refused_a_resolution_seedance_does_not_render(emu: EmulatorServer) -> None:
    from volcenginesdkarkruntime._exceptions import ArkBadRequestError

    with pytest.raises(ArkBadRequestError, match=r"(?i)resolution must be one of 480p, 720p"):
        client(emu).content_generation.tasks.create(model=SEEDANCE_20_ARK.id, content=CONTENT,
                                                    duration=4, resolution="1080p")


def test_the_sdk_lists_tasks_by_model_page_status_and_id(emu: EmulatorServer) -> None:
    """``tasks.list``: Ark's filters and pages, the items task objects without their prompts
    (what a lost submit is matched by: model, times, duration, resolution, ratio, seed)."""
    ark = client(emu)
    made = [ark.content_generation.tasks.create(
        model=SEEDANCE_20_ARK.id, content=CONTENT, resolution="480p", ratio="9:16",
        duration=5, seed=900 + n).id for n in range(3)]
    everything = ark.content_generation.tasks.list(model=SEEDANCE_20_ARK.id, page_size=100)
    assert everything.total == len(everything.items) >= 3
    assert {t.id for t in everything.items} >= set(made)
    first = ark.content_generation.tasks.list(model=SEEDANCE_20_ARK.id, page_num=1, page_size=2)
    second = ark.content_generation.tasks.list(model=SEEDANCE_20_ARK.id, page_num=2,
                                               page_size=2)
    assert len(first.items) == 2 and first.total == everything.total
    assert not {t.id for t in first.items} & {t.id for t in second.items}
    assert [t.id for t in first.items] == [t.id for t in everything.items[:2]]  # newest first
    [one] = ark.content_generation.tasks.list(task_ids=[made[1]]).items
    assert (one.model, one.duration, one.resolution, one.ratio, one.seed) == (
        SEEDANCE_20_ARK.id, 5, "480p", "9:16", 901)
    assert one.created_at <= one.updated_at and "prompt" not in one.model_dump()
    assert ark.content_generation.tasks.list(model="doubao-seedance-9-9").total == 0
    deadline = time.monotonic() + 30
    while ark.content_generation.tasks.get(task_id=made[2]).status != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    succeeded = ark.content_generation.tasks.list(task_ids=made, status="succeeded").items
    assert made[2] in {t.id for t in succeeded}
