"""Kling voices storyboard makes (issue 69.2): ``identity: {kling: {voice: make}}``.

A character's voice is made on (emulated) Kling from its voice's audio as a cast asset: planned
and priced, journaled, made once (a second render makes none; a render stopped while the voice is
being made resumes it, never creating another), its id in the lock, and sent as ``voice_id`` on
Kling 4.0. A recorded voice, maybe a real person's, is not sent without ``permission``; a
character without a voice has nothing to make one from.
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
from storyboard.dialects import DIALECTS
from storyboard.dialects.images import KLING_VOICE
from storyboard.emulator import EmulatorServer
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.run.state.castinputs import Made, substituted
from storyboard.targets.signatures import jwtokens
from storyboard.targets.video.kling4 import FLASH_WIRE_ID, KLING_V4, VOICE_PATH, VOICE_PRICES
from tests.fixtures import web
from tests.fixtures.gateway_runs import KEY
from tests.fixtures.media_host import serve as serve_http
from tests.fixtures.vendor_models import url_for

PERMISSION = "Mia Chen consented on 2026-11-02; the signed form is kept in legal/mia.pdf"
SERIES = """\
storyboard: 1
title: Voices
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: kling, base_url: 'BASE', media_base_url: 'HOSTED', poll: [0.1]WAIT}
voices:
  mia-voice: {audio: media/mia.wav}
characters:
  mia:
    image: media/mia.png
    voice: mia-voice
    identity: {kling: {voice: make}, permission: "PERMISSION"}
episodes:
  - id: ep01
    shots:
      - id: one
        model: kling-v4-omni
        duration: 5
        scenes:
          - at: 0-5s
            action: "@mia looks up at the rain"
            say: {mia: "It is finally raining."}
