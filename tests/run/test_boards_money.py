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
    assert render(root, "--yes", "boards")[0] == 0
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
    assert render(series, "--yes", "boards")[0] == 0
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


def test_a_board_retaken_on_local_and_approved_never_says_its_paid_video_may_render(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """A series with no provider line renders on ``local``: its boards drawn on DashScope
    (``--provider dashscope``), one retaken without ``--provider`` is drawn on ``local``, which a
    DashScope plan does not render from. ``approve`` says who drew the take and that the shot
    still waits on DashScope, with the retake that ends it; after that retake it may render."""
    emulator()
    text = BOARDS.replace("provider: {name: dashscope, poll: [0.2]}\n", "")
    series = write(tmp_path / "cafe", make_media, text)
    assert render(series, "--yes", "boards")[0] == 0
    retaken = invoke("retake", series, "boards/ep01/hello", "--yes", "--quiet")
    assert retaken.exit_code == 0, retaken.output
    said = " ".join(retaken.stderr.split())
    assert "drawn on local" in said and "--provider dashscope" in said, said
    assert invoke("pick", series, "boards/ep01/hello", "2").exit_code == 0
    approved = invoke("approve", series, "boards/ep01/hello")
    assert approved.exit_code == 0, approved.output
    out = " ".join(approved.stdout.split())
    assert "approved take 2 of boards/ep01/hello (drawn on local)" in out, out
    assert "may render" not in out, out
    assert "ep01/hello still wait(s) for it on dashscope: take 2 was drawn on local" in out, out
    assert f"storyboard retake {series} boards/ep01/hello --provider dashscope" in out, out
    facts = json.loads(invoke("approve", series, "boards/ep01/hello", "--json").stdout)
    assert (facts["drawn_on"], facts["waits"]) == ("local", {"dashscope": ["ep01/hello"]})
    assert rows(planned(series))["ep01/hello"]["status"] == "waits"  # as approve said

    again = invoke("retake", series, "boards/ep01/hello", "--provider", "dashscope", "--yes",
                   "--quiet")
    assert again.exit_code == 0, again.output
    takes = json.loads(invoke("takes", series, "boards/ep01/hello", "--json").stdout)
    paid = max(t["take"] for t in takes if t["provider"] == "dashscope")
    assert invoke("pick", series, "boards/ep01/hello", str(paid),
                  "--replace-approved").exit_code == 0
    approved = invoke("approve", series, "boards/ep01/hello")
    out = " ".join(approved.stdout.split())
    assert f"approved take {paid} of boards/ep01/hello (drawn on dashscope)" in out, out
    assert f"ep01/hello may render from it now: storyboard render {series} --provider " \
           "dashscope" in out, out
    assert rows(planned(series))["ep01/hello"]["status"] == "new"


def test_approve_never_says_may_render_where_a_plan_cannot_be_made(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    """A board whose take the lock says another provider drew, one this storyboard does not
    know (a teammate's newer one): its plan cannot be made here, so approve does not guess."""
    emulator()
    series = write(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    lock = series / "storyboard.lock"
    data = json.loads(lock.read_text("utf-8"))
    data["shots"]["boards/boards/ep01/hello"]["provider"] = "acme"
    lock.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    approved = invoke("approve", series, "boards/ep01/hello")
    assert approved.exit_code == 0, approved.output
    out = " ".join(approved.stdout.split())
    assert "approved take 1 of boards/ep01/hello (drawn on acme)" in out, out
    assert "may render from it now" not in out, out
    assert "whether its shots may render on acme is not known here" in out, out
    assert f"storyboard plan {series} --provider acme says" in out, out
