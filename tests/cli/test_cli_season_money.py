"""A season's ``--budget`` holds over its runs when they cost more than planned, on DashScope's
emulator: with ``--episode-budget``, the cast's run is held to ``--budget`` and each episode's to
its own budget and what the runs before it left of ``--budget``, counted as the runner counts (each
task at no less than its list price), so a first episode that costs more than its plan said leaves
less for the others and the season never spends past ``--budget``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storyboard.media import samples
from tests.fixtures.dashscope_cli import Emulator, season_render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# What the service bills each shot (wan2.7-r2v's list prices, USD 0.15/s at 1080P and 0.10/s at
# 720P, for 2 s), whatever the series says.
LIST = {"ep01/a": 0.30, "ep02/a": 0.20, "ep03/a": 0.20}

# The series' own prices understate ep01's 1080P shot (0 a second: planned at 0.00, billed 0.30).
SEASON = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2], prices: {720P: 0.1, 1080P: 0}}
characters:
  ada: {image: media/ada.png}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@ada answers", resolution: 1080P}]}
  - {id: ep02, shots: [{id: a, prompt: "@ada walks in"}]}
  - {id: ep03, shots: [{id: a, prompt: "@ada runs"}]}
"""


def season(tmp_path: Path, text: str) -> Path:
    series = tmp_path / "night"
    samples.image(series / "media" / "ada.png", 320, 320)
    (series / "storyboard.yaml").write_text(text, encoding="utf-8")
    return series


def by_key(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"].split("/", 1)[1]: s for s in report["shots"]}


def billed(shots: dict[str, dict[str, Any]]) -> float:
    """What the service billed for the shots made: their list prices."""
    return round(sum(LIST[k] for k, s in shots.items() if s["state"] == "done"), 6)


def test_a_first_episode_over_its_plan_leaves_the_rest_less_of_the_seasons_budget(
        tmp_path: Path, emulator: Emulator) -> None:
    """Planned at 0.40 (ep01 at 0.00), admitted under --budget 0.50 and --episode-budget 0.40;
    ep01 costs 0.30, so ep02 has 0.20 left and ep03 nothing: the season spends 0.50, not 0.70."""
    emu = emulator()
    series = season(tmp_path, SEASON)
    code, report, err = season_render(series, "--budget", "0.5", "--episode-budget", "0.4",
                               "--yes")
    assert code == 1, err  # a shot left out by the budget
    shots = by_key(report)
    assert [shots[k]["state"] for k in ("ep01/a", "ep02/a", "ep03/a")] == \
        ["done", "done", "skipped"], report["shots"]
    assert "the budget of 0.00" in shots["ep03/a"]["message"]  # what ep01 and ep02 left
    assert submissions(emu) == 2
    assert billed(shots) == pytest.approx(0.5) and billed(shots) <= 0.5


# The cast's picture is planned at 0.00 by the series' own price: its list price (about USD 0.03
# an image) is over --budget 0.02 by itself.
CAST = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2], prices: {720P: 0, wan2.7-image: {each: 0}}}
characters:
  bob: {image: {generate: "a tall man in a grey coat, plain studio light"}}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@bob answers"}]}
"""


def test_the_casts_run_is_held_to_the_seasons_budget(tmp_path: Path, emulator: Emulator) -> None:
    """Planned at 0.00 in all, admitted under --budget 0.02: the cast's run is held to it, so
    bob's picture (0.03 at its list price) is not made, and ep01's shot that needs it waits."""
    emu = emulator()
    series = tmp_path / "night"
    series.mkdir()
    (series / "storyboard.yaml").write_text(CAST, encoding="utf-8")
    code, report, err = season_render(series, "--budget", "0.02", "--episode-budget", "0.01",
                               "--yes")
    assert code == 1, err
    shots = by_key(report)
    assert shots["cast/bob"]["state"] == "skipped", report["shots"]
    assert shots["cast/bob"]["message"] == (  # the figure the budget counts, not the series'
        "skipped (budget): about 0.03 USD more (its list price: the series prices it at 0.00 USD)"
        " would pass the budget of 0.02")
    assert shots["ep01/a"]["state"] == "blocked"
    assert emu.stats()["cast"]["requests"]["image"] == 0  # nothing paid past --budget
    assert submissions(emu) == 0
