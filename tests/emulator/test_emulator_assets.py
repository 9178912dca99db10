"""The cast on the emulator over loopback: image tasks, voice design and speech, strict and faulty."""

from __future__ import annotations

import base64
import copy
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storyboard.emulator import EmulatorServer
from storyboard.emulator.cast.standins import picture, png_size
from storyboard.targets.cast.assets import (
    IMAGE_MODELS,
    QWEN3_TTS_VD,
    QWEN_VOICE_DESIGN,
    WAN27_IMAGE,
    WAN27_IMAGE_PRO,
    assets_markdown,
    preferred_name,
    speech_characters,
    with_price,
)
from tests.fixtures import web
from tests.fixtures.emulator import wait_for

IMAGE = "/services/aigc/image-generation/generation"
VOICE = "/services/audio/tts/customization"
SPEECH = "/services/aigc/multimodal-generation/generation"
KEY = {"Authorization": "Bearer sk-cast"}
ASYNC = {**KEY, "X-DashScope-Async": "enable"}
TARGET = QWEN3_TTS_VD.id


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.1) as server:
        yield server


@pytest.fixture
def http(emu: EmulatorServer) -> Iterator[httpx.Client]:
    emu.clear_faults()
    with web.client(base_url=emu.base_url, headers=ASYNC, timeout=10) as client:
        yield client


def image_body(**params: Any) -> dict[str, Any]:
    return {"model": "wan2.7-image",
            "input": {"messages": [{"role": "user", "content": [
                {"text": "Character design sheet of Mia, white background"}]}]},
            "parameters": {"size": "320*256", "n": 1, "seed": 7, "watermark": False, **params}}


def data_uri(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(picture(width, height, "ref")).decode()


def design_body(name: str | None = "mia_3f2a9c", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"action": "create", "target_model": TARGET,
                            "voice_prompt": "warm, calm woman in her thirties",
                            "preview_text": "Morning! The usual?", "language": "en", **fields}
    if name is not None:
        data["preferred_name"] = name
    return {"model": "qwen-voice-design", "input": data,
            "parameters": {"sample_rate": 24000, "response_format": "wav"}}


def voice_call(http: httpx.Client, action: str, key: dict[str, str] = KEY,
               **fields: Any) -> httpx.Response:
    return http.post(VOICE, headers=key, json={"model": "qwen-voice-design",
                                               "input": {"action": action, **fields}})


# --- declarations ----------------------------------------------------------------------------


def test_declarations_carry_the_spec_facts() -> None:
    assert set(IMAGE_MODELS) == {"wan2.7-image", "wan2.7-image-pro"}
    assert WAN27_IMAGE.side_limit(0, False) == 2048 and WAN27_IMAGE_PRO.side_limit(0, False) == 4096
    assert WAN27_IMAGE_PRO.side_limit(2, False) == 2048  # 4K only for text-to-image
    assert WAN27_IMAGE_PRO.side_limit(0, True) == 2048  # and never for a set
    assert WAN27_IMAGE.price("cn").amount == 0.20 and WAN27_IMAGE_PRO.price("cn").amount == 0.50
    assert WAN27_IMAGE.source("input_images") == "third-party"
    assert WAN27_IMAGE.source("prices") == "official"
    assert QWEN_VOICE_DESIGN.price("intl").currency == "USD"
    assert QWEN3_TTS_VD.price("cn").unit == "10k-characters"
    assert (QWEN_VOICE_DESIGN.prompt_limit, QWEN_VOICE_DESIGN.preview_limit) == (2048, 1024)
    assert speech_characters("ab") == 2 and speech_characters("早上好") == 6
    assert QWEN_VOICE_DESIGN.target_models == (  # the HTTP snapshot and both realtime ones
        "qwen3-tts-vd-2026-01-26", "qwen3-tts-vd-realtime-2026-01-15",
        "qwen3-tts-vd-realtime-2025-12-16")


def test_prices_are_overridable_and_fail_closed() -> None:
    cheaper = with_price(WAN27_IMAGE, "cn", 0.1)
    assert cheaper.price("cn").amount == 0.1 and cheaper.price("cn").currency == "CNY"
    assert WAN27_IMAGE.price("cn").amount == 0.20
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="finite"):
            with_price(WAN27_IMAGE, "cn", bad)


