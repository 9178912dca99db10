"""Takes measured for who is in them and what they wear (issue 96): each face assigned to the
characters the shot declares and held to its character's picture, the costume under it to the
look's, the light to the episode's; and approve, pick --best and retake --failed-checks acting
on it.

The characters' pictures are two public-domain photographs (tests/fixtures/faces/SOURCE.md).
The emulator's takes show no face (``n/a``); a take that shows people is composed from the
photographs by ffmpeg and measured for real, its measurement kept as that take's file's
(``.storyboard/measured/<sha256>.people.json``, as a run keeps it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from storyboard.media import samples
from storyboard.media.faces.frames import sample_times
from storyboard.media.faces.scan import measure
from storyboard.run.state.people.records import record_path
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions
from tests.fixtures.faces import ASTRONAUT, HOPPER, Placed, compose

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Cast
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
checks: {freeze_seconds: 60}
characters:
  ann: {image: media/ann.jpg}
  bea: {image: media/bea.jpg}
episodes:
  - id: ep01
    shots:
      - {id: duet, prompt: "@ann talks to @bea", takes: 3}
"""


def series_with_cast(folder: Path) -> Path:
    (folder / "media").mkdir(parents=True)
    shutil.copy(ASTRONAUT, folder / "media" / "ann.jpg")
    shutil.copy(HOPPER, folder / "media" / "bea.jpg")
    (folder / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return folder


def shown_as(series: Path, key: str, take: Path) -> None:
    """The lock's take ``key``'s file measured as if it showed what ``take`` shows."""
    sha = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"][key]["output_sha256"]
    found = measure(take, "video", [0.5])
    record_path(series, sha).write_text(json.dumps(found.to_dict()), encoding="utf-8")


def kinds(listed: list[dict[str, object]]) -> list[list[tuple[str, str]]]:
    return [[(f["kind"], f["severity"]) for f in row["findings"]]  # type: ignore[attr-defined]
            for row in listed]


def test_who_is_in_a_take_and_what_they_wear_decide_approve_pick_and_retake(
        tmp_path: Path, emulator: Emulator) -> None:
    series = series_with_cast(tmp_path / "cast")
    emu = emulator()
    code, _, err = render(series, "--yes", "--set", "concurrency=1")
    assert code == 0, err
    # the emulator's takes show no face: not measurable, said, never a failure
    listed = json.loads(invoke("takes", series, "ep01/duet", "--json").stdout)
    assert kinds(listed) == [[("identity", "n/a")] * 2] * 3
    assert "@ann: not measured (no face found)" in listed[0]["findings"][0]["detail"]
    for picture in ("ann.jpg", "bea.jpg"):  # each picture measured, kept by its content
        sha = hashlib.sha256((series / "media" / picture).read_bytes()).hexdigest()
        assert record_path(series, sha).is_file()

    room = tmp_path / "takes"
    room.mkdir()
    swapped = compose(room / "swapped.mp4", [Placed(HOPPER, 40, 60, 0.6), Placed(HOPPER, 700, 60, 0.6)],
                      seconds=1)
    clean = compose(room / "clean.mp4", [Placed(ASTRONAUT, 40, 60), Placed(HOPPER, 700, 60, 0.6)],
                    seconds=1)
    red = compose(room / "red.mp4", [Placed(ASTRONAUT, 40, 60, red=True),
                                     Placed(HOPPER, 700, 60, 0.6)], seconds=1)
    shown_as(series, "cast/ep01/duet", swapped)
    shown_as(series, "cast/ep01/duet#2", clean)
    shown_as(series, "cast/ep01/duet#3", red)

    listed = json.loads(invoke("takes", series, "ep01/duet", "--json").stdout)
    assert kinds(listed) == [[("identity", "error")], [], [("look", "error")]]
    [swap] = listed[0]["findings"]
    assert swap["detail"].startswith("@ann's place shows @bea") and "media/ann.jpg" in swap["detail"]
    assert swap["start"] == swap["end"] == 0.5 and swap["distance"] > 0.6
    [look] = listed[2]["findings"]
    assert look["detail"].startswith("@ann's costume changed") and "its own picture" in look["detail"]
    assert "ep01" in look["detail"] and "media/ann.jpg" in look["detail"]

    done = invoke("approve", series, "ep01/duet")
    assert done.exit_code != 0 and "@ann's place shows @bea" in done.stderr and "--force" in done.stderr
    done = invoke("retake", series, "--failed-checks", "--provider", "dashscope", "--budget",
                  "0.01")  # priced first: one more take of the shot, over this budget
    assert done.exit_code != 0 and "budget" in done.stderr and submissions(emu) == 3
    done = invoke("retake", series, "--failed-checks", "--provider", "dashscope", "--yes")
    assert done.exit_code == 0, done.stderr
    assert "ep01/duet: take(s) 4 asked for earlier not rendered yet" in done.stderr  # asked once
    assert submissions(emu) == 4  # one more take, paid once
    done = invoke("pick", series, "ep01/duet", "--best")
    assert done.exit_code == 0 and "the best take is 2 (0 finding(s))" in done.stdout, done.stderr
    assert invoke("approve", series, "ep01/duet").exit_code == 0
    assert "nothing to retake" in invoke("retake", series, "--failed-checks", "--provider",
                                         "dashscope", "--yes").stdout


BOARDED = """\
storyboard: 1
title: Boarded
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
boards: {model: wan2.7-image, gate: false}
characters:
  ann: {image: media/ann.jpg}
episodes:
  - id: ep01
    shots:
      - {id: hello, prompt: "@ann waves"}
"""


def test_a_picked_board_showing_another_face_is_said_before_its_video_is_paid(
        tmp_path: Path, emulator: Emulator) -> None:
    """With the gate off a picked board lets its video go; one whose people show another face
    than the shot declares holds it, unpaid, naming the board, what it shows and what ends it."""
    series = series_with_cast(tmp_path / "boarded")
    (series / "storyboard.yaml").write_text(BOARDED, encoding="utf-8")
    emu = emulator()
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("pick", series, "boards/ep01/hello", "1").exit_code == 0
    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    video = next(s for s in plan["shots"] if s["key"] == "boarded/ep01/hello")
    assert video["status"] == "new"  # the emulator's board: no face that is someone else

    wrong = compose(tmp_path / "wrong.png", [Placed(HOPPER, 300, 60, 0.8)], seconds=None)
    sha = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"][
        "boarded/boards/ep01/hello"]["output_sha256"]
    record_path(series, sha).write_text(json.dumps(measure(wrong, "image").to_dict()), "utf-8")
    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    video = next(s for s in plan["shots"] if s["key"] == "boarded/ep01/hello")
    assert (video["status"], video["cost"], video["waits_on"]) == ("waits", 0.0, "boards/ep01/hello")
    assert ("waits (board not approved: it shows another face): take 1 of boards/ep01/hello "
            "@ann is") in video["note"]
    assert "storyboard approve" in video["note"] and "--force" in video["note"]
    paid = submissions(emu)
    code, report, err = render(series, "--yes")  # held is waiting, not failing: exit 0
    held = next(s for s in report["shots"] if s["key"] == "boarded/ep01/hello")
    assert code == 0, err
    assert held["state"] == "skipped" and "it shows another face" in held["message"]
    assert [e["state"] for e in report["episodes"]] == ["waits"]
    assert submissions(emu) == paid  # nothing of the video sent
    done = invoke("approve", series, "boards/ep01/hello", "--force")
    assert done.exit_code == 0, done.stderr
    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    assert next(s for s in plan["shots"] if s["key"] == "boarded/ep01/hello")["status"] == "new"


