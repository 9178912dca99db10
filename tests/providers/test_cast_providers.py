"""Cast assets through the providers: DashScope against the emulator over loopback, local offline."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.emulator.cast.standins import png_size
from storyboard.errors import ProblemsFound
from storyboard.language.request import MediaRef
from storyboard.providers.base import refuse_assets
from storyboard.providers.dashscope.provider import (
    BASE_URL_ENV,
    KEY_ENV,
    DashScopeProvider,
    DashScopeSettings,
    Timeouts,
)
from storyboard.providers.local import LocalProvider
from storyboard.targets import PriceTable, TaskState, TaskStatus
from storyboard.targets.cast.assets import QWEN3_TTS_VD, preferred_name, speech_characters, spoken_seconds
from tests.fixtures import web
from tests.fixtures.cast import SPAN, designed, line, sheet

KEY = "sk-cast-provider-test"
T = TypeVar("T")
MakeMedia = Callable[..., Path]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, api_key=KEY) as server:
        yield server


def provider(emu: EmulatorServer, work_dir: Path | None = None) -> DashScopeProvider:
    settings = DashScopeSettings(base_url=emu.base_url, timeouts=Timeouts(connect=2, read=5))
    return DashScopeProvider(settings, work_dir=work_dir)


async def until_done(p: DashScopeProvider, task_id: str) -> TaskState:
    for _ in range(200):
        state = await p.query(task_id)
        if state.status.finished:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never finished")


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1 and wav.getframerate() == 24000
        return float(wav.getnframes()) / float(wav.getframerate())


# --- DashScope ---------------------------------------------------------------------------------


def test_image_submit_query_download(emu: EmulatorServer, tmp_path: Path,
                                     make_media: MakeMedia) -> None:
    ref = make_media("image", tmp_path / "mia-photo.png")
    shot = sheet(refs=(MediaRef(path=ref),))

    async def go() -> tuple[TaskState, bytes]:
        async with provider(emu) as p:
            task_id = await p.submit(shot, None)
            state = await until_done(p, task_id)
            await p.download(state, tmp_path / "sheet.png")
            return state, (tmp_path / "sheet.png").read_bytes()

    before = emu.stats()["cast"]["images"]
    state, data = run(go())
    assert state.status is TaskStatus.SUCCEEDED and state.video_url
    size = png_size(data)
    assert size is not None and size[:2] == (320, 256)
    assert emu.stats()["cast"]["images"] == before + 1
    # The other take has its own seed: another picture.
    take2 = shot.others[0]

    async def second() -> bytes:
        async with provider(emu) as p:
            state = await until_done(p, await p.submit(take2, None))
            await p.download(state, tmp_path / "sheet2.png")
            return (tmp_path / "sheet2.png").read_bytes()

    assert run(second()) != data


def test_voice_then_a_line_in_it(emu: EmulatorServer, tmp_path: Path) -> None:
    shot = designed(design="a gruff old sailor")

    async def go() -> tuple[str, bytes, bytes, TaskState]:
        async with provider(emu, tmp_path / "work") as p:
            voice = await p.submit(shot, None)
            state = await p.query(voice)
            assert state.status is TaskStatus.SUCCEEDED
            await p.download(state, tmp_path / "voice.wav")
            spoken = line(voice)
            task_id = await p.submit(spoken, None)
            said = await p.query(task_id)
            await p.download(said, tmp_path / "line.wav")
            return (voice, (tmp_path / "voice.wav").read_bytes(),
                    (tmp_path / "line.wav").read_bytes(), said)

    voice, preview, spoken, said = run(go())
    assert preferred_name(shot.hash, "mia-voice") in voice
    assert wav_seconds(preview) > 0 and wav_seconds(spoken) > 0 and preview != spoken
    assert said.task_id.startswith("tts-") and said.status is TaskStatus.SUCCEEDED

    async def later() -> tuple[TaskState, TaskState]:
        # A later process: the preview and the line's URL are read from the work area.
        async with provider(emu, tmp_path / "work") as p:
            state = await p.query(voice)
            await p.download(state, tmp_path / "again.wav")
            return state, await p.query(said.task_id)

    state, again = run(later())
    assert state.status is TaskStatus.SUCCEEDED
    assert (tmp_path / "again.wav").read_bytes() == preview
    assert again.video_url == said.video_url

    async def forgotten() -> TaskState:
        async with provider(emu) as p:  # no work area: the line is no longer known
            return await p.query(said.task_id)

    gone = run(forgotten())
    assert gone.status is TaskStatus.UNKNOWN and gone.code == "Gone"


def test_voice_design_takes_each_target_model_the_service_takes(emu: EmulatorServer) -> None:
    """The HTTP snapshot and both realtime ones; a voice made for a realtime snapshot is refused
    by the HTTP speech call (the target must be the model that speaks), as the service does."""

    from storyboard.targets.cast.assets import QWEN_VOICE_DESIGN
    targets = ("qwen3-tts-vd-2026-01-26", "qwen3-tts-vd-realtime-2026-01-15",
               "qwen3-tts-vd-realtime-2025-12-16")
    assert QWEN_VOICE_DESIGN.target_models == targets
    headers = {"Authorization": f"Bearer {KEY}"}
    made = {}
    for n, target in enumerate(targets):
        answer = web.post(f"{emu.base_url}/services/audio/tts/customization", json={
            "model": "qwen-voice-design", "input": {
                "action": "create", "target_model": target, "voice_prompt": "a calm voice",
                "preview_text": "Hello there.", "preferred_name": f"t{n}", "language": "en"}},
            headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["output"]["target_model"] == target
        made[target] = answer.json()["output"]["voice"]
    speak = f"{emu.base_url}/services/aigc/multimodal-generation/generation"
    for target, voice in made.items():
        said = web.post(speak, headers=headers, json={"model": QWEN3_TTS_VD.id, "input": {
            "text": "Hi.", "voice": voice, "language_type": "English"}})
        assert said.status_code == (200 if target == QWEN3_TTS_VD.id else 400), said.text


def test_lost_voice_is_found_not_created_again(emu: EmulatorServer, tmp_path: Path) -> None:
    shot = designed(design="a bright young voice, quick and cheerful")
    before = emu.stats()["cast"]["voices"]
    emu.script("voice:lost")

    async def submit() -> None:
        async with provider(emu, tmp_path / "work") as p:
            await p.submit(shot, None)

    with pytest.raises(Exception) as lost:
        run(submit())
    assert KEY not in str(lost.value)
    assert emu.stats()["cast"]["voices"] == before + 1  # made and billed; its answer lost

    async def reconcile() -> tuple[list[TaskState], bytes]:
        async with provider(emu, tmp_path / "work") as p:
            found = await p.find(shot, 0.0)
            assert len(found) == 1
            await p.download(found[0], tmp_path / "adopted.wav")
            return found, (tmp_path / "adopted.wav").read_bytes()

    found, audio = run(reconcile())
    assert preferred_name(shot.hash, "mia-voice") in found[0].task_id
    assert wav_seconds(audio) > 0  # its sample spoken in the adopted voice
    assert emu.stats()["cast"]["voices"] == before + 1  # never created twice
    other = designed(design="someone else entirely")

    async def none() -> list[TaskState]:
        async with provider(emu) as p:
            return await p.find(other, 0.0)

    assert run(none()) == []


def test_speech_without_a_voice_id_is_refused(emu: EmulatorServer) -> None:
    async def go() -> None:
        async with provider(emu) as p:
            await p.submit(line("voices/mia-voice"), None)

    with pytest.raises(Exception, match="not a designed voice's id"):
        run(go())


def test_asset_prices_by_the_providers_tables() -> None:
    from storyboard.run.trip.budget.costs import estimate
    from storyboard.targets.wire.gateways import DASHSCOPE

    intl, cn = DASHSCOPE.protocol.prices["intl"], DASHSCOPE.protocol.prices["cn"]
    assert estimate(sheet(), intl) == (0.0, 0.03)
    assert estimate(sheet(), cn) == (0.0, 0.2)
    spoken = line("qwen-tts-vd-x")
    assert estimate(spoken, cn)[1] == pytest.approx(
        0.8 * speech_characters(spoken.asset.prompt) / 10000, abs=1e-4)
    free = PriceTable({"720P": 0.0})
    assert estimate(sheet(), free) == (0.0, 0.0)

def test_local_assets_are_deterministic_and_distinct_per_take(tmp_path: Path) -> None:
    shot = sheet()
    voice = designed()

    async def draw(where: Path) -> dict[str, bytes]:
        p = LocalProvider(where)
        made: dict[str, bytes] = {}
        for item in [*shot.all_takes(), voice, line("local-voice")]:
            state = await p.query(await p.submit(item, None))
            assert state.status is TaskStatus.SUCCEEDED
            dest = where / f"out-{len(made)}{item.asset.suffix if item.asset else ''}"
            await p.download(state, dest)
            made[item.id] = dest.read_bytes()
        return made

    first, second = run(draw(tmp_path / "a")), run(draw(tmp_path / "b"))
    assert first == second
    assert first["mia"] != first["mia#2"]
    size = png_size(first["mia"])
    assert size is not None and size[:2] == (1024, 576)
    assert 1.0 <= wav_seconds(first["mia-voice"]) <= 10.0
    spoken = line("local-voice").asset
    assert spoken is not None  # a line lasts as check estimates it, as the emulator's (45.4)
    assert wav_seconds(first["ep01/hook"]) == pytest.approx(spoken_seconds(spoken.prompt),
                                                            abs=0.01)


def test_video_only_providers_refuse_assets_at_their_line() -> None:
    with pytest.raises(ProblemsFound) as found:
        refuse_assets([sheet(), designed()], "gateway freepik")
    messages = [d.format() for d in found.value.diagnostics]
    assert any("mia is generated (image: {generate: ...}); gateway freepik does not make wan2.7-image"
               in m for m in messages)
    assert all(d.span == SPAN for d in found.value.diagnostics)
