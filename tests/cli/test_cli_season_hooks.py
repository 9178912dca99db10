"""A season's hooks through the command line (issue 85): the hook written in ``season.yaml``
reaches the episode file the breakdown writes, and an episode's ``hook:`` reaches the season's
manifest and, with ``delivery: {end_card: true}``, the end card drawn at its tail (user text:
escaped where the sheet draws it, never read as markup); ``check`` reads ``season.yaml``."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import pytest

from storyboard.emulator.server import EmulatorServer
from storyboard.language.variations import compile_variations
from storyboard.media import ffmpeg, samples
from tests.fixtures.breakdown import KEY_ENV, chat_base, story
from tests.fixtures.cli import invoke

HOOK = 'Who knocks at <b>midnight</b>, "again" & why?'

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
characters:
  ada: {image: media/ada.png}
delivery: {preset: vertical, end_card: true}
episodes:
  - id: ep01
    title: The Call
    hook: 'Who knocks at <b>midnight</b>, "again" & why?'
    shots:
      - id: a
        scenes: [{at: 0-2s, action: "@ada answers the phone", say: {ada: "Who is this?"}}]
  - id: ep02
    title: The Door
    end_card: {text: "To be continued"}
    shots:
      - {id: a, prompt: "@ada opens the door"}
"""


def test_a_delivered_episode_ends_on_its_hook_in_the_manifest_and_on_its_end_card(
        tmp_path: Path) -> None:
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    sheet = tmp_path / "sheet.html"  # before the render: each card as its words
    result = invoke("sheet", root, "-o", sheet)
    assert result.exit_code == 0, result.output
    page = sheet.read_text("utf-8")
    faces = [html.unescape(part.split("</div>")[0].split(">", 1)[1])
             for part in page.split('class="card-face"')[1:]]
    assert faces == ["Episode 1\nThe Call", HOOK,
                     "Episode 2\nThe Door", "To be continued"], faces
    assert "<b>midnight</b>" not in page  # drawn as text, never as markup
    result = invoke("render", root, "--yes")
    assert result.exit_code == 0, result.output
    folder = root / "out" / "season"
    rows = json.loads((folder / "manifest.json").read_text("utf-8"))["episodes"]
    assert [r["hook"] for r in rows] == [HOOK, ""]  # ep02 has no hook: and no line
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        assert [t["hook"] for t in csv.DictReader(handle)] == [HOOK, ""]
    # "Episode N" (2 s), the shot (2 s), the hook's end card (2 s); ep02 keeps its own card
    seconds = [ffmpeg.probe(folder / r["file"]).duration for r in rows]
    assert seconds == [pytest.approx(6.0, abs=0.05), pytest.approx(6.0, abs=0.05)]


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def breakdown(chat_emulator: EmulatorServer, source: Path, series: Path) -> None:
    result = invoke("breakdown", source, series, "--base-url", chat_base(chat_emulator),
                    "--api-key-env", KEY_ENV, "--episodes", "4", "--episode-seconds", "60",
                    "--ratio", "9:16", "--yes")
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("key")
def test_a_hook_written_in_season_yaml_reaches_the_episode_file(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    breakdown(chat_emulator, source, series)
    manifest = compile_variations(series).manifests[0]
    said = [line.strip() for line in (series / "season.yaml").read_text("utf-8").split("\n")
            if line.strip().startswith("hook: ")]
    hooks = [json.loads(line.removeprefix("hook: ")) for line in said]
    assert [e.settings.get("hook") for e in manifest.episodes] == hooks  # each its own
    text = (series / "season.yaml").read_text("utf-8")
    edited = 'Will {{ the storm }} <i>come</i>, "tonight"?'
    (series / "season.yaml").write_text(text.replace(said[0], f"hook: {json.dumps(edited)}"),
                                        encoding="utf-8")
    breakdown(chat_emulator, source, series)
    manifest = compile_variations(series).manifests[0]
    assert manifest.episodes[0].settings.get("hook") == edited  # as words, never templated
    assert invoke("check", series).exit_code == 0
