"""The studio switches an episode's language (issue 68.6) in Debian's Chromium through Playwright:
each version of the episode there is a file of, its lines with their fit as made and measured
(the seconds over their window, or not made yet), and the choice kept through the studio's live
updates."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from storyboard.language.versions.versionfile import text_hash
from storyboard.review.studio.server import StudioServer
from tests.fixtures.studio import EXAMPLE, open_studio

LONG = "Eso fue precioso, de verdad, lo más bonito que he oído en esta cafetería."
VERSION = f"""\
language: es
source: en
episode: ep01
lines:
  - shot: ballad
    n: 1
    speaker: mia
    at: 3-10s
    route: voice_reference
    source: "That was lovely."
    text: "{LONG}"
"""
PT = VERSION.replace("language: es", "language: pt").replace(LONG, "Foi lindo.")


@pytest.fixture()
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StudioServer]:
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    for lang, text in (("es", VERSION), ("pt", PT)):
        (series / "languages" / lang).mkdir(parents=True)
        (series / "languages" / lang / "ep01.yaml").write_text(text, encoding="utf-8")
    measured = series / ".storyboard" / "languages" / "es" / "ep01.json"
    measured.parent.mkdir(parents=True)  # as `version render SERIES es` keeps it: made and measured
    measured.write_text(json.dumps({"lines": [{"shot": "ballad", "n": 1, "text": text_hash(LONG),
                                               "seconds": 8.25}]}), encoding="utf-8")
    with StudioServer(series, author="Ana") as server:
        yield server


def test_an_episode_switches_language_and_shows_each_lines_fit(browser: Browser,
                                                                studio: StudioServer) -> None:
    page, errors = open_studio(browser, studio)
    first = page.locator("section.episode[data-episode=ep01]")
    switch = first.locator("select.language-switch")
    expect(switch.locator("option")).to_have_text(["original", "es (1 over)", "pt"])
    expect(page.locator("section.episode[data-episode=ep02] select.language-switch")
           ).to_have_count(0)  # no version of ep02: nothing to switch
    spanish = first.locator(".version[data-language=es]")
    expect(spanish).to_be_hidden()

    switch.select_option("es")
    expect(spanish).to_be_visible()
    expect(first.locator(".version[data-language=pt]")).to_be_hidden()
    line = spanish.locator("li.line[data-line='ballad/1']")
    expect(line).to_have_class("line over")
    expect(line).to_contain_text(LONG)
    expect(line.locator(".fit")).to_have_text("8.25 s, 1.25 s over its 7 s window")
    expect(spanish).to_contain_text("not dubbed yet: run storyboard version render SERIES es")

    switch.select_option("pt")
    expect(first.locator(".version[data-language=pt] li.line .fit")).to_have_text("not made yet")
    expect(spanish).to_be_hidden()

    # the choice is kept through a live update of the page (a save of the episode's file)
    switch.select_option("es")
    episode = studio.studio.root / "episodes" / "01-first-meeting.yaml"
    episode.write_text(episode.read_text().replace("title: First Meeting", "title: Met"))
    expect(first.locator("h2")).to_have_text("ep01: Met", timeout=60_000)
    expect(first.locator("select.language-switch")).to_have_value("es")
    expect(first.locator(".version[data-language=es]")).to_be_visible()

    first.locator("select.language-switch").select_option("")
    expect(first.locator(".version[data-language=es]")).to_be_hidden()
    assert errors == []
