"""After a paid render the studio and ``status`` show what was paid for (issue 58.2): the studio
opened on a provider shows its takes and names it in its header; a cast card shows the sheet the
paid shots used, not the local stand-in the drafts use; ``status`` lists each shot's paid attempt,
a free draft only where nothing better exists (``--all`` still lists every attempt).

The series is rendered on the DashScope emulator, then drafted on ``local`` (as the studio does on
every save); the page is read in Chromium through Playwright.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from storyboard.emulator import EmulatorServer
from storyboard.media.ffmpeg import probe
from storyboard.providers.local import cache_key as local_cache_key
from storyboard.review.sheet.thumbs import Thumbs
from storyboard.review.studio.page import STILLS
from storyboard.review.studio.server import StudioServer
from storyboard.run.state.cache import OutputCache
from tests.fixtures.dashscope_cli import KEY, Emulator, invoke
from tests.fixtures.studio import open_studio

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Paid
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
characters:
  ada: {image: {generate: "a young engineer with brass goggles"}}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "@ada waves", takes: 2}
      - {id: b, prompt: "@ada turns"}
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The series rendered on DashScope (its cast too), then drafted on local: once a module,
    each test reading (and changing) a copy of its own (``paid``)."""
    series = tmp_path_factory.mktemp("rendered") / "paid"
    series.mkdir()
    (series / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    with EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1) as server:
        env = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": server.base_url,
               "CI": "1", "STORYBOARD_STATE_DIR": str(series.parent / "state")}
        for args in (("--provider", "dashscope"), ("--draft", "--provider", "local")):
            done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series),
                                   "--yes", "--quiet", *args], capture_output=True, text=True,
                                  check=False, env=env, timeout=300)  # Playwright's loop: not here
            assert done.returncode == 0, done.stderr
    return series


@pytest.fixture
def paid(tmp_path: Path, rendered: Path, emulator: Emulator) -> Path:
    """A copy of the rendered series (with its ``.storyboard/``), the emulator still at hand."""
    emulator()
    return shutil.copytree(rendered, tmp_path / "paid", symlinks=True)


def test_status_lists_the_paid_attempt_and_a_draft_only_where_nothing_better_exists(
        paid: Path) -> None:
    rows = json.loads(invoke("status", paid, "--json").stdout)
    assert {r["shot"]: r["provider"] for r in rows} == {
        "a": "dashscope", "b": "dashscope", "ada": "dashscope"}
    every = json.loads(invoke("status", paid, "--all", "--json").stdout)
    assert {r["provider"] for r in every} == {"dashscope", "local"}
    (paid / "storyboard.yaml").write_text(SERIES.replace("@ada turns", "@ada sits"), "utf-8")
    assert invoke("render", paid, "--draft", "--provider", "local", "--yes").exit_code == 0
    rows = json.loads(invoke("status", paid, "--json").stdout)
    assert {r["shot"]: r["provider"] for r in rows}["b"] == "local"  # only a draft of it: shown


def test_status_lists_the_take_each_episode_uses_and_counts_the_others(paid: Path) -> None:
    rows = json.loads(invoke("status", paid, "--json").stdout)
    assert {r["shot"]: (r["provider"], r["other_takes"]) for r in rows} == {
        "a": ("dashscope", 1), "b": ("dashscope", 0), "ada": ("dashscope", 0)}
    assert "ep01/a: 1 other take: `storyboard takes paid ep01/a`" in invoke("status", paid).stdout
    assert invoke("pick", paid, "ep01/a", "2").exit_code == 0
    rows = json.loads(invoke("status", paid, "--json").stdout)
    assert [(r["shot"], r["provider"]) for r in rows if r["episode"] == "ep01"] == [
        ("a#2", "dashscope"), ("b", "dashscope")]
    every = json.loads(invoke("status", paid, "--all", "--json").stdout)
    assert {(r["shot"], r["provider"]) for r in every if r["shot"] in ("a", "a#2")} == {
        ("a", "dashscope"), ("a#2", "dashscope"), ("a", "local"), ("a#2", "local")}


