"""A matrix's language versions on its review sheet (issue 68, follow-up), in Debian's Chromium
through Playwright: each base's episode switches to the version its language variation is made
as, its own words with their fit as made and measured, and a player of the episode ``render``
stitched into the language variation's own folder: for the one base of a matrix of the
``language`` axis alone (``out/es/``, never ``out/en/es/``) and for each of several bases
(``languages/es/<base>/``, ``out/<product>-es/``), also when only the base is shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from storyboard.language.versions.versionfile import read_version, version_path, write_version
from storyboard.review.sheet import build_sheet
from tests.fixtures.dashscope_cli import Emulator, invoke
from tests.run.test_run_versions_matrix import MATRIX as ALONE
from tests.run.test_run_versions_matrix_bases import BASES, SPANISH
from tests.run.test_run_versions_matrix_bases import MATRIX as PRODUCTS
from tests.run.test_run_versions_version import EP01, EP02, SHOTS, MakeMedia, run

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment
T = TypeVar("T")
MEASURED = re.compile(r"^\d+\.\d\d s(, \d+\.\d\d s over| of) its ")  # made and measured


def _aside(work: Callable[[], T]) -> T:
    """``work`` in a thread of its own: the browser's event loop runs in this one, and a
    render runs its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def _dubbed(root: Path, bases: tuple[str, ...], shots: tuple[str, ...]) -> None:
    """Each base rendered and approved, then the whole matrix rendered: each language
    variation made as its base's version (its version files written before)."""
    code, _, said = run("render", root, "--provider", "dashscope", "--yes", "--json",
                        *(a for base in bases for a in ("--variation", base)))
    assert code == 0, said
    for base in bases:
        for shot in shots:
            code, _, said = run("approve", root, f"{base}/{shot}", "--force")
            assert code == 0, said


def _render(root: Path) -> dict[str, Any]:
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0 and report["versions"], said
    return report


def _open(browser: Browser, sheet: Path) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sheet.as_uri(), wait_until="load")
    return page, errors


def _episode(page: Page, variation: str, episode: str = "ep01") -> Locator:
    return page.locator(f"section.variation[data-variation=\"{variation}\"] "
                        f"section.episode[data-episode={episode}]")


def _plays(version: Locator) -> float:
    """The seconds of the version's episode as the browser reads them from its link."""
    video = version.locator("video.version-video")
    expect(video).to_be_visible()
    seconds: float = video.evaluate(
        "v => new Promise(done => { if (v.readyState >= 1) return done(v.duration);"
        " v.onloadedmetadata = () => done(v.duration); v.onerror = () => done(-1); v.load(); })")
    return seconds


def test_a_single_bases_version_is_shown_with_the_episode_render_made_in_its_own_folder(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator, browser: Browser) -> None:
    emulator(plain_results=False, latency=0.3)
    root = tmp_path / "dubbed"
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    make_media("image", root / "media" / "old.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(ALONE, encoding="utf-8")
    _aside(lambda: _dubbed(root, ("en",), SHOTS))
    (root / "languages" / "es").mkdir(parents=True)
    (root / "languages" / "es" / "ep01.yaml").write_text(EP01, encoding="utf-8")
    (root / "languages" / "es" / "ep02.yaml").write_text(EP02, encoding="utf-8")
    _aside(lambda: _render(root))
    assert (root / "out" / "es" / "ep01.mp4").is_file()
    assert not (root / "out" / "en" / "es").exists()  # where the sheet looked before
    sheet = _aside(lambda: build_sheet(root).html)
    page, errors = _open(browser, sheet)
    base = _episode(page, "en")
    switch = base.locator("select.language-switch")
    expect(switch.locator("option")).to_have_text(["original", re.compile(r"^es\b")])
    spanish = base.locator(".version[data-language=es]")
    expect(spanish).to_be_hidden()
    switch.select_option("es")
    expect(spanish).to_be_visible()
    expect(spanish.locator("video.version-video")).to_have_attribute("src", "es/ep01.mp4")
    assert _plays(spanish) > 0
    expect(spanish.locator("li.line[data-line='hello/1'] .fit")).to_have_text(MEASURED)
    expect(spanish).not_to_contain_text("not dubbed yet")
    # the language variation is the version itself: no versions of its own to switch to
    expect(_episode(page, "es").locator("select.language-switch")).to_have_count(0)
    switch.select_option("")
    expect(spanish).to_be_hidden()
    assert errors == []


def test_each_base_shows_its_own_words_and_its_language_variations_episode(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator, browser: Browser) -> None:
    emulator(plain_results=False, latency=0.3)
    root = tmp_path / "cups"
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(PRODUCTS, encoding="utf-8")
    _aside(lambda: _dubbed(root, BASES, ("ep01/hello", "ep01/street")))
    result = _aside(lambda: invoke("translate", root, "--language", "es", "--no-model"))
    assert result.exit_code == 0, result.stderr + result.stdout
    for base, words in SPANISH.items():  # each base's own words, in its own folder
        path = version_path(root, "es", "ep01", base)
        version = read_version(path, root)
        line = version.lines[0].__class__(**{**{k: getattr(version.lines[0], k) for k in (
            "shot", "n", "speaker", "start", "end", "route", "source")}, "text": words})
        write_version(path, version.__class__("es", "en", "ep01", (line,)))
    _aside(lambda: _render(root))
    sheet = _aside(lambda: build_sheet(root).html)
    page, errors = _open(browser, sheet)
    for base, words in SPANISH.items():
        episode = _episode(page, base)
        episode.locator("select.language-switch").select_option("es")
        spanish = episode.locator(".version[data-language=es]")
        expect(spanish).to_be_visible()
        expect(spanish.locator("li.line[data-line='hello/1']")).to_contain_text(words)
        expect(spanish.locator("li.line .fit")).to_have_text(MEASURED)
        made_as = base.replace("-en", "-es")
        expect(spanish.locator("video.version-video")).to_have_attribute(
            "src", f"{made_as}/ep01.mp4")
        assert _plays(spanish) > 0
        expect(_episode(page, made_as).locator("select.language-switch")).to_have_count(0)
    assert errors == []
    # only one base shown (``--variation``): its version is still found, with its episode
    alone = _aside(lambda: build_sheet(root, out=tmp_path / "one" / "sheet.html",
                                       select=["latte-en"]).html)
    page, errors = _open(browser, alone)
    episode = _episode(page, "latte-en")
    episode.locator("select.language-switch").select_option("es")
    spanish = episode.locator(".version[data-language=es]")
    expect(spanish).to_contain_text(SPANISH["latte-en"])
    assert _plays(spanish) > 0
    assert errors == []
