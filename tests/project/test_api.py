"""The public API the CLI is built on: load, check, compile, plan, render."""

from __future__ import annotations

from pathlib import Path

import pytest

import storyboard
from storyboard.errors import BudgetExceeded

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"


def test_load_reads_the_series_and_its_episode_files() -> None:
    source = storyboard.load(EXAMPLE)
    assert source.root == EXAMPLE and source.problems == []
    assert [e.doc.file.name for e in source.episodes] == ["01-first-meeting.yaml",
                                                         "02-the-regular.yaml"]
    assert source.series.data["title"] == "Coffee Shop Stories"


def test_compile_raises_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "storyboard.yaml"
    bad.write_text("storyboard: 1\ndefaults: {seed: -1, ratio: '2:1'}\n")
    with pytest.raises(storyboard.ProblemsFound) as info:
        storyboard.compile(bad)
    assert len(info.value.diagnostics) == 2
    assert storyboard.check(bad) == info.value.diagnostics


def test_plan_is_free_and_a_paid_render_needs_consent(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-not-used-at-all")
    the_plan = storyboard.plan(EXAMPLE, provider="dashscope")
    assert the_plan.provider == "dashscope" and the_plan.total_cost > 0
    # the example has boards: they are planned, and each shot's video waits for its board
    assert {s.status for s in the_plan.shots} <= {"new", "changed", "cached", "waits"}
    assert any(s.episode == "boards" and s.status == "new" for s in the_plan.shots)
    with pytest.raises(BudgetExceeded, match="--yes"):
        storyboard.render(EXAMPLE, provider="dashscope", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
