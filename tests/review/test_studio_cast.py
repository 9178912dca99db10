"""The studio's Cast section in Debian's Chromium: a generated character with two takes made on
``local``, both shown; Pick on take 2 marks exactly the shots that use the character as changed.
Only the cast's own cached files are served from ``.storyboard``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from storyboard.review.studio.app import served_file
from storyboard.review.studio.server import StudioServer
from storyboard.run.state.cache import file_name
from tests.fixtures.studio import open_studio

CAST = """\
storyboard: 1
title: Cast
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: local}
output: {loudness: null}
characters:
  mia:
    image: {generate: "barista, short dark hair, green apron", takes: 2}
    voice: mia-voice
  cafe: {image: {generate: "a small corner cafe", kind: place}}
voices:
  mia-voice: {design: "warm calm woman", sample: "Morning!"}
episodes:
  - id: ep01
    shots:
      - {id: hello, prompt: "@mia wipes the counter in @cafe"}
      - {id: empty, prompt: "rain on the window of @cafe"}
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The series rendered on ``local`` once a module; each test opens a copy of its own."""
    series = tmp_path_factory.mktemp("rendered") / "cast"
    series.mkdir()
    (series / "storyboard.yaml").write_text(CAST, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series),
                             "--provider", "local", "--yes"], capture_output=True, text=True,
                            check=False, cwd=series.parent)  # Playwright's loop runs in this one
    assert result.returncode == 0, result.stderr
    return series


@pytest.fixture()
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           rendered: Path) -> Iterator[StudioServer]:
    monkeypatch.chdir(tmp_path)
    series = shutil.copytree(rendered, tmp_path / "cast", symlinks=True)
    with StudioServer(series, author="Ana") as server:
        yield server


def test_pick_a_cast_take_marks_its_shots_changed(browser: Browser,
                                                  studio: StudioServer) -> None:
    page, errors = open_studio(browser, studio)
    mia = page.locator('article[data-asset="cast/mia"]')
    expect(mia.locator("figure.take img")).to_have_count(2)
    expect(page.locator('article[data-asset="voices/mia-voice"] audio')).to_have_count(1)
    expect(mia.locator("button.pick")).to_have_count(2)  # the takes' own tools ...
    expect(mia.locator("button.play-shot, textarea.note-text")).to_have_count(0)  # no shot's
    hello = page.locator('article.panel[data-episode="ep01"][data-shot="hello"]')
    empty = page.locator('article.panel[data-episode="ep01"][data-shot="empty"]')
    expect(hello.locator("dd.tc").first).not_to_be_empty(timeout=60_000)
    before = (hello.locator("dd.tc").first.inner_text(), empty.locator("dd.tc").first.inner_text())
    mia.locator('figure.take[data-take="2"] button.pick').click()
    expect(mia.locator('figure.take.used[data-take="2"]')).to_have_count(1, timeout=60_000)
    # the shot using mia is a new request (its hash follows the picked sheet), the other is not
    expect(hello.locator("dd.tc").first).not_to_have_text(before[0], timeout=60_000)
    expect(empty.locator("dd.tc").first).to_have_text(before[1])
    expect(hello.locator("table.refs")).to_contain_text("cast/mia (take 2)")
    page.screenshot(path=str(studio.studio.root.parent / "cast.png"), full_page=True)
    assert errors == []


def test_only_the_casts_own_files_are_served_from_state(studio: StudioServer) -> None:
    manifest = studio.studio.manifest
    assert manifest is not None
    voice = next(a for a in manifest.cast if a.episode == "voices")
    made = next((studio.studio.root / ".storyboard" / "cache").glob(f"*/{file_name(voice.hash)}"))
    where = made.relative_to(studio.studio.root).as_posix()
    assert served_file(studio.studio, "series", where) == made.resolve()
    assert served_file(studio.studio, "series", ".storyboard/journal.jsonl") is None
    assert served_file(studio.studio, "series", str(Path(where).parent / "other.wav")) is None


def test_a_cast_take_opens_large_beside_the_others(browser: Browser,
                                                   studio: StudioServer) -> None:
    """The takes on the page are small; "View takes large" (or a click on a take) shows every
    take at full size side by side, each about half the window wide, with its own Pick; Esc
    closes it."""
    page, errors = open_studio(browser, studio)
    mia = page.locator('article[data-asset="cast/mia"]')
    expect(mia.locator("figure.take img")).to_have_count(2)
    small = mia.locator("figure.take img").first.bounding_box()
    assert small is not None and small["width"] < 300
    mia.locator("button.view-takes").click()
    viewer = page.locator(".take-viewer")
    expect(viewer.locator("figure.take-large img")).to_have_count(2)
    page.wait_for_function("[...document.querySelectorAll('.take-viewer img')]"
                           ".every((i) => i.complete && i.naturalWidth > 0)")
    boxes = [viewer.locator("figure.take-large img").nth(i).bounding_box() for i in (0, 1)]
    assert all(b is not None and b["width"] > 500 for b in boxes), boxes
    first, second = boxes[0], boxes[1]
    assert first is not None and second is not None
    assert second["x"] >= first["x"] + first["width"] and abs(second["y"] - first["y"]) < 5
    natural = viewer.locator("figure.take-large img").evaluate_all(
        "(images) => images.map((i) => i.naturalWidth)")
    assert natural == [1024, 1024]  # the made pictures themselves, not the page's thumbnails
    expect(viewer.locator("figcaption")).to_have_text(["take 1 · used", "take 2"])
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    mia.locator('figure.take[data-take="2"] img').click()  # a take itself opens it too
    page.locator('.take-viewer figure.take-large[data-take="2"] button.pick').click()
    expect(page.locator(".take-viewer")).to_have_count(0)
    expect(mia.locator('figure.take.used[data-take="2"]')).to_have_count(1, timeout=60_000)
    assert errors == []
