"""A look's sheet under the cast's money rules, through the emulator (issue 67 item 2): planned and
priced like the character's own sheet before anything is made, made once (each take), journaled,
never made again, picked by its asset id; the shots of its episodes re-plan when it is picked."""

from __future__ import annotations

from pathlib import Path

import pytest

import storyboard
from storyboard.errors import StoryboardError
from storyboard.run.state.takes import find_shot
from tests.fixtures.cast import cast_stats, lock_of, plan_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SEASON = """\
storyboard: 1
title: Looks
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
characters:
  ada:
    image: {generate: "a young woman, dark hair"}
    looks:
      wedding: {image: {generate: "the same woman in a white wedding dress", takes: 2},
                episodes: "2"}
episodes:
  - id: ep01
    shots: [{id: a, prompt: "@ada waves"}]
  - id: ep02
    shots: [{id: a, prompt: "@ada waves"}, {id: b, prompt: "@ada smiles"}]
"""


def write(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(SEASON, encoding="utf-8")
    return root


def test_a_looks_sheet_is_priced_made_once_and_picked_like_a_characters(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = write(tmp_path / "looks")
    plan = plan_of(series)
    assert [k for k in plan if k.startswith("cast/")] == [
        "cast/ada", "cast/ada.wedding", "cast/ada.wedding#2"]
    assert plan["cast/ada.wedding"] == plan["cast/ada"] == ("new", 0.03)
    assert cast_stats(emu)["requests"]["image"] == 0 and submissions(emu) == 0  # priced only

    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"done"}
    assert cast_stats(emu)["images"] == 3 and submissions(emu) == 3
    shots = lock_of(series)["shots"]
    assert shots["looks/cast/ada.wedding#2"]["hash"].endswith(".png")
    used = shots["looks/ep02/a"]["media"]["Image 1"]
    assert used["asset"] == "cast/ada.wedding"
    assert shots["looks/ep01/a"]["media"]["Image 1"]["asset"] == "cast/ada"

    code, report, err = render(series, "--yes")
    assert code == 0 and {s["state"] for s in report["shots"]} == {"cached"}
    assert cast_stats(emu)["images"] == 3  # never made again

    picked = invoke("pick", series, "cast/ada.wedding", "2")
    assert picked.exit_code == 0, picked.output
    changed = {k for k, (status, _) in plan_of(series).items() if status == "changed"}
    assert changed == {"ep02/a", "ep02/b"}  # the shots wearing it; not ep01's


@pytest.mark.parametrize(("asked", "said"), [
    ("cast/ad", "(did you mean 'cast/ada'?); expected EPISODE/SHOT, e.g. cast/ada"),
    ("ep02/c", "(ep02's shots: a, b); expected EPISODE/SHOT, e.g. ep02/a"),
    ("voices/x", "in this series; expected EPISODE/SHOT, e.g. ep01/a")])
def test_a_shot_not_found_is_answered_with_an_example_of_its_own_kind(
        tmp_path: Path, asked: str, said: str) -> None:
    """The example a missing shot's error gives is of the episode or asset kind it names, else
    an episode's shot: never a cast asset for an episode's shot."""
    manifest = storyboard.compile(write(tmp_path / "looks"))
    with pytest.raises(StoryboardError) as raised:
        find_shot(manifest, asked)
    assert str(raised.value).endswith(said), raised.value
