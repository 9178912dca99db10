"""The DashScope provider against the emulator over loopback: the real client, a real server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.errors import (
    AuthError,
    ConnectFailed,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
)
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, Scene, ShotRequest
from storyboard.media import ffmpeg
from storyboard.providers.dashscope.provider import (
    BASE_URL_ENV,
    KEY_ENV,
    DashScopeProvider,
    DashScopeSettings,
    Timeouts,
)
from storyboard.targets import NATIVE_SIZES, TaskState, TaskStatus
from tests.fixtures.drawings import video_once

KEY = "sk-emulator-test-key"
T = TypeVar("T")
MakeMedia = Callable[..., Path]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def plain_render(body: dict[str, Any], out: Path, *, media: Mapping[str, Path] | None = None,
                 plain: bool = False) -> None:
    """A test-pattern clip of the asked size and length (keeps these tests off the animatic)."""
    params = body["parameters"]
    width, height = NATIVE_SIZES[(params["resolution"], params["ratio"])]
    video_once(out, width // 4 * 2, height // 4 * 2, seconds=float(params["duration"]))


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)


@pytest.fixture
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.3, api_key=KEY, render=plain_render) as server:
        yield server


def provider(emu: EmulatorServer) -> DashScopeProvider:
    # a loaded machine's emulator thread can take seconds to accept: a connect deadline with room
    settings = DashScopeSettings(base_url=emu.base_url, timeouts=Timeouts(connect=10, read=15))
    return DashScopeProvider(settings)


def shot(media: tuple[MediaItem, ...], prompt: str = "Image 1 waves at Video 1.",
         shot_id: str = "s01") -> CompiledShot:
    request = ShotRequest(model="wan2.7-r2v", prompt=prompt, media=media, resolution="720P",
                          ratio="16:9", duration=2, prompt_extend=False, watermark=False,
                          seed=7)
    return CompiledShot(series="cafe", episode="e1", id=shot_id, request=request, hash="h" * 64)


@pytest.fixture
def local_shot(tmp_path: Path, make_media: MakeMedia) -> tuple[CompiledShot, Path]:
    image = make_media("image", tmp_path / "anna.png")
    video = make_media("video", tmp_path / "ben.mp4", seconds=1.5)
    voice = make_media("voice", tmp_path / "ben.wav", seconds=1.5)
    frame = make_media("image", tmp_path / "frame.png", width=640, height=360, color="red")
    media = (MediaItem("reference_image", MediaRef(path=image), label="Image 1"),
             MediaItem("reference_video", MediaRef(path=video), label="Video 1",
                       voice=MediaRef(path=voice)),
             MediaItem("first_frame", None, from_shot="s00"))
    return shot(media), frame


def remote_shot(prompt: str = "Image 1 waves.") -> CompiledShot:
    # The emulator accepts any https URL without fetching it.
    return shot((MediaItem("reference_image", MediaRef(url="https://cdn.test/a.png")),), prompt)


async def until_finished(p: DashScopeProvider, task_id: str, limit: float = 60) -> TaskState:
    """The test's own little runner loop: the provider never polls."""
    deadline = time.monotonic() + limit
    while True:
        state = await p.query(task_id)
        if state.status.finished or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.1)


def test_round_trip_with_uploads(emu: EmulatorServer, local_shot: tuple[CompiledShot, Path],
                                 tmp_path: Path) -> None:
    compiled, frame = local_shot
    dest = tmp_path / "out.mp4"

    async def go() -> TaskState:
        async with provider(emu) as p:
            task_id = await p.submit(compiled, frame)
            state = await until_finished(p, task_id)
            await p.download(state, dest)
            return state

    state = run(go())
    assert state.status is TaskStatus.SUCCEEDED, state
    assert state.usage is not None and state.usage.output_seconds == pytest.approx(2, abs=0.5)
    info = ffmpeg.probe(dest)
    assert info.duration == pytest.approx(2, abs=0.3)
    stats = emu.stats()
    assert stats["uploads"] == 4 and stats["submissions"]["total"] == 1
    assert stats["requests"]["policy"] == 1


@pytest.mark.parametrize(("fault", "kind", "code"), [
    ("submit:429=3", RateLimited, "Throttling.RateQuota"),
    ("submit:503", ServerError, ""),
    ("submit:reset", TransportError, ""),
    ("submit:moderation", RequestRejected, "DataInspectionFailed"),
])
def test_faults_become_our_errors(emu: EmulatorServer, fault: str, kind: type[Exception],
                                  code: str) -> None:
    emu.script(fault)

    async def go() -> None:
        async with provider(emu) as p:
            await p.submit(remote_shot(), None)

    with pytest.raises(kind) as info:
        run(go())
    error = info.value
    assert getattr(error, "shot", "") == "s01"
    if code:
        assert getattr(error, "code", "").startswith(code.split(".")[0])
    if isinstance(error, RateLimited):
        assert error.retry_after == 3.0


