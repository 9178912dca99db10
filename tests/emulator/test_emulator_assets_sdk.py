"""The official ``dashscope`` SDK's image, voice-design and speech calls against the emulator.

The SDK (2.0.2) has: ``ImageGeneration.async_call``/``wait`` (1.x, the image-generation task
route, uploading ``file://`` references itself), ``Client.audio.voice_design`` (create, list, get,
delete) and ``audio.qwen_tts.SpeechSynthesizer.call`` (multimodal-generation). Its v2
``client.images`` sends wan2.7 models to the older text2image route, so it is not used here.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.emulator.cast.standins import picture, png_size
from storyboard.targets.cast.assets import QWEN3_TTS_VD, preferred_name
from tests.fixtures import web

KEY = "sk-cast-sdk"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.1, api_key=KEY) as server:
        yield server


@pytest.fixture
def sdk(emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    dashscope = pytest.importorskip("dashscope")  # here: collecting the suite does not import it
    emu.clear_faults()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", emu.base_url)
    monkeypatch.setattr(dashscope, "base_http_api_url", emu.base_url)
    return emu


def test_image_generation_async_call_and_wait(sdk: EmulatorServer, tmp_path: Path) -> None:
    from dashscope.aigc.image_generation import ImageGeneration
    from dashscope.api_entities.dashscope_response import Message

    reference = tmp_path / "mia.png"
    reference.write_bytes(picture(320, 320, "mia"))
    message = Message(role="user", content=[{"text": "Image 1 as a character sheet"},
                                            {"image": f"file://{reference}"}])
    started = ImageGeneration.async_call(model="wan2.7-image", messages=[message], api_key=KEY,
                                         size="320*256", n=2, seed=5, watermark=False)
    assert started.status_code == 200, started
    assert started.output.task_status == "PENDING"
    done = ImageGeneration.wait(started, api_key=KEY)
    assert done.status_code == 200 and done.output.task_status == "SUCCEEDED", done
    assert done.usage.image_count == 2
    content = done.output.choices[0]["message"]["content"]
    first = web.get(content[0]["image"]).content
    assert png_size(first) == (320, 256, False)
    stats = sdk.stats()
    assert stats["uploads"] == 1 and stats["cast"]["images"] >= 2
    task = sdk.service.images.tasks[started.output.task_id]
    assert task.request.images[0].startswith("oss://")


def test_image_generation_refusal_reaches_the_sdk(sdk: EmulatorServer) -> None:
    from dashscope.aigc.image_generation import ImageGeneration
    from dashscope.api_entities.dashscope_response import Message

    message = Message(role="user", content=[{"text": "Mia"}])
    refused = ImageGeneration.async_call(model="wan2.7-image", messages=[message], api_key=KEY,
                                         size="320*256")
    assert (refused.status_code, refused.code) == (400, "InvalidParameter")
    assert "parameters.n" in refused.message


def test_voice_design_and_speech(sdk: EmulatorServer) -> None:
    from dashscope.audio.qwen_tts import SpeechSynthesizer
    from dashscope.v2 import Client

    client = Client(api_key=KEY, base_url=sdk.base_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the SDK's audio API is a preview
        design = client.audio.voice_design
    name = preferred_name("0123456789abcdef0123", "Mia")
    made = design.create(target_model=QWEN3_TTS_VD.id, voice_prompt="warm, calm woman",
                         preview_text="Morning! The usual?", preferred_name=name, language="en",
                         parameters={"sample_rate": 24000, "response_format": "wav"})
    assert made.voice and f"-{name}-voice-" in made.voice
    assert made.preview_audio is not None
    assert base64.b64decode(made.preview_audio["data"])[:4] == b"RIFF"
    listed = design.list(page_size=10)
    assert listed.total_count == 1 and listed.voices[0]["voice"] == made.voice
    assert design.get(made.voice).voice == made.voice
    said = SpeechSynthesizer.call(model=QWEN3_TTS_VD.id, text="Morning! The usual?",
                                  voice=made.voice, api_key=KEY, language_type="English")
    assert said.status_code == 200, said
    assert web.get(said.output.audio["url"]).content[:4] == b"RIFF"
    assert design.delete(made.voice).status_code == 200
    assert design.list().total_count == 0
