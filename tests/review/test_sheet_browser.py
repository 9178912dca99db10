"""The review sheet in a real browser: Debian's Chromium, headless, driven by Playwright.

Loads the sheet of the rendered example from disk (no server, no network), and checks what a
reviewer would notice: no console errors, every image decoded, two episodes and four shot panels,
label links that land on their references, and episode videos that play as long as the stitched
episodes. Saves a screenshot. Chromium runs headless, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, sync_playwright

from storyboard.review.sheet import build_sheet

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def sheet_file(rendered_example: tuple[Path, Path],
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    series, episodes = rendered_example
    out = tmp_path_factory.mktemp("browser") / "sheet.html"
    return build_sheet(series, out=out, episodes_dir=episodes).html


def failed(request: Any, problems: list[str]) -> None:
    """A request that failed; a video the browser stops reading once it has its metadata
    (``preload="metadata"``) is reported as aborted, and is not a failure."""
    if request.resource_type == "media" and request.failure == "net::ERR_ABORTED":
        return
    problems.append(f"failed: {request.url} {request.failure}")


def open_page(browser: Browser, sheet: Path) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: failed(request, problems))
    page.goto(sheet.as_uri(), wait_until="load")
    return page, problems


def test_the_sheet_loads_cleanly_with_every_image(browser: Browser, sheet_file: Path) -> None:
    page, problems = open_page(browser, sheet_file)
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) >= 12
    assert [alt for complete, width, alt in images if not complete or width == 0] == []
    assert page.locator("section.episode").count() == 2
    assert page.locator("article.panel.shot").count() == 4
    assert page.locator("article.panel.card").count() == 2
    page.screenshot(path=str(sheet_file.with_name("sheet-screenshot.png")), full_page=True)
    assert sheet_file.with_name("sheet-screenshot.png").stat().st_size > 10_000
    assert problems == []
    page.close()


def test_a_label_leads_to_its_reference(browser: Browser, sheet_file: Path) -> None:
    page, problems = open_page(browser, sheet_file)
    page.locator("#ep01-ballad .prompt a.label", has_text="Image 2").first.click()
    assert page.evaluate("location.hash") == "#ep01-ballad-Image_2"
    target = page.locator("#ep01-ballad-Image_2")
    assert "mia" in target.inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector(':target')).backgroundColor") \
        != "rgba(0, 0, 0, 0)"  # the reference row lights up
    assert problems == []
    page.close()


def test_episode_videos_play_as_long_as_the_stitched_episodes(browser: Browser,
                                                              sheet_file: Path) -> None:
    page, problems = open_page(browser, sheet_file)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)",
        timeout=20_000)
    videos = page.evaluate("Array.from(document.querySelectorAll('video.episode-video'))"
                           ".map(v => [v.duration, v.videoWidth, v.error === null])")
    assert [(round(d, 2), w, ok) for d, w, ok in videos] == [(16.5, 1280, True),
                                                             (8.5, 1280, True)]
    assert problems == []
    page.close()


def test_episode_players_show_a_poster_frame(browser: Browser, sheet_file: Path) -> None:
    """Each player has a poster (a still of its episode, inline): set, and it decodes."""
    page, problems = open_page(browser, sheet_file)
    posters = page.evaluate("Array.from(document.querySelectorAll('video.episode-video'))"
                            ".map(v => v.poster)")
    assert len(posters) == 2 and all(p.startswith("data:image/jpeg;base64,") for p in posters)
    sizes = page.evaluate("""async posters => Promise.all(posters.map(async src => {
        const image = new Image(); image.src = src; await image.decode();
        return [image.naturalWidth, image.naturalHeight]; }))""", posters)
    assert sizes == [[320, 180], [320, 180]]
    assert posters[0] != posters[1]
    assert problems == []
    page.close()


@pytest.fixture(scope="module")
def ad_sheet_file(rendered_ad: tuple[Path, Path]) -> Path:
    """The sheet of examples/ad (7 variations, 2 of them rendered), beside their folders."""
    series, episodes = rendered_ad
    return build_sheet(series, episodes_dir=episodes, draft=True).html


def test_the_matrix_sheet_loads_cleanly_with_every_image(rendered_ad: tuple[Path, Path],
                                                         browser: Browser,
                                                         ad_sheet_file: Path) -> None:
    # rendered_ad first: it renders (asyncio) before Playwright's loop runs in this thread
    page, problems = open_page(browser, ad_sheet_file)
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) >= 7 * 4 * 2
    assert [alt for complete, width, alt in images if not complete or width == 0] == []
    assert page.locator("section.variation").count() == 7
    assert page.locator("section.variation section.episode").count() == 7
    assert page.locator("article.panel.shot").count() == 28
    assert page.locator("section.variation").nth(4).locator("article.panel.shot").count() == 4
    assert page.locator(".shared").count() == 13
    page.locator("nav.toc a", has_text="latte-en-9x16").click()
    assert page.evaluate("location.hash") == "#latte_en_9x16"
    page.wait_for_function(
        "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)",
        timeout=20_000)
    videos = page.evaluate("Array.from(document.querySelectorAll('video.episode-video'))"
                           ".map(v => [v.closest('section.variation').dataset.variation,"
                           " v.error === null, v.duration > 0])")
    assert videos == [["espresso-en-9x16", True, True], ["latte-en-9x16", True, True]]
    page.screenshot(path=str(ad_sheet_file.with_name("sheet-screenshot.png")), full_page=True)
    assert problems == []
    page.close()
