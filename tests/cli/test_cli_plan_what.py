"""``plan SERIES [WHAT]... --set NAME=VALUE`` plans what ``render`` with the same arguments renders.

A render line becomes its plan by changing the verb: the same WHAT (an episode, a shot glob, a
range of episode numbers, the boards) and the same ``--set`` (``offline=true``,
``vars.KEY=VALUE``; ``concurrency`` and the webhooks are read and change nothing in a plan). Each
line is planned, then rendered on the DashScope emulator: the plan's shots to render are the
shots the render paid for (the same set, count and cost). Mixing WHAT or ``--set`` with the flags
that choose the same thing (``--episode``, ``--episodes``, ``--offline``, ``--var``) is a usage
error naming what to type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render

pytestmark = pytest.mark.usefixtures("env")

SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves in {{ city }}"}
    - {id: b, prompt: "@sam plays @guitar"}
- id: ep02
  shots:
    - {id: c, prompt: "@mia sings to @sam"}
- id: ep03
  shots:
    - {id: d, prompt: "@sam bows in {{ city }}"}
"""


def written(tmp_path: Path, make_media: MakeMedia, boards: bool = False) -> Path:
    """The series, drawing a board for each shot when ``boards``."""
    head = HEAD + "vars: {city: Rome}\n" + ("boards: {model: wan2.7-image}\n" if boards else "")
    return write_series(tmp_path / "wire", make_media, SHOTS, head=head)


@pytest.fixture
def series(tmp_path: Path, make_media: MakeMedia) -> Path:
    return written(tmp_path, make_media)


def planned(series: Path, *line: str) -> dict[str, Any]:
    result = invoke("plan", series, *line, "--provider", "dashscope", "--json")
    assert result.exit_code == 0, result.output
    the_plan: dict[str, Any] = json.loads(result.stdout)
    return the_plan


def to_render(the_plan: dict[str, Any]) -> dict[str, float]:
    """The shots the plan pays for, with what each costs."""
    return {s["key"]: s["cost"] for s in the_plan["shots"] if s["status"] in ("new", "changed")}


def paid(report: dict[str, Any]) -> dict[str, float]:
    """The shots the render submitted and paid for, with what each cost."""
    return {s["key"]: s["cost"] for s in report["shots"] if s["state"] == "done"}


@pytest.mark.parametrize(("line", "shots"), [
    (("ep02",), 1), (("ep0[13]/*",), 3), (("2-3",), 2), (("1", "ep03/d"), 3), (("boards",), 4),
    (("boards/ep01",), 2), (("ep03", "--set", "offline=true"), 1),
    (("--set", "vars.city=Paris"), 2),  # after a render in Rome: the shots that say the city
    (("ep01", "--set", "vars.city=Paris", "--set", "concurrency=2"), 1),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v))
def test_plan_plans_what_the_same_render_line_renders(tmp_path: Path, make_media: MakeMedia,
                                                       emulator: Emulator,
                                                       line: tuple[str, ...], shots: int) -> None:
    emulator()
    series = written(tmp_path, make_media, boards=line[0].startswith("boards"))
    if "vars.city=Paris" in line:
        assert render(series, "--yes")[0] == 0
    the_plan = planned(series, *line)
    code, report, said = render(series, *line, "--yes")
    assert code == 0, said
    assert len(to_render(the_plan)) == shots, the_plan["shots"]
    assert to_render(the_plan) == paid(report)
    assert the_plan["total_cost"] == pytest.approx(report["spent"]) and report["spent"] > 0
    assert planned(series, *line)["total_cost"] == 0  # rendered: nothing left to pay


@pytest.mark.parametrize(("line", "said"), [
    (("ep01", "--episode", "ep01"), "WHAT cannot go with --episode"),
    (("2-3", "--season", "--episodes", "2-3"), "--season cannot go with WHAT"),
    (("2-3", "--episodes", "2-3"), "WHAT cannot go with --episodes"),
    (("--set", "offline=true", "--offline"), "--set cannot go with --offline"),
    (("--set", "vars.city=Paris", "--var", "city=Rome"), "--set cannot go with --var"),
    (("ep01", "--compare", ""), "--compare cannot go with WHAT"),
    (("--set", "concurrency=0"), "concurrency is a whole number of tasks from 1 to 100"),
])
def test_a_flag_and_the_render_spelling_of_the_same_choice_is_a_usage_error(
        tmp_path: Path, line: tuple[str, ...], said: str) -> None:
    root = tmp_path / "broken"  # refused before the series is read
    root.mkdir()
    (root / "storyboard.yaml").write_text("storyboard: 1\nepisodes: [\n", encoding="utf-8")
    result = invoke("plan", root, *line)
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "storyboard.yaml" not in result.stderr, result.stderr


def test_plans_own_flags_still_choose(series: Path) -> None:
    """``--episode``, ``--offline`` and ``--var`` plan as they did."""
    the_plan = planned(series, "--episode", "ep03", "--offline", "--var", "city=Paris")
    assert list(to_render(the_plan)) == ["wire/ep03/d"]


def test_set_offline_plans_without_the_shared_store(series: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    store.mkdir()
    monkeypatch.setenv("STORYBOARD_STORE", str(store))
    assert not planned(series, "ep01")["store_note"]
    offline = planned(series, "ep01", "--set", "offline=true")
    assert offline["store_note"] == f"offline: the store {store} was not asked"
    assert offline == planned(series, "ep01", "--offline")
