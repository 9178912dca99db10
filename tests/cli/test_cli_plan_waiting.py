"""Every plan's total with what waits on boards in it, priced and marked as waiting (issue 85),
through the command line and DashScope's emulator: ``plan --season``, ``plan --episode`` and a
matrix's plan each say what the waiting videos cost and the price in all once their boards are
approved, and that price is what the renders then pay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.media import samples
from tests.cli.test_cli_season_paid import SERIES
from tests.fixtures.dashscope_cli import Emulator, invoke, render, season_render
from tests.fixtures.matrix import HEAD
from tests.fixtures.matrix import series as matrix_series

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

VIDEO = 0.20  # wan2.7-r2v at 720P: USD 0.10/s, 2 s
BOARD = 0.03  # wan2.7-image: one picture


def night(root: Path) -> Path:
    series = root / "night"
    samples.image(series / "media" / "ada.png", 320, 320)
    (series / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return series


def planned(series: Path, *args: str) -> dict[str, Any]:
    result = invoke("plan", series, "--provider", "dashscope", "--json", *args)
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def said(series: Path, *args: str) -> str:
    result = invoke("plan", series, "--provider", "dashscope", *args)
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_a_seasons_total_prices_what_waits_and_equals_what_its_renders_pay(
        tmp_path: Path, emulator: Emulator) -> None:
    emulator()
    series = night(tmp_path)
    totals = planned(series, "--season")["totals"]
    assert (totals["price"], totals["waiting_on_boards"]) == (2 * BOARD, 2), totals
    assert totals["waiting_price"] == pytest.approx(2 * VIDEO), totals
    assert totals["price_once_approved"] == pytest.approx(2 * BOARD + 2 * VIDEO), totals
    episodes = planned(series, "--season")["episodes"]
    assert [e["waiting_price"] for e in episodes] == [VIDEO, VIDEO], episodes
    text = said(series, "--season")
    assert ("season: 2 episode(s), 2 shot(s), 0.06 USD now; 2 shot(s) wait on their boards, "
            "unpaid until approved (waiting: 0.40 USD); 0.46 USD in all once they are "
            "approved") in text, text

    code, first, err = season_render(series, "--yes")
    assert code == 0, err
    assert invoke("approve", series, "--all-boards").exit_code == 0
    now = planned(series, "--season")["totals"]
    assert (now["price"], now["waiting_price"]) == (pytest.approx(2 * VIDEO), 0.0), now
    assert "0.40 USD in all" in said(series, "--season")
    code, second, err = season_render(series, "--yes")
    assert code == 0, err
    assert first["spent"] + second["spent"] == pytest.approx(totals["price_once_approved"])


def test_an_episodes_plan_says_its_price_in_all_once_its_board_is_approved(
        tmp_path: Path, emulator: Emulator) -> None:
    emulator()
    series = night(tmp_path)
    plan = planned(series, "--episode", "ep01")
    assert (plan["total_cost"], plan["waiting_cost"]) == (BOARD, VIDEO), plan
    assert plan["cost_once_approved"] == pytest.approx(BOARD + VIDEO), plan
    text = said(series, "--episode", "ep01")
    assert ("waiting on boards: about 0.20 USD more once they are approved (not paid now): "
            "about 0.23 USD in all") in text, text
    code, first, err = render(series, "ep01", "--yes")
    assert code == 0, err
    assert invoke("approve", series, "boards/ep01").exit_code == 0
    code, second, err = render(series, "ep01", "--yes")
    assert code == 0, err
    assert first["spent"] + second["spent"] == pytest.approx(plan["cost_once_approved"])


MOODS = """\
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
variations:
  matrix: {mood: [calm, loud]}
  name: "{{ mood }}"
"""
SEA = '- id: ep01\n  shots:\n    - {id: s1, prompt: "@mia by a {{ mood }} sea"}\n'


def test_a_matrix_plans_total_prices_what_waits_on_its_boards(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emulator()
    head = HEAD.replace("duration: 5", "duration: 2") + "boards: {model: wan2.7-image}\n"
    root = matrix_series(tmp_path / "S", make_media, head=head, body=MOODS, episodes=SEA)
    plan = planned(root)
    assert (plan["total_cost"], plan["waiting_cost"]) == (2 * BOARD, 2 * VIDEO), plan
    assert plan["cost_once_approved"] == pytest.approx(2 * BOARD + 2 * VIDEO), plan
    text = " ".join(said(root).replace("│", " ").split())  # the table's cells, in words
    assert "waiting on boards 2 0.40 USD" in text, text
    assert "in all once approved 0.46 USD" in text, text
    code, first, err = render(root, "--yes")
    assert code == 0, err
    assert invoke("approve", root, "--all-boards").exit_code == 0
    code, second, err = render(root, "--yes")
    assert code == 0, err
    assert first["spent"] + second["spent"] == pytest.approx(plan["cost_once_approved"])
