"""Boards in daily use (issue 65 items 8-11), through the DashScope emulator: what waiting on boards
will cost, approving an episode's boards in one command, a render held by the gate, and the
words of takes and approve on boards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.boards import planned, rows, write
from tests.fixtures.dashscope_cli import Emulator, invoke, render
from tests.fixtures.matrix import HEAD
from tests.fixtures.matrix import series as matrix_series

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

MATRIX_BODY = """\
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
variations:
  matrix: {product: [espresso, latte]}
  name: "{{ product }}"
"""


def test_the_plan_says_what_the_videos_waiting_on_boards_will_cost(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emulator()
    series = write(tmp_path / "boards", make_media)
    plan = planned(series)
    shots = rows(plan)
    each = shots["ep01/own"]["cost"]  # the same length and resolution as the two that wait
    assert each > 0
    for name in ("ep01/hello", "ep01/waves"):
        assert (shots[name]["status"], shots[name]["cost"]) == ("waits", 0.0)
        assert shots[name]["waiting_cost"] == each
    assert shots["ep01/own"]["waiting_cost"] == 0.0
    assert plan["waiting_cost"] == round(2 * each, 4)
    assert plan["total_cost"] == round(0.12 + each, 4)  # not in the total consented to
    text = invoke("plan", series, "--provider", "dashscope")
    assert text.exit_code == 0, text.output
    said = " ".join(text.stdout.split())
    assert f"waiting on boards: about {2 * each:.2f} USD more once they are approved" in said


def test_an_episodes_boards_are_approved_in_one_command(tmp_path: Path, emulator: Emulator,
                                                       make_media: Any) -> None:
    """Issue 65.9: ``approve SERIES boards/EP`` approves each board's take, and says each it
    skipped and why: one with two takes and none picked (exit 1: a board left unapproved, so a
    script stops), then one already approved (exit 0: every board approved)."""
    emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("retake", series, "boards/ep01/waves", "--yes", "--quiet").exit_code == 0
    first = invoke("approve", series, "boards/ep01", "--json")
    assert first.exit_code == 1, first.output
    said = json.loads(first.stdout)
    assert said["approved"] == [{"board": "boards/ep01/hello", "take": 1}]
    [skipped] = said["skipped"]
    assert skipped["board"] == "boards/ep01/waves"
    assert skipped["why"] == (f"2 takes and none picked: storyboard pick {series} "
                              "boards/ep01/waves TAKE first")
    assert rows(planned(series))["ep01/waves"]["status"] == "waits"
    assert invoke("pick", series, "boards/ep01/waves", "2").exit_code == 0
    again = invoke("approve", series, "boards/ep01/*")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "approved take 2 of boards/ep01/waves",
        "skipped boards/ep01/hello: already approved (take 1)",
        f"approved 1 board(s), skipped 1; their shots may render now: storyboard render {series}"]
    plan = rows(planned(series))
    assert {plan[s]["status"] for s in ("ep01/hello", "ep01/waves")} == {"new"}
    every = invoke("approve", series, "--all-boards", "--json")
    assert every.exit_code == 0, every.output  # both stand approved
    said = json.loads(every.stdout)
    assert said["approved"] == [] and len(said["skipped"]) == 2


def test_pick_takes_one_take_of_each_board(tmp_path: Path, emulator: Emulator,
                                           make_media: Any) -> None:
    emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("retake", series, "boards/ep01/hello", "--yes", "--quiet").exit_code == 0
    picked = invoke("pick", series, "boards/ep01", "2", "--json")
    assert picked.exit_code == 1, picked.output  # a board has no take 2: left unpicked
    said = json.loads(picked.stdout)
    assert said["picked"] == [{"board": "boards/ep01/hello", "take": 2}]
    assert [s["board"] for s in said["skipped"]] == ["boards/ep01/waves"]
    assert said["skipped"][0]["why"].startswith("boards/ep01/waves has no take 2")
    lock = json.loads((series / "storyboard.lock").read_text())["takes"]
    assert lock["boards/boards/ep01/hello"]["picked"] == 2


def test_in_a_matrix_a_variations_boards_are_approved_at_once(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emulator()
    root = matrix_series(tmp_path / "ad", make_media, head=HEAD + "boards: {model: wan2.7-image}\n",
                         body=MATRIX_BODY, episodes='- id: ad\n  shots:\n'
                         '    - {id: pitch, prompt: "@mia holds a {{ product }}"}\n'
                         '    - {id: sip, prompt: "@mia sips a {{ product }}"}\n')
    assert render(root, "--yes", "boards")[0] == 0
    approved = invoke("approve", root, "latte/boards/ad")
    assert approved.exit_code == 0, approved.output
    assert approved.stdout.splitlines()[:2] == ["approved take 1 of latte/boards/ad/pitch",
                                                "approved take 1 of latte/boards/ad/sip"]
    waits = {s["key"] for s in planned(root)["plan"]["shots"] if s["status"] == "waits"}
    assert not {"ad/latte/ad/pitch", "ad/latte/ad/sip"} & waits
    every = json.loads(invoke("approve", root, "--all-boards", "--json").stdout)
    assert [a["board"] for a in every["approved"]] == ["espresso/boards/ad/pitch",
                                                       "espresso/boards/ad/sip"]
    assert [s["board"] for s in every["skipped"]] == ["latte/boards/ad/pitch",
                                                      "latte/boards/ad/sip"]
    takes = json.loads((root / "storyboard.lock").read_text())["takes"]
    assert {k for k, v in takes.items() if v.get("approved") == 1} == {
        f"ad/{v}/boards/ad/{s}" for v in ("espresso", "latte") for s in ("pitch", "sip")}


CHAINED = """\
storyboard: 1
title: Chained
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
boards: {model: wan2.7-image}
characters:
  mia: {image: {generate: "barista in her thirties, short dark hair, green apron"}}
