"""An approval is of a picture one provider drew (issue 85): boards approved as ``local`` drew
them, then a render on DashScope (its emulator), which draws boards of its own.

The video waits for DashScope's own picture to be approved, and says so: approved on local, the
provider that drew its own, the ``approve --provider`` that lets it go; never a paid retake of a
picture nobody has seen. ``approve boards/EP --provider dashscope`` approves that provider's
boards, ``takes --provider`` lists that provider's takes with the approval on the very picture.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.boards import BOARDS, planned, rows, write
from tests.fixtures.dashscope_cli import Emulator, invoke, render, season_render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

LOCAL = BOARDS.replace("provider: {name: dashscope, poll: [0.2]}\n", "")  # the series renders on local


def approved_on_local(root: Path, make_media: Any) -> Path:
    """The series, its boards drawn on local (free) and approved as local drew them."""
    series = write(root, make_media, LOCAL)
    drawn = invoke("render", series, "boards", "--yes")
    assert drawn.exit_code == 0, drawn.output
    approved = invoke("approve", series, "boards/ep01")
    assert approved.exit_code == 0, approved.output
    assert "approved 2 board(s)" in approved.stdout, approved.stdout
    return series


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_board_approved_on_local_names_local_and_the_approve_on_dashscope(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emu = emulator()
    series = approved_on_local(tmp_path / "cafe", make_media)
    before = rows(planned(series))
    assert before["boards/ep01/hello"]["status"] == "new"  # dashscope draws its own
    note = before["ep01/hello"]["note"]
    assert note.startswith("waits (board not approved as this provider drew it)"), note
    assert "approved on local; dashscope draws its own" in note, note
    assert "retake" not in note, note

    code, report, err = season_render(series, "--yes")  # as the maker did
    assert code == 0, err
    shots = {s["key"].split("/", 1)[1]: s for s in report["shots"]}
    assert shots["boards/ep01/hello"]["state"] == "done", err
    assert shots["ep01/hello"]["state"] == "skipped", err
    said = words(shots["ep01/hello"]["message"])
    assert "approved on local; dashscope draws its own" in said and "retake" not in said, said
    videos = submissions(emu)

    after = rows(planned(series))  # the plan once dashscope drew its own
    note = words(after["ep01/hello"]["note"])
    assert "approved on local; dashscope drew its own, which no one has approved" in note, note
    assert f"storyboard approve {series} boards/ep01/hello --provider dashscope" in note, note
    assert f"storyboard takes {series} boards/ep01/hello --provider dashscope" in note, note
    assert "retake" not in note, note
    said = words(invoke("plan", series, "--provider", "dashscope").stdout)
    assert "retake" not in said, said

    again = invoke("approve", series, "boards/ep01")  # without --provider: nothing unseen
    out = words(again.stdout)
    assert again.exit_code == 1, again.output  # its picture left unapproved: a script stops
    assert ("skipped boards/ep01/hello: approved on local (take 1); dashscope drew its own "
            "since, which no one has approved: storyboard approve "
            f"{series} boards/ep01/hello --provider dashscope approves it") in out, out
    assert rows(planned(series))["ep01/hello"]["status"] == "waits"
    assert submissions(emu) == videos  # nothing paid by asking


def test_approve_boards_with_a_provider_approves_that_providers_pictures(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emu = emulator()
    series = approved_on_local(tmp_path / "cafe", make_media)
    assert render(series, "--yes")[0] == 0  # dashscope draws its boards; the videos wait
    listed = json.loads(invoke("takes", series, "boards/ep01/hello", "--provider", "dashscope",
                               "--json").stdout)
    assert [(t["provider"], t["marks"]) for t in listed] == [("dashscope", "picked")], listed
    local = json.loads(invoke("takes", series, "boards/ep01/hello", "--provider", "local",
                              "--json").stdout)
    assert [(t["provider"], t["marks"]) for t in local] == [("local", "picked, approved")], local

    approved = invoke("approve", series, "boards/ep01", "--provider", "dashscope")
    assert approved.exit_code == 0, approved.output
    out = words(approved.stdout)
    assert "approved take 1 of boards/ep01/hello (drawn on dashscope)" in out, out
    assert "approved 2 board(s), skipped 0" in out, out
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))
    state, entry = lock["takes"]["cafe/boards/ep01/hello"], lock["shots"]["cafe/boards/ep01/hello"]
    assert (state["approved_on"], state["approved_sha256"]) == ("dashscope",
                                                                 entry["output_sha256"])
    listed = json.loads(invoke("takes", series, "boards/ep01/hello", "--provider", "dashscope",
                               "--json").stdout)
    assert [t["marks"] for t in listed] == ["picked, approved"], listed
    assert {k: s["status"] for k, s in rows(planned(series)).items() if k.startswith("ep01/")} \
        == {"ep01/hello": "new", "ep01/waves": "new", "ep01/own": "cached"}
    videos = submissions(emu)
    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == videos + 2  # the two videos, from dashscope's approved boards
    again = invoke("approve", series, "boards/ep01", "--provider", "dashscope")
    assert "already approved (take 1)" in again.stdout, again.stdout
    assert again.exit_code == 0, again.output  # every board stands approved


def test_approve_of_a_local_take_names_the_approve_on_the_provider_that_drew_its_own(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """Approved by name as local drew it, after dashscope drew its own picture of the same take:
    approve says the dashscope shots still wait for dashscope's picture and how to approve it,
    not a retake."""
    emulator()
    series = write(tmp_path / "cafe", make_media, LOCAL)
    assert render(series, "--yes", "boards")[0] == 0  # dashscope's pictures
    assert invoke("render", series, "boards", "--yes").exit_code == 0  # then local's
    approved = invoke("approve", series, "boards/ep01/hello")
    assert approved.exit_code == 0, approved.output
    out = words(approved.stdout)
    assert "approved take 1 of boards/ep01/hello (drawn on local)" in out, out
    assert "may render" not in out and "retake" not in out, out
    assert ("ep01/hello still wait(s) for it on dashscope: dashscope drew a picture of its own "
            "for it, which no one has approved") in out, out
    assert f"storyboard approve {series} boards/ep01/hello --provider dashscope" in out, out
    single = invoke("approve", series, "boards/ep01/hello", "--provider", "dashscope")
    out = words(single.stdout)
    assert "approved take 1 of boards/ep01/hello (drawn on dashscope)" in out, out
    assert f"ep01/hello may render from it now: storyboard render {series} --provider " \
           "dashscope" in out, out
    assert rows(planned(series))["ep01/hello"]["status"] == "new"


# Two episodes whose shots say the same words: one board request, so one picture on each provider
# (drawn once, the other board the same file), and one video task for both.
SAME_WORDS = """\
storyboard: 1
title: Same words
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
output: {loudness: null}
boards: {model: wan2.7-image}
characters:
  mia: {image: media/still.png}
