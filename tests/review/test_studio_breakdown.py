"""The studio shows a waiting breakdown in Debian's Chromium: each proposal beside an edited file
as a diff against it (hostile words shown as text), and what catching up with a changed story
would cost, planned from the cache with nothing sent; a save updates it in place; Accept and
Dismiss settle a proposal, and their routes refuse anything the page did not offer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.status import waiting
from storyboard.cli.servers.studio import breakdown_left
from storyboard.emulator.server import EmulatorServer
from storyboard.review.studio.proposals import Waiting, aside, diff_html, proposal_digest
from storyboard.review.studio.server import StudioServer
from tests.fixtures import web

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY_ENV = "STORYBOARD_TEST_CHAT_KEY"
STORY = """\
# The Lighthouse

Mia climbed the stairs of the old lighthouse. Sam waited below.

"Are you coming up?" Mia called down to Sam.

# The Storm

The storm broke over the bay. Mia lit the great lamp while Sam held the door.

"Hold it steady!" shouted Mia.
"""
HOSTILE = '<img src=x onerror="window.pwned=1"></pre><script>window.pwned=2</script>'
EPISODE = "episodes/01-the-lighthouse.yaml"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def sent(chat_emulator: EmulatorServer) -> int:
    return int(chat_emulator.stats()["chat"]["requests"])


def broken_down(chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> tuple[Path, Path]:
    """A series broken down, its episode 1 edited by hand, then broken down again from a story
    with hostile words in chapter 1 (a proposal waits), then chapter 2 changed (not asked)."""
    monkeypatch.setenv(KEY_ENV, "sk-test-studio")
    source, series = tmp_path / "story.md", tmp_path / "series"
    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
    options = Options(base_url=base, key_env=KEY_ENV, yes=True)
    source.write_text(STORY, encoding="utf-8")
    breakdown(source, series, options)
    episode = series / EPISODE
    episode.write_text(episode.read_text().replace("wide shot", "long shot"), encoding="utf-8")
    source.write_text(STORY.replace("the old lighthouse", f"the old {HOSTILE} lighthouse"),
                      encoding="utf-8")
    breakdown(source, series, options)
    source.write_text(source.read_text().replace("The storm broke", "At last the storm broke"),
                      encoding="utf-8")
    return source, series


def test_the_studio_shows_a_proposal_as_a_diff_and_the_catch_up_cost(
        chat_emulator: EmulatorServer, browser: Browser, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _source, series = broken_down(chat_emulator, tmp_path, monkeypatch)
    before = sent(chat_emulator)
    with StudioServer(series, render_drafts=False, lookout=breakdown_left) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url, wait_until="load")
        box = page.locator("header.series section.breakdown")
        expect(box.locator("details.proposal summary")).to_contain_text(EPISODE + ".proposed")
        diff = box.locator("pre.diff")
        expect(diff.locator("span.del", has_text="long shot").first).to_be_visible()
        expect(diff.locator("span.add", has_text="the old <img").first).to_be_visible()
        shown = diff.inner_text()  # the words as text, not as elements
        assert "<img src=x onerror=" in shown and "</pre><script>window.pwned=2</script>" in shown
        assert box.locator("img, script").count() == 0
        assert page.evaluate("() => window.pwned === undefined")
        catch_up = box.locator(".catch-up")
        expect(catch_up).to_contain_text("story.md changed since the last breakdown: 3 call(s)")
        expect(catch_up.locator("li")).to_have_count(3)
        expect(catch_up.locator("li").first).to_contain_text("of chapter 2")
        expect(catch_up.locator("b.cost")).to_have_text(
            f"{waiting(series).cost:.4f} USD")  # type: ignore[union-attr]
        expect(box).to_contain_text("the studio never spends")
        page.evaluate("window.marker = 'same page'")
        (series / (EPISODE + ".proposed")).unlink()  # a save: the box follows without a reload
        expect(box.locator("details.proposal")).to_have_count(0, timeout=30_000)
        expect(catch_up).to_contain_text("3 call(s)")
        assert page.evaluate("() => window.marker") == "same page"
        assert errors == []
    assert sent(chat_emulator) == before  # the studio asked nothing


def test_a_series_with_no_breakdown_has_no_box(tmp_path: Path) -> None:
    series = tmp_path / "plain"
    series.mkdir()
    assert breakdown_left(series) is None
    assert aside(series, breakdown_left) == ""


def test_a_proposal_is_read_only_from_inside_the_series(tmp_path: Path) -> None:
    series, outside = tmp_path / "series", tmp_path / "secret.yaml"
    series.mkdir()
    outside.write_text("password: hunter2\n")
    (tmp_path / "secret.yaml.proposed").write_text("password: other\n")
    (series / "linked.yaml").symlink_to(outside)
    (series / "linked.yaml.proposed").write_text("x: 1\n")
    shown = aside(series, lambda _root: Waiting(("../secret.yaml", "linked.yaml"), "s.md"))
    assert "hunter2" not in shown and "cannot read it" in shown


def test_a_diff_escapes_every_line() -> None:
    shown = diff_html("a.yaml", "x: 1\n", "x: '<b>&</b>'\n")
    assert "<b>" not in shown and "&lt;b&gt;&amp;&lt;/b&gt;" in shown


def proposal_buttons(page: Page, kind: str) -> Locator:
    return page.locator(f"header.series section.breakdown button.{kind}-proposal")


def test_accept_on_the_page_puts_the_proposal_in_the_files_place(
        chat_emulator: EmulatorServer, browser: Browser, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _source, series = broken_down(chat_emulator, tmp_path, monkeypatch)
    proposal = (series / (EPISODE + ".proposed")).read_text()
    with StudioServer(series, render_drafts=False, lookout=breakdown_left) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url, wait_until="load")
        expect(proposal_buttons(page, "dismiss")).to_have_count(1)
        proposal_buttons(page, "accept").click()
        expect(page.locator("details.proposal")).to_have_count(0, timeout=30_000)
    assert (series / EPISODE).read_text() == proposal
    assert not (series / (EPISODE + ".proposed")).exists()


def test_dismiss_on_the_page_keeps_your_file_and_the_next_run_proposes_nothing(
        chat_emulator: EmulatorServer, browser: Browser, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    source, series = broken_down(chat_emulator, tmp_path, monkeypatch)
    yours = (series / EPISODE).read_text()
    with StudioServer(series, render_drafts=False, lookout=breakdown_left) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url, wait_until="load")
        proposal_buttons(page, "dismiss").click()
        expect(page.locator("details.proposal")).to_have_count(0, timeout=30_000)
    assert (series / EPISODE).read_text() == yours
    source.write_text(source.read_text().replace("At last the storm broke", "The storm broke"))
    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
    again = breakdown(source, series, Options(base_url=base, key_env=KEY_ENV, yes=True))
    assert again.outcome.proposed == [] and again.outcome.kept == [EPISODE]


def test_the_proposal_routes_refuse_what_the_page_did_not_offer(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _source, series = broken_down(chat_emulator, tmp_path, monkeypatch)
    shown = (series / (EPISODE + ".proposed")).read_text()
    digest = proposal_digest(shown)
    (tmp_path / "outside.yaml").write_text("x: 1\n")
    with StudioServer(series, render_drafts=False, lookout=breakdown_left) as server:
        host = server.url.split("/")[2]
        headers = {"X-Studio-Token": server.token, "Host": host}
        with web.client(base_url=f"http://{host}") as client:
            for path, body in [
                    ("/proposal/accept", {"file": "storyboard.yaml", "digest": digest}),
                    ("/proposal/accept", {"file": "../outside.yaml", "digest": digest}),
                    ("/proposal/accept", {"file": EPISODE, "digest": "0" * 16}),
                    ("/proposal/accept", {"file": EPISODE}),
                    ("/proposal/accept", {"file": [EPISODE], "digest": digest}),
                    ("/proposal/remove", {"file": EPISODE, "digest": digest})]:
                answer = client.post(path, json=body, headers=headers)
                assert answer.status_code in (400, 404, 405), (path, body, answer.text)
            stranger = client.post("/proposal/dismiss", json={"file": EPISODE, "digest": digest},
                                   headers={"Host": host})
            assert stranger.status_code == 403
            assert (series / (EPISODE + ".proposed")).read_text() == shown
            done = client.post("/proposal/dismiss", json={"file": EPISODE, "digest": digest},
                               headers=headers)  # what the page offers: done
            assert done.status_code == 200 and done.json()["settled"] == "dismissed"
    assert not (series / (EPISODE + ".proposed")).exists()
    assert (tmp_path / "outside.yaml").read_text() == "x: 1\n"