def test_a_wrong_key_is_an_auth_error(emu: EmulatorServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-wrong")

    async def go() -> None:
        async with provider(emu) as p:
            await p.query("nope")

    with pytest.raises(AuthError) as info:
        run(go())
    assert info.value.code == "InvalidApiKey" and "sk-wrong" not in str(info.value)


@pytest.mark.parametrize(("zone", "key"), [(0.0, "data"), (8.0, "data"), (0.0, "tasks")],
                         ids=["list-in-utc", "list-in-beijing-time", "list-page-in-tasks"])
def test_a_lost_submit_is_found_again(zone: float, key: str) -> None:
    """Found whether the service reads the list window in UTC or in its hosts' UTC+8, and
    whether a list page keeps its items in ``data`` or in ``tasks`` (as the SDK 2.x reads it)."""
    with EmulatorServer(latency=0.3, api_key=KEY, render=plain_render,
                        utc_offset_hours=zone, list_key=key) as emu:
        check_lost_submit_is_found(emu)


def check_lost_submit_is_found(emu: EmulatorServer) -> None:
    emu.script("submit:lost")
    compiled = remote_shot("Image 1 drinks coffee, a lost submit.")

    async def go() -> tuple[TaskState | None, TaskState | None]:
        async with provider(emu) as p:
            since = time.time()
            with pytest.raises(TransportError):
                await p.submit(compiled, None)
            found = await p.find(compiled, since)
            other = await p.find(remote_shot("another prompt"), since)
            return found, other

    found, other = run(go())
    assert len(found) == 1 and other == []
    assert found[0].raw["output"]["orig_prompt"] == "Image 1 drinks coffee, a lost submit."
    assert emu.stats()["submissions"]["total"] == 1


def test_unknown_task_and_cancel(emu: EmulatorServer) -> None:
    async def go() -> tuple[TaskState, TaskState]:
        async with provider(emu) as p:
            unknown = await p.query("no-such-task")
            task_id = await p.submit(remote_shot(), None)
            done = await until_finished(p, task_id)
            with pytest.raises(RequestRejected) as info:
                await p.cancel(task_id)  # only PENDING tasks can be cancelled
            assert info.value.code == "UnsupportedOperation"
            return unknown, done

    unknown, done = run(go())
    assert unknown.status is TaskStatus.UNKNOWN and done.status is TaskStatus.SUCCEEDED


def test_a_refused_connection_is_connect_failed() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = sock.getsockname()[1]
    settings = DashScopeSettings(base_url=f"http://127.0.0.1:{port}/api/v1")

    async def go() -> None:
        async with DashScopeProvider(settings) as p:
            await p.submit(remote_shot(), None)

    try:
        with pytest.raises(ConnectFailed) as info:
            run(go())
    finally:
        sock.close()
    assert info.value.retryable and info.value.shot == "s01" and KEY not in str(info.value)


def test_a_lost_submit_of_worded_scenes_is_found_by_its_worded_prompt(
        emu: EmulatorServer) -> None:
    """MiniMax H3 gets its timed scenes as a timed list (``targets.video.wording``): the list shows the
    prompt as the body wrote it, and the lost submit is found by that, paid once."""
    emu.script("submit:lost")
    scenes = (Scene(1, 0.0, 2.0, "Scene 1 [0-2s]: Image 1 waves"),
              Scene(2, 2.0, 5.0, "Scene 2 [2-5s]: Image 1 sits"))
    compiled = remote_shot("\n".join(s.text for s in scenes))
    compiled = replace(compiled, request=replace(
        compiled.request, model="MiniMax/MiniMax-H3", resolution="768P", duration=5,
        scenes=scenes, seed=None, prompt_extend=None))

    async def go() -> list[TaskState]:
        async with provider(emu) as p:
            since = time.time()
            with pytest.raises(TransportError):
                await p.submit(compiled, None)
            return await p.find(compiled, since)

    found = run(go())
    assert len(found) == 1
    assert found[0].raw["output"]["orig_prompt"] == "1. [0-2s] Image 1 waves\n2. [2-5s] Image 1 sits"
    assert emu.stats()["submissions"]["total"] == 1
