"""The studio's pick button over an approval, in Chromium: it asks, as ``pick`` refuses.

A shot whose take 2 is approved keeps it when a person clicks "Pick take 1" and says no; when they
say yes the pick moves and the approval is lifted (as ``pick --replace-approved``), so the approved
mark never points at a take the episode does not use.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, expect

from storyboard.review.studio.server import StudioServer

# `browser` is test_studio_browser's own fixture, imported to register it.
from tests.fixtures.studio import EXAMPLE, open_studio


def take_state(lock: Path) -> dict[str, Any]:
    states: dict[str, Any] = json.loads(lock.read_text("utf-8")).get("takes", {})
    return next(iter(states.values()), {})


def test_pick_on_an_approved_shot_asks_and_lifts_the_approval_only_on_yes(
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
        shot = "article.panel.shot[data-shot='ballad']"
        page.locator(shot).locator("button.pick", has_text="Pick take 2").click()
        expect(page.locator(f"{shot} figure.take.used")).to_have_attribute(
            "data-take", "2", timeout=60_000)
        page.locator(f"{shot} button.approve").click()
        expect(page.locator(f"{shot} .takes")).to_contain_text("approved", timeout=30_000)
        approved = lock.read_bytes()
        assert take_state(lock) == {"approved": 2, "approved_hash": take_state(lock)[
            "approved_hash"], "picked": 2}

        pick_1 = page.locator(shot).locator("button.pick", has_text="Pick take 1")
        expect(pick_1).to_be_enabled(timeout=60_000)  # the page redrawn after the approval
        asked: list[str] = []  # the question, answered no as it is asked (a listener: the
        # click returns only once the page's confirm() is answered)

        def say_no(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.dismiss()
        page.once("dialog", say_no)
        pick_1.click(timeout=60_000)
        for _ in range(600):  # the question comes once the server has refused (409)
            if asked:
                break
            page.wait_for_timeout(100)
        assert len(asked) == 1, asked
        assert "ep01/ballad is approved (take 2); nothing was changed" in asked[0]
        assert "--replace-approved" in asked[0]
        expect(page.locator(f"{shot} figure.take.used")).to_have_attribute("data-take", "2")
        assert lock.read_bytes() == approved  # no: nothing changed

        page.once("dialog", lambda d: d.accept())
        expect(pick_1).to_be_enabled(timeout=60_000)
        pick_1.click(timeout=60_000)
        expect(page.locator(f"{shot} figure.take.used")).to_have_attribute(
            "data-take", "1", timeout=30_000)
        assert take_state(lock) == {"picked": 1}  # yes: the pick moved, the approval lifted
        expect(page.locator(f"{shot} .takes")).not_to_contain_text("approved")
        assert errors == []
