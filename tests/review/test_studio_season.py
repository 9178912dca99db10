"""The studio's episode grid (issue 67 item 6), in Chromium through Playwright.

A season of two episodes on DashScope (the emulator): every board made, episode 1's boards
approved and its videos rendered. ``/season`` shows a tile per episode with its boards approved,
its videos done and what it spent of what it is planned at (the journal's and the price table's
figures), a title from the series shown as text, each episode's cover (its stitched file's poster,
else its first shot's board: loaded through the studio, as the page shows them), and a click on a
tile opens that episode's section of the studio's page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from storyboard.emulator import EmulatorServer
from storyboard.language.compile import compile_path
from storyboard.review.season import episode_cost
from storyboard.review.seasongrid import spent_by_episode, tiles
from storyboard.review.studio.server import StudioServer
from storyboard.run.state.tasks.journal import read_status
from tests.fixtures import web
from tests.fixtures.boards import BOARDS, write
from tests.fixtures.dashscope_cli import KEY
from tests.fixtures.studio import open_studio

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SEASON = BOARDS + """\
  - id: ep02
    title: "<b>Fog</b> & <script>alert(1)</script>"
    shots:
      - {id: calm, prompt: "@mia sleeps by the window"}
"""


def storyboard(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "storyboard", *args, "--yes", "--quiet"],
                          capture_output=True, text=True, check=False, env=env,
                          timeout=300)  # Playwright's loop: not here
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, make_media: Any) -> Path:
    """Every board made, episode 1's approved and its videos rendered: once a module."""
    root = write(tmp_path_factory.mktemp("made") / "season", make_media, SEASON)
    with EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1) as server:
        env = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": server.base_url,
               "CI": "1", "STORYBOARD_STATE_DIR": str(root.parent / "state")}
        storyboard(env, "render", str(root), "boards")
        done = subprocess.run([sys.executable, "-m", "storyboard", "approve", str(root),
                               "boards/ep01"], capture_output=True, text=True, check=False,
                              env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        storyboard(env, "render", str(root), "ep01")
    return root


@pytest.fixture
def season(tmp_path: Path, made: Path) -> Path:
    """A copy of the made season (with its ``.storyboard/``) for one test."""
    return shutil.copytree(made, tmp_path / "season", symlinks=True)


def test_the_grid_shows_each_episode_and_opens_it(browser: Browser, season: Path) -> None:
    rows = read_status(season)
    spent = spent_by_episode(rows, "USD")
    assert {ep: spent[ep] for ep in ("ep01", "ep02")} == {
        ep: episode_cost(ep, rows, "USD") for ep in ("ep01", "ep02")}  # and the cast's, apart
    assert spent["ep01"] > spent["ep02"] > 0  # ep01: boards and videos; ep02: its board
    with StudioServer(season, render_drafts=False) as server:
        page, errors = open_studio(browser, server)
        poster = page.locator("section.episode[data-episode='ep01'] video.episode-video")
        shown = {"ep01": poster.get_attribute("poster"), "ep02": page.locator(
            "section.episode[data-episode='ep02'] img").first.get_attribute("src")}
        page.locator("#studio-bar a.season-link").click()  # the page's way to the grid
        page.wait_for_url("**/season")
        first, second = (page.locator(f"a.tile[data-episode='{ep}']") for ep in ("ep01", "ep02"))
        expect(page.locator("a.tile")).to_have_count(2)
        expect(first.locator(".boards")).to_have_text("boards 2/2 approved")
        expect(first.locator(".videos")).to_have_text("videos 3/3 done")
        planned = {t.id: t.planned for t in tiles(compile_path(season))}
        # every take of ep01 made, each billed what it was priced at; ep02's video still to make
        assert planned["ep01"] == pytest.approx(spent["ep01"]) and planned["ep02"] > spent["ep02"]
        expect(first.locator(".cost")).to_have_text(
            f"spent {spent['ep01']:.2f} USD of {planned['ep01']:.2f} USD planned")
        expect(second.locator(".boards")).to_have_text("boards 0/1 approved")
        expect(second.locator(".videos")).to_have_text("videos 0/1 done")
        expect(second.locator(".title")).to_have_text("2. <b>Fog</b> & <script>alert(1)</script>")
        assert second.locator("b, script").count() == 0  # the title is text, not markup
        expect(page.locator(".season-totals")).to_contain_text("videos 3/4 done")
        for ep, tile in (("ep01", first), ("ep02", second)):  # each its own cover, loaded
            assert shown[ep] and tile.locator("img.cover").get_attribute("src") == shown[ep]
        page.wait_for_function("() => [...document.querySelectorAll('img.cover')].every("
                               "i => i.complete && i.naturalWidth > 0)", timeout=10_000)
        first.click()
        page.wait_for_url("**/#ep01")
        expect(page.locator("section.episode[data-episode='ep01']")).to_be_in_viewport()
        assert errors == []
        page.close()


def test_the_grid_needs_the_token(season: Path) -> None:
    with StudioServer(season, render_drafts=False) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert web.get(f"{base}/season").status_code == 403
        answer = web.get(f"{base}/season?token={server.token}")
        assert answer.status_code == 200 and 'data-episode="ep02"' in answer.text
        assert "<script>alert" not in answer.text and "&lt;script&gt;" in answer.text


def test_a_season_whose_provider_cannot_be_made_is_not_priced(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No price table (the provider's settings are wrong): the grid says so, never 0.00."""
    from storyboard.errors import StoryboardError
    from storyboard.review import seasongrid
    from storyboard.review.studio.grid import grid_page

    def refused(*args: object, **kwargs: object) -> None:
        raise StoryboardError("no such region")

    monkeypatch.setattr(seasongrid, "make_provider", refused)
    made = tiles(compile_path(write(tmp_path / "season", make_media, SEASON)))
    assert [t.planned for t in made] == [None, None]
    page = grid_page("Season", made)
    assert "spent 0.00 USD; not priced" in page and "planned" not in page
