"""A season's cast at a glance (issue 96 item 3), in Chromium through Playwright.

A season of two episodes rendered on the emulator, whose takes show the pictures each shot
declares (two public-domain photographs, tests/fixtures/faces/SOURCE.md): ep01's two shots as
declared, ep02's shot of @ann drawn with another face in her place (``task:swap``). The cast's
page (from the season's grid) shows a strip per character, each appearance a tile with its
face's crop (cut from the take and served through the studio), its distance, coloured by its
finding, and a click to the shot's section of the page; ``status --season --json`` counts each
character's appearances per finding.
"""

from __future__ import annotations

import json
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
from storyboard.review.seasoncast import FINDINGS, appearances
from storyboard.review.studio.server import StudioServer
from tests.fixtures import web
from tests.fixtures.dashscope_cli import KEY
from tests.fixtures.studio import open_studio

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

FACES = Path(__file__).parents[1] / "fixtures" / "faces"
SERIES = """\
storyboard: 1
title: Cast
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
checks: {freeze_seconds: 60}
characters:
  ann: {image: media/ann.jpg}
  bea: {image: media/bea.jpg}
episodes:
  - id: ep01
    shots:
      - {id: hello, prompt: "@ann waves"}
      - {id: duet, prompt: "@ann talks to @bea"}
  - id: ep02
    shots:
      - {id: alone, prompt: "@ann smiles"}
"""


def storyboard(*args: str | Path, env: dict[str, str] | None = None) -> str:
    """The command as a child process (Playwright's loop runs in this one): its output."""
    done = subprocess.run([sys.executable, "-m", "storyboard", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=300,
                          env=env or dict(os.environ))
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The season rendered once a module, ep02's take drawn with another face."""
    root = tmp_path_factory.mktemp("cast") / "season"
    (root / "media").mkdir(parents=True)
    shutil.copy(FACES / "astronaut.jpg", root / "media" / "ann.jpg")
    shutil.copy(FACES / "grace_hopper.jpg", root / "media" / "bea.jpg")
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch, \
            EmulatorServer(latency=0.2, retry_after=0.1) as server:
        patch.delenv("STORYBOARD_EMULATOR_DRAWINGS", raising=False)
        server.script("task:ok,task:ok,task:swap")  # the takes in the season's order
        env = {**os.environ, "DASHSCOPE_HTTP_BASE_URL": server.base_url,
               "DASHSCOPE_API_KEY": KEY, "CI": "1"}
        storyboard("render", root, "--provider", "dashscope", "--yes", "--set", "concurrency=1",
                   "--quiet", env=env)
    return root


@pytest.fixture
def season(tmp_path: Path, made: Path) -> Path:
    return shutil.copytree(made, tmp_path / "season", symlinks=True)


def test_each_characters_appearances_are_counted_by_finding(season: Path) -> None:
    strips = appearances(compile_path(season))
    assert [(a.episode, a.shot, a.finding) for a in strips["ann"]] == [
        ("ep01", "hello", "ok"), ("ep01", "duet", "ok"), ("ep02", "alone", "identity")]
    assert [(a.episode, a.shot, a.finding) for a in strips["bea"]] == [("ep01", "duet", "ok")]
    ok, swapped = strips["ann"][0], strips["ann"][2]
    assert ok.distance is not None and swapped.distance is not None
    assert ok.distance < 0.5 < swapped.distance  # her own face, and another in her place
    cast: dict[str, Any] = json.loads(storyboard("status", season, "--season", "--json"))["cast"]
    zero = dict.fromkeys(FINDINGS, 0)
    assert cast == {"ann": {"appearances": 3, **zero, "ok": 2, "identity": 1},
                    "bea": {"appearances": 1, **zero, "ok": 1}}


def test_the_season_page_shows_a_strip_per_character(browser: Browser, season: Path) -> None:
    with StudioServer(season, render_drafts=False) as server:
        page, errors = open_studio(browser, server)
        page.goto(server.url.replace("/?", "/season?"), wait_until="load")
        page.locator("header a.cast-link").click()  # the grid's way to the cast
        page.wait_for_url("**/season/cast")
        ann = page.locator(".strip[data-character='ann'] a.seen")
        expect(ann).to_have_count(3)
        expect(page.locator(".strip[data-character='bea'] a.seen")).to_have_count(1)
        assert [ann.nth(i).get_attribute("data-finding") for i in range(3)] == \
            ["ok", "ok", "identity"]
        swapped = ann.nth(2)
        expect(swapped).to_have_class("seen identity")
        assert "@ann" in (swapped.get_attribute("title") or "")
        expect(swapped).to_contain_text("ep02 alone t1 · 0.")
        colours = [ann.nth(i).evaluate("a => getComputedStyle(a).borderTopColor")
                   for i in range(3)]
        assert colours[0] == colours[1] != colours[2]  # coloured by its finding
        page.wait_for_function("() => [...document.querySelectorAll('a.seen img')].every("
                               "i => i.complete && i.naturalWidth > 0)", timeout=20_000)
        assert page.locator("a.seen img").count() == 4  # each appearance's face, cut and served
        swapped.click()
        page.wait_for_url("**/#ep02-alone")
        expect(page.locator("#ep02-alone")).to_be_in_viewport()
        assert errors == []
        page.close()


def test_a_crop_is_served_only_by_a_name_the_page_gave(season: Path) -> None:
    with StudioServer(season, render_drafts=False) as server:
        base = f"http://127.0.0.1:{server.port}"
        page = web.get(f"{base}/season/cast?token={server.token}")
        named = page.text.split('src="/season/crop/')[1].split('"')[0]
        cookies = {"storyboard_studio": server.token}
        assert web.get(f"{base}/season/crop/{named}").status_code == 403  # no token
        found = web.get(f"{base}/season/crop/{named}", cookies=cookies)
        assert found.status_code == 200 and found.content[:2] == b"\xff\xd8"  # a JPEG
        for other in ("..%2Fstoryboard.yaml", "0" * 32 + ".jpg", "storyboard.lock"):
            assert web.get(f"{base}/season/crop/{other}", cookies=cookies).status_code == 404


def test_a_strip_shows_the_series_words_as_text() -> None:
    from storyboard.review.seasoncast import Appearance
    from storyboard.review.studio.castpage import cast_html
    seen = Appearance("ann", "ep<1>", "s&1", 2, "ep_1_-s_1", "look",
                      "@ann's costume changed: <script>alert(1)</script>", 0.7, None)
    page = cast_html({"ann": [seen]})
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "ep&lt;1&gt; s&amp;1 t2 · 0.70" in page and 'class="seen look"' in page
    assert "no face" in page and "/season/crop/" not in page  # no file here: no crop asked for
    assert cast_html({}) == ""