def test_docs_table_comes_from_the_declarations() -> None:
    table = assets_markdown()
    assert "| `wan2.7-image-pro` |" in table and "4096 for text-to-image" in table
    assert "0.5 CNY per image / 0.562065 CNY per image" in table
    assert "prompt ≤ 5000 (third-party)" in table  # a third-party fact says so
    assert "0.1 USD per 10,000 characters" in table and "preview_text ≤ 1024" in table


@pytest.mark.parametrize("label", ["Mia", "", "Dr. Chen-Li Wong!", "早上好"])
def test_preferred_name_is_deterministic_and_valid(label: str) -> None:
    digest = "3f2a9c0b1d4e5f60718293a4b5c6d7e8"
    name = preferred_name(digest, label)
    assert name == preferred_name(digest, label)
    assert len(name) <= 16 and name.replace("_", "").isalnum() and name.isascii()
    assert preferred_name("other" + digest, label) != name
    assert preferred_name("not a hex digest", label) == preferred_name("not a hex digest", label)


# --- images: refusals ------------------------------------------------------------------------


def _without(path: tuple[str, ...]) -> Any:
    def change(body: dict[str, Any]) -> None:
        *head, last = path
        node: Any = body
        for part in head:
            node = node[part]
        del node[last]
    return change


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        *head, last = path
        node: Any = body
        for part in head:
            node = node[part]
        node[last] = value
    return change


CONTENT = ("input", "messages", 0, "content")
IMAGE_REFUSALS = [
    ("no model", _without(("model",)), "BadRequest.EmptyModel", "model"),
    ("unknown model", _set(("model",), "wan2.7-r2v"), "InvalidParameter", "Model not exist"),
    ("no messages", _set(("input", "messages"), []), "BadRequest.EmptyInput", "messages"),
    ("two messages", _set(("input", "messages"), [{"role": "user", "content": []}] * 2),
     "InvalidParameter", "exactly one message"),
    ("assistant role", _set(("input", "messages", 0, "role"), "assistant"),
     "InvalidParameter", "role user"),
    ("no text", _set(CONTENT, [{"image": "https://example.com/a.png"}]),
     "BadRequest.EmptyInput", "exactly one text"),
    ("text and image in one item", _set(CONTENT, [{"text": "a", "image": "https://x/a.png"}]),
     "InvalidParameter", "either text or image"),
    ("long prompt", _set((*CONTENT, 0, "text"), "x" * 5001), "InvalidParameter", "5000"),
    ("ten images", _set(CONTENT, [{"text": "a"}] + [{"image": "https://x/a.png"}] * 10),
     "InvalidParameter", "at most 9"),
    ("ftp image", _set(CONTENT, [{"text": "a"}, {"image": "ftp://x/a.png"}]), "InvalidURL",
     "http(s)"),
    ("tiny data image", _set(CONTENT, [{"text": "a"}, {"image": data_uri(100, 100)}]),
     "InvalidParameter", "240 to 8000"),
    ("thin data image", _set(CONTENT, [{"text": "a"}, {"image": data_uri(2400, 250)}]),
     "InvalidParameter", "1:8"),
    ("gif data image", _set(CONTENT, [{"text": "a"}, {"image": "data:image/gif;base64,AAAA"}]),
     "InvalidURL", "data:image"),
    ("oss without header", _set(CONTENT, [{"text": "a"}, {"image": "oss://x/a.png"}]),
     "InvalidParameter", "OssResourceResolve"),
    ("no size", _without(("parameters", "size")), "InvalidParameter", "W*H"),
    ("size with x", _set(("parameters", "size"), "320x256"), "InvalidParameter", "W*H"),
    ("size too big", _set(("parameters", "size"), "2049*1024"), "InvalidParameter",
     "out of range"),
    ("size too small", _set(("parameters", "size"), "100*100"), "InvalidParameter",
     "out of range"),
    ("no n", _without(("parameters", "n")), "InvalidParameter", "parameters.n"),
    ("n five", _set(("parameters", "n"), 5), "InvalidParameter", "1..4"),
    ("n zero", _set(("parameters", "n"), 0), "InvalidParameter", "1..4"),
    ("n text", _set(("parameters", "n"), "2"), "InvalidParameter", "1..4"),
    ("set of thirteen", lambda b: b["parameters"].update(n=13, enable_sequential=True),
     "InvalidParameter", "1..12"),
    ("negative seed", _set(("parameters", "seed"), -1), "InvalidParameter", "seed"),
    ("watermark text", _set(("parameters", "watermark"), "no"), "InvalidParameter", "boolean"),
    ("no parameters", _without(("parameters",)), "InvalidParameter", "size and n"),
]


