"""A budget far under the plan (54.8), through the CLI against the emulator: before the first
submit it says what the budget covers, what it skips and which episodes will not be complete;
it is spent in order, the cast first then episode by episode, stopping at the first shot that
does not fit (never a later, cheaper shot out of order); a terminal is asked; a pipe proceeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, render, states, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# USD 0.10/s at 720P: ep01 0.40, ep02 0.80 + 0.20, ep03 0.20 (1.60 in all).
EPISODES = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
    - {id: b, prompt: "@mia smiles"}
- id: ep02
  shots:
    - {id: c, prompt: "@mia sings a long song", duration: 8}
    - {id: d, prompt: "@mia bows"}
- id: ep03
  shots:
    - {id: e, prompt: "@mia leaves"}
"""


@pytest.fixture
def series(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "budget", make_media, EPISODES, head=HEAD)


def test_the_budget_buys_whole_episodes_in_order_and_says_so_first(
        series: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    code, report, err = render(series, "--budget", "0.7", "-o", tmp_path / "out")
    assert code != 0
    assert states(report) == {"a": "done", "b": "done", "c": "skipped", "d": "skipped",
                              "e": "skipped"}  # d (0.20) fits the budget, but out of order
    assert submissions(emu) == 2
    said = " ".join(err.split())
    assert "the budget of 0.70 USD is under this plan's 1.60: it covers 2 of 5 paid shot(s), " \
           "about 0.40 USD, spent in this order: the cast first, then the shots episode by " \
           "episode" in said
    assert "skipped (3): ep02/c, ep02/d, ep03/e" in said
    assert "complete after this run: ep01" in said and "not complete: ep02, ep03" in said
    skipped = {s["key"].rsplit("/", 1)[1]: s["message"] for s in report["shots"]}
    assert skipped["d"].startswith("skipped (budget)") and "ends before ep02/c" in skipped["d"]
    assert {e["id"]: e["state"] for e in report["episodes"]}["ep01"] == "stitched"


def test_a_budget_that_completes_no_episode_names_them(
        series: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    code, report, err = render(series, "--budget", "0.3", "-o", tmp_path / "out")
    assert code != 0 and states(report)["a"] == "done" and submissions(emu) == 1
    assert "no episode will be complete: ep01, ep02, ep03" in " ".join(err.split())


def test_a_terminal_is_asked_what_the_budget_buys(
        series: Path, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    monkeypatch.setattr("storyboard.run.rendering.interactive", lambda: True)
    result = CliRunner().invoke(cli, ["render", str(series), "--provider", "dashscope",
                                      "--budget", "0.7"], input="n\n")
    assert result.exit_code != 0 and "not confirmed" in result.output
    assert "Spend about 0.40 USD?" in result.output and "covers 2 of 5" in result.output
    assert submissions(emu) == 0


def test_a_budget_over_the_plan_says_nothing_more(
        series: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    code, _, err = render(series, "--budget", "5", "-o", tmp_path / "out")
    assert code == 0 and "is under this plan" not in err and submissions(emu) == 5
