"""Boards under the money rules, through the emulator (issue 56 items 2 and 3, the run's half).

A board is planned in a row of its own at its image model's price, with the boards' and the
videos' totals apart; ``render SERIES boards`` makes the boards and the cast they use and nothing else;
a shot's video waits, unpaid and never sent, until its board is approved (the plan names the
``approve`` command), a picked board is enough with ``gate: false``, and a free provider never
waits; takes, retake, pick and approve work on ``boards/EP/SHOT``, and a new approved board
re-plans its shot as changed, saying so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard.media.probes.measure import measure
from storyboard.run.state.measured import Thresholds, judge
from tests.fixtures.boards import (
    ARK_BOARDS,
    BOARD_IMAGES,
    BOARDS,
    CAST_IMAGES,
    CDN,
    by_shot,
    planned,
    rows,
    sent_first_frame,
    write,
)
from tests.fixtures.cast import SPOKEN, cast_stats, lock_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions
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


def test_the_plan_prices_boards_apart_and_their_videos_wait(tmp_path: Path, emulator: Emulator,
                                                            make_media: Any) -> None:
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    plan = planned(series)
    shots = rows(plan)
    assert (shots["boards/ep01/hello"]["status"], shots["boards/ep01/hello"]["cost"]) == ("new", 0.03)
    assert "boards/ep01/own" not in shots  # an own still is no asset: never paid
    for name in ("ep01/hello", "ep01/waves"):
        wait = shots[name]
        assert (wait["status"], wait["cost"], wait["waits_on"]) == ("waits", 0.0, f"boards/{name}")
        assert wait["note"].startswith("waits (board not approved)")
        assert f"storyboard approve {series} boards/{name}" in wait["note"]
    assert shots["ep01/own"]["status"] == "new" and shots["ep01/own"]["cost"] > 0
    assert plan["boards_cost"] == 0.06 and plan["cast_cost"] == 0.06
    assert plan["counts"]["awaiting board"] == 2
    assert plan["videos_cost"] == shots["ep01/own"]["cost"]
    assert plan["total_cost"] == round(0.12 + shots["ep01/own"]["cost"], 4)
    text = invoke("plan", series, "--provider", "dashscope")
    assert text.exit_code == 0, text.output
    assert "the boards: about 0.06 USD, the videos: about" in " ".join(text.stdout.split())
    assert submissions(emu) == 0 and cast_stats(emu)["requests"]["image"] == 0


def test_render_boards_makes_the_boards_and_their_cast_and_nothing_else(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    code, report, err = render(series, "--yes", "boards")
    assert code == 0, err
    assert set(by_shot(report)) == {"cast/mia", "cast/sam", "boards/ep01/hello",
                                    "boards/ep01/waves"}
    assert cast_stats(emu)["images"] == CAST_IMAGES + BOARD_IMAGES
    assert submissions(emu) == 0  # no video: the one episode is the board animatic
    assert [e["id"] for e in report["episodes"]] == ["boards/ep01"]
    code, report, err = render(series, "--yes", "boards")  # made: never paid again
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"cached"}
    assert cast_stats(emu)["images"] == CAST_IMAGES + BOARD_IMAGES
    code, report, err = render(series, "--yes", "boards", "boards/ep01")
    assert code == 0 and set(by_shot(report)) >= {"boards/ep01/hello", "boards/ep01/waves"}, err
    code, report, err = render(series, "--yes", "boards", "ep01")
    assert code == 0 and {k for k in by_shot(report) if k.startswith("boards/")} == {
        "boards/ep01/hello", "boards/ep01/waves"}, err
    code, report, err = render(series, "--yes", "boards", "ep01/waves")
    assert code == 0 and {k for k in by_shot(report) if k.startswith("boards/")} == {
        "boards/ep01/waves"}, err  # the board the named shot uses


def test_a_video_is_sent_only_once_its_board_is_approved(tmp_path: Path, emulator: Emulator,
                                                         make_media: Any) -> None:
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    code, report, err = render(series, "--yes")
    shots = by_shot(report)
    assert code == 0, err  # two shots wait for their boards: waiting is not failing (65.10)
    assert shots["ep01/own"]["state"] == "done"  # its own still: nothing to approve
    for name in ("ep01/hello", "ep01/waves"):
        assert shots[name]["state"] == "skipped" and shots[name]["cost"] == 0
        assert shots[name]["message"].startswith("waits (board not approved)")
        assert f"boards/{name}" in shots[name]["message"]
    assert submissions(emu) == 1  # the videos that wait were never sent
    assert shots["boards/ep01/hello"]["state"] == "done"

    takes = invoke("takes", series, "boards/ep01/hello", "--json")
    assert takes.exit_code == 0, takes.output
    assert [(t["take"], t["state"]) for t in json.loads(takes.stdout)] == [(1, "done")]
    approved = invoke("approve", series, "boards/ep01/hello")
    assert approved.exit_code == 0 and "approved take 1" in approved.stdout, approved.output
    plan = rows(planned(series))
    assert plan["ep01/hello"]["status"] == "new" and plan["ep01/hello"]["cost"] > 0
    assert plan["ep01/waves"]["status"] == "waits"
    code, report, err = render(series, "--yes")
    assert by_shot(report)["ep01/hello"]["state"] == "done", err
    assert by_shot(report)["ep01/waves"]["state"] == "skipped"
    assert submissions(emu) == 2 and cast_stats(emu)["images"] == CAST_IMAGES + BOARD_IMAGES
    board = lock_of(series)["shots"]["boards/boards/ep01/hello"]["output_sha256"]
    assert sent_first_frame(emu, "wipes the counter") == board  # the approved board's bytes


def test_a_new_approved_board_replans_its_shot_as_changed(tmp_path: Path, emulator: Emulator,
                                                          make_media: Any) -> None:
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    _, report, err = render(series, "--yes", "ep01/hello")
    assert by_shot(report)["ep01/hello"]["state"] == "done", err  # its episode lacks the rest
    retaken = invoke("retake", series, "boards/ep01/hello", "--yes", "--json")
    assert retaken.exit_code == 0, retaken.output
    assert cast_stats(emu)["images"] == CAST_IMAGES + BOARD_IMAGES + 1
    picked = invoke("pick", series, "boards/ep01/hello", "2", "--replace-approved")
    assert picked.exit_code == 0 and "ep01/hello" in picked.stdout, picked.output
    assert "once it is approved (storyboard approve" in " ".join(picked.stdout.split())
    plan = rows(planned(series))
    assert plan["ep01/hello"]["status"] == "waits"  # take 2 is picked, not approved yet
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    assert lock_of(series)["takes"]["boards/boards/ep01/hello"]["approved"] == 2
    hello = rows(planned(series))["ep01/hello"]
    assert hello["status"] == "changed"
    assert any("its board changed (boards/ep01/hello" in c["detail"] for c in hello["changes"])
    assert rows(planned(series))["ep01/waves"]["status"] == "waits"  # its own board: as it was


def test_without_the_gate_a_picked_board_is_enough(tmp_path: Path, emulator: Emulator,
                                                   make_media: Any) -> None:
    emulator()
    text = BOARDS.replace("boards: {model: wan2.7-image}", "boards: {model: wan2.7-image, gate: false}")
    series = write(tmp_path / "boards", make_media, text)
    assert render(series, "--yes", "boards")[0] == 0
    hello = rows(planned(series))["ep01/hello"]
    assert hello["status"] == "waits" and "storyboard pick" in hello["note"]
    assert invoke("pick", series, "boards/ep01/hello", "1").exit_code == 0
    assert rows(planned(series))["ep01/hello"]["status"] == "new"


def test_a_free_provider_never_waits(tmp_path: Path, make_media: Any) -> None:
    series = write(tmp_path / "boards", make_media)
    result = invoke("plan", series, "--provider", "local", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert not [s for s in plan["shots"] if s["status"] == "waits"]
    result = invoke("render", series, "--provider", "local", "--json")
    assert result.exit_code == 0, result.output  # nothing approved, every shot rendered
    report = json.loads(result.stdout)
    assert {s["state"] for s in report["shots"]} == {"done"}
    assert [e["state"] for e in report["episodes"]] == ["stitched"]


def test_a_board_of_another_size_or_ratio_is_a_finding(tmp_path: Path, make_media: Any) -> None:
    series = write(tmp_path / "boards", make_media)
    manifest = storyboard.compile(series)
    board = next(s for s in manifest.cast if s.shot_id == "boards/ep01/hello")
    assert board.asset is not None and board.asset.size == "1920*1080"
    square = measure(make_media("image", tmp_path / "square.png", width=640, height=640), "image")
    found = {f.kind: f for f in judge(square, board, Thresholds())}
    assert set(found) == {"size", "ratio"}, found
    assert found["size"].detail == "640x640, asked for 1920x1080"
    right = measure(make_media("image", tmp_path / "right.png", width=1920, height=1080), "image")
    assert not [f for f in judge(right, board, Thresholds()) if f.kind in ("size", "ratio")]
    sheet = next(s for s in manifest.cast if s.shot_id == "cast/mia")  # a sheet: as before
    assert not [f for f in judge(square, sheet, Thresholds()) if f.kind in ("size", "ratio")]


def test_status_says_a_synchronous_answer_lost_may_have_been_billed(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """A synchronous call (a spoken line here; a board on a synchronous image API alike) whose
    answer is lost: ``status`` says it may be paid, and it is asked again only on a person's word
    (``task forget``), never by a render."""
    emu = emulator()
    emu.script("speech:lost")  # made and paid, its answer never arrives
    series = tmp_path / "spoken"
    make_media("image", series / "media" / "still.png", width=640, height=360)
    (series / "storyboard.yaml").write_text(SPOKEN, encoding="utf-8")
    assert render(series, "--yes")[0] != 0
    shown = invoke("status", series, "--json")
    assert shown.exit_code == 0, shown.output
    line = next(r for r in json.loads(shown.stdout) if r["shot"] == "ep01/speaks")
    assert line["possibly_billed"] is True and line["state"] == "intent"
    assert sum(r["possibly_billed"] for r in json.loads(shown.stdout)) == 1
    table = invoke("status", series)
    assert "(possibly billed)" in table.stdout and "task forget" in " ".join(table.stdout.split())
    assert render(series, "--yes")[0] != 0
    assert cast_stats(emu)["requests"]["speech"] == 1  # not asked again by itself


def test_the_sheet_says_why_a_shot_waits_for_its_board(tmp_path: Path, make_media: Any) -> None:
    from storyboard.review.sheet.model import plan_words
    from storyboard.run.pipeline import plan_series
    from storyboard.run.setup import make_provider
    manifest = storyboard.compile(write(tmp_path / "boards", make_media))
    plan = plan_series(manifest, make_provider(manifest, "dashscope"), offline=True)
    hello = next(s for s in plan.shots if (s.episode, s.shot) == ("ep01", "hello"))
    status, reasons = plan_words(hello)
    assert status == "waits" and reasons[0].startswith("waits (board not approved)")
    assert not any("last frame" in reason for reason in reasons)


def test_a_budget_under_the_boards_spends_them_with_their_episode(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    code, report, err = render(series, "boards", "--budget", "0.09")
    states = {k: s["state"] for k, s in by_shot(report).items()}
    assert states == {"cast/mia": "done", "cast/sam": "done", "boards/ep01/hello": "done",
                      "boards/ep01/waves": "skipped"}, err
    said = " ".join(err.split())
    assert "no episode will be complete: ep01" in said, said  # a board is its shot's episode's
    assert code != 0 and cast_stats(emu)["images"] == CAST_IMAGES + 1


def test_in_a_matrix_the_gate_names_each_variations_board(tmp_path: Path, emulator: Emulator,
                                                          make_media: Any) -> None:
    emulator()
    root = matrix_series(tmp_path / "ad", make_media, head=HEAD + "boards: {model: wan2.7-image}\n",
                         body=MATRIX_BODY, episodes='- id: ad\n  shots:\n'
                         '    - {id: pitch, prompt: "@mia holds a {{ product }}"}\n')
    assert render(root, "--yes", "boards")[0] == 0
    waits = {s["key"]: s for s in planned(root)["plan"]["shots"] if s["status"] == "waits"}
    assert set(waits) == {"ad/espresso/ad/pitch", "ad/latte/ad/pitch"}, waits
    assert waits["ad/latte/ad/pitch"]["note"].endswith(f"approve {root} latte/boards/ad/pitch")
    approved = invoke("approve", root, "latte/boards/ad/pitch")
    assert approved.exit_code == 0, approved.output
    statuses = {s["key"]: s["status"] for s in planned(root)["plan"]["shots"]}
    assert statuses["ad/latte/ad/pitch"] == "new" and statuses["ad/espresso/ad/pitch"] == "waits"


def test_a_lost_board_answer_is_possibly_billed_and_asked_again_only_when_forgotten(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seedream on Ark answers in the request that makes the picture: that answer lost, the
    board may be paid; ``status`` says so, a render never asks again by itself, and ``task
    forget`` (a person's yes to a second payment) lets the next render ask again."""
    emu = emulator()
    monkeypatch.setenv("ARK_API_KEY", "ark-test-key")
    series = tmp_path / "ark"
    series.mkdir()
    (series / "storyboard.yaml").write_text(ARK_BOARDS.format(base=emu.gateway_url("ark"),
                                                              media=CDN),
                                            encoding="utf-8")
    emu.script("image:lost")  # made and billed, its answer never arrives
    assert invoke("render", series, "boards", "--yes", "--quiet").exit_code != 0
    calls = cast_stats(emu)["requests"]["image"]
    rows = json.loads(invoke("status", series, "--json").stdout)
    board = next(r for r in rows if r["shot"] == "ep1/cup")
    assert board["possibly_billed"] is True, board
    assert invoke("render", series, "boards", "--yes", "--quiet").exit_code != 0
    assert cast_stats(emu)["requests"]["image"] == calls  # never asked again by itself
    forgot = invoke("task", "forget", series, "boards/ep1/cup", "--yes")
    assert forgot.exit_code == 0, forgot.output
    done = invoke("render", series, "boards", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert cast_stats(emu)["requests"]["image"] == calls + 1 and cast_stats(emu)["images"] == 2


def test_a_shot_whose_first_frame_waits_on_a_gated_shot_waits_unpriced(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """``then`` starts from ``hello``'s last frame: while hello's board is not approved neither
    can be sent, so neither is priced, and a render sends neither (only the boards)."""
    emu = emulator()
    text = BOARDS.replace('      - {id: waves, prompt: "@sam waves at the door"}\n',
                          '      - {id: then, prompt: "@mia looks up", first_frame: {from: hello}}\n')
    series = write(tmp_path / "follow", make_media, text)
    plan = planned(series)
    then = rows(plan)["ep01/then"]
    assert (then["status"], then["cost"], then["billed_seconds"]) == ("waits", 0.0, 0.0)
    assert then["waits_on"] == "hello"
    assert f"storyboard approve {series} boards/ep01/hello" in then["note"]
    assert plan["videos_cost"] == rows(plan)["ep01/own"]["cost"]
    _, report, _ = render(series, "--yes")
    shots = by_shot(report)
    assert shots["ep01/then"]["state"] == shots["ep01/hello"]["state"] == "skipped"
    assert submissions(emu) == 1  # ``own`` only: its board is its own still
