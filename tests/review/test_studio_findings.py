"""Measured takes and failures where takes are chosen: the studio in Debian's Chromium (Playwright)
shows each take's findings and a shot's last failure, escapes the user's text, and its Approve
applies the CLI's refusal: a take with findings is approved only when the person says so.

The series is rendered through the emulator first (one take flawed with a cut, one shot's prompt
refused at submit); the studio then opens it without drafting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Dialog, expect

from storyboard.agents.tools import Budget, Refused, Tools
from storyboard.errors import StoryboardError
from storyboard.review.sheet import build_sheet
from storyboard.review.studio.server import StudioServer
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render
from tests.fixtures.studio import open_studio

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

T = TypeVar("T")
EPISODES = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings", takes: 2}
- id: ep02
  shots:
    - {id: bow, prompt: "@sam <b>bows</b> & waves"}
"""


@pytest.fixture
def rendered(tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> Path:
    series = write_series(tmp_path / "chosen", make_media, EPISODES,
                          head=HEAD + "checks: {freeze_seconds: 60}\n")
    emu = emulator()
    emu.script("task:cut")  # take 1 of the ballad: one worker, the first task
    code, _, err = apart(render, series, "--yes", "--set", "concurrency=1", "ep01")
    assert code == 0, err
    emu.script("submit:refused=prompt")
    code, _, _ = apart(render, series, "--yes", "ep02")
    assert code == 1
    return series


def apart(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn`` on a thread of its own: Playwright's sync API holds this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


@pytest.fixture
def studio(rendered: Path) -> Iterator[StudioServer]:
    with StudioServer(rendered, author="Ana", render_drafts=False) as server:
        yield server


def approved(series: Path) -> object:
    takes = json.loads((series / "storyboard.lock").read_text("utf-8")).get("takes", {})
    return takes.get("chosen/ep01/ballad", {}).get("approved")


def test_the_studio_shows_findings_and_failures_and_approve_asks(
        browser: Browser, studio: StudioServer, rendered: Path) -> None:
    page, errors = open_studio(browser, studio)
    ballad = page.locator("article.panel.shot[data-shot='ballad']")
    expect(ballad.locator("figure.take[data-take='1'] ul.findings")).to_contain_text(
        "cut at 1.00 s", timeout=30_000)
    expect(ballad.locator("figure.take[data-take='2'] ul.findings")).to_have_count(0)
    expect(ballad.locator("ul.findings[data-take='1']")).to_contain_text("take 1: cut at")
    strip = ballad.locator("ul.findings[data-take='1'] .strip img")
    expect(strip).to_have_count(3)  # frames about the cut, served by the studio
    page.wait_for_function(  # served and decoded; an <img> just added may still load
        "[...document.querySelectorAll(\"ul.findings[data-take='1'] .strip img\")]"
        ".every((i) => i.complete && i.naturalWidth > 0)", timeout=30_000)
    bow = page.locator("article.panel.shot[data-shot='bow']")
    expect(bow.locator(".failure")).to_contain_text(
        "refused at submit, nothing billed: content refusal of the prompt")
    expect(bow.locator(".prompt")).to_contain_text("<b>bows</b> & waves")  # text, not markup
    assert bow.locator(".prompt b").count() == 0

    said: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        said.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    ballad.locator("button.approve").click()
    page.wait_for_timeout(1500)
    assert said and "cut at 1.00 s" in said[0] and approved(rendered) is None
    page.once("dialog", lambda d: answer(d, True))
    page.locator("article.panel.shot[data-shot='ballad'] button.approve").click()
    for _ in range(60):
        if approved(rendered) == 1:
            break
        page.wait_for_timeout(250)
    assert approved(rendered) == 1 and len(said) == 2
    assert errors == []


def test_the_sheet_and_the_mcp_server_agree(rendered: Path) -> None:
    planned = apart(invoke, "plan", rendered, "--provider", "dashscope")
    assert "ep01/ballad (take 1): cut at 1.00 s" in planned.stdout
    assert "spent in all:" in planned.stdout
    result = apart(build_sheet, rendered)
    html = result.html.read_text("utf-8")
    assert "cut at 1.00 s" in html and "content refusal of the prompt" in html
    assert html.count('<div class="strip">') == 1 and "take 1 at 0.50 s" in html
    assert "&lt;b&gt;bows&lt;/b&gt; &amp; waves" in html
    tools = Tools(rendered.resolve(), Budget(0.0))
    with pytest.raises((Refused, StoryboardError), match=r"cut at 1\.00 s"):
        apart(tools.approve, "ep01/ballad")
    assert approved(rendered) is None
    assert apart(tools.approve, "ep01/ballad", force=True)["approved"] == 1
    assert approved(rendered) == 1
