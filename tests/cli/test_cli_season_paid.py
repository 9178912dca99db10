"""A delivered season on a paid provider (DashScope's emulator): an episode whose videos wait on
their boards is left out of ``out/season/``, not delivered from an older file; once its board is
approved it is delivered with that board as its cover and the journal's cost on its row, and
``status --season`` counts what was spent and what is to go."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.media import ffmpeg, samples
from storyboard.stitch.series.delivery import VERTICAL_SAFE_AREA
from tests.fixtures.dashscope_cli import Emulator, invoke, render

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
boards: {model: wan2.7-image}
characters:
  ada: {image: media/ada.png}
delivery: {preset: vertical}
episodes:
  - {id: ep01, title: The Call, hook: "Who is calling?", shots: [{id: a, prompt: "@ada answers"}]}
  - {id: ep02, title: The Door, shots: [{id: a, prompt: "@ada opens the door"}]}
"""


def figures(series: Path) -> dict[str, dict[str, Any]]:
    result = invoke("status", series, "--season", "--json")
    assert result.exit_code == 0, result.output
    return {f["id"]: f for f in json.loads(result.stdout)["episodes"]}


def test_an_episode_waiting_on_its_board_is_delivered_once_approved(
        tmp_path: Path, emulator: Emulator) -> None:
    emulator()
    series = tmp_path / "night"
    samples.image(series / "media" / "ada.png", 320, 320)
    (series / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    code, _, err = render(series, "--yes")
    assert code == 0, err  # the boards made, the videos wait: waiting is not failing
    assert "season: ep01 left out (not stitched: its shot(s) a wait for their boards" in err
    manifest = series / "out" / "season" / "manifest.json"
    assert json.loads(manifest.read_text("utf-8")) == {"episodes": []}
    before = figures(series)
    for episode in ("ep01", "ep02"):
        row = before[episode]
        assert row["spent"] > 0 and row["to_go"] > 0  # its board paid, its video to go
        assert (row["boards_approved"], row["waiting_on_boards"], row["videos_done"]) == (0, 1, 0)

    assert invoke("approve", series, "boards/ep01").exit_code == 0
    code, _, err = render(series, "--yes")
    assert code == 0, err
    rows = json.loads(manifest.read_text("utf-8"))["episodes"]
    assert [(r["id"], r["cover_from"], r["hook"]) for r in rows] == [
        ("ep01", "board boards/ep01/a", "Who is calling?")]
    after = figures(series)
    assert rows[0]["cost"] == after["ep01"]["spent"] > before["ep01"]["spent"]
    assert rows[0]["cost"] == pytest.approx(before["ep01"]["spent"] + before["ep01"]["to_go"])
    assert (after["ep01"]["to_go"], after["ep01"]["videos_done"], after["ep01"]["boards_approved"],
            after["ep01"]["waiting_on_boards"]) == (0.0, 1, 1, 0)
    assert after["ep02"] == before["ep02"]  # nothing of it was sent


BURNT = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
characters:
  ada: {image: media/ada.png}
output: {subtitles: false}
delivery: {preset: vertical, burn_subtitles: BURN}
episodes:
  - id: ep01
    shots:
      - id: a
        scenes: [{at: 0-2s, action: "@ada answers the phone", say: {ada: "Who is calling me so late?"}}]
"""


def gray_frame(video: Path, at: float, raw: Path) -> tuple[int, bytes]:
    """The frame at ``at`` seconds, raw 8-bit gray, and its width."""
    ffmpeg.run(["-ss", f"{at}", "-i", str(video), "-frames:v", "1", "-f", "rawvideo",
                "-pix_fmt", "gray", str(raw)], what="a raw frame")
    return ffmpeg.probe(video).streams[0].width, raw.read_bytes()


def test_burnt_subtitles_through_the_command_line_sit_in_the_safe_area(
        tmp_path: Path, emulator: Emulator) -> None:
    """A provider's clips carry no captions of their own (local's animatics draw theirs, which
    the stitcher leaves alone), so ``burn_subtitles`` is held here through ``render`` on the
    emulator: the delivered episode with the line burnt in differs from the one without only
    inside the vertical safe area, and there it does differ."""
    emulator()
    series = tmp_path / "night"
    samples.image(series / "media" / "ada.png", 320, 320)
    text = series / "storyboard.yaml"
    frames = {}
    for burn in ("false", "true"):
        text.write_text(BURNT.replace("BURN", burn), encoding="utf-8")
        code, _, err = render(series, "--yes")
        assert code == 0, err
        (row,) = json.loads((series / "out" / "season" / "manifest.json").read_text())["episodes"]
        # the shot is the episode's last 2 s (after its card), its line over all of it
        frames[burn] = gray_frame(series / "out" / "season" / row["file"], row["seconds"] - 1.0,
                                  tmp_path / f"{burn}.gray")
    width, plain = frames["false"]
    burnt = frames["true"][1]
    assert width == 1080 and len(plain) == len(burnt) == 1080 * 1920
    changed = [i for i, (a, b) in enumerate(zip(plain, burnt, strict=True)) if abs(a - b) > 48]
    assert len(changed) > 500, "no subtitle burnt in"
    xs, ys = [i % width for i in changed], [i // width for i in changed]
    top, bottom, left, right = VERTICAL_SAFE_AREA.pixels(1080, 1920)
    assert min(ys) >= top and max(ys) <= 1920 - bottom
    assert min(xs) >= left and max(xs) <= 1080 - right