@pytest.fixture
def server(paid: Path, request: pytest.FixtureRequest) -> Iterator[StudioServer]:
    """The studio on ``paid``, opened on ``request.param`` (None: the takes the episodes use)."""
    with StudioServer(paid, render_drafts=False, provider=request.param) as studio:
        yield studio


@pytest.mark.parametrize("server", ["dashscope"], indirect=True)
def test_the_studio_opened_on_a_provider_shows_its_takes(browser: Browser,
                                                         server: StudioServer) -> None:
    page, errors = open_studio(browser, server)
    expect(page.locator("header")).to_contain_text("provider dashscope", timeout=30_000)
    video = page.locator("section.episode video.episode-video").first
    expect(video).to_have_attribute("src", "/file/series/out/ep01.mp4", timeout=30_000)
    expect(page.locator("section.cast")).to_contain_text("ada")
    assert errors == []


@pytest.mark.parametrize("server", ["local"], indirect=True)
def test_a_cast_card_shows_the_sheet_the_paid_shots_used(browser: Browser,
                                                         server: StudioServer) -> None:
    page, errors = open_studio(browser, server)
    expect(page.locator("header")).to_contain_text("provider local", timeout=30_000)
    shown = page.locator("section.cast img").first.get_attribute("src")
    paid_sheet, stand_in = (_still(server, key) for key in ("dashscope", local_cache_key(True)))
    assert shown == paid_sheet != stand_in
    assert errors == []


PROVIDERS = "article.panel.shot dl.meta dt:text-is('provider') + dd"


@pytest.mark.parametrize("server", [None], indirect=True)
def test_the_studio_opened_on_no_provider_shows_the_takes_the_episodes_use(
        browser: Browser, server: StudioServer) -> None:
    page, errors = open_studio(browser, server)
    header = page.locator("header.series")
    expect(header).to_contain_text("provider dashscope ·", timeout=30_000)
    expect(page.locator(PROVIDERS)).to_have_text(["dashscope", "dashscope"])
    video = page.locator("section.episode video.episode-video").first
    expect(video).to_have_attribute("src", re.compile(r"^/file/draft/used/ep01\.mp4\?v="),
                                    timeout=30_000)
    stitched = server.studio.used_dir / "ep01.mp4"
    assert probe(stitched).duration == pytest.approx(4.0, abs=0.2)
    shown = page.locator("section.cast img").first.get_attribute("src")
    assert shown == _still(server, "dashscope")
    assert errors == []


def test_a_shot_changed_since_its_paid_take_shows_its_draft_beside_the_paid_ones(
        browser: Browser, paid: Path) -> None:
    with StudioServer(paid) as server:
        page, errors = open_studio(browser, server)
        expect(page.locator(PROVIDERS)).to_have_text(["dashscope", "dashscope"],
                                                     timeout=30_000)
        (paid / "storyboard.yaml").write_text(SERIES.replace("@ada turns", "@ada sits"), "utf-8")
        expect(page.locator(PROVIDERS)).to_have_text(["dashscope", "local draft"],
                                                     timeout=60_000)
        expect(page.locator("header.series")).to_contain_text(
            "provider dashscope (1 shot), local draft (1 shot)")
        video = page.locator("section.episode video.episode-video").first
        expect(video).to_have_attribute("src", re.compile(r"^/file/draft/used/ep01\.mp4"))
        assert errors == []


def _still(server: StudioServer, cache_key: str) -> str:
    """The page's link to the still of ``cast/ada`` as made under ``cache_key``."""
    manifest = server.studio.require_manifest()
    digest = next(a.hash for a in manifest.cast if a.name == "ada")
    made = OutputCache(manifest.root, cache_key).path(digest)
    assert made.is_file()
    return Thumbs.of_series(manifest.root, link=STILLS).image(made, "").src
