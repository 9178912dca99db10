"""``out/season/`` holds exactly the files its manifest lists, after every render, on DashScope's
emulator (issue 97): a render that re-delivers unchanged episodes leaves no hidden ``.part``
file, and a render stopped by ``--budget`` before an edited episode is stitched removes that
episode's row and its files together (its older cut is not delivered), saying so, and so does a
render of other episodes (``--episodes``) while it has an edit not rendered yet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.media import samples
from tests.fixtures.dashscope_cli import Emulator, invoke

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
delivery: {preset: vertical}
characters:
  ada: {image: media/ada.png}
episodes:
  - id: ep01
    title: The Call
    shots:
      - id: a
        scenes: [{at: 0-2s, action: "@ada answers the phone", say: {ada: "Who is this?"}}]
  - id: ep02
    title: The Door
    shots:
      - id: a
        scenes: [{at: 0-2s, action: "@ada opens the door", say: {ada: "Not you."}}]
"""


def season(tmp_path: Path) -> Path:
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return root


def manifest(root: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        (root / "out" / "season" / "manifest.json").read_text("utf-8"))["episodes"]
    return rows


def every_file(folder: Path) -> set[str]:
    """Every file under ``folder``, hidden ones too, by its path inside it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def listed(rows: list[dict[str, Any]]) -> set[str]:
    return {"manifest.json", "manifest.csv"} | {
        row[c] for row in rows for c in ("file", "subtitles", "cover") if row[c]}


def test_the_season_folder_holds_exactly_what_its_manifest_lists(tmp_path: Path,
                                                                 emulator: Emulator) -> None:
    emulator()
    root = season(tmp_path)
    for _ in range(2):  # the second re-delivers both episodes, unchanged
        result = invoke("render", root, "--provider", "dashscope", "--yes")
        assert result.exit_code == 0, result.output
        rows = manifest(root)
        assert [r["id"] for r in rows] == ["ep01", "ep02"]
        assert every_file(root / "out" / "season") == listed(rows)  # no .ep01.mp4.part
    text = (root / "storyboard.yaml").read_text("utf-8")
    (root / "storyboard.yaml").write_text(text.replace("opens the door", "bars the door"),
                                          encoding="utf-8")
    result = invoke("render", root, "--provider", "dashscope", "--budget", "0")
    assert result.exit_code == 1, result.output  # ep02's new shot is past the budget
    rows = manifest(root)
    assert [r["id"] for r in rows] == ["ep01"]
    assert every_file(root / "out" / "season") == listed(rows)  # ep02's files went with its row
    assert ("season: ep02 left out (not stitched: shot(s) a not rendered); its earlier files "
            "removed from out/season/ (ep02.jpg, ep02.mp4, ep02.srt): they are not of its cut "
            "as it is now" in result.stderr), result.stderr
    result = invoke("render", root, "--provider", "dashscope", "--yes", "1")
    assert result.exit_code == 0, result.output  # ep02 outside the range, its edit not rendered
    assert [r["id"] for r in manifest(root)] == ["ep01"]
    assert ("season: ep02 left out (its shots changed since it was stitched (ep02/a): render it "
            "again (storyboard render SERIES 2))" in result.stderr), result.stderr
    result = invoke("render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    rows = manifest(root)
    assert [r["id"] for r in rows] == ["ep01", "ep02"]
    assert every_file(root / "out" / "season") == listed(rows)
    result = invoke("render", root, "--provider", "dashscope", "--yes", "1")
    assert result.exit_code == 0, result.output  # ep02 unchanged: kept as it was delivered
    assert [r["id"] for r in manifest(root)] == ["ep01", "ep02"]
