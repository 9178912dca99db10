"""Kling 3.0 Omni (issue 49.3): its multi_prompt, labels, key-pair tokens and its wire.

Timed scenes become ``multi_prompt`` items (one call, several shots) within Kling's limits; a
reference is ``<<<image_1>>>``; each request carries a token signed with the secret key, which
the emulator verifies (another secret is refused); a shot is submitted, polled and downloaded
through the emulator, a lost submit is found and paid once, a content refusal is named free.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.emulator.gateways.unwire import unbody
from storyboard.errors import (
    AuthError,
    RateLimited,
    RequestRejected,
    ServerError,
    StoryboardError,
)
from storyboard.language.compile import compile_lenient
from storyboard.language.lint.limits import scene_problems
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledShot, Scene
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.run import render
from storyboard.run.trip.model import RunOptions, RunResult, Wiring
from storyboard.targets.kinds import classify_failure
from storyboard.targets.signatures import jwtokens
from tests.fixtures import web
from tests.fixtures.gateway_runs import KEY, a_shot, provider_for, serve
from tests.fixtures.models import compiled, errors, series

KLING = DIALECTS["kling"]
CDN = "https://media.example.com"


def url_for(ref: object) -> str:
    return f"{CDN}/{Path(str(ref)).name}"


def kling_shot(root: Path, make_media: Any, scenes: tuple[Scene, ...] = (),
               duration: int = 5) -> CompiledShot:
    shot = a_shot(root, make_media, " pours the coffee")
    return replace(shot, request=replace(shot.request, model="kling-v3-omni", duration=duration,
                                         prompt_extend=None, scenes=scenes))


SCENES = (Scene(1, 0.0, 2.0, "Scene 1 [0-2s]: Image 1 pours the coffee"),
          Scene(2, 2.0, 5.0, "Image 1 smiles at the door"))


# -- tokens --------------------------------------------------------------------------------------


def test_a_token_names_its_access_key_and_holds_half_an_hour() -> None:
    token = jwtokens.sign("ak-1", "sk-1", now=1_000_000)
    assert jwtokens.verify(token, "sk-1", now=1_000_000) == "ak-1"
    assert jwtokens.verify(token, "sk-1", now=1_000_000 + 1799) == "ak-1"
    assert jwtokens.verify(token, "sk-1", now=1_000_000 + 1800) is None  # expired
    assert jwtokens.verify(token, "sk-1", now=1_000_000 - 6) is None  # not yet valid
    assert jwtokens.verify(token, "sk-2", now=1_000_000) is None  # another secret
    assert "sk-1" not in token


def test_a_tampered_or_malformed_token_is_refused() -> None:
    head, body, mac = jwtokens.sign("ak-1", "sk-1", now=1_000_000).split(".")
    other = jwtokens.sign("ak-2", "sk-1", now=1_000_000).split(".")[1]
    for bad in (f"{head}.{other}.{mac}", f"{head}.{body}", "", "a.b.c", f"{head}.{body}.x"):
        assert jwtokens.verify(bad, "sk-1", now=1_000_000) is None, bad


# -- the body ------------------------------------------------------------------------------------


def test_timed_scenes_become_one_call_with_several_shots(tmp_path: Path, make_media: Any) -> None:
    body = KLING.body(kling_shot(tmp_path, make_media, SCENES).request, url_for)
    assert body["multi_shot"] is True and body["shot_type"] == "customize"
    assert body["multi_prompt"] == [
        {"index": 1, "prompt": "<<<image_1>>> pours the coffee", "duration": "2"},  # no head
        {"index": 2, "prompt": "<<<image_1>>> smiles at the door", "duration": "3"}]
    assert body["duration"] == "5" and body["model_name"] == "kling-v3-omni"


def test_the_body_speaks_klings_names(tmp_path: Path, make_media: Any) -> None:
    body = KLING.body(kling_shot(tmp_path, make_media).request, url_for)
    assert body == {"model_name": "kling-v3-omni", "prompt": "<<<image_1>>> pours the coffee",
                    "mode": "std", "aspect_ratio": "16:9", "duration": "5",
                    "watermark_info": {"enabled": False},
                    "image_list": [{"image_url": f"{CDN}/mia.png"}]}
    assert unbody(KLING, body)["input"]["media"] == [
        {"type": "reference_image", "url": f"{CDN}/mia.png"}]


@pytest.mark.parametrize(("scenes", "duration", "said"), [
    (SCENES, 6, "add up to the shot's duration (6 s); these add up to 5 s"),
    (tuple(Scene(n, n - 1.0, float(n), "x") for n in range(1, 7)), 6, "1 to 5 timed scenes"),
    ((Scene(1, 0.0, 2.5, "a"), Scene(2, 2.5, 5.0, "b")), 5, "whole seconds"),
    ((Scene(1, 0.0, 5.0, "x" * 513),), 5, "kling takes at most 512 a scene"),
])
def test_scenes_kling_cannot_take_are_refused_before_a_call(
        tmp_path: Path, make_media: Any, scenes: tuple[Scene, ...], duration: int,
        said: str) -> None:
    request = kling_shot(tmp_path, make_media, scenes, duration).request
    found = scene_problems(request, KLING)
    assert any(said in p for p in found), found
    with pytest.raises(StoryboardError, match="kling"):
        KLING.body(request, url_for)


def test_a_content_refusal_is_named_and_free() -> None:
    refused = classify_failure("kling", "1301", "", stage="render")
    assert refused.content and not refused.billed and refused.basis == "guess"
    assert "content refusal" in refused.words() and "nothing billed" in refused.words()
    other = classify_failure("kling", "5000", "internal error", stage="render")
    assert not other.content and not other.billed
    at_submit = classify_failure("kling", "1301", "", stage="submit")
    assert at_submit.content and not at_submit.billed


# -- through the emulator ------------------------------------------------------------------------


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)  # the emulator verifies tokens with its key
    yield from serve(monkeypatch)


def run_kling(emu: EmulatorServer, root: Path, shot: CompiledShot) -> RunResult:
    async def go() -> RunResult:
        provider = provider_for(emu, "kling", root)
        try:
            return await render([shot], provider, RunOptions(
                poll_schedule=(0.2,), backoff_base=0.2, backoff_cap=1.0, reconcile_delay=0.2,
                late_window=10.0), Wiring(series_dir=root))
        finally:
            await provider.aclose()
    return asyncio.run(go())


def test_a_shot_is_submitted_polled_and_downloaded_with_signed_tokens(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    result = run_kling(emu, tmp_path, kling_shot(tmp_path, make_media, SCENES))
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1
    assert result.shots[0].cost == pytest.approx(5 * 0.112)


def test_a_token_signed_with_another_secret_is_refused(
        emu: EmulatorServer, tmp_path: Path, make_media: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_SECRET_KEY", "not-the-secret")
    provider = provider_for(emu, "kling", tmp_path)
    shot = kling_shot(tmp_path, make_media)

    async def go() -> None:
        try:
            await provider.submit(shot, None)
        finally:
            await provider.aclose()
    with pytest.raises(AuthError):
        asyncio.run(go())
    assert emu.stats()["submissions"]["total"] == 0


def test_without_the_secret_nothing_is_sent(
        emu: EmulatorServer, tmp_path: Path, make_media: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLING_SECRET_KEY")
    provider = provider_for(emu, "kling", tmp_path)
    with pytest.raises(AuthError, match="KLING_SECRET_KEY is not set"):
        provider.preflight()
    asyncio.run(provider.aclose())


def test_a_lost_submit_is_found_and_paid_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    emu.script("submit:lost")  # the task is made, its answer never arrives
    result = run_kling(emu, tmp_path, kling_shot(tmp_path, make_media, SCENES))
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1


def test_a_refused_task_fails_named_and_free(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    emu.script("task:moderation")
    result = run_kling(emu, tmp_path, kling_shot(tmp_path, make_media))
    shot = result.shots[0]
    assert shot.state == "failed", result.shots
    text = json.dumps(shot.__dict__, default=str)
    assert "1301" in text  # Kling's own code for a content refusal
    assert not shot.cost  # Kling bills no failed task (gateways' default would bill this one)
    assert classify_failure("kling", "1301", "", stage="render").content


# -- check, at the line; the neutral series' golden body ----------------------------------------

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "models-kling.json"
SCENES_SHOT = """\
      duration: 6
      scenes:
        - at: 0-2s
          action: "@mia holds @guitar"
        - at: 2-5s
          action: "@mia smiles"
