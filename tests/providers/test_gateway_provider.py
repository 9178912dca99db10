"""The generic gateway transport against the emulator: one request per call, each dialect's words."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.emulator import EmulatorServer
from storyboard.errors import (
    AuthError,
    ListUnavailable,
    ProblemsFound,
    ProviderError,
    RequestRejected,
    TransportError,
)
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, Mention, ShotRequest, write
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.targets import NATIVE_SIZES, TaskStatus
from storyboard.targets.video.models import model_of
from tests.fixtures.drawings import video_once

KEY = "gw-provider-key-789"
MIA = Mention("mia", "image", 1)


def quick_render(body: dict[str, Any], out: Path, *, media: Mapping[str, Path] | None = None,
                 plain: bool = False) -> None:
    params = body["parameters"]
    model = model_of(str(body["model"]))
    sizes = {**NATIVE_SIZES, **(model.caps.sizes if model else {})}
    width, height = sizes[(params["resolution"], params.get("ratio", "16:9"))]
    video_once(out, width // 4 * 2, height // 4 * 2, seconds=float(params["duration"]))


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, api_key=KEY, render=quick_render) as server:
        yield server


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GATEWAYS:
        monkeypatch.setenv(DIALECTS[name].key_env, KEY)
        if DIALECTS[name].secret_env:  # a key pair: the emulator checks tokens with its key
            monkeypatch.setenv(DIALECTS[name].secret_env, KEY)


def shot(root: Path, words: str = " waves hello", gateway: str = "freepik") -> CompiledShot:
    """A one-reference shot on the first model ``gateway`` sells, as short and small as it
    renders (a first frame where it takes no reference: Hailuo)."""
    tokens = (MIA, words)
    dialect = DIALECTS[gateway]
    limits = dialect.limits
    role = "reference_image" if limits.max_references else "first_frame"
    request = ShotRequest(
        model=dialect.models[0], prompt=write(tokens), tokens=tokens,
        resolution="720P" if "720P" in limits.resolutions else limits.resolutions[0],
        ratio="16:9", duration=max(2, limits.min_duration), prompt_extend=False,
        watermark=False,
        media=(MediaItem(role, MediaRef(path=root / "media" / "mia.png"), "Image 1", "mia"),))
    return CompiledShot("s", "ep01", "a", request, "h" * 64)


def provider(emu: EmulatorServer, name: str, root: Path, **block: Any) -> GatewayProvider:
    settings = {"base_url": emu.gateway_url(name), "media_base_url": "https://cdn.example.com/s",
                **block}
    return GatewayProvider.from_settings(DIALECTS[name], settings, root)


async def until_done(gateway: GatewayProvider, task_id: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        state = await gateway.query(task_id)
        if state.status.finished:
            return state
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("name", GATEWAYS)
def test_submit_query_download_in_each_dialect(emu: EmulatorServer, tmp_path: Path,
                                               name: str) -> None:
    async def go() -> None:
        gateway = provider(emu, name, tmp_path)
        try:
            task_id = await gateway.submit(shot(tmp_path, f" waves hello via {name}", name),
                                           None)
            state = await until_done(gateway, task_id)
            assert state.status is TaskStatus.SUCCEEDED and state.video_url
            await gateway.download(state, tmp_path / "out.mp4")
        finally:
            await gateway.aclose()
    asyncio.run(go())
    assert (tmp_path / "out.mp4").stat().st_size > 1000
    task = next(t for t in emu.service.table.tasks.values()
                if t.submission.prompt.endswith(f"waves hello via {name}"))
    assert task.submission.prompt == f"{DIALECTS[name].label(MIA)} waves hello via {name}"
    assert task.submission.media[0]["url"] == "https://cdn.example.com/s/media/mia.png"


@pytest.mark.parametrize("name", ["freepik", "openai-video"])
def test_a_lost_submit_answer_is_found_in_the_task_list(emu: EmulatorServer, tmp_path: Path,
                                                        name: str) -> None:
    compiled = shot(tmp_path, f" drinks coffee via {name}, a lost answer")

    async def go() -> Any:
        gateway = provider(emu, name, tmp_path)
        try:
            emu.script("submit:lost")
            since = time.time()
            with pytest.raises(TransportError):
                await gateway.submit(compiled, None)
            return await gateway.find(compiled, since)
        finally:
            await gateway.aclose()
    found = asyncio.run(go())
    assert len(found) == 1 and found[0].task_id
    assert emu.service.table.get(found[0].task_id) is not None


def test_find_lists_every_task_with_the_prompt_newest_first(emu: EmulatorServer, tmp_path: Path) -> None:
    compiled = shot(tmp_path, " the same prompt, twice")

    async def go() -> tuple[list[str], Any]:
        gateway = provider(emu, "openai-video", tmp_path)
        try:
            await gateway.submit(compiled, None)
            emu.script("submit:lost")
            with pytest.raises(TransportError):
                await gateway.submit(compiled, None)
            listed = [t.task_id for t in emu.service.table.tasks.values()
                      if t.submission.prompt.endswith("the same prompt, twice")]
            return listed, await gateway.find(compiled, time.time() - 5)
        finally:
            await gateway.aclose()
    listed, found = asyncio.run(go())
    assert [task.task_id for task in found] == listed[::-1]


@pytest.mark.parametrize("name", ["roles", "arrays"])
def test_without_a_task_list_find_is_unavailable(emu: EmulatorServer, tmp_path: Path,
                                                name: str) -> None:
    async def go() -> Any:
        gateway = provider(emu, name, tmp_path)
        try:
            return await gateway.find(shot(tmp_path), time.time())
        finally:
            await gateway.aclose()
    with pytest.raises(ListUnavailable, match="has no task list"):  # never "none found"
        asyncio.run(go())


def test_a_wrong_key_is_an_auth_error_that_never_shows_the_key(
        emu: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREEPIK_API_KEY", "wrong-key-000")
    gateway = provider(emu, "freepik", tmp_path)
    with pytest.raises(AuthError) as info:
        asyncio.run(gateway.submit(shot(tmp_path), None))
    assert "wrong-key-000" not in str(info.value) and "wrong-key-000" not in repr(gateway)
    monkeypatch.delenv("FREEPIK_API_KEY")
    with pytest.raises(AuthError, match="FREEPIK_API_KEY is not set"):
        provider(emu, "freepik", tmp_path).preflight()


def test_a_local_file_without_media_base_url_is_refused_before_any_request(
        emu: EmulatorServer, tmp_path: Path) -> None:
    before = emu.stats()["requests"].get("submit", 0)
    gateway = GatewayProvider.from_settings(
        DIALECTS["arrays"], {"base_url": emu.gateway_url("arrays")}, tmp_path)
    with pytest.raises(RequestRejected, match="media_base_url"):
        asyncio.run(gateway.submit(shot(tmp_path), None))
    assert emu.stats()["requests"].get("submit", 0) == before


def test_paths_and_headers_are_settable(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"task_id": "t-9", "status": "CREATED"}})

    gateway = GatewayProvider.from_settings(
        DIALECTS["freepik"], {"base_url": "https://gw.example", "submit_path": "/v2/r2v",
                              "task_path": "/v2/r2v/{task_id}", "headers": {"X-Team": "video"},
                              "auth_header": "X-Api-Key", "media_base_url": "https://c.example"},
        tmp_path, transport=httpx.MockTransport(answer))
    assert asyncio.run(gateway.submit(shot(tmp_path), None)) == "t-9"
    state = asyncio.run(gateway.query("t-9"))
    assert state.status is TaskStatus.PENDING
    assert [str(r.url) for r in seen] == ["https://gw.example/v2/r2v",
                                          "https://gw.example/v2/r2v/t-9"]
    assert seen[0].headers["x-api-key"] == KEY and seen[0].headers["x-team"] == "video"


def test_every_problem_in_the_block_at_once(tmp_path: Path) -> None:
    with pytest.raises(ProblemsFound) as info:
        GatewayProvider.from_settings(DIALECTS["roles"], {
            "base_url": "ftp://x", "task_path": "/no-id", "timeout": -1, "colour": "red",
            "prices": {"720P": "cheap", "per": "minute"}}, tmp_path)
    text = "\n".join(d.message for d in info.value.diagnostics)
    for part in ("provider.base_url", "provider.task_path", "provider.timeout",
                 "provider.colour", "provider.prices.720P", "provider.prices.per"):
        assert part in text


def test_no_base_url_is_said_at_preflight_not_at_plan(tmp_path: Path) -> None:
    gateway = GatewayProvider.from_settings(DIALECTS["openai-video"], {}, tmp_path)
    assert gateway.prices.describe().startswith("USD")
    with pytest.raises(ProviderError, match=r"provider\.base_url"):
        gateway.preflight()
