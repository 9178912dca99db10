"""The boards loop from a story, end to end, through the command line and the emulator on
DashScope (issue 56, "Done when", the first bullet).

A story is broken down into a series with a ``boards:`` block (the emulator's chat endpoint
answering); ``render SERIES boards`` makes each board from the cast's sheets, given as references in the
order the shot names its people, and stitches the board animatic, no video; one board is retaken,
its take 2 picked and approved; ``render`` then sends that shot's video alone, starting from take 2's
exact bytes, while the other shots wait unpaid with the command that lets them go; a shot with its
own still is never paid for a board and starts from that still; another cast sheet picked re-plans
exactly the boards that picture that character; a shot moved to a model whose first frame and
references are exclusive is warned at its line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.emulator import EmulatorServer
from tests.fixtures.boards import by_shot, planned, rows, sent_first_frame
from tests.fixtures.breakdown import KEY_ENV, chat_base, story
from tests.fixtures.cast import cast_stats, lock_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the DashScope key in the environment

STORY = """\
# The Lighthouse

Mia climbed the stairs of the old lighthouse while Sam waited below.

Sam brought coffee up to Mia at the top of the tower.

Sam watched the gulls from the rocks.

Mia lit the great lamp over the calm bay.
"""

# Each shot by its words, and who it pictures, in the order the story names them.
CLIMBS, COFFEE, GULLS, LAMP = ("climbed the stairs", "brought coffee up", "watched the gulls",
                               "lit the great lamp")
PICTURED = {CLIMBS: ["mia", "sam"], COFFEE: ["sam", "mia"], GULLS: ["sam"]}

# What the tests' series say beside the breakdown's: quick polls, no loudness pass.
QUICK = "provider: {name: dashscope, poll: [0.2]}\noutput: {loudness: null}\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def episode_file(series: Path) -> Path:
    return next((series / "episodes").glob("01-*.yaml"))


def shot_ids(series: Path) -> dict[str, str]:
    """Each shot's id by the words of its action (the breakdown names shots by a hash)."""
    shots = yaml.safe_load(episode_file(series).read_text("utf-8"))["shots"]
    return {words: shot["id"] for shot in shots for words in PICTURED.keys() | {LAMP}
            if words in shot["scenes"][0]["action"]}