def test_on_the_emulator_a_board_showing_another_face_is_said_before_its_video_is_paid(
        tmp_path: Path, emulator: Emulator) -> None:
    """The emulator's board (its swap fault: bea drawn in ann's place) is measured as it
    arrives: approve refuses it without --force, and picked with the gate off it holds its
    video, unpaid, naming what it shows."""
    series = series_with_cast(tmp_path / "boarded")
    (series / "storyboard.yaml").write_text(BOARDED.replace(
        "  ann: {image: media/ann.jpg}\n", "  ann: {image: media/ann.jpg}\n  bea: {image: "
        "media/bea.jpg}\n").replace("@ann waves", "@ann waves at @bea"), encoding="utf-8")
    emu = emulator(plain_results=False)
    emu.script("task:swap")
    assert render(series, "--yes", "boards")[0] == 0
    done = invoke("approve", series, "boards/ep01/hello")
    assert done.exit_code != 0 and "@ann's place shows @bea" in done.stderr, done.stderr
    assert invoke("pick", series, "boards/ep01/hello", "1").exit_code == 0
    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    video = next(s for s in plan["shots"] if s["key"] == "boarded/ep01/hello")
    assert (video["status"], video["cost"], video["waits_on"]) == ("waits", 0.0, "boards/ep01/hello")
    assert "it shows another face" in video["note"] and "@ann's place shows @bea" in video["note"]
    paid = submissions(emu)
    code, report, err = render(series, "--yes")
    assert code == 0, err
    held = next(s for s in report["shots"] if s["key"] == "boarded/ep01/hello")
    assert held["state"] == "skipped" and "it shows another face" in held["message"]
    assert submissions(emu) == paid  # nothing of the video sent


SEASON = """\
storyboard: 1
title: Drift
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
checks: {freeze_seconds: 60}
characters:
  ann: {image: media/ann.jpg}
  bea: {image: media/bea.jpg}
  toon: {image: media/toon.png}
episodes:
  - id: ep01
    shots:
      - {id: swapped, prompt: "@ann talks to @bea, take swapped"}
      - {id: recoloured, prompt: "@ann talks to @bea, take recoloured"}
      - {id: graded, prompt: "@ann talks to @bea, take graded"}
      - {id: calm, prompt: "@ann talks to @bea, take calm"}
      - {id: still, prompt: "@ann talks to @bea, take still"}
  - id: ep02
    shots:
      - {id: cartoon, prompt: "@toon waves"}
"""


