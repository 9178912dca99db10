"""MiniMax's own API (issue 49.2): H3 on v2 (``minimax``, ``minimaxi``) and Hailuo 2.3 on v1
(``minimax-hailuo``, ``minimaxi-hailuo``).

The neutral test series compiled to each target, held to its golden bodies
(``tests/golden/models-minimax.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites it); what ``check``
refuses at the line; prices; through the emulator: submit, poll, download (v1 through its file
hop), MiniMax's error bodies (v2's ``{type: "error"}``, v1's ``base_resp`` in HTTP 200 answers),
a content refusal at submit (1026) and after the render (1027) named and classified, a lost
submit never paid twice, the 7-day query window, the key checked.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.emulator.gateways.unwire import unbody
from storyboard.errors import AuthError, RateLimited, RequestRejected
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledShot, ShotRequest
from storyboard.language.resolving.modelcheck import seconds_problems
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.run.plans import plan
from storyboard.run.trip.model import ShotEvent
from storyboard.targets import TaskStatus
from storyboard.targets.kinds import classify_failure
from storyboard.targets.video.models import model_of
from tests.fixtures import web
from tests.fixtures.gateway_runs import KEY, a_shot, provider_for, run, serve
from tests.fixtures.models import compiled, errors, series
from tests.fixtures.vendor_models import url_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "models-minimax.json"
H3, HAILUO = "MiniMax-H3", "MiniMax-Hailuo-2.3"
H3_SHOT = "      resolution: 768P\n"
REFERENCES = H3_SHOT + """\
      duration: 10
      scenes:
        - at: 0-3s
          action: "@sam holds @guitar and plays"
        - at: 3-10s
          action: "@mia smiles"
          say: {mia: "That was lovely."}
"""
FRAMES = H3_SHOT + """\
      duration: 5
      first_frame: media/mia.png
      last_frame: media/guitar.png
      prompt: "the barista turns to the guitar"
"""
PICTURE = """\
      resolution: 768P
      duration: 6
      first_frame: media/mia.png
      prompt: "the barista smiles and hums"