"""


def test_the_neutral_series_compiles_to_its_golden_kling_body(
        tmp_path: Path, make_media: Any) -> None:
    shots, problems = compiled(series(tmp_path, make_media, "kling-v3-omni"), "kling")
    assert errors(problems) == []
    body = KLING.body(shots[0].request, url_for)
    text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert [item["duration"] for item in body["multi_prompt"]] == ["3", "7"]


@pytest.mark.parametrize(("shot", "message", "line"), [
    (SCENES_SHOT, "kling's timed scenes must add up to the shot's duration (6 s)", 18),
    ("      first_frame: media/mia.png\n      prompt: 'the barista smiles'\n",
     "first_frame", 16),
    # the model's own limit, said once (the gateway's is the same cause)
    ("      ratio: '4:3'\n      prompt: '@mia waves'\n", "kling-v3-omni takes 16:9, 9:16, 1:1", 16),
    ("      duration: 16\n      prompt: '@mia waves'\n", "expected 3 to 15 s on kling-v3-omni",
     16),
    ("      prompt: '@mia waves'\n      say: {mia: 'Hello.'}\n", "voice", 17),
])
def test_check_refuses_what_kling_cannot_take_at_its_line(
        tmp_path: Path, make_media: Any, shot: str, message: str, line: int) -> None:
    _, problems = compiled(series(tmp_path, make_media, "kling-v3-omni", shot), "kling")
    found = [p for p in problems if message in p.message and p.severity == "error"]
    assert found, [p.message for p in problems]
    assert found[0].span is not None and found[0].span.line == line, found[0]


def test_dashscope_does_not_serve_kling_and_check_says_so(tmp_path: Path, make_media: Any) -> None:
    root = series(tmp_path, make_media, "kling-v3-omni")
    _, problems = compile_lenient(load_source(root), provider="dashscope")
    found = [p for p in problems if "dashscope does not sell kling-v3-omni" in p.message]
    assert found and found[0].severity == "error", problems
    assert found[0].span is not None and found[0].span.line == 15  # the shot's model key


def test_a_refused_submit_is_named_and_nothing_is_paid(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    emu.script("submit:moderation")  # refused before a task exists
    result = run_kling(emu, tmp_path, kling_shot(tmp_path, make_media))
    shot = result.shots[0]
    assert shot.state == "failed" and "1301" in str(shot), result.shots
    assert emu.stats()["submissions"]["total"] == 0 and not shot.cost


# -- Kling's envelope, both sides (issue 49, vendors.md section 4) --------------------------------

DATA_KEYS = {"task_id", "task_status", "task_status_msg", "task_info", "task_result",
             "created_at", "updated_at"}


def kling_http(emu: EmulatorServer) -> httpx.Client:
    token = jwtokens.sign("ak-test", KEY)
    return web.client(base_url=emu.gateway_url("kling"), timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def kling_body(tmp_path: Path, make_media: Any) -> dict[str, Any]:
    return KLING.body(kling_shot(tmp_path, make_media).request, url_for)


def test_every_route_answers_in_klings_envelope(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    with kling_http(emu) as http:
        made = http.post("/v1/videos/omni-video", json=kling_body(tmp_path, make_media)).json()
        task_id = made["data"]["task_id"]
        done = wait_until(http, task_id, "succeed")
        listed = http.get("/v1/videos/omni-video").json()
    for answer in (made, done, listed):
        assert (answer["code"], answer["message"]) == (0, "SUCCEED") and answer["request_id"]
    assert set(made["data"]) == DATA_KEYS and made["data"]["task_status"] == "submitted"
    assert made["data"]["task_info"] == {"external_task_id": ""}
    assert set(done["data"]) == DATA_KEYS
    [video] = done["data"]["task_result"]["videos"]
    assert set(video) == {"id", "url", "duration"} and video["duration"] == "5"
    created, updated = done["data"]["created_at"], done["data"]["updated_at"]
    assert 1e12 < created <= updated  # milliseconds
    [item] = listed["data"]
    assert item["task_id"] == task_id and set(item) >= DATA_KEYS


def wait_until(http: httpx.Client, task_id: str, word: str) -> dict[str, Any]:
    for _ in range(100):
        answer = http.get(f"/v1/videos/omni-video/{task_id}").json()
        if answer["data"]["task_status"] == word:
            return dict(answer)
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} never became {word}")


@pytest.mark.parametrize(("fault", "status", "code"), [
    (None, 400, 1201), ("submit:429", 429, 1302), ("submit:500", 500, 5000),
    ("submit:503", 503, 5001), ("submit:moderation", 400, 1301),
    ("submit:refused=image", 400, 1301)])
def test_errors_are_klings_code_envelopes(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, fault: str | None, status: int,
        code: int) -> None:
    body = kling_body(tmp_path, make_media)
    if fault is None:
        body["aspect_ratio"] = "4:3"  # a parameter Kling refuses
    else:
        emu.script(fault)
    with kling_http(emu) as http:
        answer = http.post("/v1/videos/omni-video", json=body)
    assert answer.status_code == status
    said = answer.json()
    assert set(said) == {"code", "message", "request_id"} and said["code"] == code, said
    assert emu.stats()["submissions"]["total"] == 0


def test_an_unknown_task_is_klings_1203(emu: EmulatorServer) -> None:
    with kling_http(emu) as http:
        answer = http.get("/v1/videos/omni-video/no-such-task")
    assert (answer.status_code, answer.json()["code"]) == (404, 1203)


class Enveloped(httpx.AsyncBaseTransport):
    """Kling answering HTTP 200 with a code that is not 0 (the envelope alone says it failed)."""

    def __init__(self, code: int) -> None:
        self.code = code
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200, json={"code": self.code, "message": "said in the envelope",
                                         "request_id": "r-1"})


@pytest.mark.parametrize(("code", "error"), [
    (1201, RequestRejected), (1301, RequestRejected), (1302, RateLimited),
    (1303, RateLimited), (5000, ServerError), (1000, AuthError)])
def test_the_transport_reads_a_failed_envelope_at_http_200(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch, code: int,
        error: type[Exception]) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-test")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    transport = Enveloped(code)
    provider = GatewayProvider.from_settings(KLING, {
        "base_url": "http://kling.test", "media_base_url": CDN}, tmp_path, transport=transport)
    shot = kling_shot(tmp_path, make_media)

    async def go() -> None:
        try:
            await provider.submit(shot, None)
        finally:
            await provider.aclose()
    with pytest.raises(error) as caught:
        asyncio.run(go())
    assert getattr(caught.value, "code", None) == str(code)
    assert "said in the envelope" in str(caught.value)
