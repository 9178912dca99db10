"""The studio in Debian's Chromium through Playwright, with real clicks and real saves.

Starts the studio on a copy of the example (drafts on: every save is checked, then drafted with
the local provider; the example's first drafts are made once for the module and each test's copy
starts with them, so its studio's first refresh finds them up to date), edits an episode file on
disk and watches the page follow without a reload, writes a note through the page, and checks
that requests without the token or from another origin change nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from storyboard.review.notes import read_notes
from storyboard.review.studio.server import StudioServer
from storyboard.review.studio.state import Studio
from tests.fixtures.studio import EXAMPLE, open_studio


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example with the studio's first drafts made, as its studio makes them."""
    series = tmp_path_factory.mktemp("drafted") / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    first = Studio(series, author="Ana")
    # in a thread of its own: the browser's event loop may run in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(first.refresh).result()
    assert first.snapshot.phase == "draft", first.snapshot.problems
    return series


@pytest.fixture()
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           drafted: Path) -> Iterator[StudioServer]:
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "coffee-shop"
    shutil.copytree(drafted, series, symlinks=True)
    with StudioServer(series, author="Ana") as server:
        yield server


def test_a_save_shows_its_problem_then_its_draft_in_place(browser: Browser,
                                                          studio: StudioServer) -> None:
    page, errors = open_studio(browser, studio)
    expect(page.locator("#studio-bar .errors")).to_have_text("no errors")
    expect(page.locator("section.episode")).to_have_count(2)
    page.evaluate("window.scrollTo(0, 600); window.marker = 'same page'")
    episode = studio.studio.root / "episodes" / "01-first-meeting.yaml"
    good = episode.read_text()
    episode.write_text(good.replace("    duration: 10", "    duration: 99", 1))
    expect(page.locator("#studio-bar .errors")).to_have_text("1 error(s)", timeout=20_000)
    expect(page.locator("article.panel.has-problems")).to_contain_text("a 99 s shot")
    episode.write_text(good.replace("soothing country ballad", "quiet folk song", 1))
    expect(page.locator("#studio-bar .phase")).to_contain_text("draft", timeout=60_000)
    expect(page.locator("#studio-bar .errors")).to_have_text("no errors")
    assert page.evaluate("window.marker") == "same page", "the page was reloaded"
    assert page.evaluate("window.scrollY") == 600
    src = page.locator("section.episode video.episode-video").first.get_attribute("src")
    assert src is not None and src.startswith("/file/draft/")
    assert errors == []


def test_a_playing_episode_keeps_playing_through_an_update(browser: Browser,
                                                           studio: StudioServer) -> None:
    page, _ = open_studio(browser, studio)
    video = page.locator("section.episode video.episode-video").first
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("document.querySelector('video.episode-video').currentTime > 0.3")
    before = studio.studio.snapshot.version
    studio.studio.republish()
    expect(page.locator("#studio-bar .phase")).to_contain_text(f"version {before + 1}")
    assert video.evaluate("v => !v.paused && v.currentTime > 0.3")


def test_clicking_a_shot_seeks_its_episode_there(browser: Browser, studio: StudioServer) -> None:
    page, _ = open_studio(browser, studio)
    panel = page.locator("article.panel.shot[data-shot='reply']")
    start = float(panel.get_attribute("data-start") or "nan")
    panel.locator("h3").click()
    seconds = page.locator("section.episode video.episode-video").first.evaluate("v => v.currentTime")
    assert abs(seconds - start) < 0.1


def test_a_note_written_on_the_page_is_kept(browser: Browser, studio: StudioServer) -> None:
    page, _ = open_studio(browser, studio)
    panel = page.locator("article.panel.shot[data-shot='ballad']")
    panel.locator("textarea.note-text").fill("more steam <b>on</b> the cup")
    panel.locator("button.add-note").click()
    # The note is saved once the studio's first draft is done: minutes on a loaded 2-core machine.
    expect(panel.locator("textarea.note-text")).to_have_value("", timeout=60_000)
    page.reload(wait_until="load")
    kept = page.locator("article.panel.shot[data-shot='ballad'] ul.notes")
    expect(kept).to_contain_text("Ana", timeout=30_000)
    expect(kept).to_contain_text("more steam <b>on</b> the cup")  # shown as text, not markup
    assert [n.text for n in read_notes(studio.studio.root)] == ["more steam <b>on</b> the cup"]