episodes:
  - id: ep01
    shots:
      - {id: s1, prompt: "@mia wipes the counter"}
  - id: ep02
    shots:
      - {id: s2, prompt: "@mia wipes the counter"}
"""


def test_two_shots_with_one_board_picture_each_name_their_own_board_and_the_approval(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """Approved on local by ep01's name, planned on dashscope: each video names its own board and
    the approval on local, never another episode's board nor a retake; approving dashscope's
    picture by either name lets the one video go for both episodes."""
    emu = emulator()
    series = write(tmp_path / "same", make_media, SAME_WORDS)
    assert invoke("render", series, "boards", "--yes").exit_code == 0
    assert invoke("approve", series, "boards/ep01").exit_code == 0
    before = rows(planned(series))
    for episode, shot in (("ep01", "s1"), ("ep02", "s2")):
        note = words(before[f"{episode}/{shot}"]["note"])
        assert note.startswith("waits (board not approved as this provider drew it)"), note
        assert "approved on local" in note and "retake" not in note, note
        assert f"approve {series} boards/{episode}/{shot} --provider dashscope" in note, note
    assert "(as boards/ep01/s1)" in words(before["ep02/s2"]["note"])

    assert render(series, "boards", "--yes")[0] == 0  # dashscope draws its own picture
    approved = invoke("approve", series, "boards/ep02", "--provider", "dashscope")
    assert approved.exit_code == 0, approved.output
    after = rows(planned(series))
    assert (after["ep01/s1"]["status"], after["ep02/s2"]["status"]) == ("new", "new"), after
    assert after["ep02/s2"]["same_as"], after  # one task for both
    videos = submissions(emu)
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == videos + 1, err
    assert {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]
            if not s["key"].split("/", 1)[1].startswith("boards/")} \
        == {"ep01/s1": "done", "ep02/s2": "cached"}, report["shots"]
