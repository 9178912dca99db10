"""Kling elements storyboard makes (issue 69.2): ``identity: {kling: {element: make}}``.

A character's element is made on (emulated) Kling from its approved sheet as a cast asset: planned
and priced, journaled, made once (a second render makes none; a render stopped while the element
is being made resumes it, never creating another), its id in the lock, and sent as ``element_id``
on Kling 4.0. A face that may be a real person's is not sent without ``permission``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.dialects.images import KLING_ELEMENT
from storyboard.emulator import EmulatorServer
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.targets.signatures import jwtokens
from storyboard.targets.video.kling4 import ELEMENT_PATH, ELEMENT_PRICES, KLING_V4, WIRE_ID
from tests.fixtures import web
from tests.fixtures.gateway_runs import KEY
from tests.fixtures.media_host import serve as serve_http

PERMISSION = "Mia Chen consented on 2026-11-02; the signed form is kept in legal/mia.pdf"
SERIES = """\
storyboard: 1
title: Elements
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: kling, base_url: 'BASE', media_base_url: 'HOSTED', poll: [0.1]WAIT}
characters:
  mia:
    image: media/mia.png
    identity: {kling: {element: make}, permission: "PERMISSION"}
episodes:
  - id: ep01
    shots:
      - id: one
        model: kling-v4-omni
        duration: 5
        prompt: "@mia walks into the rain"