def test_requests_without_the_token_or_from_elsewhere_change_nothing(
        browser: Browser, studio: StudioServer) -> None:
    page, _ = open_studio(browser, studio)
    status = page.evaluate("""async () => (await fetch('/notes', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({shot: 'ep01/ballad', text: 'no token'})})).status""")
    assert status == 403
    other = browser.new_page()
    other.goto("data:text/html,<p>another site</p>")
    outcome = other.evaluate("""async (url) => { try {
        const r = await fetch(url + 'notes', {method: 'POST', credentials: 'include',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({shot: 'ep01/ballad', text: 'from elsewhere'})});
        return r.status; } catch (e) { return 'blocked'; } }""",
                             f"http://127.0.0.1:{studio.port}/")
    assert outcome in (403, "blocked")
    assert read_notes(studio.studio.root) == []


def test_pick_and_approve_on_the_page_change_the_lock_and_nothing_else(
        browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    episode = series / "episodes" / "01-first-meeting.yaml"
    text = episode.read_text()
    episode.write_text(text.replace("    duration: 10\n", "    duration: 10\n    takes: 2\n", 1))
    with StudioServer(series, author="Ana") as server:
        page, errors = open_studio(browser, server)
        lock = series / "storyboard.lock"
        before = lock.read_text()
        panel = page.locator("article.panel.shot[data-shot='ballad']")
        expect(panel.locator(".takes figure.take")).to_have_count(2)
        panel.locator("button.pick", has_text="Pick take 2").click()
        page.wait_for_function("() => true")
        expect(page.locator("article.panel.shot[data-shot='ballad'] figure.take.used")).to_have_attribute(
            "data-take", "2", timeout=30_000)
        after = json.loads(lock.read_text())
        assert [state.get("picked") for state in after.pop("takes").values()] == [2]
        assert after == {k: v for k, v in json.loads(before).items() if k != "takes"}
        page.locator("article.panel.shot[data-shot='ballad'] button.approve").click()
        page.wait_for_function(
            "() => document.querySelector(\"article.panel.shot[data-shot='ballad'] .takes\")"
            ".textContent.includes('approved')", timeout=30_000)
        assert '"approved": 2' in lock.read_text()
        assert errors == []


def test_episodes_keep_their_order_after_a_parse_error_is_fixed(
        browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ep01 fails to parse (the page shows ep02 alone), then is fixed: it comes back above ep02,
    and a note typed into the first box is ep01's."""
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    episode = series / "episodes" / "01-first-meeting.yaml"
    good = episode.read_text()
    with StudioServer(series, author="Ana", render_drafts=False) as server:
        page, errors = open_studio(browser, server)
        sections = page.locator("main section.episode")
        expect(sections).to_have_count(2)
        episode.write_text(good.replace("id: ep01", "id: [ep01", 1))
        expect(page.locator("#studio-bar .errors")).not_to_have_text("no errors", timeout=20_000)
        expect(sections).to_have_count(1)
        expect(sections.first).to_have_attribute("data-episode", "ep02")
        episode.write_text(good)
        expect(page.locator("#studio-bar .errors")).to_have_text("no errors", timeout=20_000)
        expect(sections).to_have_count(2)
        assert [sections.nth(i).get_attribute("data-episode") for i in range(2)] == ["ep01", "ep02"]
        page.locator("textarea.note-text").first.fill("the first box")
        page.locator("button.add-note").first.click()
        expect(page.locator("textarea.note-text").first).to_have_value("", timeout=20_000)
        assert [(n.shot, n.text) for n in read_notes(series)] == [("ep01/ballad", "the first box")]
        assert errors == []