"""
# (model, target, shot kind) -> the shot; every target of MiniMax's API, both hosts.
CASES = {(H3, "minimax", "references"): REFERENCES, (H3, "minimaxi", "frames"): FRAMES,
         (HAILUO, "minimax-hailuo", "frame"): PICTURE,
         (HAILUO, "minimaxi-hailuo", "frame"): PICTURE.replace("768P", "1080P")}


def test_the_neutral_series_compiles_to_its_golden_minimax_bodies(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    bodies: dict[str, Any] = {}
    for (model, target, kind), shot in sorted(CASES.items()):
        root = series(tmp_path / target / kind, make_media, model, shot)
        shots, problems = compiled(root, target)
        assert errors(problems) == [], (target, kind)
        bodies[f"{target} {model} {kind}"] = DIALECTS[target].body(shots[0].request, url_for)
    text = json.dumps(bodies, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_h3_sends_content_items_with_roles_and_voices_as_audio_items(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shots, _ = compiled(series(tmp_path, make_media, H3, REFERENCES), "minimax")
    body = DIALECTS["minimax"].body(shots[0].request, url_for)
    text, *items = body["content"]
    assert text["type"] == "text" and "with the voice of Audio 1" in text["text"]
    assert [(i["type"], i["role"]) for i in items] == [
        ("video_url", "reference_video"), ("image_url", "reference_image"),
        ("image_url", "reference_image"), ("audio_url", "reference_audio")]
    assert (body["model"], body["resolution"], body["duration"]) == (H3, "768P", 10)
    assert not {"seed", "negative_prompt", "prompt", "generate_audio"} & set(body)


def test_hailuo_sends_a_flat_body_with_its_first_frame(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shots, _ = compiled(series(tmp_path, make_media, HAILUO, PICTURE), "minimax-hailuo")
    body = DIALECTS["minimax-hailuo"].body(shots[0].request, url_for)
    assert body["first_frame_image"].endswith("/mia.png")
    assert (body["model"], body["resolution"], body["duration"]) == (HAILUO, "768P", 6)
    assert "ratio" not in body and "content" not in body


REFUSALS = [
    (H3, "minimax", H3_SHOT + "      seed: 7\n      prompt: '@mia waves'\n",
     f"{H3} takes no seed", 17),
    (H3, "minimax", H3_SHOT + "      negative_prompt: blurry\n      prompt: '@mia waves'\n",
     f"{H3} takes no negative prompt", 17),
    (H3, "minimax", "      resolution: 720P\n      prompt: '@mia waves'\n",
     f"resolution 720P; {H3} renders 768P, 2K", 16),
    (H3, "minimaxi", H3_SHOT + "      duration: 3\n      prompt: '@mia waves'\n",
     f"a 3 s shot; expected 4 to 15 s on {H3}", 17),
    (H3, "minimax", H3_SHOT + "      first_frame: media/guitar.png\n      prompt: '@mia waves'\n",
     f"{H3} takes references or a first/last frame, not both", 17),
    (HAILUO, "minimax-hailuo", PICTURE.replace("duration: 6", "duration: 8"),
     f"a 8 s shot; {HAILUO} renders 6 or 10 s at 768P", 17),
    (HAILUO, "minimax-hailuo", PICTURE.replace("768P", "1080P").replace(": 6", ": 10"),
     f"a 10 s shot; {HAILUO} renders 6 s at 1080P", 17),
    (HAILUO, "minimaxi-hailuo", PICTURE.replace("768P", "2K"),
     f"resolution 2K; {HAILUO} renders 768P, 1080P", 16),
    (HAILUO, "minimax-hailuo", "      resolution: 768P\n      duration: 6\n"
                               "      prompt: '@mia waves'\n",
     f"{HAILUO} takes no character references (@mia)", 14),
    (HAILUO, "minimax-hailuo", PICTURE.replace("prompt:", "last_frame: media/guitar.png\n"
                                                          "      prompt:"),
     f"{HAILUO} takes no last_frame", 19),
    (HAILUO, "minimax-hailuo", "      ratio: '9:16'\n" + PICTURE,
     f"ratio 9:16; {HAILUO} takes 16:9", 16),
]


@pytest.mark.parametrize(("model", "target", "shot", "message", "line"), REFUSALS)
def test_check_refuses_what_minimax_cannot_take_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], model: str, target: str, shot: str,
        message: str, line: int) -> None:
    _, problems = compiled(series(tmp_path, make_media, model, shot), target)
    found = [p for p in problems if message in p.message]
    assert found, [p.message for p in problems]
    assert found[0].severity == "error" and found[0].span is not None
    assert found[0].span.line == line, found[0]


def test_h3_voices_are_at_most_three_audio_items_of_15_seconds_together() -> None:
    h3 = model_of(H3)
    assert h3 is not None and (h3.voices, h3.max_audios) == ("reference_audio", 3)
    said = list(seconds_problems(h3, 5, [], [8.0, 8.0]))
    assert said == [f"its voices last 16 s together; {H3} takes at most 15 s of reference audio"]
    assert not list(seconds_problems(h3, 5, [], [7.5, 7.5]))


@pytest.mark.parametrize("model", [H3, HAILUO])
def test_dashscope_does_not_sell_minimaxs_own_ids_and_check_says_who_does(
        tmp_path: Path, make_media: Callable[..., Path], model: str) -> None:
    root = series(tmp_path, make_media, model, PICTURE)
    _, problems = compile_lenient(load_source(root), provider="dashscope")
    said = [p for p in problems if p.code == "model-provider"]
    sellers = "minimax or minimaxi" if model == H3 else "minimax-hailuo or minimaxi-hailuo"
    assert said and f"dashscope does not sell {model}: render it with provider {sellers}" \
        in said[0].message
    assert said[0].span is not None and said[0].span.line == 15


def test_plan_prices_each_host_in_its_own_currency(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    for target, currency, cost in (("minimax", "USD", 0.40), ("minimaxi", "CNY", 2.5)):
        root = series(tmp_path / target, make_media, H3, FRAMES)  # 5 s at 768P, no video in
        shots, problems = compiled(root, target)
        assert errors(problems) == []
        prices = DIALECTS[target].protocol.prices["default"]
        result = plan(shots, provider=target, prices=prices, series_dir=root)
        assert (prices.currency, result.total_cost) == (currency, pytest.approx(cost))
    hailuo = DIALECTS["minimax-hailuo"].protocol.prices["default"]
    assert hailuo.cost("768P", 6) == pytest.approx(0.2802)  # USD 0.28 a 6 s video, rounded up
    assert hailuo.cost("1080P", 6) == pytest.approx(0.4902)


def test_compare_lists_minimaxs_models_with_what_they_cannot_render(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
    root = shutil.copytree(example, tmp_path / "coffee-shop",
                           ignore=shutil.ignore_patterns(".storyboard", "out"))
    result = CliRunner().invoke(cli, ["plan", str(root), "--provider", "dashscope", "--json",
                                      "--compare", f"wan2.7-r2v,{H3},{HAILUO}"])
    assert result.exit_code == 0, result.output
    wan, h3, hailuo = json.loads(result.stdout)
    assert [m["model"] for m in (wan, h3, hailuo)] == ["wan2.7-r2v", H3, HAILUO]
    assert (h3["currency"], hailuo["currency"]) == ("USD", "USD")
    said = " ".join(r["message"] for r in h3["refused"])
    assert f"resolution 720P; {H3} renders 768P, 2K" in said
    said = " ".join(r["message"] for r in hailuo["refused"])
    assert f"{HAILUO} takes no character references" in said


# -- through the emulator --------------------------------------------------------------------


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def on(target: str, shot: CompiledShot) -> CompiledShot:
    """``shot`` on the target's model: H3 at 768P; Hailuo from its picture as a first frame."""
    request: ShotRequest = shot.request
    if "hailuo" in target:
        media = tuple(replace(m, role="first_frame") for m in request.media)
        request = replace(request, model=HAILUO, duration=6, media=media, prompt_extend=None)
    else:
        request = replace(request, model=H3, duration=4, prompt_extend=None)
    return replace(shot, request=replace(request, resolution="768P"))


