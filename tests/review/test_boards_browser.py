"""Each shot's board beside its video takes, in Debian's Chromium through Playwright (issue 56 item 6).

A local series with boards: its boards made (``render SERIES boards``) and one board retaken; the sheet
shows each board on its shot's panel with every take, the pick command and the approve command; the
studio picks the other take and approves the board from the page, and the lock says so (the
board's take state, nothing else).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from storyboard.review.sheet import build_sheet
from storyboard.review.studio.server import StudioServer

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERIES = """\
storyboard: 1
title: Boards
defaults: {resolution: 720P, duration: 2}
output: {loudness: null}
characters:
  mia: {image: {generate: "a barista with short dark hair"}}
boards: {model: wan2.7-image}
episodes:
  - id: ep1
    shots:
      - id: hook
        scenes: ["[0-2s] Close-up, slow push in: @mia hands over a cup"]
      - id: talk
        scenes: ["[0-2s] The camera pans left as @mia looks up"]
"""
HOOK = "article.panel.shot[data-shot='hook']"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def invoke(*args: str | Path) -> None:
    """A command in a process of its own (Playwright's loop runs in this one)."""
    done = subprocess.run([sys.executable, "-m", "storyboard", *map(str, args)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The series with its boards made, ``hook``'s in two takes: once a module."""
    root = tmp_path_factory.mktemp("made") / "cafe"
    root.mkdir()
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    invoke("render", root, "boards", "--yes")
    invoke("retake", root, "boards/ep1/hook", "--yes")
    return root


@pytest.fixture()
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: Path) -> Path:
    """A copy of the made series (with its ``.storyboard/``) for one test."""
    monkeypatch.chdir(tmp_path)
    return shutil.copytree(made, tmp_path / "cafe", symlinks=True)


def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="load")
    return page, errors


def test_the_sheet_shows_each_board_beside_its_shot(browser: Browser, series: Path) -> None:
    sheet = build_sheet(series).html
    page, errors = open_page(browser, sheet.as_uri())
    board = page.locator(f"{HOOK} .board")
    expect(board).to_have_attribute("data-asset", "boards/ep1/hook")
    expect(board.locator("figure.board-take")).to_have_count(2)
    images = board.evaluate("b => [...b.querySelectorAll('img')].map(i => i.naturalWidth)")
    assert len(images) == 2 and all(width > 0 for width in images)
    expect(board).to_contain_text("storyboard pick cafe boards/ep1/hook 2")
    expect(board).to_contain_text("storyboard approve cafe boards/ep1/hook")
    expect(page.locator("article.panel.shot[data-shot='talk'] .board figure")).to_have_count(1)
    expect(page.locator("section.cast [data-asset^='boards/']")).to_have_count(0)
    assert errors == []
    page.close()


def test_the_studio_picks_and_approves_a_board(browser: Browser, series: Path) -> None:
    lock = series / "storyboard.lock"
    before = json.loads(lock.read_text())
    with StudioServer(series, author="Ana") as server:
        page, errors = open_page(browser, server.url)
        board = page.locator(f"{HOOK} .board")
        expect(board.locator("figure.board-take")).to_have_count(2, timeout=30_000)
        board.locator("button.board-pick", has_text="Pick take 2").click()
        expect(page.locator(f"{HOOK} .board figure.board-take.used")).to_have_attribute(
            "data-take", "2", timeout=30_000)
        takes = json.loads(lock.read_text())["takes"]
        assert takes["cafe/boards/ep1/hook"]["picked"] == 2
        page.locator(f"{HOOK} .board button.board-approve").click()
        expect(page.locator(f"{HOOK} .board")).to_contain_text("approved", timeout=30_000)
        after = json.loads(lock.read_text())
        assert after["takes"]["cafe/boards/ep1/hook"]["approved"] == 2
        assert {k: v for k, v in after.items() if k != "takes"} == {
            k: v for k, v in before.items() if k != "takes"}
        assert set(after["takes"]) == {"cafe/boards/ep1/hook"}
        assert errors == []
        page.close()
