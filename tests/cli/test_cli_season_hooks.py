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


@pytest.mark.usefixtures("key")
@pytest.mark.parametrize(("beats", "said"), [
    ('"9.1"', "unit 9.1: chapter 9 is not in the story"),
    ('"1.3-3.7"', "unit 3.7: chapter 3 has 2 unit(s)"),
    ('"2.1-1.1"', "beats 2.1-1.1: expected a range in story order"),
])
def test_check_refuses_a_unit_the_story_does_not_have_at_its_line_in_season_yaml(
        chat_emulator: EmulatorServer, tmp_path: Path, beats: str, said: str) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    breakdown(chat_emulator, source, series)
    assert invoke("check", series).exit_code == 0
    path = series / "season.yaml"
    text = path.read_text("utf-8").replace('beats: "1.2-1.3"', f"beats: {beats}")
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.split("\n"), 1) if f"beats: {beats}" in row)
    sent = chat_emulator.stats()["chat"]["requests"]
    result = invoke("check", series)
    assert result.exit_code == 1, result.output
    assert f"{path}:{line}:12: error: {said}" in result.stderr, result.stderr
    found = json.loads(invoke("check", series, "--json").stdout)
    assert [(Path(d["file"]).name, d["line"], d["severity"]) for d in found
            if said in d["message"]] == [("season.yaml", line, "error")]
    assert chat_emulator.stats()["chat"]["requests"] == sent  # the story read: nothing asked


@pytest.mark.usefixtures("key")
def test_check_warns_of_a_hook_in_season_yaml_that_its_episode_does_not_say(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    breakdown(chat_emulator, source, series)
    path = series / "season.yaml"
    text = path.read_text("utf-8")
    first = next(row for row in text.split("\n") if row.strip().startswith("hook: "))
    path.write_text(text.replace(first, '    hook: "Will the storm come?"'), encoding="utf-8")
    result = invoke("check", series)
    assert result.exit_code == 0, result.output  # a warning: the delivery says the episode's
    assert "warning: episode 1's hook here is not its episode's: ep01 ends on" in result.stderr
    assert "run `storyboard breakdown` again" in result.stderr
    breakdown(chat_emulator, source, series)
    result = invoke("check", series)
    assert result.exit_code == 0 and "hook here" not in result.stderr, result.stderr
