"""Seedance 2.5's edit on Ark end to end on the emulator (issue 59.4): ``retake --edit`` on a
take rendered on Ark goes to that host's Seedance 2.5 edit task (the golden body in
``tests/golden/seedance-edit.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites it), priced and
consented, kept as a derived take of the same shot, picked as any take, its parent kept; a
Seedance 2.0 take (no edit task) is refused with nothing sent."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.language.compile import compile_path
from storyboard.media import ffmpeg
from storyboard.run.state.takes import take_rows
from storyboard.targets.video.models import SEEDANCE_20_ARK, SEEDANCE_25_ARK
from tests.fixtures import web
from tests.fixtures.dashscope_cli import invoke
from tests.fixtures.media_host import serve

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "seedance-edit.json"
KEY = "ark-test-key-5150"
SERIES = """\
storyboard: 1
title: Fixes on Ark
provider: {{name: ark, base_url: "{base}", media_base_url: "{media}", poll: [0.1]}}
defaults: {{resolution: 720P, ratio: "16:9", duration: 6, model: {model}}}
output: {{loudness: null}}
characters:
  mia: {{image: media/mia.png}}
episodes:
  - id: ep01
    shots:
      - {{id: a, prompt: "@mia flies a red kite"}}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("ARK_API_KEY", KEY)
    with EmulatorServer(latency=0.1, api_key=KEY, plain_results=True) as server:
        yield server


Ark = Callable[[str], Path]


@pytest.fixture
def ark_series(tmp_path: Path, emu: EmulatorServer,
               make_media: Callable[..., Path]) -> Iterator[Ark]:
    root = tmp_path / "fixes"
    make_media("image", root / "media" / "mia.png", width=400, height=400)
    with serve(root) as media:
        def write(model: str) -> Path:
            text = SERIES.format(base=emu.gateway_url("ark"), media=media, model=model)
            (root / "storyboard.yaml").write_text(text, encoding="utf-8")
            return root
        yield write


def run(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    result = invoke(*args)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, report, result.stderr + result.stdout


def ark_bodies(emu: EmulatorServer) -> list[dict[str, Any]]:
    return [t.wire for t in emu.service.table.tasks.values() if t.wire is not None]


def test_an_edit_on_ark_is_seedance_25s_edit_kept_as_a_derived_take_and_picked(
        ark_series: Ark, emu: EmulatorServer) -> None:
    series = ark_series(SEEDANCE_25_ARK.id)
    code, _, said = run("render", series, "--yes", "--json")
    assert code == 0, said
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))
    parent = lock["shots"]["fixes/ep01/a"]

    code, report, said = run("retake", series, "ep01/a", "--edit", "make the kite blue",
                             "--yes", "--json")
    assert code == 0, said
    assert {s["key"].rsplit("/", 1)[1]: s["state"] for s in report["shots"]} == {"a#2": "done"}
    sent = ark_bodies(emu)
    assert len(sent) == 2
    edit_body = sent[1]
    video = edit_body["content"][1]["video_url"]["url"]
    assert video.endswith(f".storyboard/cache/ark/{parent['hash']}.mp4")
    edit_body["content"][1]["video_url"]["url"] = "PARENT"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(edit_body, indent=2, sort_keys=True) + "\n", "utf-8")
    assert edit_body == json.loads(GOLDEN.read_text("utf-8"))

    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))
    edit = lock["shots"]["fixes/ep01/a#2"]
    assert edit["parameters"]["model"] == SEEDANCE_25_ARK.id
    assert edit["media"]["source_video 1"]["sha256"] == parent["output_sha256"]
    # Ark's 720p: CNY 1.32 a second, the 6 s it reads and the 6 s it makes (input capped at 15)
    assert edit["cost"] == pytest.approx((6 + 6) * 1.32)
    record = lock["takes"]["fixes/ep01/a"]["derived"][0]
    assert (record["kind"], record["parent"], record["words"], record["model"]) == \
        ("edit", 1, "make the kite blue", SEEDANCE_25_ARK.id)
    made = series / ".storyboard" / "cache" / "ark" / f"{edit['hash']}.mp4"
    assert ffmpeg.probe(made).duration == pytest.approx(6.0, abs=0.2)  # as long as the input

    # asked again: the same take from the cache, nothing paid
    code, report, said = run("retake", series, "ep01/a", "--edit", "make the kite blue",
                             "--yes", "--json")
    assert code == 0 and len(ark_bodies(emu)) == 2, said
    assert {s["state"] for s in report["shots"]} == {"cached"}

    assert run("pick", series, "ep01/a", "2")[0] == 0
    rows = {r.take: r for r in take_rows(compile_path(series), "ep01/a")}
    assert rows[2].marks == "picked" and rows[2].derived == "edit of take 1"
    assert (series / ".storyboard" / "cache" / "ark" / f"{parent['hash']}.mp4").is_file()


def test_an_edit_of_a_seedance_20_take_is_refused_and_nothing_is_sent(
        ark_series: Ark, emu: EmulatorServer) -> None:
    series = ark_series(SEEDANCE_20_ARK.id)
    assert run("render", series, "--yes", "--json")[0] == 0
    before = (series / "storyboard.lock").read_text("utf-8")
    code, _, said = run("retake", series, "ep01/a", "--edit", "make the kite blue", "--yes")
    assert code != 0 and "Traceback" not in said, said
    assert SEEDANCE_20_ARK.id in said and "edit task" in said and SEEDANCE_25_ARK.id in said
    assert len(ark_bodies(emu)) == 1
    assert (series / "storyboard.lock").read_text("utf-8") == before


def test_the_emulator_refuses_an_edit_task_without_its_video_or_its_length(
        emu: EmulatorServer) -> None:
    base = emu.gateway_url("ark")
    good = {"model": SEEDANCE_25_ARK.id, "omni_reference_task_type": "edit",
            "ratio": "adaptive", "duration": -1, "watermark": False,
            "content": [{"type": "text", "text": "blue"},
                        {"type": "video_url", "role": "reference_video",
                         "video_url": {"url": "https://cdn.example.com/a.mp4"}}]}
    bad = [{**good, "content": good["content"][:1]}, {**good, "ratio": "16:9"},
           {**good, "duration": 5}, {**good, "model": SEEDANCE_20_ARK.id}]
    headers = {"Authorization": f"Bearer {KEY}"}
    for body in bad:
        answer = web.post(f"{base}/contents/generations/tasks", json=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
    answer = web.post(f"{base}/contents/generations/tasks", json=good, headers=headers)
    assert answer.status_code == 200, answer.text