episodes:
  - id: ep01
    shots:
      - {id: pour, prompt: "@mia pours milk into a cup"}
      - {id: serve, prompt: "@mia slides the cup across the counter", first_frame: {from: pour}}
"""


def test_takes_names_each_boards_file_and_a_shot_without_a_board_says_why(
        tmp_path: Path, emulator: Emulator) -> None:
    """Issue 65.11: ``takes`` (and ``--json``) gives the path of each board take's file; a
    board asked of a shot whose first frame is another shot's says so, not "no shot"."""
    emulator()
    series = tmp_path / "chained"
    series.mkdir()
    (series / "storyboard.yaml").write_text(CHAINED, encoding="utf-8")
    assert render(series, "--yes", "boards")[0] == 0
    listed = json.loads(invoke("takes", series, "boards/ep01/pour", "--json").stdout)
    [row] = listed
    assert row["file"].startswith(".storyboard/") and (series / row["file"]).is_file()
    text = invoke("takes", series, "boards/ep01/pour")
    assert f"take 1: {series / row['file']}" in text.stdout.splitlines()
    for command in (("approve",), ("pick",), ("takes",)):
        args = (*command, series, "boards/ep01/serve", *(("1",) if command == ("pick",) else ()))
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        assert "no shot" not in result.stderr and "did you mean" not in result.stderr
        assert ("ep01/serve has no board to approve or pick: its first frame is ep01/pour's "
                "last frame") in result.stderr
        assert "approve boards/ep01/pour" in result.stderr



def test_a_render_the_gate_holds_in_part_exits_0_and_names_the_wait(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """Issue 65.10: the shots held for their boards are named with the wait and the command
    that ends it, and the render exits 0; a shot that truly fails still exits 1."""
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    result = invoke("render", series, "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert (f"episode ep01: waits {series / 'out' / 'ep01.mp4'} - its shot(s) hello, waves wait "
            "for their boards' approval: nothing of it is sent or paid until then (storyboard "
            f"approve {series} boards/ep01 approves the episode's boards; then render again)"
            ) in said, said
    assert "not rendered" not in said
    code, report, _ = render(series, "--yes")
    assert code == 0 and report["ok"] is True
    assert [(e["id"], e["state"]) for e in report["episodes"]] == [("ep01", "waits")]
    assert invoke("render", "--help").stdout.count("Exit codes:") == 1
    assert invoke("approve", series, "boards/ep01").exit_code == 0
    emu.script("task:failed", "task:failed")  # the videos now sent fail: a failure again
    code, report, _ = render(series, "--yes")
    assert code == 1 and report["ok"] is False
