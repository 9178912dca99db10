"""Boards made where their image model is sold: each wire's golden body, each image API served by
the emulator with its faults, and each vendor's key only on its own host.

A board is an ``AssetRequest(kind="image", subject="board")``; wan2.7-image is DashScope's
(``tests/providers/test_cast_providers.py`` holds its calls), Seedream is Ark's and ModelArk's (one
synchronous call), Kling's image is Kling's (a task, signed as its video is).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli.main import cli
from storyboard.dialects import DIALECTS
from storyboard.dialects.images import IMAGE_WIRES, KLING_IMAGE, SEEDREAM, WAN_IMAGE
from storyboard.emulator import EmulatorServer
from storyboard.emulator.cast.standins import picture as picture_bytes
from storyboard.emulator.cast.standins import png_size
from storyboard.errors import AuthError, ListUnavailable, ProblemsFound, RequestRejected
from storyboard.language.request import AssetRequest, CompiledShot, MediaRef, ShotRequest
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.providers.images import SYNC_PREFIX, TASK_PREFIX
from storyboard.run import render
from storyboard.run.trip.model import RunOptions, RunResult, Wiring
from storyboard.targets import TaskState, TaskStatus
from storyboard.targets.cast.assets import (
    KLING_IMAGE_O1,
    KLING_IMAGE_V3_OMNI,
    SEEDREAM_45_ARK,
    SEEDREAM_45_MODELARK,
    WAN27_IMAGE,
    WAN27_IMAGE_PRO,
)
from tests.fixtures import web
from tests.fixtures.gateway_runs import KEY, quick_render, serve
from tests.fixtures.media_host import serve as served

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "board-images.json"
CDN = "https://cdn.example.com/s"
PROMPT = {"image {index}": "A storyboard frame: image 1 hands image 2 a cup. Close-up.",
          "<<<image_{index}>>>": "A storyboard frame: <<<image_1>>> hands <<<image_2>>> a cup."}


def board(model: str, refs: tuple[MediaRef, ...] = (), *, size: str = "2560*1440",
          label: str = "image {index}", seed: int | None = 7) -> CompiledShot:
    """A board asset shot, as the language compiles one (``boards/EP/SHOT``)."""
    asset = AssetRequest("image", model, PROMPT[label], "ep01/counter", refs=refs, size=size,
                         subject="board", seed=seed)
    digest = hashlib.sha256(repr(asset).encode()).hexdigest() + ".png"
    request = ShotRequest(model=model, prompt=asset.prompt, media=(), resolution="",
                          ratio="16:9", duration=0, prompt_extend=None, watermark=False,
                          seed=seed)
    return CompiledShot("cafe", "boards", "ep01/counter", request, digest, asset=asset)


# -- golden bodies --------------------------------------------------------------------------------

CASES = {m.id: m for m in (WAN27_IMAGE, WAN27_IMAGE_PRO, SEEDREAM_45_ARK, SEEDREAM_45_MODELARK,
                           KLING_IMAGE_O1, KLING_IMAGE_V3_OMNI)}


def bodies() -> dict[str, Any]:
    urls = [f"{CDN}/.storyboard/cache/dashscope/{n}.png" for n in ("mia", "tom")]
    out: dict[str, Any] = {}
    for model in CASES.values():
        kind = model.makers[0]
        wire = IMAGE_WIRES[kind]
        asset = board(model.id, label=model.label).asset
        assert asset is not None
        out[model.id] = {"maker": kind, "path": wire.submit_path, "synchronous": wire.synchronous,
                         "body": wire.body(asset, urls)}
    return out


def test_each_image_model_writes_its_golden_body() -> None:
    text = json.dumps(bodies(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_every_maker_of_a_board_model_speaks_a_picture_wire() -> None:
    for model in CASES.values():
        assert all(kind in IMAGE_WIRES for kind in model.makers), model.id
    assert SEEDREAM.synchronous and not KLING_IMAGE.synchronous and not WAN_IMAGE.synchronous


# -- the emulator and the providers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with pytest.MonkeyPatch.context() as patch:
        yield from serve(patch)


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch, emu: EmulatorServer) -> None:
    for name in ("ark", "modelark", "kling"):
        monkeypatch.setenv(DIALECTS[name].key_env, KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    emu.clear_faults()


def gateway(emu: EmulatorServer, name: str, root: Path) -> GatewayProvider:
    return GatewayProvider.from_settings(
        DIALECTS[name], {"base_url": emu.gateway_url(name), "media_base_url": CDN}, root)


def made(emu: EmulatorServer, name: str, root: Path, shot: CompiledShot) -> RunResult:
    async def go() -> RunResult:
        provider = gateway(emu, name, root)
        try:
            return await render([shot], provider, RunOptions(
                poll_schedule=(0.1,), backoff_base=0.1, backoff_cap=0.5, reconcile_delay=0.1,
                late_window=1.0, max_retries=1), Wiring(series_dir=root))
        finally:
            await provider.aclose()
    return asyncio.run(go())


def images(emu: EmulatorServer) -> int:
    billed: int = emu.stats()["cast"]["images"]
    return billed


def calls(emu: EmulatorServer) -> int:
    sent: int = emu.stats()["cast"]["requests"]["image"]
    return sent


def picture(root: Path, shot: CompiledShot) -> tuple[int, int]:
    found = list((root / ".storyboard" / "cache").rglob(shot.hash))
    assert len(found) == 1, found
    size = png_size(found[0].read_bytes())
    assert size is not None
    return size[0], size[1]


@pytest.mark.parametrize(("name", "model", "size", "cost"), [
    ("ark", SEEDREAM_45_ARK.id, (2560, 1440), 0.22),  # CNY, as Ark bills
    ("modelark", SEEDREAM_45_MODELARK.id, (2560, 1440), 0.03),
    ("kling", KLING_IMAGE_O1.id, (2048, 1152), 0.028)])
def test_a_board_is_made_by_its_vendor_and_cached(emu: EmulatorServer, tmp_path: Path,
                                                  name: str, model: str,
                                                  size: tuple[int, int], cost: float) -> None:
    before = images(emu)
    label = KLING_IMAGE_O1.label if name == "kling" else "image {index}"
    shot = board(model, label=label)
    result = made(emu, name, tmp_path, shot)
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert images(emu) == before + 1 and result.submits == 1
    assert picture(tmp_path, shot) == size  # Kling's 2k in 16:9
    assert result.shots[0].cost == pytest.approx(cost)  # its list price, in the vendor's money
    again = made(emu, name, tmp_path, shot)  # cached: never made (nor paid) twice
    assert [s.state for s in again.shots] == ["cached"] and images(emu) == before + 1


def test_a_board_another_vendor_makes_is_refused_before_anything_is_sent(
        emu: EmulatorServer, tmp_path: Path) -> None:
    provider = gateway(emu, "ark", tmp_path)
    kling = board(KLING_IMAGE_O1.id)
    with pytest.raises(ProblemsFound) as found:
        provider.check_shots([kling])
    assert "gateway ark does not make kling-image-o1: make it with --provider kling first" \
        in found.value.diagnostics[0].message
    assert provider.refused([board(SEEDREAM_45_ARK.id)]) == []
    asyncio.run(provider.aclose())


@pytest.mark.parametrize(("name", "model", "said"), [
    ("ark", SEEDREAM_45_ARK.id, "InputTextSensitiveContentDetected"),
    ("kling", KLING_IMAGE_O1.id, "1301")])
def test_a_board_refused_at_submit_is_named_and_nothing_is_billed(
        emu: EmulatorServer, tmp_path: Path, name: str, model: str, said: str) -> None:
    before = images(emu)
    emu.script("image:refused=prompt")
    result = made(emu, name, tmp_path, board(model))
    shot = result.shots[0]
    assert shot.state == "failed" and said in f"{shot.message} {shot.code}", shot
    assert "refused at submit, nothing billed" in shot.message
    assert images(emu) == before


@pytest.mark.parametrize("name", ["ark", "kling"])
def test_a_board_refused_after_it_was_made_is_named_and_free(
        emu: EmulatorServer, tmp_path: Path, name: str) -> None:
    before = images(emu)
    emu.script("task:refused=image")
    model = SEEDREAM_45_ARK.id if name == "ark" else KLING_IMAGE_O1.id
    result = made(emu, name, tmp_path, board(model))
    shot = result.shots[0]
    assert shot.state == "failed", shot
    said = "OutputImageSensitiveContentDetected" if name == "ark" else "1301"
    assert said in f"{shot.message} {shot.code}"
    assert "content refusal of the output picture" in shot.message and "nothing billed" in \
        shot.message
    assert images(emu) == before


def test_a_lost_seedream_answer_is_journaled_as_possibly_billed_never_sent_again(
        emu: EmulatorServer, tmp_path: Path) -> None:
    before, sent = images(emu), calls(emu)
    emu.script("image:lost")  # the picture is made (and billed), its answer never arrives
    shot = board(SEEDREAM_45_ARK.id)
    result = made(emu, "ark", tmp_path, shot)
    outcome = result.shots[0]
    assert outcome.state == "pending" and outcome.code == "AmbiguousTask", outcome
    assert "may have been paid" in outcome.message and "storyboard task forget" in outcome.message
    assert "storyboard task adopt" not in outcome.message  # the call left no task id to adopt
    assert "no later run can settle it by itself" in outcome.message
    assert images(emu) == before + 1 and calls(emu) == sent + 1
    again = made(emu, "ark", tmp_path, shot)  # a later run does not send it by itself either
    assert again.shots[0].state == "pending" and calls(emu) == sent + 1


def test_a_lost_kling_submit_is_found_in_its_image_tasks_and_paid_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for own in serve(monkeypatch):  # an account of its own: no other image task lands near it
        own.script("image:lost")
        shot = board(KLING_IMAGE_O1.id, label=KLING_IMAGE_O1.label)
        result = made(own, "kling", tmp_path, shot)
        assert [s.state for s in result.shots] == ["done"], result.shots
        assert images(own) == 1 and own.stats()["cast"]["requests"]["image"] == 1


def test_a_kling_picture_made_then_answered_500_is_found_not_made_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A picture the service made before it answered a server error: Kling lists its image
    tasks, so the list is asked before the call is sent again, and the picture is paid once."""
    for own in serve(monkeypatch):
        own.script("image:made=500")
        shot = board(KLING_IMAGE_O1.id, label=KLING_IMAGE_O1.label)
        result = made(own, "kling", tmp_path, shot)
        assert [s.state for s in result.shots] == ["done"], result.shots
        assert images(own) == 1 and own.stats()["cast"]["requests"]["image"] == 1


