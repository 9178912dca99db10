"""Seedance 2.0 on Volcengine Ark and BytePlus ModelArk (issue 49.2): one content-item dialect.

The neutral test series compiled to each Seedance target, held to its golden bodies
(``tests/golden/models-seedance.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites it); what ``check``
refuses at the line; token prices shown per second; through the emulator: a content refusal at
submit and after the render, named and classified as not billed; a lost submit never paid twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.errors import RequestRejected
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, Mention, ShotRequest, write
from storyboard.media import samples
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.run.plans import plan
from storyboard.run.trip.model import ShotEvent
from storyboard.targets import TaskStatus
from storyboard.targets.video.models import (
    SEEDANCE_20_ARK,
    SEEDANCE_20_MODELARK,
    SEEDANCE_25_ARK,
    SEEDANCE_25_MODELARK,
    tokens_per_second,
)
from tests.fixtures import web
from tests.fixtures.example import copy_example
from tests.fixtures.gateway_runs import run
from tests.fixtures.models import REFERENCE_SHOT, compiled, errors, series
from tests.fixtures.vendor_models import url_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "models-seedance.json"
KEY = "ark-test-key-4821"
PAIRS = {SEEDANCE_20_ARK.id: "ark", SEEDANCE_20_MODELARK.id: "modelark",
         SEEDANCE_25_ARK.id: "ark", SEEDANCE_25_MODELARK.id: "modelark"}
FRAMES_SHOT = """\
      duration: 5
      first_frame: media/mia.png
      last_frame: media/guitar.png
      prompt: "the barista turns to the guitar"
"""
# A prompt alone is not a shot storyboard sends (it asks every shot for a picture to hold it).
SHOTS = {"references": REFERENCE_SHOT, "frames": FRAMES_SHOT}


def test_the_neutral_series_compiles_to_its_golden_seedance_bodies(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    bodies: dict[str, Any] = {}
    for model, dialect in sorted(PAIRS.items()):
        for kind, shot in SHOTS.items():
            shots, problems = compiled(series(tmp_path / model / kind, make_media, model, shot),
                                       dialect)
            assert errors(problems) == []
            bodies[f"{dialect} {model} {kind}"] = DIALECTS[dialect].body(shots[0].request,
                                                                         url_for)
    text = json.dumps(bodies, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_a_voice_is_an_audio_item_named_in_the_prompt_and_resolutions_are_lower_case(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shots, _ = compiled(series(tmp_path, make_media, SEEDANCE_20_ARK.id), "ark")
    body = DIALECTS["ark"].body(shots[0].request, url_for)
    text, *items = body["content"]
    assert text["type"] == "text" and "with the voice of Audio 1" in text["text"]
    assert [(i["type"], i["role"]) for i in items] == [
        ("video_url", "reference_video"), ("image_url", "reference_image"),
        ("image_url", "reference_image"), ("audio_url", "reference_audio")]
    assert items[-1]["audio_url"]["url"].endswith("/mia.wav")
    assert (body["resolution"], body["generate_audio"]) == ("720p", True)
    assert "negative_prompt" not in body and "prompt" not in body


REFUSALS = [
    ("      duration: 3\n      prompt: '@mia waves'\n",
     f"a 3 s shot; expected 4 to 15 s on {SEEDANCE_20_ARK.id}", 16),
    ("      resolution: 1080P\n      prompt: '@mia waves'\n",
     f"resolution 1080P; {SEEDANCE_20_ARK.id} renders 480P, 720P", 16),
    ("      negative_prompt: blurry\n      prompt: '@mia waves'\n",
     f"{SEEDANCE_20_ARK.id} takes no negative prompt", 16),
    ("      first_frame: media/guitar.png\n      prompt: '@mia waves'\n",
     f"{SEEDANCE_20_ARK.id} takes references or a first/last frame, not both", 16),
]


@pytest.mark.parametrize(("shot", "message", "line"), REFUSALS)
def test_check_refuses_what_seedance_cannot_take_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], shot: str, message: str,
        line: int) -> None:
    _, problems = compiled(series(tmp_path, make_media, SEEDANCE_20_ARK.id, shot), "ark")
    found = [p for p in problems if message in p.message]
    assert found, [p.message for p in problems]
    assert found[0].severity == "error" and found[0].span is not None
    assert found[0].span.line == line


def test_a_seedance_model_on_dashscope_is_refused_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    _, problems = compiled(series(tmp_path, make_media, SEEDANCE_20_ARK.id), "freepik")
    said = [p for p in problems if f"not {SEEDANCE_20_ARK.id}" in p.message]
    assert said and said[0].span is not None and said[0].span.line == 15


def test_a_seedance_model_rendered_on_dashscope_is_an_error_at_its_model_line(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SEEDANCE_20_ARK.id, "      prompt: '@mia waves'\n")
    _, problems = compile_lenient(load_source(root), provider="dashscope")
    said = [p for p in problems if p.code == "model-provider"]
    assert [p.message for p in said] == [
        f"dashscope does not sell {SEEDANCE_20_ARK.id}: render it with provider ark "
        "(provider: {name: ark})"]
    assert said[0].severity == "error" and said[0].span is not None and said[0].span.line == 15


def test_tokens_are_priced_as_seconds() -> None:
    # 720p 16:9 at 24 fps: 21,600 tokens a second, 108,000 for 5 s (Volcengine's own example).
    assert tokens_per_second("720P") * 5 == 108_000
    ark, modelark = DIALECTS["ark"].protocol.prices["default"], \
        DIALECTS["modelark"].protocol.prices["default"]
    assert (ark.currency, ark.per_second["720P"]) == ("CNY", 0.9936)  # 21,600 x CNY 46 / M
    assert (modelark.currency, modelark.per_second["720P"]) == ("USD", 0.0929)
    assert ark.cost("720P", 10) == pytest.approx(9.936)


def test_plan_prices_a_seedance_shot_by_its_seconds(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SEEDANCE_20_ARK.id, "      duration: 10\n"
                  "      prompt: '@mia waves'\n")
    shots, problems = compiled(root, "ark")
    assert errors(problems) == []
    result = plan(shots, provider="ark", prices=DIALECTS["ark"].protocol.prices["default"],
                  series_dir=root)
    assert result.total_cost == pytest.approx(9.936)  # 10 s x 21,600 tokens x CNY 46 / M


# -- through the emulator --------------------------------------------------------------------

MIA = Mention("mia", "image", 1)


def quick_render(body: dict[str, Any], out: Path, **_: object) -> None:
    samples.video(out, 320, 180, seconds=float(body["parameters"]["duration"]), fps=10)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.1, api_key=KEY, render=quick_render, seed=5) as server:
        yield server


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PAIRS.values():
        monkeypatch.setenv(DIALECTS[name].key_env, KEY)


def a_shot(root: Path, make_media: Callable[..., Path], words: str,
           model: str = SEEDANCE_20_ARK.id) -> CompiledShot:
    """A 4 s shot of one reference; its hash is its words' (shots are cached by hash)."""
    image = make_media("image", root / "media" / "mia.png")
    tokens = (MIA, words)
    request = ShotRequest(
        model=model, prompt=write(tokens), tokens=tokens, resolution="720P", ratio="16:9",
        duration=4, prompt_extend=False, watermark=False,
        media=(MediaItem("reference_image", MediaRef(path=image), "Image 1", "mia"),))
    return CompiledShot("s", "ep01", "a", request, hashlib.sha256(words.encode()).hexdigest())


