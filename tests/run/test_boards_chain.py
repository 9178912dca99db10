"""Boards chained across episodes on a paid provider (issue 67 item 3, through the command line
and DashScope's emulator): with ``continuity: {chain_boards: true}`` an episode's first board is
not asked of the image model until the previous episode's last board has a picked take, and it is
asked with that very take as a reference; no shot's video is sent before its own board is
approved; another pick of the previous episode's last board re-plans the chained board alone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.emulator.cast.assets import ImageTask
from tests.fixtures.boards import by_shot, planned, rows, sent_first_frame
from tests.fixtures.cast import cast_stats, lock_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
boards: {model: wan2.7-image}
continuity: {chain_boards: true}
characters:
  ada: {image: media/ada.png}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "@ada answers the phone"}
      - {id: b, prompt: "@ada hangs up in the rain"}
  - id: ep02
    shots:
      - {id: a, prompt: "@ada opens the door"}
"""
KEEP = "Keep the look of the previous frame (image 2)."
LAST, FIRST = "hangs up in the rain", "opens the door"  # ep01's last shot, ep02's first


def write(root: Path, make_media: Any) -> Path:
    make_media("image", root / "media" / "ada.png", width=320, height=320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return root


def board_tasks(emu: EmulatorServer, words: str) -> list[ImageTask]:
    """The image requests the emulator was sent for the board whose shot says ``words``."""
    return sorted((t for t in emu.service.images.tasks.values() if words in t.request.prompt),
                  key=lambda t: t.created)


def uploaded(emu: EmulatorServer, url: str) -> str:
    stored = emu.service.uploads.lookup(url)
    assert stored is not None, f"{url} was never uploaded to the emulator"
    return stored.sha256


def board_sha(series: Path, board: str) -> str:
    """The sha256 of the take of ``board`` (``boards/ep01/b``) the lock holds."""
    [entry] = [e for key, e in lock_of(series)["shots"].items() if key.endswith(f"/{board}")]
    sha: str = entry["output_sha256"]
    return sha


def take_sha(series: Path, board: str, take: int) -> str:
    """The sha256 of take ``take`` of ``board``, from the file ``takes --json`` names."""
    listed = invoke("takes", series, board, "--json")
    assert listed.exit_code == 0, listed.output
    [row] = [t for t in json.loads(listed.stdout) if (t["take"], t["state"]) == (take, "done")]
    return hashlib.sha256((series / row["file"]).read_bytes()).hexdigest()


def test_the_first_board_of_an_episode_waits_for_the_last_board_before_it(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """ep01's last board fails: ep02's first board is blocked, never asked of the image model;
    once ep01's last board is made (its take picked), ep02's first board is asked after it, with
    that take's exact bytes as its second reference and the prompt that says so."""
    emu = emulator()
    series = write(tmp_path / "night", make_media)
    assert rows(planned(series))["boards/ep02/a"]["waits_on"] == "boards/ep01/b"
    assert render(series, "--yes", "boards", "boards/ep01/a")[0] == 0
    emu.script("task:failed")  # the next image task fails: ep01's last board
    code, report, err = render(series, "--yes", "boards")
    states = {k: s["state"] for k, s in by_shot(report).items()}
    assert code == 1 and states == {"boards/ep01/a": "cached", "boards/ep01/b": "failed",
                                    "boards/ep02/a": "blocked"}, err
    assert cast_stats(emu)["requests"]["image"] == 2 and board_tasks(emu, FIRST) == []

    code, report, err = render(series, "--yes", "boards", "ep02")
    assert code == 0, err  # ep02's board asks for the board it chains from: made first
    assert {k: s["state"] for k, s in by_shot(report).items()} == {
        "boards/ep01/b": "done", "boards/ep02/a": "done"}
    assert cast_stats(emu)["requests"]["image"] == 4  # ep01/b again, then ep02/a: once each
    last = board_tasks(emu, LAST)[-1]
    [first] = board_tasks(emu, FIRST)
    assert last.status == "SUCCEEDED" and last.ended is not None
    assert first.created >= last.ended  # asked only once the take it chains from was there
    assert KEEP in first.request.prompt
    sent = [uploaded(emu, url) for url in first.request.images]
    assert sent[1:] == [take_sha(series, "boards/ep01/b", 1)], sent  # ep01's last board as made
    [unchained] = board_tasks(emu, "answers the phone")  # ep01's first board chains from nothing
    assert KEEP not in unchained.request.prompt and len(unchained.request.images) == 1


def test_no_video_is_sent_before_its_own_board_is_approved(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """Approving ep01's boards lets ep01's videos go, and ep02's video still waits on its own
    board (chained from an approved board is not approved); approving it lets it go from it."""
    emu = emulator()
    series = write(tmp_path / "night", make_media)
    code, report, err = render(series, "--yes")
    assert code == 0, err  # the boards made, the videos wait: waiting is not failing
    assert submissions(emu) == 0
    assert invoke("approve", series, "boards/ep01").exit_code == 0
    plan = rows(planned(series))
    assert (plan["ep01/a"]["status"], plan["ep01/b"]["status"]) == ("new", "new")
    assert (plan["ep02/a"]["status"], plan["ep02/a"]["waits_on"]) == ("waits", "boards/ep02/a")
    code, report, err = render(series, "--yes")
    shots = by_shot(report)
    assert (shots["ep01/a"]["state"], shots["ep01/b"]["state"]) == ("done", "done"), json.dumps([shots, err])
    assert shots["ep02/a"]["state"] == "skipped" and shots["ep02/a"]["cost"] == 0
    assert submissions(emu) == 2
    assert not [t for t in emu.service.table.tasks.values() if FIRST in t.body["input"]["prompt"]]
    assert invoke("approve", series, "boards/ep02/a").exit_code == 0
    code, report, err = render(series, "--yes")
    assert by_shot(report)["ep02/a"]["state"] == "done", json.dumps([by_shot(report), err])
    assert submissions(emu) == 3
    assert sent_first_frame(emu, FIRST) == board_sha(series, "boards/ep02/a")
    assert cast_stats(emu)["images"] == 3  # the three boards, each made once


def test_another_pick_of_the_last_board_replans_the_next_episodes_first_board_alone(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """ep01's last board retaken: nothing re-planned until take 2 is picked; then the plan has
    one board to make, ep02's first, and nothing else changed; made, it is asked with take 2 as
    its reference."""
    emu = emulator()
    series = write(tmp_path / "night", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    before = {k: r["status"] for k, r in rows(planned(series)).items()}
    assert before == {"boards/ep01/a": "cached", "boards/ep01/b": "cached",
                      "boards/ep02/a": "cached", "ep01/a": "waits", "ep01/b": "waits",
                      "ep02/a": "waits"}, before
    retaken = invoke("retake", series, "boards/ep01/b", "--yes", "--quiet")
    assert retaken.exit_code == 0, retaken.output
    assert cast_stats(emu)["requests"]["image"] == 4
    held = {k: r["status"] for k, r in rows(planned(series)).items()}
    assert held.pop("boards/ep01/b#2") == "cached" and held == before  # made, not picked yet
    picked = invoke("pick", series, "boards/ep01/b", "2")
    assert picked.exit_code == 0, picked.output
    plan = planned(series)
    after = {k: r["status"] for k, r in rows(plan).items()}
    assert after.pop("boards/ep01/b#2") == "cached"  # the retake, made: its row in the plan
    assert {k: s for k, s in after.items() if s != before[k]} == {"boards/ep02/a": "changed"}
    assert [k for k, r in rows(plan).items() if r["cost"] > 0] == ["boards/ep02/a"]
    assert any("its board changed (boards/ep01/b is another picture now)" in c["detail"]
               for c in rows(plan)["boards/ep02/a"]["changes"])
    assert plan["boards_cost"] == rows(plan)["boards/ep02/a"]["cost"] > 0
    code, report, err = render(series, "--yes", "boards")
    assert code == 0, err
    made = {k for k, s in by_shot(report).items() if s["state"] == "done"}
    assert made == {"boards/ep02/a"}, report
    assert cast_stats(emu)["requests"]["image"] == 5
    first = board_tasks(emu, FIRST)[-1]
    take2 = board_tasks(emu, LAST)[-1]
    assert KEEP in first.request.prompt and first.created >= (take2.ended or 0.0)
    sent = [uploaded(emu, url) for url in first.request.images]
    assert sent[1:] == [take_sha(series, "boards/ep01/b", 2)], sent  # take 2, as picked
    assert sent[1] != take_sha(series, "boards/ep01/b", 1)
    earlier = board_tasks(emu, FIRST)[0].request.images[1]
    assert uploaded(emu, earlier) == take_sha(series, "boards/ep01/b", 1)  # as it was before
