"""Takes after an edit, and picks over an approval, end to end against the emulator.

An edit of a shot re-renders the takes the series declares (``takes: 1``: one), not every take a
``retake`` ever added: those stay as history, listed by ``takes``, and come back (cached, free) when
the edit is reverted. A ``pick`` on an approved shot is refused without ``--replace-approved``;
with it the approval is lifted, so the approved mark never points at a take the episode does not
use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import StoryboardError
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

STILLS = HEAD + "checks: {freeze_seconds: 60}\n"  # the emulator draws stills: not a finding
ONE = """\
- id: ep01
  shots:
    - {id: a0, prompt: "@mia sings"}
"""


def lock_of(series: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((series / "storyboard.lock").read_text("utf-8"))
    return data


def edit(series: Path, old: str, new: str) -> None:
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace(old, new), "utf-8")


def planned(series: Path) -> dict[str, Any]:
    result = invoke("plan", series, "--provider", "dashscope", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def retaken(tmp_path: Path, make_media: MakeMedia,
            emulator: Emulator) -> tuple[Path, Any]:
    """A shot of one take rendered, then ``retake -n 2``: three takes paid."""
    emu = emulator()
    series = write_series(tmp_path / "s", make_media, ONE, head=STILLS)
    assert render(series, "--yes")[0] == 0
    result = invoke("retake", series, "ep01/a0", "-n", "2", "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    assert submissions(emu) == 3
    return series, emu


def test_an_edit_after_a_retake_plans_only_the_declared_takes(
        retaken: tuple[Path, Any]) -> None:
    series, emu = retaken
    edit(series, "@mia sings", "@mia sings softly")
    data = planned(series)
    assert [(s["key"], s["status"]) for s in data["shots"]] == [("s/ep01/a0", "changed")]
    assert data["total_cost"] == data["shots"][0]["cost"] > 0  # 1 take, not 3
    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == 4  # one take of the edited shot
    # the extra takes stay as history: listed, as an earlier version
    rows = json.loads(invoke("takes", series, "ep01/a0", "--json").stdout)
    assert sorted((r["take"], r["current"]) for r in rows) == [
        (1, False), (1, True), (2, False), (3, False)]
    result = invoke("pick", series, "ep01/a0", "3")
    assert result.exit_code != 0 and "has no take 3" in result.output
    # reverted: the three takes are back, cached (a render pays nothing), and pickable again
    edit(series, "@mia sings softly", "@mia sings")
    data = planned(series)
    assert [s["status"] for s in data["shots"]] == ["cached"] * 3 and data["total_cost"] == 0
    assert render(series, "--yes")[0] == 0 and submissions(emu) == 4
    result = invoke("pick", series, "ep01/a0", "3")
    assert result.exit_code == 0, result.output


def test_a_retake_of_the_edited_shot_asks_from_the_declared_takes_on(
        retaken: tuple[Path, Any]) -> None:
    series, emu = retaken
    edit(series, "@mia sings", "@mia sings softly")
    result = invoke("retake", series, "ep01/a0", "-n", "1", "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    assert "take(s) 2..2" in result.output
    assert submissions(emu) == 4  # take 2 of the edited shot, exactly what was asked for
    assert [s["status"] for s in planned(series)["shots"]] == ["changed", "cached"]
    assert '"extra": 1' in (series / "storyboard.lock").read_text("utf-8")
    assert render(series, "--yes")[0] == 0 and submissions(emu) == 5  # its take 1, once


# --- a pick over an approval ------------------------------------------------------------------


TWO = ONE.replace('"@mia sings"}', '"@mia sings", takes: 2}')


@pytest.fixture
def approved(tmp_path: Path, make_media: MakeMedia,
             emulator: Emulator) -> tuple[Path, Any]:
    """A shot of two takes rendered, take 2 picked and approved."""
    emu = emulator()
    series = write_series(tmp_path / "s", make_media, TWO, head=STILLS)
    assert render(series, "--yes")[0] == 0
    assert invoke("pick", series, "ep01/a0", "2").exit_code == 0
    assert invoke("approve", series, "ep01/a0").exit_code == 0
    return series, emu


def marks(series: Path) -> dict[int, str]:
    rows = json.loads(invoke("takes", series, "ep01/a0", "--json").stdout)
    return {r["take"]: r["marks"] for r in rows if r["current"]}


def test_a_pick_over_an_approval_needs_replace_approved_and_lifts_it(
        approved: tuple[Path, Any]) -> None:
    series, emu = approved
    lock = series / "storyboard.lock"
    before = lock.read_bytes()
    for args in (("1",), ("--best",)):  # take 1 is as good as take 2: --best says 1
        result = invoke("pick", series, "ep01/a0", *args)
        assert result.exit_code == 1, result.output
        assert "ep01/a0 is approved (take 2); nothing was changed. Pass --replace-approved " \
               "to pick take 1 anyway" in result.output
        assert lock.read_bytes() == before
    assert invoke("pick", series, "ep01/a0", "2").exit_code == 0  # the approved take: no flag
    assert lock.read_bytes() == before
    result = invoke("pick", series, "ep01/a0", "1", "--replace-approved")
    assert result.exit_code == 0, result.output
    assert lock_of(series)["takes"] == {"s/ep01/a0": {"picked": 1}}
    assert marks(series) == {1: "picked", 2: ""}  # no approved mark on a take not used
    assert render(series, "--yes")[0] == 0 and submissions(emu) == 2  # re-stitched, not paid
    assert invoke("approve", series, "ep01/a0").exit_code == 0
    assert marks(series) == {1: "picked, approved", 2: ""}


def test_the_mcp_pick_holds_an_approval_as_the_cli_does(approved: tuple[Path, Any]) -> None:
    from storyboard.agents.tools import Budget, Tools
    series, _ = approved
    tools = Tools(series.parent.resolve(), Budget(0.0))
    before = (series / "storyboard.lock").read_bytes()
    with pytest.raises(StoryboardError, match="Pass --replace-approved to pick take 1"):
        tools.pick("ep01/a0", 1, "s")
    assert (series / "storyboard.lock").read_bytes() == before
    assert tools.pick("ep01/a0", 1, "s", replace_approved=True) == {"shot": "ep01/a0",
                                                                    "picked": 1}
    assert marks(series) == {1: "picked", 2: ""}


def test_a_retake_takes_replace_approved_as_render_does(approved: tuple[Path, Any]) -> None:
    series, emu = approved
    edit(series, "@mia sings", "@mia sings softly")
    result = invoke("retake", series, "ep01/a0", "-n", "1", "--provider", "dashscope", "--yes")
    assert result.exit_code == 1 and "Pass --replace-approved" in result.output
    result = invoke("retake", series, "ep01/a0", "-n", "1", "--provider", "dashscope", "--yes",
                    "--replace-approved")
    assert result.exit_code == 0, result.output
    assert submissions(emu) == 3  # take 3 of the edited shot, exactly what was asked for
    assert "approved" not in lock_of(series)["takes"]["s/ep01/a0"]