def gateway(emu: EmulatorServer, name: str, root: Path) -> GatewayProvider:
    return GatewayProvider.from_settings(DIALECTS[name], {
        "base_url": emu.gateway_url(name), "media_base_url": "https://cdn.example.com/s"}, root)


def test_a_prompt_refused_at_submit_is_named_and_free(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    before = emu.stats()["submissions"]["total"]
    emu.script("submit:moderation")

    async def go() -> None:
        provider = gateway(emu, "ark", tmp_path)
        try:
            await provider.submit(a_shot(tmp_path, make_media, " waves, refused"), None)
        finally:
            await provider.aclose()
    with pytest.raises(RequestRejected) as info:
        asyncio.run(go())
    assert info.value.code == "InputTextSensitiveContentDetected"
    assert "the prompt was refused by moderation; not billed" in str(info.value)
    assert emu.stats()["submissions"]["total"] == before


def test_a_video_refused_after_the_render_fails_named_and_free(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    emu.script("task:moderation")
    shot = a_shot(tmp_path, make_media, " waves, the video refused", SEEDANCE_20_MODELARK.id)
    events: list[ShotEvent] = []
    result = run(emu, "modelark", tmp_path, shot, events)
    (only,) = result.shots
    assert (only.state, only.code) == ("failed", "OutputVideoSensitiveContentDetected"), only
    assert "the finished video was refused by moderation; not billed" in only.message
    state = DIALECTS["modelark"].task_state({"id": "cgt-1", "status": "failed", "error": {
        "code": "InputImageSensitiveContentDetected.PrivacyInformation", "message": "a face"}})
    assert state.status is TaskStatus.FAILED and "a reference picture was refused" in \
        state.message


def test_expired_is_a_failure_and_an_unknown_word_never_ends_a_task() -> None:
    ark = DIALECTS["ark"]
    assert ark.task_state({"id": "cgt-2", "status": "expired"}).status is TaskStatus.FAILED
    assert ark.task_state({"id": "cgt-3", "status": "paused"}).status is TaskStatus.UNKNOWN


def seeded(shot: CompiledShot, seed: int, words: str = "") -> CompiledShot:
    """``shot`` with its own seed (a setting Ark's list shows), and other words if given."""
    request = replace(shot.request, seed=seed)
    if words:
        request = replace(request, tokens=(MIA, words), prompt=write((MIA, words)))
    return replace(shot, request=request)


def outside_task(emu: EmulatorServer, shot: CompiledShot) -> str:
    """A task another client of the account makes (storyboard's journal and ledger never hear
    of it), with ``shot``'s settings."""
    body = DIALECTS["ark"].body(shot.request, url_for)
    answer = web.post(emu.gateway_url("ark") + "/contents/generations/tasks", json=body,
                        headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def lost_task_id(emu: EmulatorServer, words: str) -> str:
    return next(t.task_id for t in emu.service.table.tasks.values()
                if t.submission.prompt.endswith(words))


def test_a_lost_submit_is_found_by_its_settings_and_paid_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    events: list[ShotEvent] = []
    known = seeded(a_shot(tmp_path / "ok", make_media, " waves"), 101)
    done = run(emu, "ark", tmp_path / "ok", known, events)
    assert [s.state for s in done.shots] == ["done"] and done.submits == 1
    task = next(t for t in emu.service.table.tasks.values() if t.submission.prompt.endswith(
        "Image 1 waves") and t.submission.model == SEEDANCE_20_ARK.id)
    assert task.submission.media[0]["type"] == "reference_image"
    lost = seeded(a_shot(tmp_path / "lost", make_media, " waves, its answer lost"), 101)
    outside_task(emu, seeded(lost, 102, " hums"))  # another seed: never this submit's task
    nods = seeded(lost, 101, " nods")
    outside_task(emu, replace(nods, request=replace(nods.request, duration=5)))  # another length
    before = emu.stats()["submissions"]["total"]
    emu.script("submit:lost")
    first = run(emu, "ark", tmp_path / "lost", lost, events, reconcile_delay=0.0,
                request_timeout=5.0)
    (only,) = first.shots
    # Ark's list shows no prompt: the one task since the submit with its model, length,
    # resolution, ratio and seed (the other shot's task is known to the ledger) is adopted.
    assert only.state == "done", only
    assert only.task_id == lost_task_id(emu, "its answer lost")
    assert emu.stats()["submissions"]["total"] == before + 1  # never sent again


def test_two_tasks_a_lost_submit_could_be_stop_it_unpaid_again(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    events: list[ShotEvent] = []
    lost = seeded(a_shot(tmp_path / "lost", make_media, " waves twice"), 202)
    other = outside_task(emu, seeded(lost, 202, " bows"))  # same settings, another prompt
    before = emu.stats()["submissions"]["total"]
    emu.script("submit:lost")
    first = run(emu, "ark", tmp_path / "lost", lost, events, reconcile_delay=0.0,
                request_timeout=5.0)
    (only,) = first.shots
    assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
    mine = lost_task_id(emu, "waves twice")
    assert other in only.message and mine in only.message
    assert "2 task(s) with its model, duration, resolution, ratio and seed" in only.message
    where = f"{tmp_path / 'lost'} ep01/a"
    assert f"`storyboard task adopt {where} TASK_ID` (one of " in only.message
    assert f"`storyboard task forget {where}`" in only.message
    emu.clear_faults()
    again = run(emu, "ark", tmp_path / "lost", lost, events, reconcile_delay=0.0)
    assert again.submits == 0 and again.shots[0].code == "AmbiguousTask"
    assert emu.stats()["submissions"]["total"] == before + 1  # nothing paid twice


def test_a_list_too_long_to_read_whole_is_no_answer(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the pages it reads, the list cannot say "none": the lookup fails, never resubmits."""
    from storyboard.errors import ListUnavailable
    from storyboard.providers.gateway import provider as gateway_module

    shot = seeded(a_shot(tmp_path, make_media, " waits"), 303)
    for n in range(3):
        outside_task(emu, seeded(shot, 400 + n))
    monkeypatch.setattr(gateway_module, "PAGE_SIZE", 1)
    monkeypatch.setattr(gateway_module, "LIST_PAGES", 2)
    provider = gateway(emu, "ark", tmp_path)

    async def go() -> None:
        try:
            await provider.find(shot, 0.0)
        finally:
            await provider.aclose()
    with pytest.raises(ListUnavailable, match="past 2 pages of 1"):
        asyncio.run(go())


def test_the_key_goes_only_to_its_own_host(tmp_path: Path) -> None:
    ark = GatewayProvider.from_settings(DIALECTS["ark"], {}, tmp_path)
    modelark = GatewayProvider.from_settings(DIALECTS["modelark"], {}, tmp_path)
    assert ark.settings.base_url == "https://ark.cn-beijing.volces.com/api/v3"
    assert modelark.settings.base_url == "https://ark.ap-southeast.bytepluses.com/api/v3"
    assert (ark.settings.key_env, modelark.settings.key_env) == ("ARK_API_KEY",
                                                                 "MODELARK_API_KEY")
    assert SEEDANCE_20_ARK.id in ark.dialect.models and SEEDANCE_20_ARK.id not in modelark.dialect.models


def test_compare_prices_seedance_on_its_own_host_with_what_it_cannot_render(
        tmp_path: Path) -> None:
    import shutil

    from click.testing import CliRunner

    from storyboard.cli.main import cli
    root = copy_example(tmp_path / "coffee-shop",
                        ignore=shutil.ignore_patterns(".storyboard", "out"))
    result = CliRunner().invoke(cli, ["plan", str(root), "--provider", "dashscope", "--json",
                                      "--compare", f"wan2.7-r2v,{SEEDANCE_20_ARK.id}"])
    assert result.exit_code == 0, result.output
    wan, seedance = json.loads(result.stdout)
    assert (wan["currency"], seedance["currency"]) == ("USD", "CNY")
    assert seedance["cost"] == pytest.approx(seedance["billed_seconds"] * 0.9936, abs=0.01)
    said = {r["message"].split(";")[0] for r in seedance["refused"]}
    assert "a 3 s shot" in " ".join(said)
    # the series-wide negative_prompt is only not sent: the shots that can go, go
    assert seedance["renders"] == seedance["shots"] - len(seedance["refused_shots"]) == 1
    assert not any("negative" in m for m in said)
    assert (seedance["provider"], seedance["key"]) == ("ark", "ARK_API_KEY")
    assert (wan["provider"], wan["key"], wan["why_none"]) == ("dashscope", "DASHSCOPE_API_KEY",
                                                              "")
    assert any("takes references or a first/last frame, not both" in m for m in said)


# -- Seedance 2.5 (issue 59.5) ---------------------------------------------------------------

LONG_SHOT = "      duration: 30\n      resolution: 1080P\n      prompt: '@mia waves'\n"


@pytest.mark.parametrize(("model", "dialect"), [(SEEDANCE_25_ARK.id, "ark"),
                                                (SEEDANCE_25_MODELARK.id, "modelark")])
def test_seedance_25_takes_30_s_at_1080p_where_20_is_refused_at_its_lines(
        tmp_path: Path, make_media: Callable[..., Path], model: str, dialect: str) -> None:
    _, problems = compiled(series(tmp_path / "25", make_media, model, LONG_SHOT), dialect)
    assert errors(problems) == []
    older = SEEDANCE_20_ARK.id if dialect == "ark" else SEEDANCE_20_MODELARK.id
    _, problems = compiled(series(tmp_path / "20", make_media, older, LONG_SHOT), dialect)
    said = {p.message: p.span.line for p in problems if p.severity == "error" and p.span}
    assert said == {f"a 30 s shot; expected 4 to 15 s on {older}": 16,
                    f"resolution 1080P; {older} renders 480P, 720P": 17}


def test_plan_prices_a_seedance_25_shot_by_its_own_table(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SEEDANCE_25_MODELARK.id, LONG_SHOT)
    shots, problems = compiled(root, "modelark")
    assert errors(problems) == []
    result = plan(shots, provider="modelark",
                  prices=DIALECTS["modelark"].protocol.prices["default"], series_dir=root)
    assert result.total_cost == pytest.approx(30 * 0.45)  # USD 0.45/s at 1080p (third-party)


def test_the_emulator_holds_each_seedance_body_to_its_own_declaration(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """A 30 s 1080p shot: Seedance 2.5 renders it; 2.0, on the same host, is refused (400)."""
    shot = a_shot(tmp_path, make_media, " waves for half a minute", SEEDANCE_25_ARK.id)
    long = replace(shot, request=replace(shot.request, duration=30, resolution="1080P"))
    events: list[ShotEvent] = []
    done = run(emu, "ark", tmp_path, long, events)
    assert [s.state for s in done.shots] == ["done"], done.shots
    task = next(t for t in emu.service.table.tasks.values()
                if t.submission.prompt.endswith("for half a minute"))
    assert (task.submission.model, task.submission.duration) == (SEEDANCE_25_ARK.id, 30)
    older = replace(long.request, model=SEEDANCE_20_ARK.id, resolution="720P")
    body = DIALECTS["ark"].body(older, url_for)
    before = emu.stats()["submissions"]["total"]
    answer = web.post(emu.gateway_url("ark") + "/contents/generations/tasks", json=body,
                        headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert answer.status_code == 400, answer.text
    assert "parameters.duration must be an integer in 4..15" in answer.text
    assert emu.stats()["submissions"]["total"] == before
