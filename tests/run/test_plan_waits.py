"""A shot that waits for its cast names every asset it waits for, in the plan (table and JSON)
and on the review sheet; one that waits for a first frame says so."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from rich.console import Console

import storyboard
from storyboard.review.progress import plan_table
from storyboard.review.sheet.model import plan_words
from tests.fixtures.cli import invoke

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "season"


def fresh(tmp_path: Path) -> Path:
    return shutil.copytree(EXAMPLE, tmp_path / "season",
                           ignore=shutil.ignore_patterns(".storyboard", "out"))


def test_every_unmade_cast_asset_is_named(tmp_path: Path) -> None:
    series = fresh(tmp_path)
    plan = storyboard.plan(series)
    stairs = next(s for s in plan.shots if s.key.endswith("ep01/stairs"))
    window = next(s for s in plan.shots if s.key.endswith("ep01/window"))
    assert (stairs.waits_on, stairs.waits_for) == ("cast/nora", ("cast/nora", "cast/lighthouse"))
    assert window.waits_for == ("cast/nora",)
    assert plan_words(stairs)[1] == (
        "waits for these to be made first: cast/nora, cast/lighthouse",)
    console = Console(width=200, record=True)
    console.print(plan_table(plan))
    assert "waits on cast/nora, cast/lighthouse" in console.export_text()
    rows = {s["key"].split("/", 1)[1]: s for s in json.loads(
        invoke("plan", series, "--json").stdout)["shots"]}
    assert rows["ep01/stairs"]["waits_for"] == ["cast/nora", "cast/lighthouse"]
    assert rows["cast/nora"]["waits_for"] == []


def test_once_the_cast_is_made_nothing_is_waited_for(tmp_path: Path) -> None:
    series = fresh(tmp_path)
    assert invoke("render", series, "cast/nora", "cast/lighthouse",
                  "-o", tmp_path / "out").exit_code == 0
    plan = storyboard.plan(series)
    stairs = next(s for s in plan.shots if s.key.endswith("ep01/stairs"))
    assert (stairs.waits_on, stairs.waits_for) == (None, ())
    assert plan_words(stairs) == ("new", ())


def test_the_sheet_says_what_each_kind_of_wait_is() -> None:
    from storyboard.run.plans import ShotPlan
    shot = ShotPlan("s", "ep01", "b", "h", "new", "720P", 3, 3.0, 0.3)
    frame = replace(shot, waits_on="a")
    cast = replace(shot, waits_on="cast/nora", waits_for=("cast/nora", "cast/sam"))
    both = replace(frame, waits_for=("cast/nora",))  # its first frame's shot comes first
    voice = replace(shot, waits_on="cast/voice/nora", note="its voice is 2.1 s, too short")
    assert [plan_words(p)[1] for p in (frame, cast, both, voice)] == [
        ("waits for shot a's last frame",),
        ("waits for these to be made first: cast/nora, cast/sam",),
        ("waits for shot a's last frame",),
        ("its voice is 2.1 s, too short",)]