"""
RATE = KLING_V4.price("intl").per_second["720P"]
ELEMENT = ELEMENT_PRICES.per_second["each"]


def series(root: Path, make_media: Any, *, base: str = "https://api.example.com",
           hosted: str = "https://media.example.com", permission: str = PERMISSION,
           wait: str = "") -> str:
    make_media("image", root / "media" / "mia.png", width=480, height=480, color="red")
    text = (SERIES.replace("BASE", base).replace("HOSTED", hosted).replace("WAIT", wait)
            .replace('"PERMISSION"', f'"{permission}"' if permission else "null"))
    if not permission:
        text = text.replace(', permission: null', "")
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return text


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-test")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    with EmulatorServer(latency=0.05, api_key=KEY, fetch_media=True) as server:
        yield server


def made(emu: EmulatorServer) -> int:
    """How many elements were created on the emulator."""
    return int(emu.stats()["cast"]["requests"]["element"])


# -- check, at the line ----------------------------------------------------------------------------

def test_an_element_of_a_face_without_permission_is_refused_at_its_line(
        tmp_path: Path, make_media: Any) -> None:
    text = series(tmp_path, make_media, permission="")
    _, problems = compile_lenient(load_source(tmp_path), provider="kling")
    [found] = [p for p in problems if "element: make" in p.message]
    assert found.severity == "error" and "expected identity.permission" in found.message
    assert found.span is not None and found.span.line == line_of(text, "element: make")


def test_a_sheet_drawn_from_words_needs_no_permission(tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media, permission="")
    path = tmp_path / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "image: media/mia.png", "image: {generate: a tall woman in a yellow raincoat}"),
        encoding="utf-8")
    manifest, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert [p.message for p in problems if p.severity == "error"] == []
    [element] = [a for a in manifest.cast if a.episode == "elements"]
    assert element.needs == {"cast/mia": next(a.hash for a in manifest.cast if a.id == "mia"
                                              and a.episode == "cast")}


def test_an_element_of_a_character_shown_by_a_video_is_refused(
        tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media)
    make_media("video", tmp_path / "media" / "mia.mp4", width=320, height=240, seconds=4.0)
    path = tmp_path / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("image: media/mia.png",
                                                             "video: media/mia.mp4"),
                    encoding="utf-8")
    _, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert any("an element is made from a character's sheet" in p.message for p in problems)


def test_the_shot_names_the_element_by_its_asset_and_its_hash_covers_it(
        tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media)
    manifest, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert [p.message for p in problems if p.severity == "error"] == []
    [shot] = manifest.episodes[0].shots
    [element] = [a for a in manifest.cast if a.episode == "elements"]
    assert element.asset is not None and element.asset.kind == "element"
    assert [(m.role, m.ref.asset if m.ref else None) for m in shot.request.media] == [
        ("element", "elements/mia")]
    assert shot.needs == {"elements/mia": element.hash}


# -- the create's body, golden ----------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "kling-element.json"


def test_the_element_s_create_compiles_to_its_golden_body(tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media)
    manifest, _ = compile_lenient(load_source(tmp_path), provider="kling")
    [element] = [a for a in manifest.cast if a.episode == "elements"]
    assert element.asset is not None
    body = KLING_ELEMENT.body(element.asset, ["https://media.example.com/media/mia.png"])
    text = json.dumps(body, indent=2, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    with EmulatorServer(latency=0.0, api_key=KEY) as quick:  # and the emulator takes it
        answer = web.post(quick.gateway_url("kling") + ELEMENT_PATH, json=body, timeout=10,
                            headers={"Authorization": f"Bearer {jwtokens.sign('ak', KEY)}"})
    assert answer.status_code == 200 and answer.json()["data"]["element_id"], answer.text


# -- the emulator ----------------------------------------------------------------------------------

def test_the_emulator_makes_an_element_and_answers_it_ready(emu: EmulatorServer) -> None:
    token = jwtokens.sign("ak-test", KEY)
    url = emu.gateway_url("kling") + ELEMENT_PATH
    headers = {"Authorization": f"Bearer {token}"}
    bad = web.post(url, json={"element_name": "mia", "element_frontal_image": "x"},
                     headers=headers, timeout=10)
    assert bad.status_code == 400 and "http(s) URL" in bad.json()["message"]
    body = {"element_name": "mia", "element_description": "Mia",
            "element_frontal_image": "https://media.example.com/mia.png",
            "element_refer_list": [{"image_url": "https://media.example.com/mia.png"}]}
    with EmulatorServer(latency=0.0, api_key=KEY) as quick:
        answer = web.post(quick.gateway_url("kling") + ELEMENT_PATH, json=body,
                            headers=headers, timeout=10).json()
        element = answer["data"]["element_id"]
        ready = web.get(f"{quick.gateway_url('kling')}{ELEMENT_PATH}/{element}",
                          headers=headers, timeout=10).json()
    assert ready["data"]["task_status"] == "succeed"
    assert ready["data"]["task_result"]["images"][0]["url"] == body["element_frontal_image"]
    assert web.post(url, json=body, timeout=10).status_code == 401  # unsigned


# -- end to end, through the CLI --------------------------------------------------------------------

def test_a_render_makes_the_element_once_and_sends_its_id(
        tmp_path: Path, make_media: Any, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    root.mkdir()
    with serve_http(root) as hosted:
        series(root, make_media, base=emu.gateway_url("kling"), hosted=hosted)
        planned = CliRunner().invoke(cli, ["plan", str(root), "--json"])
        assert planned.exit_code == 0, planned.output
        first = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert first.exit_code == 0, first.output
        again = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert again.exit_code == 0, again.output
    assert json.loads(planned.stdout)["total_cost"] == pytest.approx(ELEMENT + 5 * RATE)
    assert made(emu) == 1  # asked again: cached, nothing made twice
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None
    [listed] = task.wire["element_list"]
    element = str(listed["element_id"])
    assert "image_list" not in task.wire  # the element instead of mia's sheet
    lock = (root / "storyboard.lock").read_text(encoding="utf-8")
    assert f'"task_id": "element-{element}"' in lock
    assert json.loads(again.stdout)["spent"] == 0


def test_a_render_stopped_while_the_element_is_made_resumes_it_without_making_another(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-test")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    root = tmp_path / "s"
    root.mkdir()
    with EmulatorServer(latency=600.0, api_key=KEY) as slow, serve_http(root) as hosted:
        series(root, make_media, base=slow.gateway_url("kling"), hosted=hosted,
               wait=", max_wait: 1")
        stopped = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert made(slow) == 1 and not slow.service.table.tasks, stopped.output
        # The service quick again: the element made in the first run is ready when asked.
        slow.service.config = replace(slow.service.config, latency=0.05)
        path = root / "storyboard.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(", max_wait: 1", ""),
                        encoding="utf-8")
        resumed = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert resumed.exit_code == 0, resumed.output
    assert made(slow) == 1  # polled again by its id, never created again
    [task] = slow.service.table.tasks.values()
    assert task.wire is not None and len(task.wire["element_list"]) == 1


def test_a_create_whose_answer_was_lost_is_never_sent_again_by_itself(
        tmp_path: Path, make_media: Any, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    root.mkdir()
    emu.script("element:lost")  # made and counted on Kling; its answer never arrives
    with serve_http(root) as hosted:
        series(root, make_media, base=emu.gateway_url("kling"), hosted=hosted)
        first = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        again = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
    assert "Traceback" not in first.output + again.output
    assert first.exit_code != 0 and again.exit_code != 0, again.output
    assert made(emu) == 1  # possibly billed: stopped, not made a second time
    assert not emu.service.table.tasks  # the shot that needs it waits, unpaid
    said = {s["key"]: s for s in json.loads(again.stdout)["shots"]}
    assert "no list of them is known" in said["s/elements/mia"]["message"], said


def test_an_element_no_shot_sends_is_not_made(tmp_path: Path, make_media: Any) -> None:
    """On a model that takes no element (Kling 3.0 Omni sends the sheet), nothing is paid."""
    series(tmp_path, make_media)
    path = tmp_path / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(WIRE_ID, "kling-v3-omni"),
                    encoding="utf-8")
    manifest, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert [p.message for p in problems if p.severity == "error"] == []
    assert not [a for a in manifest.cast if a.episode == "elements"]