def test_on_the_emulator_each_drift_is_found_where_it_is_and_nothing_else(
        tmp_path: Path, emulator: Emulator) -> None:
    """The emulator draws the people each shot declares; its faults make one take show another
    character, one a recoloured costume, one a shifted grade: exactly those three findings, at
    their shots and time ranges, naming the character and the picture; a cartoon character is
    n/a (in an episode of its own: drawn large, its light would jump from the photographs').
    Then approve, retake --failed-checks and pick --best act on them (``acted_on``)."""
    series = series_with_cast(tmp_path / "drift")
    (series / "storyboard.yaml").write_text(SEASON, encoding="utf-8")
    samples.drawing(series / "media" / "toon.png", 512, 512, "0x88ccee", [
        samples.Oval(256, 200, 110, 140, "0xffe0bd"), samples.Box(170, 360, 170, 150, "0x2040c0")])
    emu = emulator(plain_results=False)
    emu.script("task:swap", "task:costume", "task:grade")  # the first three tasks, in order
    code, report, err = render(series, "--yes", "--set", "concurrency=1")
    assert code == 0, err
    found = {key.rsplit("/", 1)[1]: [(f["kind"], f["severity"]) for f in each]
             for key, each in report["findings"]["takes"].items()}
    assert found == {"swapped": [("identity", "error")], "recoloured": [("look", "error")],
                     "graded": [("grade", "warning")]}, report["findings"]
    [swap] = report["findings"]["takes"]["drift/ep01/swapped"]
    assert swap["detail"].startswith("@ann's place shows @bea") and "media/ann.jpg" in swap["detail"]
    [look] = report["findings"]["takes"]["drift/ep01/recoloured"]
    assert look["detail"].startswith("@ann's costume changed") and "its own picture it wears in ep01 " \
        "(media/ann.jpg" in look["detail"]  # bea's dark uniform turned in hue stays dark: unseen
    [grade] = report["findings"]["takes"]["drift/ep01/graded"]
    assert "against the episode's median" in grade["detail"]
    first, *_, last = sample_times(2.0)  # each shot's one scene, its 2 s
    assert [(f["start"], f["end"]) for f in (swap, look, grade)] == [
        (first, last), (first, last), (0.0, last)]  # every sampled frame shows it; a grade: all
    cartoon = json.loads(invoke("takes", series, "ep02/cartoon", "--json").stdout)
    assert [(f["kind"], f["severity"]) for f in cartoon[0]["findings"]] == [("identity", "n/a")]
    acted_on(series, emu)


def acted_on(series: Path, emu: Emulator) -> None:
    """The drift season's findings act: approve needs --force for an identity or look error
    (not for a grade warning), retake --failed-checks asks again for exactly those two shots,
    priced and held to --budget; pick --best then takes the retake showing the right person."""
    done = invoke("approve", series, "ep01/swapped")
    assert done.exit_code != 0 and "@ann's place shows @bea" in done.stderr
    assert "--force" in done.stderr
    assert invoke("approve", series, "ep01/graded").exit_code == 0  # a warning: not held
    paid = submissions(emu)
    done = invoke("retake", series, "--failed-checks", "--provider", "dashscope", "--budget", "0.01")
    assert done.exit_code != 0 and "budget" in done.stderr and submissions(emu) == paid
    done = invoke("retake", series, "--failed-checks", "--provider", "dashscope", "--yes")
    assert done.exit_code == 0, done.stderr
    assert submissions(emu) == paid + 2  # swapped and recoloured, each once
    assert [len(json.loads(invoke("takes", series, f"ep01/{shot}", "--json").stdout))
            for shot in ("swapped", "recoloured", "graded", "calm")] == [2, 2, 1, 1]
    assert "the best take is 2 (" in invoke("pick", series, "ep01/swapped", "--best").stdout
    listed = json.loads(invoke("takes", series, "ep01/swapped", "--json").stdout)
    assert [f["kind"] for f in listed[1]["findings"] if f["severity"] == "error"] == []
    assert invoke("approve", series, "ep01/swapped").exit_code == 0  # no --force: right now
    listed = json.loads(invoke("takes", series, "ep01/recoloured", "--json").stdout)
    assert [f["detail"] for f in listed[1]["findings"] if f["severity"] == "error"] == []
    assert "the best take is 2 (" in invoke("pick", series, "ep01/recoloured", "--best").stdout


def test_without_the_extra_a_render_says_how_to_add_it_and_nothing_else_changes(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # as if the faces extra were not installed
    series = series_with_cast(tmp_path / "bare")
    emulator()
    code, report, err = render(series, "--yes")
    assert code == 0, err
    [note] = report["findings"]["notes"]
    assert note.startswith("identity, look and grade are not measured: measuring identity, look "
                           "and grade needs the faces extra (dlib is not installed)")
    assert "add the extra with:" in note
    assert len(report["findings"]["measured"]) == 3  # the files' own measuring, as ever
    assert not list((series / ".storyboard" / "measured").glob("*.people.json"))
    listed = json.loads(invoke("takes", series, "ep01/duet", "--json").stdout)
    assert [row["findings"] for row in listed] == [[], [], []]
