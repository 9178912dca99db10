"""An episode's boards in the studio, in Chromium through Playwright (issue 65 items 8, 9, 11).

A series on DashScope (the emulator) with its boards made: the header says what the videos that
wait on their boards will cost once approved; an approved board offers no *Approve the board*
again; one button approves the rest of the episode's boards, as ``storyboard approve SERIES
boards/EP`` does, and the page follows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from storyboard.review.studio.server import StudioServer
from tests.fixtures.boards import write
from tests.fixtures.dashscope_cli import Emulator
from tests.fixtures.studio import open_studio

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

HELLO = "article.panel.shot[data-shot='hello'] .board"
WAVES = "article.panel.shot[data-shot='waves'] .board"


@pytest.fixture
def series(tmp_path: Path, emulator: Emulator, make_media: Any) -> Path:
    """The boards series with its boards made on DashScope (its videos wait for them)."""
    emulator()
    root = write(tmp_path / "boards", make_media)
    done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(root), "boards",
                           "--yes", "--quiet"], capture_output=True, text=True, check=False,
                          env=dict(os.environ), timeout=300)  # Playwright's loop: not here
    assert done.returncode == 0, done.stderr
    return root


def test_the_studio_approves_an_episodes_boards_in_one_click(browser: Browser,
                                                              series: Path) -> None:
    lock = series / "storyboard.lock"
    with StudioServer(series, render_drafts=False) as server:
        page, errors = open_studio(browser, server)
        header = page.locator("header.series")
        expect(header.locator(".waiting-boards")).to_contain_text(
            "waiting on boards: about 0.40 USD for 2 video(s)", timeout=30_000)
        expect(page.locator(f"{HELLO} button.board-approve")).to_have_count(1, timeout=30_000)
        page.locator(f"{HELLO} button.board-approve").click()
        expect(page.locator(f"{HELLO} button.board-approve")).to_have_count(0, timeout=30_000)
        expect(page.locator(f"{WAVES} button.board-approve")).to_have_count(1)
        expect(header.locator(".waiting-boards")).to_contain_text("about 0.20 USD for 1 video(s)",
                                                                  timeout=30_000)
        line = page.locator("section.episode[data-episode='ep01'] p.episode-boards")
        expect(line).to_contain_text("1 board(s) made and not approved")
        line.locator("button.approve-episode-boards").click()
        expect(line).to_have_count(0, timeout=30_000)
        expect(header.locator(".waiting-boards")).to_have_count(0, timeout=30_000)
        expect(page.locator(".board button.board-approve")).to_have_count(0)
        takes = json.loads(lock.read_text())["takes"]
        assert {k: (v["approved"], v["picked"]) for k, v in takes.items()} == {
            "boards/boards/ep01/hello": (1, 1), "boards/boards/ep01/waves": (1, 1)}
        assert errors == []
        page.close()
