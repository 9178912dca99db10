"""The studio's page by parts: linked stills, served only by the names the page shows, and a save
that moves only the episode it changed.

A generated series of three episodes (ffmpeg test sources, drafted with the local provider) is
opened in Debian's Chromium through Playwright; a save to one shot must bring that shot's new
stills, hash and problems while the sections of the other episodes stay the very same DOM nodes
(a JS property set on them before the save survives it). Over plain HTTP, the still route answers
only the names on the page: a cached still the page does not show, traversals (``..``, absolute,
encoded) and unknown parts are 404.
"""

from __future__ import annotations

import http.client
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from storyboard.media import samples
from storyboard.review.notes import add_note
from storyboard.review.studio.server import StudioServer
from tests.fixtures import web

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
STILL = re.compile(r'"/still/([0-9a-f]+\.jpg)"')


def make_series(root: Path, episodes: int = 3, shots: int = 2) -> list[Path]:
    samples.image(root / "media" / "mia.png", 256, 256)
    (root / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: Parts\ndefaults: {resolution: 720P, ratio: '16:9', duration: 2}\n"
        "characters:\n  mia: {image: media/mia.png}\nepisodes:\n  - episodes/*.yaml\n",
        encoding="utf-8")
    (root / "episodes").mkdir()
    files = []
    for e in range(episodes):
        lines = [f"id: ep{e:02d}", f"title: Part {e}", "shots:"]
        for s in range(shots):
            lines += [f"  - id: s{s}", f"    prompt: \"@mia waves, take {e}.{s}\""]
        file = root / "episodes" / f"{e:02d}.yaml"
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(file)
    return files


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def shown(page: Page, version: int) -> None:
    """Wait until the page has patched itself to ``version`` (or later)."""
    page.wait_for_function(f"Number(document.body.dataset.shown || 0) >= {version}",
                           timeout=120_000)


def still_src(page: Page, shot: str, which: int = 0) -> str:
    src = page.locator(f"section#ep00 article.panel[data-shot='{shot}'] .stills img").nth(
        which).get_attribute("src")
    assert src is not None
    return src


def test_a_save_moves_only_its_episode_and_shows_its_new_stills_and_problems(
        browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "parts"
    files = make_series(root)
    with StudioServer(root, author="Ana") as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url, wait_until="load")
        expect(page.locator("main section.episode")).to_have_count(3)
        old_src = still_src(page, "s1")
        assert old_src.startswith("/still/") and "data:image" not in page.content()
        old_hash = page.locator("section#ep00 article.panel[data-shot='s1'] dl.meta dd.tc")
        old_hash_text = old_hash.first.inner_text()
        old_video = page.locator("section#ep00 video.episode-video").get_attribute("src")
        page.evaluate("""() => { for (const id of ['ep01', 'ep02']) document.getElementById(id).kept = id;
            document.querySelector("#ep00 article.panel[data-shot='s0']").kept = 's0';
            window.marker = 'same page'; }""")

        version = server.studio.snapshot.version
        files[0].write_text(files[0].read_text().replace("take 0.1\"", "take 0.1, smiling\""))
        expect(page.locator("#studio-bar .phase")).to_contain_text("draft", timeout=120_000)
        shown(page, version + 2)  # the check, then the draft
        new_src = still_src(page, "s1")
        assert new_src != old_src and new_src.startswith("/still/")
        assert page.locator("section#ep00 article.panel[data-shot='s1'] dl.meta dd.tc").first \
            .inner_text() != old_hash_text
        assert page.locator("section#ep00 video.episode-video").get_attribute("src") != old_video
        assert page.evaluate("""() => [document.getElementById('ep01').kept,
            document.getElementById('ep02').kept,
            document.querySelector("#ep00 article.panel[data-shot='s0']").kept,
            window.marker]""") == ["ep01", "ep02", "s0", "same page"]
        # Every new still is served and decoded; a patched <img> may still be loading, so wait.
        page.wait_for_function("""() => {
            const images = [...document.querySelectorAll("#ep00 .stills img")];
            return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
        }""", timeout=60_000)

        version = server.studio.snapshot.version
        good = files[1].read_text()
        files[1].write_text(good.replace("@mia waves, take 1.0", "@nobody waves, take 1.0"))
        expect(page.locator("#studio-bar .errors")).to_have_text(re.compile(r"\d+ error\(s\)"),
                                                                 timeout=60_000)
        shown(page, version + 1)
        problem = page.locator("section#ep01 article.panel.has-problems")
        expect(problem).to_have_count(1)
        expect(problem).to_contain_text("nobody")
        assert page.evaluate("document.getElementById('ep02').kept") == "ep02"

        version = server.studio.snapshot.version
        files[1].write_text(good)
        expect(page.locator("#studio-bar .errors")).to_have_text("no errors", timeout=60_000)
        shown(page, version + 1)
        expect(page.locator("article.panel.has-problems")).to_have_count(0, timeout=60_000)
        assert page.evaluate("document.getElementById('ep02').kept") == "ep02"
        assert errors == []


