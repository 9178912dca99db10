"""Cast calls whose answers were lost into at most one payment, through the emulator: a spoken line
(synchronous, no list) killed mid-call or dropped is never spoken again by itself; an answer that
arrived but was not journaled is reused; a lost image submit is found in the account's task list.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.errors import ListUnavailable
from storyboard.providers.dashscope.provider import DashScopeProvider
from storyboard.providers.dashscope.settings import DashScopeSettings
from tests.fixtures import web
from tests.fixtures.cast import CAST, IMAGE_TAKES, SPOKEN, cast_stats, designed, kill_when, line, sheet
from tests.fixtures.dashscope_cli import KEY, Emulator, invoke, render, submissions
from tests.fixtures.media_host import serve

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment


def spoken_series(root: Path, make_media: Any) -> Path:
    make_media("image", root / "media" / "still.png", width=640, height=360)
    (root / "storyboard.yaml").write_text(SPOKEN, encoding="utf-8")
    return root


def test_a_line_killed_mid_call_is_never_spoken_again(tmp_path: Path, emulator: Emulator,
                                                      make_media: Any) -> None:
    emu = emulator()
    emu.script("speech:lost=10")  # accepted and paid; the answer would come 10 s later
    series = spoken_series(tmp_path / "spoken", make_media)
    kill_when(emu, series, lambda: cast_stats(emu)["characters"] > 0)  # spoken and billed
    emu.clear_faults()
    code, report, err = render(series, "--yes")
    assert cast_stats(emu)["requests"]["speech"] == 1  # never spoken twice
    assert code != 0
    line = next(s for s in report["shots"] if s["key"].endswith("lines/ep01/speaks"))
    assert (line["state"], line["code"]) == ("pending", "AmbiguousTask"), line
    assert "task forget" in line["message"] and "nothing is paid twice" in line["message"]
    assert KEY not in err
    forgot = invoke("task", "forget", series, "lines/ep01/speaks", "--yes")  # as it advises
    assert forgot.exit_code == 0, forgot.output
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert cast_stats(emu)["requests"]["speech"] == 2  # spoken again: the person said so


def test_a_dropped_speech_answer_stops_at_once_and_is_not_spoken_again(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emu = emulator()
    emu.script("speech:lost")  # accepted and paid, then the connection drops
    series = spoken_series(tmp_path / "spoken", make_media)
    started = time.monotonic()
    code, report, _ = render(series, "--yes")
    assert time.monotonic() - started < 60  # not the 150 s of waiting for a list to show it
    line = next(s for s in report["shots"] if s["key"].endswith("lines/ep01/speaks"))
    assert (code, line["state"], line["code"]) == (1, "pending", "AmbiguousTask"), line
    code, report, _ = render(series, "--yes")
    assert cast_stats(emu)["requests"]["speech"] == 1 and code != 0


def test_a_spoken_answer_that_was_not_journaled_is_found_not_spoken_again(
        tmp_path: Path, emulator: Emulator) -> None:
    """The answer came back and was kept, and the process died before the journal had its id:
    the next process finds it (from the series' work area) instead of speaking again."""
    emu = emulator()

    def provider() -> DashScopeProvider:
        return DashScopeProvider(DashScopeSettings(base_url=emu.base_url), work_dir=tmp_path)

    async def go() -> tuple[str, list[str], list[str]]:
        async with provider() as first:
            voice = await first.submit(designed(), None)
            shot = line(voice)
            since = time.time()
            task_id = await first.submit(shot, None)
        async with provider() as second:  # a later process: nothing in memory
            found = [state.task_id for state in await second.find(shot, since)]
            (state,) = await second.find(shot, since)
            assert state.video_url and (await second.query(task_id)).video_url == state.video_url
            try:
                later = [s.task_id for s in await second.find(shot, time.time() + 5)]
            except ListUnavailable as exc:
                later = [str(exc)]
        return task_id, found, later

    task_id, found, later = asyncio.run(go())
    assert found == [task_id]
    (said,) = later  # a call after the kept one: nothing can tell whether it was paid
    assert "cannot be listed" in said
    assert cast_stats(emu)["requests"]["speech"] == 1


def test_the_task_list_shows_image_tasks(tmp_path: Path, emulator: Emulator) -> None:
    """DashScope lists every asynchronous task of the account: image generation too."""
    emu = emulator()

    async def go() -> tuple[str, list[str], list[str]]:
        async with DashScopeProvider(DashScopeSettings(base_url=emu.base_url)) as provider:
            shot = sheet(takes=1)
            since = time.time()
            task_id = await provider.submit(shot, None)
            found = [state.task_id for state in await provider.find(shot, since)]
            video_only = [item.task_id for item in await provider._list(
                since - 60, time.time() + 60, model="wan2.7-r2v", shot=shot.id)]
        return task_id, found, video_only

    task_id, found, video_only = asyncio.run(go())
    assert found == [task_id] and video_only == []
    listed = web.get(f"{emu.base_url}/tasks", headers={"Authorization": f"Bearer {KEY}"},
                       timeout=10).json()
    (item,) = listed["data"]
    assert (item["task_id"], item["model_name"]) == (task_id, "wan2.7-image")
    assert {"status", "gmt_create", "request_id"} <= set(item)


def test_an_image_submit_killed_mid_call_is_adopted_not_paid_twice(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    emu.script("image:lost=10")  # the first picture is accepted and paid; its answer is late
    series = tmp_path / "cast"
    series.mkdir()
    (series / "storyboard.yaml").write_text(CAST, encoding="utf-8")
    kill_when(emu, series, lambda: len(emu.service.images.tasks) > 0)  # its task exists
    emu.clear_faults()
    code, report, err = render(series, "--yes")
    assert code == 0, err
    stats = cast_stats(emu)
    assert stats["requests"]["image"] == IMAGE_TAKES and stats["images"] == IMAGE_TAKES, stats
    assert {s["state"] for s in report["shots"]} == {"done"}


def test_a_cast_made_natively_is_used_on_a_gateway(tmp_path: Path, emulator: Emulator,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The cast's sheets, place and voice are paid results of their own requests: a render of
    the same series through a gateway uses them as they are, never "not made", never again."""
    emu = emulator()
    series = tmp_path / "cast"
    series.mkdir()
    monkeypatch.setenv(DIALECTS["freepik"].key_env, KEY)
    with serve(tmp_path) as host:
        (series / "storyboard.yaml").write_text(CAST, encoding="utf-8")
        code, _, err = render(series, "--yes")  # natively: the cast and the shots
        assert code == 0, err
        made = cast_stats(emu)
        assert made["images"] == IMAGE_TAKES and made["voices"] == 1

        def on_gateway(folder: str) -> Any:
            block = (f"provider: {{name: freepik, base_url: '{emu.gateway_url('freepik')}', "
                     f"media_base_url: '{host}/{folder}', poll: [0.2]}}")
            text = CAST.replace("provider: {name: dashscope, poll: [0.2]}", block)
            (series / "storyboard.yaml").write_text(text, encoding="utf-8")
            return invoke("render", series, "--provider", "freepik", "--yes", "--json")

        unhosted = on_gateway("elsewhere")  # the cast's files are not where the gateway looks
        assert unhosted.exit_code != 0 and "not where the gateway will fetch them" in \
            unhosted.stderr and ".storyboard/cache/dashscope/" in unhosted.stderr
        assert submissions(emu) == 3
        result = on_gateway("cast")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    cast = {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]
            if s["key"].split("/")[1] in ("cast", "voices")}
    assert set(cast.values()) == {"cached"} and len(cast) == IMAGE_TAKES + 1, cast
    assert {s["state"] for s in report["shots"]} == {"cached", "done"}
    assert cast_stats(emu) == made  # nothing of the cast made or paid again
    assert submissions(emu) == 2 * 3  # the three shots natively, then on the gateway
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"]
    assert lock["cast/cast/mia"]["cache_key"] == "dashscope"  # still the cast's maker's
    assert lock["cast/ep01/hello"]["cache_key"] == "freepik"


def test_a_teammate_on_a_gateway_takes_the_native_cast_from_the_store(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    monkeypatch.setenv(DIALECTS["freepik"].key_env, KEY)
    stored = CAST.replace("episodes:\n", "store: ../../store\nepisodes:\n", 1)
    alice = tmp_path / "alice" / "cast"
    alice.mkdir(parents=True)
    (alice / "storyboard.yaml").write_text(stored, encoding="utf-8")
    code, _, err = render(alice, "--yes")
    assert code == 0, err
    made = cast_stats(emu)
    bob = tmp_path / "bob" / "cast"
    bob.mkdir(parents=True)
    with serve(tmp_path) as host:

        def on_gateway(hosted: str) -> Any:
            block = (f"provider: {{name: freepik, base_url: '{emu.gateway_url('freepik')}', "
                     f"media_base_url: '{host}/{hosted}', poll: [0.2]}}")
            text = stored.replace("provider: {name: dashscope, poll: [0.2]}", block)
            (bob / "storyboard.yaml").write_text(text, encoding="utf-8")
            return invoke("render", bob, "--provider", "freepik", "--yes", "--json")

        # The host has bob's folder as it was before the cast came from the store: the pulled
        # files are checked there before anything is paid, and are not there.
        shutil.copytree(bob, tmp_path / "stale" / "cast")
        stale = on_gateway("stale/cast")
        assert stale.exit_code != 0 and "not where the gateway will fetch them" in stale.stderr
        assert submissions(emu) == 3
        result = on_gateway("bob/cast")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    cast = [s["state"] for s in report["shots"] if s["key"].split("/")[1] in ("cast", "voices")]
    assert cast == ["cached"] * (IMAGE_TAKES + 1), report["shots"]
    assert cast_stats(emu) == made and submissions(emu) == 2 * 3
    sheets = sorted((bob / ".storyboard" / "cache" / "dashscope").glob("*.png"))
    assert len(sheets) == IMAGE_TAKES