"""
RATE = KLING_V4.price("intl").per_second["720P"]
VOICE = VOICE_PRICES.per_second["each"]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "kling-voice.json"


def series(root: Path, make_media: Any, *, base: str = "https://api.example.com",
           hosted: str = "https://media.example.com", permission: str = PERMISSION,
           wait: str = "") -> str:
    make_media("image", root / "media" / "mia.png", width=480, height=480, color="red")
    make_media("voice", root / "media" / "mia.wav", seconds=6.0)
    text = (SERIES.replace("BASE", base).replace("HOSTED", hosted).replace("WAIT", wait)
            .replace('"PERMISSION"', f'"{permission}"' if permission else "null"))
    if not permission:
        text = text.replace(', permission: null', "")
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return text


def edit(root: Path, old: str, new: str) -> str:
    path = root / "storyboard.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def errors(root: Path) -> list[str]:
    _, problems = compile_lenient(load_source(root), provider="kling")
    return [p.message for p in problems if p.severity == "error"]


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-test")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    with EmulatorServer(latency=0.05, api_key=KEY, fetch_media=True) as server:
        yield server


def made(emu: EmulatorServer) -> int:
    """How many voices were created on the emulator."""
    return int(emu.stats()["cast"]["requests"]["kvoice"])


# -- check, at the line ----------------------------------------------------------------------------

def test_a_recorded_voice_without_permission_is_refused_at_its_line(
        tmp_path: Path, make_media: Any) -> None:
    text = series(tmp_path, make_media, permission="")
    _, problems = compile_lenient(load_source(tmp_path), provider="kling")
    [found] = [p for p in problems if "voice: make" in p.message]
    assert found.severity == "error" and "expected identity.permission" in found.message
    assert "recorded voice" in found.message
    assert found.span is not None and found.span.line == line_of(text, "voice: make")


def test_a_character_without_a_voice_has_nothing_to_make_one_from(
        tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media)
    text = edit(tmp_path, "    voice: mia-voice\n", "")
    _, problems = compile_lenient(load_source(tmp_path), provider="kling")
    [found] = [p for p in problems if "voice: make" in p.message]
    assert found.severity == "error" and "has none; expected voice: NAME" in found.message
    assert found.span is not None and found.span.line == line_of(text, "voice: make")


def test_a_recorded_clip_shorter_than_kling_takes_is_refused_at_the_character(
        tmp_path: Path, make_media: Any) -> None:
    text = series(tmp_path, make_media)
    make_media("voice", tmp_path / "media" / "mia.wav", seconds=3.0)
    _, problems = compile_lenient(load_source(tmp_path), provider="kling")
    [found] = [p for p in problems if "mia.wav: lasts 3.00 s" in p.message]
    assert "expected 5 to 30 s" in found.message
    assert found.span is not None and found.span.line == line_of(text, "voice: make")


def test_a_designed_voice_needs_no_permission_and_is_made_first(
        tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media, permission="")
    edit(tmp_path, "mia-voice: {audio: media/mia.wav}",
         "mia-voice: {design: a warm low voice, sample: It is finally raining on the town.}")
    manifest, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert [p.message for p in problems if p.severity == "error"] == []
    assert not [p.message for p in problems if "never used" in p.message]  # used by the voice
    [voice] = [a for a in manifest.cast if a.episode == "kvoices"]
    designed = next(a for a in manifest.cast if a.episode == "voices")
    assert voice.needs == {"voices/mia-voice": designed.hash}


def test_the_shot_names_the_voice_by_its_asset_and_its_hash_covers_it(
        tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media)
    manifest, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert [p.message for p in problems if p.severity == "error"] == []
    [shot] = manifest.episodes[0].shots
    [voice] = [a for a in manifest.cast if a.episode == "kvoices"]
    assert voice.asset is not None and voice.asset.kind == "kvoice"
    assert [(m.role, m.ref.asset if m.ref else None) for m in shot.request.media
            if m.role == "voice_id"] == [("voice_id", "kvoices/mia")]
    assert shot.needs == {"kvoices/mia": voice.hash}


def test_a_voice_no_shot_sends_is_not_made(tmp_path: Path, make_media: Any) -> None:
    """On Kling 4.0 Flash (no audio references), nothing is paid: the voice is refused there."""
    series(tmp_path, make_media)
    edit(tmp_path, "model: kling-v4-omni", f"model: {FLASH_WIRE_ID}")
    manifest, problems = compile_lenient(load_source(tmp_path), provider="kling")
    assert any("takes no voices" in p.message for p in problems)
    assert not [a for a in manifest.cast if a.episode == "kvoices"]


# -- the create's body and the shot's, golden -------------------------------------------------------

def test_the_voice_s_create_and_the_shot_compile_to_their_golden_bodies(
        tmp_path: Path, make_media: Any) -> None:
    series(tmp_path, make_media)
    manifest, _ = compile_lenient(load_source(tmp_path), provider="kling")
    [voice] = [a for a in manifest.cast if a.episode == "kvoices"]
    [shot] = manifest.episodes[0].shots
    assert voice.asset is not None
    create = KLING_VOICE.body(voice.asset, ["https://media.example.com/media/mia.wav"])
    sent = substituted(shot, {"kvoices/mia": Made(tmp_path / "clip.wav", "kvoice-770001")})
    video = DIALECTS["kling"].body(sent.request, url_for)
    text = json.dumps({"create": create, "video": video}, indent=2, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert video["voice_list"] == [{"voice_id": "770001"}]
    with EmulatorServer(latency=0.0, api_key=KEY) as quick:  # and the emulator takes it
        answer = web.post(quick.gateway_url("kling") + VOICE_PATH, json=create, timeout=10,
                            headers={"Authorization": f"Bearer {jwtokens.sign('ak', KEY)}"})
    assert answer.status_code == 200 and answer.json()["data"]["task_id"], answer.text


# -- the emulator ----------------------------------------------------------------------------------

def test_the_emulator_makes_a_voice_and_answers_it_ready() -> None:
    headers = {"Authorization": f"Bearer {jwtokens.sign('ak-test', KEY)}"}
    body = {"voice_name": "mia", "voice_url": "https://media.example.com/mia.wav"}
    with EmulatorServer(latency=0.0, api_key=KEY) as quick:
        url = quick.gateway_url("kling") + VOICE_PATH
        bad = web.post(url, json={"voice_name": "mia", "voice_url": "x"}, headers=headers,
                         timeout=10)
        assert bad.status_code == 400 and "http(s) URL" in bad.json()["message"]
        long = web.post(url, json={**body, "voice_name": "m" * 21}, headers=headers,
                          timeout=10)
        assert long.status_code == 400 and "at most 20" in long.json()["message"]
        answer = web.post(url, json=body, headers=headers, timeout=10).json()
        voice = answer["data"]["task_id"]
        ready = web.get(f"{url}/{voice}", headers=headers, timeout=10).json()
        assert web.post(url, json=body, timeout=10).status_code == 401  # unsigned
    assert ready["data"]["task_status"] == "succeed"
    [listed] = ready["data"]["task_result"]["voices"]
    assert listed["voice_id"] == voice and listed["trial_url"] == body["voice_url"]


# -- end to end, through the CLI --------------------------------------------------------------------

def test_a_render_makes_the_voice_once_and_sends_its_id(
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
    assert json.loads(planned.stdout)["total_cost"] == pytest.approx(VOICE + 5 * RATE)
    assert made(emu) == 1  # asked again: cached, nothing made twice
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None
    [listed] = task.wire["voice_list"]
    voice = str(listed["voice_id"])
    lock = (root / "storyboard.lock").read_text(encoding="utf-8")
    assert f'"task_id": "kvoice-{voice}"' in lock
    assert json.loads(again.stdout)["spent"] == 0


def test_a_render_stopped_while_the_voice_is_made_resumes_it_without_making_another(
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
        # The service quick again: the voice made in the first run is ready when asked.
        slow.service.config = replace(slow.service.config, latency=0.05)
        edit(root, ", max_wait: 1", "")
        resumed = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert resumed.exit_code == 0, resumed.output
    assert made(slow) == 1  # polled again by its id, never created again
    [task] = slow.service.table.tasks.values()
    assert task.wire is not None and len(task.wire["voice_list"]) == 1


def test_a_create_whose_answer_was_lost_is_never_sent_again_by_itself(
        tmp_path: Path, make_media: Any, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    root.mkdir()
    emu.script("kvoice:lost")  # made and counted on Kling; its answer never arrives
    with serve_http(root) as hosted:
        series(root, make_media, base=emu.gateway_url("kling"), hosted=hosted)
        first = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        again = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
    assert "Traceback" not in first.output + again.output
    assert first.exit_code != 0 and again.exit_code != 0, again.output
    assert made(emu) == 1  # possibly billed: stopped, not made a second time
    assert not emu.service.table.tasks  # the shot that needs it waits, unpaid
    said = {s["key"]: s for s in json.loads(again.stdout)["shots"]}
    assert "no list of them is known" in said["s/kvoices/mia"]["message"], said


def test_a_render_makes_the_element_and_the_voice_and_sends_both(
        tmp_path: Path, make_media: Any, emu: EmulatorServer) -> None:
    """The issue's end: one Kling 4.0 shot with a made element and a made voice, each once."""
    root = tmp_path / "s"
    root.mkdir()
    with serve_http(root) as hosted:
        series(root, make_media, base=emu.gateway_url("kling"), hosted=hosted)
        edit(root, "{kling: {voice: make}", "{kling: {element: make, voice: make}")
        first = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert first.exit_code == 0, first.output
        again = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert again.exit_code == 0, again.output
    requests = emu.stats()["cast"]["requests"]
    assert (requests["element"], requests["kvoice"]) == (1, 1)
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None and "image_list" not in task.wire
    [element], [voice] = task.wire["element_list"], task.wire["voice_list"]
    assert '<<<element_1>>> says with the voice of <<<voice_1>>>' in task.wire["prompt"]
    lock = (root / "storyboard.lock").read_text(encoding="utf-8")
    assert f'"task_id": "element-{element["element_id"]}"' in lock
    assert f'"task_id": "kvoice-{voice["voice_id"]}"' in lock