@pytest.mark.parametrize(("name", "change", "code", "words"), IMAGE_REFUSALS,
                         ids=[r[0] for r in IMAGE_REFUSALS])
def test_image_refusals(http: httpx.Client, name: str, change: Any, code: str,
                        words: str) -> None:
    body = copy.deepcopy(image_body())
    change(body)
    response = http.post(IMAGE, json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == code and words in answer["message"], answer
    assert set(answer) == {"request_id", "code", "message"}


def test_image_needs_async_and_a_key(http: httpx.Client) -> None:
    assert http.post(IMAGE, json=image_body(), headers={"X-DashScope-Async": ""}).status_code == 403
    refused = http.post(IMAGE, json=image_body(), headers={"Authorization": ""})
    assert refused.json()["code"] == "InvalidApiKey"


def test_pro_takes_4k_text_to_image_only(http: httpx.Client) -> None:
    pro = {**image_body(size="4096*256"), "model": "wan2.7-image-pro"}
    started = http.post(IMAGE, json=pro)
    assert started.status_code == 200
    done = wait_for(http, started.json()["output"]["task_id"])
    assert done["usage"] == {"image_count": 1, "size": "4096*256"}
    pro["input"]["messages"][0]["content"].append({"image": "https://example.com/a.png"})
    refused = http.post(IMAGE, json=pro)
    assert refused.status_code == 400 and "256 to 2048" in refused.json()["message"]


# --- images: results -------------------------------------------------------------------------


def generate(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    started = http.post(IMAGE, json=body)
    assert started.status_code == 200, started.text
    assert started.json()["output"]["task_status"] == "PENDING"
    return wait_for(http, started.json()["output"]["task_id"])


def pictures(http: httpx.Client, answer: dict[str, Any]) -> list[bytes]:
    content = answer["output"]["choices"][0]["message"]["content"]
    return [http.get(item["image"]).content for item in content]


def test_image_task_polls_and_serves_pngs(http: httpx.Client, emu: EmulatorServer) -> None:
    before = emu.stats()["cast"]["images"]
    body = image_body(n=2)
    body["input"]["messages"][0]["content"].append({"image": data_uri(320, 320)})
    done = generate(http, body)
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert done["usage"] == {"image_count": 2, "size": "320*256"}
    first, second = pictures(http, done)
    assert png_size(first) == (320, 256, False) and first != second
    assert emu.stats()["cast"]["images"] == before + 2
    url = done["output"]["choices"][0]["message"]["content"][0]["image"]
    assert http.get(url.replace("Signature=", "Signature=0")).status_code == 403


def test_a_tier_word_is_a_pixel_budget_in_the_frames_ratio(http: httpx.Client) -> None:
    """``2K`` is 2048² pixels in the frame's ratio (the first reference's; square with none),
    never a 2048x2048 square for a 16:9 reference; each side at most the model's limit."""
    square = generate(http, image_body(size="1K"))
    assert square["usage"]["size"] == "1024*1024"  # text-to-image: no frame, square
    wide = image_body(size="2K")
    wide["input"]["messages"][0]["content"].append({"image": data_uri(640, 360)})
    assert generate(http, wide)["usage"]["size"] == "2048*1152"
    tall = image_body(size="1K")
    tall["input"]["messages"][0]["content"].append({"image": data_uri(480, 640)})
    done = generate(http, tall)
    assert done["usage"]["size"] == "880*1184"  # 1024² pixels at 3:4, in multiples of 16
    assert png_size(pictures(http, done)[0]) == (880, 1184, False)


def test_images_depend_on_prompt_and_seed(http: httpx.Client) -> None:
    one = pictures(http, generate(http, image_body(seed=11)))
    again = pictures(http, generate(http, image_body(seed=11)))
    other_seed = pictures(http, generate(http, image_body(seed=12)))
    other_prompt = image_body(seed=11)
    other_prompt["input"]["messages"][0]["content"][0]["text"] = "A cafe at dawn, no people"
    assert one == again
    assert one != other_seed and one != pictures(http, generate(http, other_prompt))


def test_image_task_faults(http: httpx.Client, emu: EmulatorServer) -> None:
    emu.script("task:failed", "query:status=WAITING", "image:429")
    throttled = http.post(IMAGE, json=image_body())
    assert throttled.status_code == 429 and throttled.headers["retry-after"]
    task_id = http.post(IMAGE, json=image_body()).json()["output"]["task_id"]
    assert http.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "WAITING"
    failed = wait_for(http, task_id)
    assert failed["output"]["task_status"] == "FAILED"
    assert failed["output"]["code"] == "InternalError"
    emu.script("image:lost")
    before = len(emu.service.images.tasks)
    with pytest.raises(httpx.TransportError):
        http.post(IMAGE, json=image_body(seed=99))
    assert len(emu.service.images.tasks) == before + 1  # accepted: its answer was lost
    emu.script("task:unknown")
    lost = http.post(IMAGE, json=image_body()).json()["output"]["task_id"]
    assert wait_for(http, lost, ("UNKNOWN",))["output"]["task_status"] == "UNKNOWN"


def test_image_task_cancel() -> None:
    """Cancelled while PENDING, on an emulator whose tasks stay so for minutes (on the module's
    0.1 s one, a loaded machine let a task run before the cancel reached it); then refused."""
    with EmulatorServer(latency=600) as idle, \
            web.client(base_url=idle.base_url, headers=ASYNC, timeout=10) as http:
        task_id = http.post(IMAGE, json=image_body()).json()["output"]["task_id"]
        assert http.post(f"/tasks/{task_id}/cancel").status_code == 200
        assert http.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "CANCELED"
        again = http.post(f"/tasks/{task_id}/cancel")
        assert again.status_code == 400 and "not in PENDING status" in again.text


# --- voices ----------------------------------------------------------------------------------

VOICE_REFUSALS = [
    ("unknown model", lambda b: b.update(model="voice-enrollment"), "Model not exist"),
    ("unknown action", lambda b: b["input"].update(action="clone"), "input.action"),
    ("wrong target", lambda b: b["input"].update(target_model="qwen3-tts-flash"),
     "target_model"),
    ("long prompt", lambda b: b["input"].update(voice_prompt="x" * 2049), "2048"),
    ("empty prompt", lambda b: b["input"].update(voice_prompt=" "), "voice_prompt"),
    ("long preview", lambda b: b["input"].update(preview_text="x" * 1025), "1024"),
    ("name too long", lambda b: b["input"].update(preferred_name="a" * 17), "preferred_name"),
    ("name with dash", lambda b: b["input"].update(preferred_name="mia-1"), "preferred_name"),
    ("unknown language", lambda b: b["input"].update(language="xx"), "input.language"),
    ("bad sample rate", lambda b: b["parameters"].update(sample_rate=22050), "sample_rate"),
    ("bad format", lambda b: b["parameters"].update(response_format="flac"), "response_format"),
]


@pytest.mark.parametrize(("name", "change", "words"), VOICE_REFUSALS,
                         ids=[r[0] for r in VOICE_REFUSALS])
def test_voice_refusals(http: httpx.Client, emu: EmulatorServer, name: str, change: Any,
                        words: str) -> None:
    before = emu.stats()["cast"]["voices"]
    body = design_body()
    change(body)
    response = http.post(VOICE, json=body, headers=KEY)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "InvalidParameter" and words in response.json()["message"]
    assert emu.stats()["cast"]["voices"] == before


def test_voice_create_list_query_delete(http: httpx.Client) -> None:
    own = {"Authorization": "Bearer sk-own"}
    made = http.post(VOICE, json=design_body("mia_own"), headers=own)
    assert made.status_code == 200, made.text
    output = made.json()["output"]
    assert output["voice"].startswith("qwen-tts-vd-mia_own-voice-")
    assert output["target_model"] == TARGET and made.json()["usage"] == {"count": 1}
    with wave.open(io.BytesIO(base64.b64decode(output["preview_audio"]["data"]))) as wav:
        assert wav.getframerate() == 24000 and wav.getnframes() > 0
    listed = voice_call(http, "list", own, page_index=0, page_size=10).json()["output"]
    assert [v["voice"] for v in listed["voice_list"]] == [output["voice"]]
    assert listed["total_count"] == 1 and listed["page_size"] == 10
    queried = voice_call(http, "query", own, voice=output["voice"]).json()["output"]
    assert queried["voice_prompt"] == "warm, calm woman in her thirties"
    assert voice_call(http, "query", KEY, voice=output["voice"]).status_code == 400  # not ours
    assert voice_call(http, "delete", own, voice=output["voice"]).status_code == 200
    assert voice_call(http, "query", own, voice=output["voice"]).status_code == 400
    assert voice_call(http, "list", own).json()["output"]["total_count"] == 0


def test_voice_list_pages(http: httpx.Client) -> None:
    pager = {"Authorization": "Bearer sk-pager"}
    made = [http.post(VOICE, json=design_body(f"p{i}"), headers=pager).json()["output"]["voice"]
            for i in range(3)]
    first = voice_call(http, "list", pager, page_index=0, page_size=2).json()["output"]
    second = voice_call(http, "list", pager, page_index=1, page_size=2).json()["output"]
    assert first["total_count"] == 3 and len(first["voice_list"]) == 2
    assert sorted(v["voice"] for v in first["voice_list"] + second["voice_list"]) == sorted(made)
    assert voice_call(http, "list", pager, page_size=101).status_code == 400


def test_lost_create_is_found_by_listing(http: httpx.Client, emu: EmulatorServer) -> None:
    """A lost answer: the voice exists and was billed; list finds it by its preferred name."""
    lost_key = {"Authorization": "Bearer sk-lost"}
    name = preferred_name("a1b2c3d4e5f6a7b8c9d0", "Mia")
    before = emu.stats()["cast"]["voices"]
    emu.script("voice:lost")
    with pytest.raises(httpx.TransportError):
        http.post(VOICE, json=design_body(name), headers=lost_key)
    assert emu.stats()["cast"]["voices"] == before + 1
    listed = voice_call(http, "list", lost_key).json()["output"]["voice_list"]
    found = [v["voice"] for v in listed if f"-{name}-voice-" in v["voice"]]
    assert len(found) == 1
    # Re-sending blindly makes (and bills) a second voice of the same name.
    http.post(VOICE, json=design_body(name), headers=lost_key)
    assert voice_call(http, "list", lost_key).json()["output"]["total_count"] == 2


def test_voice_faults(http: httpx.Client, emu: EmulatorServer) -> None:
    before = emu.stats()["cast"]["voices"]
    emu.script("voice:503,voice:429=3,speech:500")
    assert http.post(VOICE, json=design_body(), headers=KEY).status_code == 503
    throttled = voice_call(http, "list")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"
    assert emu.stats()["cast"]["voices"] == before  # refused before anything was made
    assert speak(http, "hi", "qwen-tts-vd-x").status_code == 500
    assert emu.stats()["cast"]["requests"]["speech"] >= 1


# --- speech ----------------------------------------------------------------------------------


def designed(http: httpx.Client, key: dict[str, str] = KEY) -> str:
    voice: str = http.post(VOICE, json=design_body("line"), headers=key).json()["output"]["voice"]
    return voice


def speak(http: httpx.Client, text: str, voice: str, **more: Any) -> httpx.Response:
    return http.post(SPEECH, headers=KEY, json={"model": TARGET, "input": {
        "text": text, "voice": voice, "language_type": "English", **more}})


def test_speech_in_a_designed_voice(http: httpx.Client, emu: EmulatorServer) -> None:
    voice = designed(http)
    before = emu.stats()["cast"]["characters"]
    said = speak(http, "Morning! The usual?", voice)
    assert said.status_code == 200, said.text
    audio = said.json()["output"]["audio"]
    assert said.json()["usage"] == {"characters": 19}
    first = http.get(audio["url"]).content
    assert first[:4] == b"RIFF" and first == http.get(speak(
        http, "Morning! The usual?", voice).json()["output"]["audio"]["url"]).content
    other = speak(http, "Evening.", voice).json()["output"]["audio"]["url"]
    assert http.get(other).content != first
    assert emu.stats()["cast"]["characters"] == before + 19 * 2 + 8


def test_speech_refusals(http: httpx.Client) -> None:
    voice = designed(http)
    assert speak(http, "x" * 601, voice).json()["message"].endswith("counts as two)")
    assert speak(http, "早" * 301, voice).status_code == 400  # 602 counted
    assert speak(http, "早" * 300, voice).status_code == 200
    assert speak(http, "hi", "qwen-tts-vd-nobody").json()["message"].startswith("Voice not")
    assert speak(http, "", voice).json()["code"] == "BadRequest.EmptyInput"
    assert speak(http, "hi", voice, language_type="Klingon").status_code == 400
    wrong = http.post(SPEECH, headers=KEY, json={"model": "qwen3-tts-flash",
                                                 "input": {"text": "hi", "voice": voice}})
    assert wrong.json()["message"] == "Model not exist."
    other_key = {"Authorization": "Bearer sk-other"}
    theirs = http.post(SPEECH, headers=other_key, json={"model": TARGET, "input": {
        "text": "hi", "voice": voice}})
    assert theirs.status_code == 400  # a voice belongs to its account


def test_cast_fault_syntax() -> None:
    from storyboard.emulator import FaultSyntaxError
    from storyboard.emulator.faults import parse_fault

    assert str(parse_fault("voice:lost=2")) == "voice:lost=2"
    assert parse_fault("image:moderation").kind == "moderation"
    with pytest.raises(FaultSyntaxError, match="not a fault of speech"):
        parse_fault("speech:status=LOST")  # speech answers at once: no status word to replace


def test_image_moderation_is_refused_and_unbilled(http: httpx.Client, emu: EmulatorServer) -> None:
    emu.script("image:moderation")
    before = len(emu.service.images.tasks)
    refused = http.post(IMAGE, json=image_body())
    assert refused.status_code == 400 and refused.json()["code"] == "DataInspectionFailed"
    assert len(emu.service.images.tasks) == before


def test_an_image_task_is_billed_only_when_it_ends_well(http: httpx.Client,
                                                        emu: EmulatorServer) -> None:
    """Its pictures are drawn while it waits out its latency; a task that fails meanwhile is
    not billed for them, one that succeeds is, once."""
    before = emu.stats()["cast"]["images"]
    emu.script("task:failed")
    failed = http.post(IMAGE, json=image_body(seed=41)).json()["output"]["task_id"]
    assert wait_for(http, failed)["output"]["task_status"] == "FAILED"
    assert emu.stats()["cast"]["images"] == before
    done = generate(http, image_body(seed=42))
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert emu.stats()["cast"]["images"] == before + 1
