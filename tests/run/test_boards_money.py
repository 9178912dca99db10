"""The boards' gate under attack, through the command line and the emulator (issue 63, items 2-4).

In a matrix each variation's shot starts from its own variation's board, approved one variation at
a time; the gate lets a shot go only from the very take that was approved (an edit after the
approval holds it again); a board retaken on a free provider is named as such when approved, and
``approve`` never says a shot may render where the plan for a paid provider still holds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.boards import BOARDS, planned, rows, sent_first_frame, write
from tests.fixtures.cast import lock_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions
from tests.fixtures.matrix import HEAD
from tests.fixtures.matrix import series as matrix_series

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

MOODS = """\
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
variations:
  matrix: {mood: [calm, loud]}
  name: "{{ mood }}"
"""
SEA = '- id: ep01\n  shots:\n    - {id: s1, prompt: "@mia by a {{ mood }} sea"}\n'


def statuses(series: Path) -> dict[str, str]:
    return {s["key"]: s["status"] for s in planned(series)["plan"]["shots"]}


def test_in_a_matrix_the_first_variations_approved_board_lets_its_own_video_go(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """Approving the first variation's board lets that variation's shot go (it was held by the
    last variation's board take, which every variation's shot used), from its own board."""
    emu = emulator()
    root = matrix_series(tmp_path / "S", make_media, head=HEAD + "boards: {model: wan2.7-image}\n",
                         body=MOODS, episodes=SEA)
    assert render(root, "--yes", "--boards")[0] == 0
    approved = invoke("approve", root, "calm/boards/ep01/s1")
    assert approved.exit_code == 0, approved.output
    assert "approved take 1 of calm/boards/ep01/s1" in approved.stdout
    now = statuses(root)
    assert (now["S/calm/ep01/s1"], now["S/loud/ep01/s1"]) == ("new", "waits"), now
    _, report, err = render(root, "--yes")  # its exit code while the gate holds: issue 65
    states = {s["key"]: s["state"] for s in report["shots"]}
    assert (states["S/calm/ep01/s1"], states["S/loud/ep01/s1"]) == ("done", "skipped"), err
    assert submissions(emu) == 1
    boards = lock_of(root)["shots"]
    calm = boards["S/calm/boards/ep01/s1"]["output_sha256"]
    assert calm != boards["S/loud/boards/ep01/s1"]["output_sha256"]
    assert sent_first_frame(emu, "calm sea") == calm  # its own variation's board, as approved


def test_an_edit_after_approval_holds_the_video_until_its_new_board_is_approved(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """The gate lets a video go only from the board take that was approved: after an edit the
    shot uses another board (its take 1 is another picture), which no one has seen, so even a
    render that may spend on changed approved shots draws that board and holds the video."""
    emu = emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "--boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    assert rows(planned(series))["ep01/hello"]["status"] == "new"
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("wipes the counter", "wipes the long counter"),
                    encoding="utf-8")
    held = rows(planned(series))["ep01/hello"]
    assert (held["status"], held["waits_on"]) == ("waits", "boards/ep01/hello"), held
    assert held["note"].startswith("waits (board not approved)")
    _, report, err = render(series, "--yes", "--replace-approved")
    shots = {s["key"].split("/", 1)[1]: s for s in report["shots"]}
    assert shots["boards/ep01/hello"]["state"] == "done", err  # the new board, to look at
    assert shots["ep01/hello"]["state"] == "skipped", err
    assert shots["ep01/hello"]["message"].startswith("waits (board not approved)")
    sent = json.dumps([t.body for t in emu.service.table.tasks.values()])
    assert "wipes the long counter" not in sent  # no video of it was sent, none paid
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0  # now someone saw it
    assert rows(planned(series))["ep01/hello"]["status"] == "new"