def a_minimax_shot(root: Path, make_media: Any, target: str, words: str) -> CompiledShot:
    shot = a_shot(root, make_media, words)
    return on(target, replace(shot, hash=(words.encode().hex() * 64)[:64]))


@pytest.mark.parametrize("target", ["minimax", "minimax-hailuo"])
def test_a_shot_is_submitted_polled_and_downloaded(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str) -> None:
    events: list[ShotEvent] = []
    shot = a_minimax_shot(tmp_path, make_media, target, f" waves via {target}")
    result = run(emu, target, tmp_path, shot, events)
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert result.submits == 1 and emu.stats()["submissions"]["total"] == 1
    rate = DIALECTS[target].protocol.prices["default"].per_second["768P"]
    assert result.shots[0].cost == pytest.approx(rate * shot.request.duration, abs=1e-4)
    (task,) = emu.service.table.tasks.values()
    assert task.submission.model == shot.request.model
    kind = "first_frame" if "hailuo" in target else "reference_image"
    assert task.submission.media[0]["type"] == kind
    hops = emu.stats()["requests"].get("file", 0)
    assert hops >= 1 if "hailuo" in target else hops == 0  # v1's third request, v2 none


def test_hailuo_renders_from_a_prompt_alone_on_the_wire(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    """Hailuo 2.3 is text-to-video too: a body without a first frame (storyboard's check asks
    every shot for a picture, as for every model that takes frames)."""
    shot = a_minimax_shot(tmp_path, make_media, "minimax-hailuo", " a street at dawn")
    shot = replace(shot, request=replace(shot.request, media=()))
    provider = provider_for(emu, "minimax-hailuo", tmp_path)
    assert isinstance(provider, GatewayProvider)

    async def go() -> Any:
        try:
            task_id = await provider.submit(shot, None)
            for _ in range(100):
                state = await provider.query(task_id)
                if state.status.finished:
                    return state
                await asyncio.sleep(0.1)
            raise AssertionError("the task never finished")
        finally:
            await provider.aclose()
    state = asyncio.run(go())
    assert state.status is TaskStatus.SUCCEEDED and state.video_url
    assert "/results/" in state.video_url  # the file's download URL, not the gateway's host


def submit_refused(emu: EmulatorServer, target: str, root: Path, shot: CompiledShot
                   ) -> RequestRejected:
    provider = provider_for(emu, target, root)

    async def go() -> None:
        try:
            await provider.submit(shot, None)
        finally:
            await provider.aclose()
    with pytest.raises(RequestRejected) as info:
        asyncio.run(go())
    return info.value


@pytest.mark.parametrize("target", ["minimax", "minimaxi-hailuo"])
def test_a_prompt_refused_at_submit_is_named_and_free(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str) -> None:
    emu.script("submit:moderation")
    refused = submit_refused(emu, target, tmp_path,
                             a_minimax_shot(tmp_path, make_media, target, " waves, refused"))
    assert refused.code == "1026" and emu.stats()["submissions"]["total"] == 0
    failure = classify_failure(target, refused.code, str(refused), stage="submit")
    assert failure.content and not failure.billed and failure.flagged == "the prompt"
    assert failure.words() == ("refused at submit, nothing billed: content refusal of the "
                               "prompt")


def test_the_error_bodies_are_minimaxs_own(emu: EmulatorServer) -> None:
    """v2: the HTTP status and ``{type: "error", error: {type, message "(code)", http_code}}``;
    v1: HTTP 200 with ``base_resp``; both for the emulator's faults and its own refusals."""
    emu.script("submit:moderation")
    v2 = web.post(emu.gateway_url("minimax") + "/v2/video_generation", json={},
                    headers={"Authorization": f"Bearer {KEY}"})
    assert v2.status_code == 422 and v2.json()["type"] == "error"
    assert v2.json()["error"]["type"] == "unprocessable_entity_error"
    assert v2.json()["error"]["message"].endswith("(1026)")
    v1 = web.post(emu.gateway_url("minimax-hailuo") + "/v1/video_generation", json={},
                    headers={"Authorization": f"Bearer {KEY}"})
    assert v1.status_code == 200 and v1.json()["base_resp"]["status_code"] == 2013
    assert "model is required" in v1.json()["base_resp"]["status_msg"]
    wrong = web.get(emu.gateway_url("minimax") + "/v2/query/video_generation/x",
                      headers={"Authorization": "Bearer not-the-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authorized_error"


@pytest.mark.parametrize("target", ["minimaxi", "minimax-hailuo"])
def test_a_video_refused_after_the_render_fails_named_and_free(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str) -> None:
    emu.script("task:moderation")
    shot = a_minimax_shot(tmp_path, make_media, target, " waves, the video refused")
    result = run(emu, target, tmp_path, shot, [])
    (only,) = result.shots
    assert (only.state, only.code) == ("failed", "1027"), only
    assert not only.cost
    failure = classify_failure(target, "1027", only.message, stage="render")
    assert failure.content and not failure.billed and failure.flagged == "the output video"


def test_a_failed_task_is_free_and_not_a_content_refusal(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    emu.script("task:failed")
    shot = a_minimax_shot(tmp_path, make_media, "minimax-hailuo", " waves, failing")
    (only,) = run(emu, "minimax-hailuo", tmp_path, shot, []).shots
    assert (only.state, only.code) == ("failed", "1000") and not only.cost
    assert not classify_failure("minimax-hailuo", "1000", "", stage="render").content


@pytest.mark.parametrize("target", ["minimax", "minimax-hailuo"])
def test_a_lost_submit_is_never_paid_twice(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str) -> None:
    """MiniMax's task list is known by its path alone (v1 has none): a lost submit's task cannot
    be told from another, so the shot stops as ambiguous, and the next run does not submit again."""
    emu.script("submit:lost")
    lost = a_minimax_shot(tmp_path, make_media, target, " waves, its answer lost")
    first = run(emu, target, tmp_path, lost, [], reconcile_delay=0.0, request_timeout=5.0)
    (only,) = first.shots
    assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
    assert "task adopt" in only.message
    emu.clear_faults()
    again = run(emu, target, tmp_path, lost, [], reconcile_delay=0.0)
    assert again.submits == 0 and again.shots[0].code == "AmbiguousTask"
    assert emu.stats()["submissions"]["total"] == 1


@pytest.mark.parametrize("shape", ["unknown", "string", "list", "null", "huge", "html"])
@pytest.mark.parametrize("target", ["minimax-hailuo", "minimax", "kling"])
def test_an_odd_envelope_code_is_a_lost_answer_never_a_second_submit(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str, shape: str) -> None:
    """A submit answered with no task id and a code that is no documented refusal (an unknown
    number, a string, a list, null, 10**30) may have made a task: a lost answer, never "refused,
    nothing billed". MiniMax lists no tasks: the shot stops as ambiguous, settled by ``task
    adopt|forget``, in this render and the next. Kling lists them: its task is adopted. Either
    way, exactly one submission."""
    emu.script(f"submit:envelope={shape}")
    shot = a_minimax_shot(tmp_path, make_media, target, f" waves, answered {shape}")
    first = run(emu, target, tmp_path, shot, [], reconcile_delay=0.0, request_timeout=5.0)
    (only,) = first.shots
    assert "nothing billed" not in only.message
    if target == "kling":
        assert only.state == "done" and first.submits == 1, only
    else:
        assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
        assert "task adopt" in only.message and "answer was lost" in only.message
        emu.clear_faults()
        again = run(emu, target, tmp_path, shot, [], reconcile_delay=0.0)
        assert again.submits == 0 and again.shots[0].code == "AmbiguousTask"
    assert emu.stats()["submissions"]["total"] == 1


@pytest.mark.parametrize("target", ["kling", "ark", "dashscope"])
def test_an_error_answered_after_the_task_was_made_is_looked_up_before_any_retry(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str) -> None:
    """A submit answered with a server error (MiniMax's 1000, Kling's or Ark's 500) after the
    service made the task: where the vendor lists its tasks, the list is asked before the submit
    is sent again, and the task it shows is adopted: one submission, paid once."""
    emu.script("submit:made=500")
    shot = a_minimax_shot(tmp_path, make_media, target, f" waves, made then {target} said 500")
    result = run(emu, target, tmp_path, shot, [], reconcile_delay=0.0, request_timeout=5.0)
    (only,) = result.shots
    assert only.state == "done", only
    assert emu.stats()["submissions"]["total"] == 1
    assert emu.stats()["faults"] == {"submit:made=500": 1}


def test_a_server_error_that_made_nothing_is_still_sent_again(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    """The lookup finds nothing when the error made nothing: the submit is sent again at once."""
    emu.script("submit:500")
    shot = a_minimax_shot(tmp_path, make_media, "kling", " waves, kling said 500 and made none")
    result = run(emu, "kling", tmp_path, shot, [], reconcile_delay=0.0, request_timeout=5.0)
    assert result.shots[0].state == "done" and result.submits == 2
    assert emu.stats()["submissions"]["total"] == 1


def test_plan_says_a_vendor_without_a_list_may_pay_twice_for_an_error_answer(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """MiniMax lists no tasks: a submit answered with an error (its 1000) is sent again, and if
    the service had made the task anyway, it is paid twice. ``plan`` says so before paying."""
    for target in ("minimax", "kling"):
        root = series(tmp_path / target, make_media, H3 if target == "minimax" else
                      "kling-v3-omni")
        compiled(root, target)  # the provider: block names the target
        shown = CliRunner().invoke(cli, ["plan", str(root)]).output
        said = "no task list" in shown and "paid twice" in shown
        assert said == (target == "minimax"), shown


def test_a_documented_envelope_refusal_is_still_refused_and_free(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    """Kling's content refusal (1301) and MiniMax's (1026), documented, stay "refused at
    submit, nothing billed": no task was made."""
    for target in ("kling", "minimax-hailuo"):
        emu.script("submit:refused=prompt")
        shot = a_minimax_shot(tmp_path / target, make_media, target, f" waves, {target} no")
        (only,) = run(emu, target, tmp_path / target, shot, []).shots
        assert only.state == "failed" and "refused at submit, nothing billed" in only.message
    assert emu.stats()["submissions"]["total"] == 0


@pytest.mark.parametrize("target", ["minimax", "minimax-hailuo"])
def test_a_task_older_than_seven_days_is_an_invalid_task_id(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str) -> None:
    provider = provider_for(emu, target, tmp_path)
    shot = a_minimax_shot(tmp_path, make_media, target, " waves, then forgotten")

    async def go() -> list[BaseException]:
        try:
            task_id = await provider.submit(shot, None)
            await provider.query(task_id)  # known today
            emu.advance_clock(8 * 86400)
            said = []
            for asked in (task_id, "no-such-task"):
                try:
                    await provider.query(asked)
                except RequestRejected as exc:
                    said.append(exc)
            return said
        finally:
            emu.advance_clock(-8 * 86400)
            await provider.aclose()
    said = asyncio.run(go())
    assert len(said) == 2 and all("invalid task_id" in str(e) for e in said), said
    assert {getattr(e, "code", "") for e in said} == {"2013"}


@pytest.mark.parametrize("target", ["minimaxi", "minimaxi-hailuo"])
def test_a_wrong_key_is_refused_as_auth_and_nothing_is_made(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, target: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIALECTS[target].key_env, "not-the-key")
    provider = provider_for(emu, target, tmp_path)
    shot = a_minimax_shot(tmp_path, make_media, target, " waves with a wrong key")

    async def go() -> None:
        try:
            await provider.submit(shot, None)
        finally:
            await provider.aclose()
    with pytest.raises(AuthError) as info:
        asyncio.run(go())
    assert "not-the-key" not in str(info.value)
    assert emu.stats()["submissions"]["total"] == 0


def test_v1_rate_limits_in_an_http_200_answer_wait(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    emu.script("submit:429")
    provider = provider_for(emu, "minimax-hailuo", tmp_path)
    shot = a_minimax_shot(tmp_path, make_media, "minimax-hailuo", " waves, throttled")

    async def go() -> None:
        try:
            await provider.submit(shot, None)
        finally:
            await provider.aclose()
    with pytest.raises(RateLimited) as info:
        asyncio.run(go())
    assert info.value.code == "1002"  # said in an HTTP 200 answer's base_resp


def test_each_host_its_own_key_variable(tmp_path: Path) -> None:
    hosts = {name: GatewayProvider.from_settings(DIALECTS[name], {}, tmp_path).settings
             for name in ("minimax", "minimaxi", "minimax-hailuo", "minimaxi-hailuo")}
    assert hosts["minimax"].key_env == hosts["minimax-hailuo"].key_env == "MINIMAX_API_KEY"
    assert hosts["minimaxi"].key_env == hosts["minimaxi-hailuo"].key_env == "MINIMAXI_API_KEY"
    assert hosts["minimax"].base_url == hosts["minimax-hailuo"].base_url == \
        "https://api.minimax.io"
    assert hosts["minimaxi"].base_url == hosts["minimaxi-hailuo"].base_url == \
        "https://api.minimaxi.com"


def test_media_items_are_unchanged_by_the_round_trip() -> None:
    """The emulator reads each body back into the native one: roles kept, the frame kept."""
    v2 = unbody(DIALECTS["minimax"], {"model": H3, "content": [
        {"type": "text", "text": "Image 1 waves"},
        {"type": "image_url", "image_url": {"url": "https://x/a.png"}, "role": "first_frame"},
        {"type": "audio_url", "audio_url": {"url": "https://x/v.mp3"},
         "role": "reference_audio"}], "resolution": "768P", "duration": 4})
    assert [m["type"] for m in v2["input"]["media"]] == ["first_frame", "reference_audio"]
    v1 = unbody(DIALECTS["minimax-hailuo"], {"model": HAILUO, "prompt": "a",
                                            "first_frame_image": "https://x/a.png"})
    assert v1["input"]["media"] == [{"type": "first_frame", "url": "https://x/a.png"}]


def test_the_file_hop_carries_the_key_and_the_download_host_never_sees_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """v1's three requests, in-process (an httpx transport): the query and ``files/retrieve``
    go to MiniMax's host with the key; the download URL it names, on another host, gets none."""
    monkeypatch.setenv("MINIMAX_API_KEY", KEY)
    seen: list[httpx.Request] = []
    cdn = "https://video-product.cdn.example.com/output.mp4"

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ok = {"base_resp": {"status_code": 0, "status_msg": "success"}}
        if request.url.path == "/v1/query/video_generation":
            return httpx.Response(200, json={"task_id": request.url.params["task_id"],
                                             "status": "Success", "file_id": 361721749176519,
                                             **ok})
        if request.url.path == "/v1/files/retrieve":
            return httpx.Response(200, json={"file": {
                "file_id": int(request.url.params["file_id"]), "download_url": cdn}, **ok})
        return httpx.Response(200, stream=httpx.ByteStream(b"\0" * 2048),
                              headers={"content-length": "2048"})

    provider = GatewayProvider.from_settings(DIALECTS["minimax-hailuo"], {}, tmp_path,
                                             transport=httpx.MockTransport(answer))

    async def go() -> None:
        try:
            state = await provider.query("176843862716480")
            assert (state.status, state.video_url) == (TaskStatus.SUCCEEDED, cdn)
            await provider.download(state, tmp_path / "out.mp4")
        finally:
            await provider.aclose()
    asyncio.run(go())
    assert [(r.url.host, r.url.path) for r in seen] == [
        ("api.minimax.io", "/v1/query/video_generation"),
        ("api.minimax.io", "/v1/files/retrieve"),
        ("video-product.cdn.example.com", "/output.mp4")]
    assert seen[1].url.params["file_id"] == "361721749176519"
    assert [r.headers.get("authorization") for r in seen] == [f"Bearer {KEY}"] * 2 + [None]
    assert (tmp_path / "out.mp4").stat().st_size == 2048


def test_a_slow_submit_and_a_failing_file_hop_still_deliver_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    """The file hop is a request like the others: a 500 there is retried (the task is done, the
    video waits), never a new submit; a slow submit answer is waited for."""
    emu.script("submit:slow=0.3", "file:500", "file:drop")
    shot = a_minimax_shot(tmp_path, make_media, "minimax-hailuo", " waves, slowly")
    result = run(emu, "minimax-hailuo", tmp_path, shot, [])
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert result.submits == 1 and emu.stats()["submissions"]["total"] == 1
    assert emu.stats()["requests"]["file"] >= 3