def test_a_seedream_call_answered_500_is_sent_again_it_keeps_no_list(
        emu: EmulatorServer, tmp_path: Path) -> None:
    """Seedream answers in the call that makes the picture and lists nothing: a server error is
    sent again (as ``plan`` says of a provider without a list), never stuck as ambiguous."""
    before, sent = images(emu), calls(emu)
    emu.script("image:500")
    result = made(emu, "ark", tmp_path, board(SEEDREAM_45_ARK.id))
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert images(emu) == before + 1 and calls(emu) == sent + 2


def test_a_slow_answer_still_makes_one_picture(emu: EmulatorServer, tmp_path: Path) -> None:
    before = images(emu)
    emu.script("image:slow=0.5")
    result = made(emu, "ark", tmp_path, board(SEEDREAM_45_ARK.id))
    assert [s.state for s in result.shots] == ["done"] and images(emu) == before + 1


@pytest.mark.parametrize("name", ["ark", "kling"])
def test_a_picture_of_the_wrong_size_is_served_as_the_fault_says(
        emu: EmulatorServer, tmp_path: Path, name: str) -> None:
    emu.script("task:size")
    model = SEEDREAM_45_ARK.id if name == "ark" else KLING_IMAGE_O1.id
    shot = board(model)
    result = made(emu, name, tmp_path, shot)
    assert [s.state for s in result.shots] == ["done"], result.shots
    asked = (2560, 1440) if name == "ark" else (2048, 1152)
    assert picture(tmp_path, shot) == (asked[0] // 2, asked[1] // 2)


def test_the_emulator_refuses_a_size_seedream_does_not_make(emu: EmulatorServer,
                                                            tmp_path: Path) -> None:
    provider = gateway(emu, "ark", tmp_path)

    async def go() -> None:
        try:
            await provider.submit(board(SEEDREAM_45_ARK.id, size="1920*1080"), None)
        finally:
            await provider.aclose()
    with pytest.raises(RequestRejected, match="3,686,400 to 16,777,216 pixels"):
        asyncio.run(go())


def test_a_synchronous_answer_is_kept_before_the_runner_hears_its_id(
        emu: EmulatorServer, tmp_path: Path) -> None:
    shot = board(SEEDREAM_45_ARK.id)

    async def go() -> tuple[str, list[Any], Any]:
        provider = gateway(emu, "ark", tmp_path)
        try:
            task_id = await provider.submit(shot, None)
        finally:
            await provider.aclose()
        later = gateway(emu, "ark", tmp_path)  # another process: what was kept on disk
        try:
            return task_id, await later.find(shot, 0.0), await later.query(task_id)
        finally:
            await later.aclose()
    task_id, found, state = asyncio.run(go())
    assert task_id.startswith(SYNC_PREFIX) and [s.task_id for s in found] == [task_id]
    assert state.status is TaskStatus.SUCCEEDED and state.video_url


def test_a_lost_synchronous_answer_with_nothing_kept_cannot_be_listed(
        emu: EmulatorServer, tmp_path: Path) -> None:
    provider = gateway(emu, "ark", tmp_path)

    async def go() -> None:
        try:
            await provider.find(board(SEEDREAM_45_ARK.id), 0.0)
        finally:
            await provider.aclose()
    with pytest.raises(ListUnavailable, match="may have been paid"):
        asyncio.run(go())


def test_a_kling_image_task_id_is_told_from_a_video_task(emu: EmulatorServer,
                                                         tmp_path: Path) -> None:
    async def go() -> str:
        provider = gateway(emu, "kling", tmp_path)
        try:
            return await provider.submit(board(KLING_IMAGE_O1.id), None)
        finally:
            await provider.aclose()
    assert asyncio.run(go()).startswith(TASK_PREFIX)


# -- keys only to their own vendor's host ---------------------------------------------------------


def test_a_picture_from_another_host_is_fetched_without_the_key(
        emu: EmulatorServer, tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []
    data = picture_bytes(64, 36, "a picture on a host of its own")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    foreign = f"http://127.0.0.1:{server.server_address[1]}/p.png"
    try:
        for name in ("ark", "kling"):
            provider = gateway(emu, name, tmp_path)

            async def go(provider: GatewayProvider = provider) -> None:
                try:
                    await provider.download(TaskState("picture-x", TaskStatus.SUCCEEDED,
                                                      video_url=foreign), tmp_path / "got.png")
                finally:
                    await provider.aclose()
            asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert len(seen) == 2
    for headers in seen:
        assert "authorization" not in headers and KEY not in json.dumps(headers)


def test_a_submit_without_its_vendors_key_sends_nothing(
        emu: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARK_API_KEY")
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)  # another vendor's key is never borrowed
    before = emu.stats()["requests"].get("image", 0)
    provider = gateway(emu, "ark", tmp_path)

    async def go() -> None:
        try:
            await provider.submit(board(SEEDREAM_45_ARK.id), None)
        finally:
            await provider.aclose()
    with pytest.raises(AuthError, match="ARK_API_KEY is not set"):
        asyncio.run(go())
    assert emu.stats()["requests"].get("image", 0) == before


# -- the plan says who makes a board another provider makes ---------------------------------------

SERIES = """\
storyboard: 1
title: Boards
provider: {name: dashscope}
defaults: {resolution: 720P, duration: 5}
characters:
  mia: {image: media/mia.png}
boards: {model: doubao-seedream-4-5-251128}
episodes:
  - id: ep1
    shots:
      - id: hook
        scenes: ["[0-5s] Close-up: @mia pours a cup"]
"""


def test_the_plan_says_a_seedream_board_is_made_by_ark_at_its_price(
        tmp_path: Path, make_media: Any) -> None:
    make_media("image", tmp_path / "media" / "mia.png", width=320, height=320)
    (tmp_path / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output  # dashscope refuses it: made by ark first
    data = json.loads(result.stdout)
    assert [r["code"] for r in data["refused"]] == ["provider-video-only"]
    assert "make it with --provider ark first" in data["refused"][0]["message"]
    board = next(s for s in data["shots"] if s["key"].split("/", 1)[1].startswith("boards/"))
    assert (board["made_by"], board["currency"]) == ("ark", "CNY")
    assert board["cost"] == pytest.approx(0.22)
    assert data["elsewhere"] == [{"provider": "ark", "currency": "CNY", "cost": 0.22}]


def test_a_reference_the_vendor_cannot_fetch_is_refused_at_submit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a vendor fetches each reference's URL (``fetch_media``): one it cannot get is a 400,
    before any picture is made or billed."""
    (tmp_path / "mia.png").write_bytes(picture_bytes(320, 320, "mia"))
    shot = board(SEEDREAM_45_ARK.id, (MediaRef(path=tmp_path / "mia.png"),))
    monkeypatch.setenv("ARK_API_KEY", KEY)
    with EmulatorServer(latency=0.1, api_key=KEY, fetch_media=True) as own:
        provider = GatewayProvider.from_settings(DIALECTS["ark"], {
            "base_url": own.gateway_url("ark"), "media_base_url": "http://127.0.0.1:9/s"},
            tmp_path)

        async def go() -> None:
            try:
                await provider.submit(shot, None)
            finally:
                await provider.aclose()
        with pytest.raises(RequestRejected, match="cannot be fetched"):
            asyncio.run(go())
        assert own.stats()["cast"]["images"] == 0


ARK_SERIES = """\
storyboard: 1
title: Boards on Ark
provider: {{name: ark, base_url: "{base}", media_base_url: "{cdn}", poll: [0.1]}}
defaults: {{resolution: 720P, duration: 5, model: doubao-seedance-2-0-260128}}
characters:
  mia: {{image: media/mia.png}}
boards: {{model: doubao-seedream-4-5-251128, as: first_frame}}
episodes:
  - id: ep1
    shots:
      - id: hook
        scenes: ["[0-5s] Close-up: @mia pours a cup"]
"""


def test_a_series_board_made_on_ark_is_its_seedance_shots_first_frame(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a series: Seedream makes the board with the cast's picture as its reference (fetched
    from the hosted series, as Ark fetches it), paid once, in CNY; the Seedance shot then starts
    from that board (its first frame the hosted copy of the board scaled to what Seedance takes),
    both on the one ARK_API_KEY."""
    make_media("image", tmp_path / "media" / "mia.png", width=320, height=320)
    monkeypatch.setenv("ARK_API_KEY", KEY)
    with served(tmp_path) as cdn, EmulatorServer(latency=0.1, api_key=KEY, render=quick_render,
                                                 fetch_media=True) as own:
        (tmp_path / "storyboard.yaml").write_text(
            ARK_SERIES.format(base=own.gateway_url("ark"), cdn=cdn), encoding="utf-8")
        report = storyboard.render(tmp_path, yes=True)  # the board; its video waits for it
        made = {f"{s.episode}/{s.shot}": s for s in report.run.shots}
        assert made["boards/ep1/hook"].cost == pytest.approx(0.22) and own.stats()["cast"][
            "images"] == 1
        assert not own.service.table.tasks  # no video sent before the board is approved
        approved = CliRunner().invoke(cli, ["approve", str(tmp_path), "boards/ep1/hook"])
        assert approved.exit_code == 0, approved.output
        report = storyboard.render(tmp_path, yes=True)
        assert report.ok, report
        assert own.stats()["cast"]["images"] == 1  # the board is not made again
        board = next(s for s in storyboard.compile(tmp_path).cast if s.episode == "boards")
        video = next(iter(own.service.table.tasks.values())).submission
        frames = [item["url"] for item in video.media if item.get("type") == "first_frame"]
        # the 2K board scaled to what Seedance takes, its copy hosted in the series (and fetched)
        picture = (tmp_path / ".storyboard" / "cache" / "dashscope" / board.hash).read_bytes()
        copy = f"{hashlib.sha256(picture).hexdigest()[:32]}-2048x1152.png"
        assert len(frames) == 1 and frames[0] == f"{cdn}/.storyboard/sent/{copy}"


@pytest.mark.parametrize(("path", "method"), [
    ("/gw/freepik/images/generations", "POST"), ("/gw/nosuch/images/generations", "POST"),
    ("/gw/ark/v1/images/omni-image", "POST"), ("/gw/kling/images/generations", "POST")])
def test_an_image_route_of_a_gateway_that_has_none_is_not_found(
        emu: EmulatorServer, path: str, method: str) -> None:
    answer = web.request(method, emu.base_url.split("/api/")[0] + path, json={},
                           headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert answer.status_code == 404, answer.text