@pytest.fixture()
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StudioServer]:
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    with StudioServer(series, render_drafts=False, author="Ana") as server:
        yield server


def get(server: StudioServer, path: str, *, token: bool = True) -> httpx.Response:
    cookies = {"storyboard_studio": server.token} if token else {}
    return web.get(f"http://127.0.0.1:{server.port}{path}", cookies=cookies, timeout=10)


def raw_get(server: StudioServer, path: str) -> tuple[int, str]:
    """A GET of ``path`` exactly as written (an HTTP client library folds ``..`` away first)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": f"storyboard_studio={server.token}"})
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_stills_are_served_by_the_names_on_the_page_and_kept_by_the_browser(
        studio: StudioServer) -> None:
    page = get(studio, "/sheet").text
    names = set(STILL.findall(page))
    assert names and "data:image" not in page
    for name in names:
        answer = get(studio, f"/still/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        assert "immutable" in answer.headers["cache-control"]
        assert answer.content[:2] == b"\xff\xd8"  # a JPEG
    assert get(studio, f"/still/{min(names)}", token=False).status_code == 403


def test_a_still_not_on_the_page_and_every_traversal_are_refused(studio: StudioServer,
                                                                 tmp_path: Path) -> None:
    root = studio.studio.root
    thumbs = root / ".storyboard" / "thumbs"
    hidden = thumbs / ("0" * 32 + ".jpg")
    hidden.write_bytes(b"\xff\xd8 not on the page")
    secret = tmp_path / "secret.jpg"
    secret.write_text("the neighbour's file")
    for path in (f"/still/{hidden.name}", "/still/..%2Fstoryboard.yaml",
                 "/still/..%2F..%2Fsecret.jpg", "/still/%2e%2e%2fstoryboard.yaml",
                 "/still/..", "/still/%2e%2e", f"/still/{secret}", f"/still/%2F{secret.name}",
                 f"/still/{str(secret).replace('/', '%2F')}", "/still/..%5Cstoryboard.yaml",
                 "/still/", "/still/%00.jpg", "/part/..%2Fheader", "/part/ep99", "/part/"):
        status, text = raw_get(studio, path)
        assert status == 404, path
        assert "neighbour" not in text and "not on the page" not in text
        assert "storyboard:" not in text  # not the series file either


def test_each_part_is_the_one_the_event_names_and_user_text_stays_escaped(
        studio: StudioServer) -> None:
    add_note(studio.studio.root, "ep01/ballad", "<script>alert(1)</script>", author="<b>x</b>")
    studio.studio.republish()
    parts = dict(studio.studio.snapshot.current.page.tags())
    assert next(iter(parts)) == "header" and {"ep01", "ep02"} <= set(parts)
    for key, tag in parts.items():
        answer = get(studio, f"/part/{key}")
        assert answer.status_code == 200 and answer.headers["x-part-tag"] == tag
        assert answer.headers["cache-control"] == "no-store"
    section = get(studio, "/part/ep01").text
    assert section.startswith('<section class="episode" id="ep01"')
    assert "<script>alert(1)</script>" not in section and "&lt;script&gt;alert(1)" in section
    assert "<b>x</b>" not in section
