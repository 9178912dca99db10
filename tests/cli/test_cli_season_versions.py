"""A delivered season with a Spanish version, through the command line on the emulator (issue
85): the version's cost is a row of its own in ``out/season/manifest.*``, rounded as the others,
never folded into the original episode's cost, nor into its ``spent`` in ``status --season``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.run.state.tasks.journal import read_status
from tests.fixtures.dashscope_cli import Emulator, invoke

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Dubbed
languages: [en, es]
defaults: {resolution: 720P, ratio: "9:16", duration: 4}
provider: {name: dashscope, poll: [0.2]}
delivery: {preset: vertical, cover: false}
voices:
  mia-voice: {design: "warm, calm woman in her thirties",
              sample: "Morning! The usual, with oat milk and no sugar, as always?"}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
episodes:
  - id: ep01
    title: The Toast
    shots:
      - id: hello
        scenes:
          - {at: 1-3s, action: "@mia raises her cup", say: {mia: "To us, and to the shop."}}
  - id: ep02
    title: The Door
    shots:
      - id: bye
        scenes:
          - {at: 0-2s, action: "@mia waves", say: {mia: "Bye now."}}
"""
VERSION = """\
language: es
source: en
episode: {episode}
lines:
  - shot: {shot}
    n: 1
    speaker: mia
    at: {at}
    route: voice_reference
    source: "{source}"
    text: "{text}"
"""


def rows(root: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(
        (root / "out" / "season" / "manifest.json").read_text("utf-8"))["episodes"]
    return found


def render(root: Path, *args: str, words: tuple[str, ...] = ("render",)) -> None:
    result = invoke(*words, root, "--provider", "dashscope", "--yes", *args)
    assert result.exit_code == 0, result.output


def test_a_versions_cost_is_its_own_row_never_its_episodes(
        tmp_path: Path, make_media: Callable[..., Path], emulator: Emulator) -> None:
    emulator(plain_results=False)
    root = tmp_path / "dubbed"
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    render(root)
    before = {r["id"]: r["cost"] for r in rows(root)}
    assert before["ep01"] > 0 and before["ep02"] > 0
    for shot in ("ep01/hello", "ep02/bye"):
        assert invoke("approve", root, shot, "--force").exit_code == 0
    folder = root / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(VERSION.format(
        episode="ep01", shot="hello", at="1-3s", source="To us, and to the shop.",
        text="Por nosotros y por la tienda."), encoding="utf-8")
    (folder / "ep02.yaml").write_text(VERSION.format(
        episode="ep02", shot="bye", at="0-2s", source="Bye now.", text="Adiós."),
        encoding="utf-8")
    render(root, "es", words=("version", "render"))
    render(root)  # the original again: every shot cached, the season written anew
    linked_season_version_refused(root, tmp_path / "elsewhere")
    journal = read_status(root)
    versions = {ep: round(sum(r.cost or 0.0 for r in journal
                              if (r.series, r.episode) == ("dubbed/es", ep)
                              or (r.episode == "lines" and r.shot.startswith(f"es/{ep}/"))), 4)
                for ep in ("ep01", "ep02")}
    assert all(cost > 0 for cost in versions.values()), versions
    found = rows(root)
    originals = [r["cost"] for r in found if r.get("language") != "es"]
    assert originals == [before["ep01"], before["ep02"]]  # no version folded into its episode
    assert [(r["id"], r["language"], r["file"], r["subtitles"]) for r in found] == [
        ("ep01", "en", "ep01.mp4", "ep01.srt"), ("ep01", "es", "es/ep01.mp4", "es/ep01.srt"),
        ("ep02", "en", "ep02.mp4", "ep02.srt"), ("ep02", "es", "es/ep02.mp4", "es/ep02.srt")]
    assert [r["cost"] for r in found] == [before["ep01"], versions["ep01"], before["ep02"],
                                          versions["ep02"]]
    assert [r["hook"] for r in found] == ["To us, and to the shop.",
                                          "Por nosotros y por la tienda.", "Bye now.", "Adiós."]
    for row in found:
        assert (root / "out" / "season" / row["file"]).is_file()
    with (root / "out" / "season" / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [(t["language"], float(t["cost"])) for t in table] == [
        (r["language"], r["cost"]) for r in found]
    result = invoke("status", root, "--season", "--json")
    assert result.exit_code == 0, result.output
    spent = [e["spent"] for e in json.loads(result.stdout)["episodes"]]
    assert spent == [before["ep01"], before["ep02"]]  # the version's is not the episode's


def linked_season_version_refused(root: Path, elsewhere: Path) -> None:
    """``out/season/es`` a link to a folder outside the series: the season stops naming it,
    nothing is written where it points; put back, the season is written again."""
    folder = root / "out" / "season" / "es"
    folder.rename(root / "es-kept")
    elsewhere.mkdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    result = invoke("render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code != 0 and f"{folder} is a link (to {elsewhere})" in result.output, \
        result.output
    assert list(elsewhere.iterdir()) == []
    folder.unlink()
    (root / "es-kept").rename(folder)


def test_version_render_delivers_the_version_into_the_season_counted_as_versions(
        tmp_path: Path, make_media: Callable[..., Path], emulator: Emulator) -> None:
    """``version render`` writes ``out/season/`` itself (no second ``render`` needed), and the
    season's line counts 2 episodes and 2 versions, never "4 episodes"."""
    emulator(plain_results=False)
    root = tmp_path / "dubbed"
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    render(root)
    for shot in ("ep01/hello", "ep02/bye"):
        assert invoke("approve", root, shot, "--force").exit_code == 0
    folder = root / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(VERSION.format(
        episode="ep01", shot="hello", at="1-3s", source="To us, and to the shop.",
        text="Por nosotros y por la tienda."), encoding="utf-8")
    (folder / "ep02.yaml").write_text(VERSION.format(
        episode="ep02", shot="bye", at="0-2s", source="Bye now.", text="Adiós."),
        encoding="utf-8")
    result = invoke("version", "render", root, "es", "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["language"]) for r in rows(root)] == [
        ("ep01", "en"), ("ep01", "es"), ("ep02", "en"), ("ep02", "es")]
    assert (root / "out" / "season" / "es" / "ep02.mp4").is_file()
    line = f"season: {root / 'out' / 'season' / 'manifest.json'} (2 episode(s), 2 version(s), "
    assert line in result.stderr, result.stderr
    result = invoke("render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code == 0 and line in result.stderr, result.output
