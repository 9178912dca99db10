"""An approved board is trusted by its bytes, in the provider's cache too (issue 63, item 1).

``approve`` records the digest of the picture approved; before a video that starts from the board
is planned as ready or sent, the board's file in ``.storyboard/cache/<provider>/`` must still be
that picture. Another picture put there after ``approve`` (or a link to one, a truncated copy, no
file) holds the video unpaid, naming the file and what ends the wait; the right bytes put back let
it go with them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard.media.probes.probe import sha256_file
from tests.fixtures.boards import BOARDS, by_shot, planned, rows, sent_first_frame, write
from tests.fixtures.cast import lock_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

HELLO = "boards/boards/ep01/hello"  # the board's take in the lock: series/boards/ep01/shot
WAVES = "boards/boards/ep01/waves"


def cached(series: Path, key: str) -> Path:
    """The board take ``key``'s file in DashScope's cache (its hash names it)."""
    return series / ".storyboard" / "cache" / "dashscope" / lock_of(series)["shots"][key]["hash"]


def tamper(board: Path, decoy: Path, how: str) -> None:
    board.unlink()
    if how == "another picture":
        shutil.copyfile(decoy, board)
    elif how == "a link":
        board.symlink_to(decoy)
    elif how == "a truncated copy":
        board.write_bytes(decoy.read_bytes()[:200])


def sent(emu: Any, words: str) -> bool:
    return words in json.dumps([t.body for t in emu.service.table.tasks.values()])


@pytest.mark.parametrize("how", ["another picture", "a link", "a truncated copy"])
def test_a_cached_board_replaced_after_approve_holds_its_video_until_the_bytes_are_back(
        tmp_path: Path, emulator: Emulator, make_media: Any, how: str) -> None:
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    approved = lock_of(series)["shots"][HELLO]["output_sha256"]
    board = cached(series, HELLO)
    genuine = board.read_bytes()
    decoy = series / "media" / "decoy.png"
    shutil.copyfile(cached(series, WAVES), decoy)  # another valid board-sized PNG
    assert sha256_file(decoy) != approved
    tamper(board, decoy, how)

    held = rows(planned(series))["ep01/hello"]
    assert (held["status"], held["waits_on"], held["cost"]) == ("waits", "boards/ep01/hello", 0)
    note = " ".join(held["note"].split())
    shown = board.relative_to(series).as_posix()
    assert "board changed after approval" in note and shown in note, note
    assert f"storyboard retake {series} boards/ep01/hello" in note, note

    _, report, err = render(series, "--yes")
    shots = {s["key"].split("/", 1)[1]: s for s in report["shots"]}
    assert shots["ep01/hello"]["state"] == "skipped", err
    assert "board changed after approval" in shots["ep01/hello"]["message"]
    assert not sent(emu, "wipes the counter")  # no video of it sent, none paid
    assert board.is_symlink() == (how == "a link")  # nothing drawn over the evidence

    again = invoke("approve", series, "boards/ep01/hello")  # the record stands: still held
    assert again.exit_code == 0, again.output
    assert "may render from it now" not in again.stdout, again.output
    assert rows(planned(series))["ep01/hello"]["status"] == "waits"

    board.unlink()
    board.write_bytes(genuine)  # restored: the picture approved
    assert rows(planned(series))["ep01/hello"]["status"] == "new"
    _, report, err = render(series, "--yes")
    assert {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]}["ep01/hello"] == \
        "done", err
    assert sent_first_frame(emu, "wipes the counter") == approved


def test_a_board_re_rendered_after_approve_is_not_the_approved_picture(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """The approval keeps the digest of the picture seen: a board whose cached file was deleted
    and drawn again (the lock's record of the take now says the new picture) holds its video
    until the new picture is approved."""
    emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    lock = series / "storyboard.lock"
    data = json.loads(lock.read_text("utf-8"))
    assert data["takes"]["boards/boards/ep01/hello"]["approved_sha256"] == \
        data["shots"][HELLO]["output_sha256"]
    other = sha256_file(cached(series, WAVES))
    data["shots"][HELLO]["output_sha256"] = other  # as a re-render of the take records it
    lock.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    cached(series, HELLO).write_bytes(cached(series, WAVES).read_bytes())
    held = rows(planned(series))["ep01/hello"]
    assert held["status"] == "waits" and "board changed after approval" in held["note"], held
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0  # seen: approved again
    assert rows(planned(series))["ep01/hello"]["status"] == "new"


def test_a_board_replaced_between_the_plan_and_the_send_is_never_sent(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """The run checks the board's file again right before it sends it: a picture put there
    after the plan let the video go ends that shot ``blocked``, with nothing sent or paid."""
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    board, decoy = cached(series, HELLO), cached(series, WAVES).read_bytes()
    seen: list[str] = []

    def swap(plan: Any) -> None:  # the plan is made: the board checked and let go
        seen.extend(s.status for s in plan.shots if s.key == "boards/ep01/hello")
        board.write_bytes(decoy)

    report = storyboard.render(series, provider="dashscope", yes=True, on_plan=swap)
    assert seen == ["new"]
    assert report.run is not None
    shot = next(s for s in report.run.shots if s.key == "boards/ep01/hello")
    assert shot.state == "blocked" and "changed after approval" in shot.message, shot
    assert not sent(emu, "wipes the counter")


def test_an_approved_board_whose_file_is_gone_is_drawn_again_but_its_video_waits(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """No file where the approved board was: the board is drawn again (a picture no one has
    seen yet), and its video waits, unpaid, in that same render."""
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    board = cached(series, HELLO)
    board.unlink()
    board.with_suffix(".png.json").unlink(missing_ok=True)
    held = rows(planned(series))["ep01/hello"]
    assert held["status"] == "waits" and "it is missing" in held["note"], held
    _, report, err = render(series, "--yes")
    shots = {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]}
    assert (shots["boards/ep01/hello"], shots["ep01/hello"]) == ("done", "skipped"), err
    assert not sent(emu, "wipes the counter")


def test_with_the_gate_off_a_picked_board_is_held_to_its_bytes_too(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """``boards: {gate: false}`` lets a picked board's video go: only while the board's file is
    the picture the lock records for the picked take."""
    emu = emulator()
    text = BOARDS.replace("boards: {model: wan2.7-image}", "boards: {model: wan2.7-image, "
                          "gate: false}")
    series = write(tmp_path / "boards", make_media, text)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("pick", series, "boards/ep01/hello", "1").exit_code == 0
    assert rows(planned(series))["ep01/hello"]["status"] == "new"
    board = cached(series, HELLO)
    genuine = board.read_bytes()
    board.write_bytes(cached(series, WAVES).read_bytes())
    held = rows(planned(series))["ep01/hello"]
    assert held["status"] == "waits", held
    assert "board changed after it was picked" in held["note"], held
    _, report, err = render(series, "--yes")
    assert by_shot(report)["ep01/hello"]["state"] == "skipped", err
    assert not sent(emu, "wipes the counter"), err
    board.write_bytes(genuine)
    assert rows(planned(series))["ep01/hello"]["status"] == "new"