def broken_down(emu: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Step 1: ``storyboard breakdown`` of the story writes a series with a ``boards:`` block."""
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")
    series = tmp_path / "lighthouse"
    result = invoke("breakdown", story(tmp_path, STORY), series, "--base-url", chat_base(emu),
                    "--api-key-env", KEY_ENV, "--yes")
    assert result.exit_code == 0, result.output
    top = series / "storyboard.yaml"
    assert 'boards: {model: "wan2.7-image"}' in top.read_text("utf-8")
    top.write_text(top.read_text("utf-8").replace("boards:", QUICK + "boards:", 1), "utf-8")
    return series


def own_still(series: Path, shot: str, make_media: Any) -> Path:
    """Step 5's edit: one shot gets its own still (``board: ../media/own.png``)."""
    still = series / "media" / "own.png"
    make_media("image", still, width=1280, height=720)
    edit(series, shot, "board: ../media/own.png")
    return still


def edit(series: Path, shot: str, line: str) -> None:
    """``line`` added to ``shot`` in the written episode, as a person edits it."""
    path = episode_file(series)
    text = path.read_text("utf-8")
    head = f"  - id: {shot}\n"
    assert head in text, text
    path.write_text(text.replace(head, f"{head}    {line}\n"), "utf-8")


def uploaded(emu: EmulatorServer, url: str) -> str:
    stored = emu.service.uploads.lookup(url)
    assert stored is not None, f"{url} was never uploaded to the emulator"
    return stored.sha256


def board_request(emu: EmulatorServer, series: Path, board: str) -> tuple[str, list[str]]:
    """The prompt of the image request the lock names for ``board``, and the sha256 of each
    reference image the emulator was sent with it, in order."""
    task = emu.service.images.tasks[lock_of(series)["shots"][f"lighthouse/{board}"]["task_id"]]
    return task.request.prompt, [uploaded(emu, url) for url in task.request.images]


def check_boards(emu: EmulatorServer, series: Path, ids: dict[str, str]) -> None:
    """Step 2: ``render SERIES boards`` makes the cast and the boards, each board from the cast's
    sheets in the order its shot names them; the animatic, no video."""
    code, report, err = render(series, "--yes", "boards")
    assert code == 0, err
    boards = {f"boards/ep01/{ids[words]}" for words in PICTURED}
    assert set(by_shot(report)) == {"cast/mia", "cast/sam"} | boards
    assert [e["id"] for e in report["episodes"]] == ["boards/ep01"]
    assert (series / "out" / "boards" / "ep01.mp4").is_file()
    assert submissions(emu) == 0 and cast_stats(emu)["images"] == 2 + len(boards)
    sheets = {name: lock_of(series)["shots"][f"lighthouse/cast/{name}"]["output_sha256"]
              for name in ("mia", "sam")}
    for words, names in PICTURED.items():
        prompt, sent = board_request(emu, series, f"boards/ep01/{ids[words]}")
        assert sent == [sheets[name] for name in names], (words, prompt)
        labels = ", ".join(f"{n.title()} (image {i})" for i, n in enumerate(names, 1))
        assert words in prompt and f"In frame: {labels}." in prompt, prompt
    assert f"lighthouse/boards/ep01/{ids[LAMP]}" not in lock_of(series)["shots"]  # step 5


def retake_pick_approve(emu: EmulatorServer, series: Path, board: str) -> str:
    """Step 3: a retake of one board, its take 2 picked and approved; take 2's sha256."""
    retaken = invoke("retake", series, board, "--yes", "--json")
    assert retaken.exit_code == 0, retaken.output
    made = by_shot(json.loads(retaken.stdout))[f"{board}#2"]
    assert made["state"] == "done" and cast_stats(emu)["images"] == 6
    picked = invoke("pick", series, board, "2")
    assert picked.exit_code == 0 and f"picked take 2 of {board}" in picked.stdout, picked.output
    approved = invoke("approve", series, board)
    assert approved.exit_code == 0 and f"approved take 2 of {board}" in approved.stdout
    take2 = sha256(Path(made["output"]))
    assert lock_of(series)["shots"][f"lighthouse/{board}#2"]["output_sha256"] == take2
    assert take2 != lock_of(series)["shots"][f"lighthouse/{board}"]["output_sha256"]
    return take2


def check_waits(series: Path, row: dict[str, Any]) -> None:
    """A shot whose board is not approved (a plan's row or a render's): unpaid, with the exact
    command that lets it go."""
    name, said = row["key"].split("/", 1)[1], row.get("note", row.get("message", ""))
    assert row["cost"] == 0 and said.startswith("waits (board not approved)"), row
    assert said.endswith(f"storyboard approve {series} boards/{name}"), row


def check_plan(series: Path, ids: dict[str, str]) -> None:
    """Step 4, the plan: the approved shot and the own still's are new; the others wait."""
    plan = planned(series)
    shots = rows(plan)
    sent = [shots[f"ep01/{ids[w]}"] for w in (CLIMBS, LAMP)]
    assert {s["status"] for s in sent} == {"new"} and plan["boards_cost"] == 0
    assert plan["total_cost"] == plan["videos_cost"] == round(sum(s["cost"] for s in sent), 4)
    for words in (COFFEE, GULLS):
        assert shots[f"ep01/{ids[words]}"]["status"] == "waits"
        check_waits(series, shots[f"ep01/{ids[words]}"])


def check_videos(emu: EmulatorServer, series: Path, ids: dict[str, str], take2: str,
                 still: Path) -> None:
    """Step 4, the render: two videos sent (the approved board's shot and the own still's),
    each from its picture's exact bytes; the others skipped, unpaid, not in the total spent."""
    code, report, err = render(series, "--yes")
    assert code == 0, err  # two shots wait for their boards: waiting is not failing (65.10)
    assert [e["state"] for e in report["episodes"]] == ["waits"]
    shots = by_shot(report)
    sent = [shots[f"ep01/{ids[words]}"] for words in (CLIMBS, LAMP)]
    assert [s["state"] for s in sent] == ["done", "done"] and all(s["cost"] > 0 for s in sent)
    for words in (COFFEE, GULLS):
        assert shots[f"ep01/{ids[words]}"]["state"] == "skipped"
        check_waits(series, shots[f"ep01/{ids[words]}"])
    assert submissions(emu) == 2 and cast_stats(emu)["images"] == 6
    assert report["spent"] == round(sum(s["cost"] for s in sent), 4)
    assert sent_first_frame(emu, CLIMBS) == take2  # the approved take's bytes, as sent
    assert sent_first_frame(emu, LAMP) == sha256(still)  # step 5: the own still, as sent


def check_cast_pick(emu: EmulatorServer, series: Path, ids: dict[str, str]) -> None:
    """Step 7: another take of Mia's sheet, picked, re-plans exactly the boards that picture
    her (a board of Sam alone stays cached)."""
    retaken = invoke("retake", series, "cast/mia", "--yes")
    assert retaken.exit_code == 0 and cast_stats(emu)["images"] == 7, retaken.output
    picked = invoke("pick", series, "cast/mia", "2")
    assert picked.exit_code == 0, picked.output
    plan = planned(series)
    shots = rows(plan)
    said = " ".join(picked.stdout.split())  # what pick prices is what plan prices
    assert f"this take (about {plan['total_cost']:.2f} USD with dashscope)" in said, said
    boards = {k: s for k, s in shots.items() if k.startswith("boards/")}
    climbs, coffee = (f"boards/ep01/{ids[w]}" for w in (CLIMBS, COFFEE))
    changed = {k for k, s in boards.items() if s["status"] == "changed"}
    assert changed == {climbs, f"{climbs}#2", coffee}, boards
    assert boards[f"boards/ep01/{ids[GULLS]}"]["status"] == "cached"
    assert {s["status"] for k, s in shots.items() if k.startswith("cast/")} == {"cached"}
    for key in changed:
        assert any("another take of cast/mia" in c["detail"] for c in boards[key]["changes"])


def check_exclusive(series: Path, shot: str) -> None:
    """Step 6: a shot on wan3.0-video (a first frame or references, not both) is warned at its
    line: the board replaces its references."""
    edit(series, shot, "model: wan3.0-video")
    result = invoke("check", series, "--json")
    assert result.exit_code == 0, result.output
    found = [d for d in json.loads(result.stdout) if d["code"] == "board-replaces"]
    lines = episode_file(series).read_text("utf-8").splitlines()
    assert [(Path(d["file"]).name, d["line"], d["column"], d["severity"]) for d in found] == [
        (episode_file(series).name, lines.index(f"  - id: {shot}") + 1, 5, "warning")]
    assert "replaces @sam, @mia" in found[0]["message"]


def test_the_boards_loop_from_a_story(tmp_path: Path, emulator: Emulator, make_media: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    series = broken_down(emu, tmp_path, monkeypatch)  # 1. the story into a series
    ids = shot_ids(series)
    assert set(ids) == {CLIMBS, COFFEE, GULLS, LAMP}, ids
    still = own_still(series, ids[LAMP], make_media)  # 5. one shot's own still
    check_boards(emu, series, ids)  # 2. render SERIES boards
    take2 = retake_pick_approve(emu, series, f"boards/ep01/{ids[CLIMBS]}")  # 3.
    check_plan(series, ids)  # 4. plan, then render: only the approved board's video
    check_videos(emu, series, ids, take2, still)
    check_cast_pick(emu, series, ids)  # 7. another cast pick
    check_exclusive(series, ids[COFFEE])  # 6. an exclusive model, warned at its line
