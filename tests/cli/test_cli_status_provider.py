"""``status --season`` counts what the journal says whatever provider the render used (issue
97): a series that names no provider, rendered with ``--provider dashscope`` (as the README's tour
gives it), counts its videos done and spent on DashScope's emulator, and says so; ``--provider``
chooses another's. The studio's season grid plans on the same provider: its "planned" is
DashScope's prices, not the free ``local``'s 0.00 beside what was spent; its paid plan too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard import compile as compiled
from storyboard.media import samples
from storyboard.review.seasongrid import tiles
from storyboard.review.studio.state import paid_plan
from tests.fixtures.dashscope_cli import Emulator, invoke

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
