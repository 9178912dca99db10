"""A character's line calibrated on its season (issue 96): every approved board drawn from the
picture it wears in a take (its look in force), across the season's episodes, counts in its
genuine spread; a board only picked, or drawn from another look's picture, does not.

The boards are the emulator's, their people measured as composed stills of a public-domain
photograph (tests/fixtures/faces/SOURCE.md) blurred by ffmpeg: the same person drawn less sharply,
at a known distance from the picture (0.05 sharp, about 0.32 blurred); the take is blurred more
(about 0.37), between the line one board gives (0.35) and the line the season gives (0.42).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storyboard.media.faces.scan import measure
from storyboard.run.state.people.records import record_path
from tests.fixtures.dashscope_cli import Emulator, invoke, render
from tests.fixtures.faces import ASTRONAUT, HOPPER, Placed, compose
from tests.run.test_measured_people import shown_as

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SEASON = """\
storyboard: 1
title: Season
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
checks: {freeze_seconds: 60, identity: 0.35}
boards: {model: wan2.7-image, gate: false}
characters:
  ann:
    image: media/ann.jpg
    looks:
      storm: {image: media/ann-storm.jpg, episodes: "3-"}
episodes:
  - id: ep01
    shots:
      - {id: hello, prompt: "@ann waves"}
  - id: ep02
    shots:
      - {id: again, prompt: "@ann waves again"}
  - id: ep03
    shots:
      - {id: rain, prompt: "@ann in the rain"}
"""


def season(folder: Path) -> Path:
    (folder / "media").mkdir(parents=True)
    shutil.copy(ASTRONAUT, folder / "media" / "ann.jpg")
    compose(folder / "media" / "ann-storm.jpg", [Placed(ASTRONAUT, 0, 0, mirror=True)],
            seconds=None, size=(512, 512))  # another file: another look's picture
    (folder / "storyboard.yaml").write_text(SEASON, encoding="utf-8")
    return folder


def board_shows(series: Path, board: str, still: Path) -> None:
    """The lock's board's file measured as if it showed what ``still`` shows."""
    sha = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"][
        f"season/{board}"]["output_sha256"]
    record_path(series, sha).write_text(json.dumps(measure(still, "image").to_dict()), "utf-8")


def identity(series: Path, shot: str) -> list[tuple[str, str]]:
    listed = json.loads(invoke("takes", series, shot, "--json").stdout)
    return [(f["severity"], f["detail"]) for f in listed[0]["findings"] if f["kind"] == "identity"]


def test_a_character_s_line_is_its_whole_season_s_approved_boards_in_the_look_it_wears(
        tmp_path: Path, emulator: Emulator) -> None:
    series = season(tmp_path / "season")
    room = tmp_path / "pictures"
    room.mkdir()
    sharp = compose(room / "sharp.png", [Placed(ASTRONAUT, 300, 60)], seconds=None)
    soft = compose(room / "soft.png", [Placed(ASTRONAUT, 300, 60)], seconds=None,
                   light="gblur=sigma=2.5")
    emulator()
    assert render(series, "--yes", "boards")[0] == 0
    board_shows(series, "boards/ep01/hello", sharp)
    board_shows(series, "boards/ep02/again", soft)
    board_shows(series, "boards/ep03/rain", soft)  # drawn from the storm look's picture
    for board in ("boards/ep01/hello", "boards/ep03/rain"):
        done = invoke("approve", series, board, "--force")
        assert done.exit_code == 0, done.stderr
    code, _, err = render(series, "--yes")
    assert code == 0, err
    softer = compose(room / "softer.mp4", [Placed(ASTRONAUT, 300, 60)], seconds=1,
                     light="gblur=sigma=3.5")
    shown_as(series, "season/ep01/hello", softer)

    # ep01's own board alone, and the storm look's approved board (another picture): one line
    [(severity, detail)] = identity(series, "ep01/hello")
    assert severity == "error" and detail.startswith("@ann is 0.3") and detail.endswith(
        "from its picture media/ann.jpg (at most 0.35)"), detail
    assert invoke("pick", series, "boards/ep02/again", "1").exit_code == 0
    assert identity(series, "ep01/hello") == [(severity, detail)]  # picked is not approved

    done = invoke("approve", series, "boards/ep02/again", "--force")
    assert done.exit_code == 0, done.stderr
    assert identity(series, "ep01/hello") == []  # the season's spread: 0.32 + 0.1
    shown_as(series, "season/ep01/hello", compose(room / "other.mp4", [Placed(HOPPER, 300, 60, 0.6)],
                                                  seconds=1))
    [(severity, detail)] = identity(series, "ep01/hello")
    assert severity == "error" and detail.startswith("@ann is 0.6"), detail
    assert detail.endswith("(at most 0.42)")  # raised by the season, never past dlib's 0.6
