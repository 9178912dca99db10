"""``status --season`` counts what the journal says whatever provider the render used (issue
97): a series that names no provider, rendered with ``--provider dashscope`` (as the README's tour
gives it), counts its videos done and spent on DashScope's emulator, and says so; ``--provider``
chooses another's. The studio's season grid plans on the same provider: its "planned" is
DashScope's prices, not the free ``local``'s 0.00 beside what was spent; its paid plan too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from storyboard import compile as compiled
from storyboard.media import samples
from storyboard.review.seasongrid import tiles
from storyboard.review.studio.server import StudioServer
from storyboard.review.studio.state import paid_plan
from tests.fixtures import web
from tests.fixtures.dashscope_cli import Emulator, invoke
from tests.fixtures.patience import LOADED

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
characters:
  ada: {image: media/ada.png}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@ada answers"}, {id: b, prompt: "@ada hangs up"}]}
  - {id: ep02, shots: [{id: a, prompt: "@ada walks in"}]}
"""


def season(root: Path, *args: str) -> dict[str, Any]:
    result = invoke("status", root, "--season", "--json", *args)
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_status_season_counts_a_render_whose_provider_was_a_flag(tmp_path: Path,
                                                                 emulator: Emulator) -> None:
    emulator()
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    result = invoke("render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    found = season(root)
    assert found["provider"] == "dashscope"
    assert [(e["videos_done"], e["shots"], e["to_go"]) for e in found["episodes"]] == [
        (2, 2, 0.0), (1, 1, 0.0)]
    assert all(e["spent"] > 0 for e in found["episodes"])
    assert season(root, "--provider", "dashscope")["episodes"] == found["episodes"]
    local = season(root, "--provider", "local")  # another provider's renders: none made there
    assert [e["videos_done"] for e in local["episodes"]] == [0, 0]
    text = invoke("status", root, "--season")
    assert "3/3" in text.output and ("counted on dashscope, the provider of the journal's last "
                                     "render (--provider to count another's)") in text.output
    grid = tiles(compiled(root))  # the studio's season grid
    assert [(t.videos_done, t.spent, t.planned, t.currency) for t in grid] == [
        (e["videos_done"], e["spent"], e["spent"], "USD")  # 0.40 of 0.40 planned, not of 0.00
        for e in found["episodes"]]
    paid = paid_plan(compiled(root))  # the studio's paid lines (its /state JSON): DashScope's
    assert paid is not None and paid.provider == "dashscope"
    assert {s.status for s in paid.shots if s.episode != "cast"} == {"cached"}


def ep01_rendered(tmp_path: Path) -> Path:
    """The series written, its ep01 rendered on DashScope's emulator (ep02 still to make)."""
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    done = invoke("render", root, "--provider", "dashscope", "--yes", "ep01")
    assert done.exit_code == 0, done.output
    return root


def test_the_studio_page_says_plans_spent_and_planned(tmp_path: Path, emulator: Emulator) -> None:
    """The studio's page and its /state JSON say one "spent" and one "planned", ``plan``'s (on
    the provider of the journal's last render), not the lock's beside the free page's 0.00."""
    emulator()
    root = ep01_rendered(tmp_path)
    planned = json.loads(invoke("plan", root, "--provider", "dashscope", "--json").stdout)
    spent, total = planned["spent_so_far"]["USD"], planned["total_cost"]
    assert spent > 0 and total > 0  # ep01 paid, ep02 still to make
    with StudioServer(root, render_drafts=False) as server:  # `storyboard studio .`: no provider
        base, token = f"http://127.0.0.1:{server.port}", f"token={server.token}"
        state = web.get(f"{base}/state?{token}", timeout=LOADED).json()
        page = web.get(f"{base}/?{token}", timeout=LOADED).text
    assert (state["spent"], state["planned"], state["provider"]) == (
        pytest.approx(spent), pytest.approx(total), "dashscope")
    header = re.sub(r"<[^>]+>", "", page.split('<p class="facts">', 1)[1].split("</p>", 1)[0])
    assert f"spent {spent:.2f} USD · planned {total:.2f} USD on dashscope" in header, header
    assert "estimated" not in header and "lock file" not in header
    episodes = [re.sub(r"<[^>]+>|\s+", " ", facts).split("·", 1)[1].split() for facts in
                re.findall(r'<section class="episode".*?<p class="facts">(.*?)</p>', page, re.S)]
    assert episodes == [f"spent {spent:.2f} USD · planned 0.00 USD".split(),
                        f"spent 0.00 USD · planned {total:.2f} USD".split()]


def test_a_shots_video_stays_done_while_another_take_of_it_is_still_to_render(
        tmp_path: Path, emulator: Emulator) -> None:
    """A second take asked of a rendered shot (``takes: 2``, not rendered yet) leaves the video
    made before it counted, in ``status --season`` and in the studio's grid alike; the take to
    render is to go."""
    emulator()
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    assert invoke("render", root, "--provider", "dashscope", "--yes").exit_code == 0
    (root / "storyboard.yaml").write_text(SERIES.replace(
        '{id: a, prompt: "@ada answers"}', '{id: a, prompt: "@ada answers", takes: 2}'), "utf-8")
    planned = json.loads(invoke("plan", root, "--provider", "dashscope", "--json").stdout)
    assert {s["key"]: s["status"] for s in planned["shots"]}["night/ep01/a#2"] == "new"
    found = season(root)
    assert [(e["videos_done"], e["shots"], e["to_go"] > 0) for e in found["episodes"]] == [
        (2, 2, True), (1, 1, False)]
    assert [t.videos_done for t in tiles(compiled(root))] == [2, 1]


def test_status_says_when_the_teams_ledger_cannot_be_read(tmp_path: Path, emulator: Emulator,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``status`` looks for the shots its journal lacks in the store and the team's ledger, on the
    provider of the journal's last render; a ledger it cannot reach is a warning naming it (its
    other machines' shots go unseen), never a failed ``status`` nor a shot said made."""
    emulator()
    root = ep01_rendered(tmp_path)
    monkeypatch.setenv("STORYBOARD_LEDGER", "postgresql://127.0.0.1:9/renders")  # nothing there
    result = invoke("status", root)
    assert result.exit_code == 0, result.output
    assert ("warning: cannot open the team ledger postgresql://127.0.0.1:9/renders "
            "(STORYBOARD_LEDGER)") in result.stderr, result.stderr
    assert "claims of other machines are not shown" in result.stderr, result.stderr
    assert "another machine" not in result.stdout and "ep01/a" in result.stdout, result.stdout
    rows = json.loads(invoke("status", root, "--json").stdout)
    assert sorted((r["episode"], r["shot"], r["made_elsewhere"]) for r in rows) == [
        ("ep01", "a", False), ("ep01", "b", False)], rows
