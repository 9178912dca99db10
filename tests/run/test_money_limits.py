"""Limits that fail closed: NaN and infinite amounts, and a series' own prices of 0.

Every amount a user gives (``--budget``, ``--max-cost``, the MCP ``max_cost`` and ceiling) is a
finite number >= 0 or refused; a series whose ``provider.prices`` are 0 still needs consent for a
paid render, and ``--budget`` and the MCP server count each task at no less than its list price.
Driven through the real CLI and the official MCP client, against the emulator on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from tests.fixtures.cli import invoke
from tests.fixtures.limits import series
from tests.fixtures.mcp import error, session, submissions
from tests.fixtures.two_shots import HEAD

ZERO = HEAD.replace("provider: {name: dashscope, poll: [0.2]}",
                    "provider: {name: dashscope, poll: [0.2], prices: {720P: 0, 1080P: 0}}")


@pytest.mark.parametrize("amount", ["nan", "NaN", "inf", "-inf", "-1", "1e999", "five"])
def test_a_budget_or_cost_gate_that_is_no_amount_is_refused(
        tmp_path: Path, make_media: Callable[..., Path], dashscope_emulator: EmulatorServer,
        amount: str) -> None:
    wire = series(tmp_path, make_media) / "wire"
    rendered = invoke("render", wire, "--budget", amount)
    assert rendered.exit_code == 2 and "is not an amount" in rendered.output
    gated = invoke("plan", wire, "--max-cost", amount)
    assert gated.exit_code == 2 and "is not an amount" in gated.output
    assert submissions(dashscope_emulator) == 0


NO_AMOUNTS: tuple[Any, ...] = ("NaN", float("nan"), float("inf"), -1.0, "lots")


@pytest.mark.parametrize("ceiling", [0.0, 100.0])
def test_the_mcp_server_refuses_a_max_cost_that_is_no_amount(
        tmp_path: Path, make_media: Callable[..., Path], dashscope_emulator: EmulatorServer,
        ceiling: float) -> None:
    """Each amount in a call of its own, all in one server's session (a server's start is most
    of the time here): every call refused, none paid."""
    root = series(tmp_path, make_media)
    calls = [("render", {"series": "wire", "provider": "dashscope", "max_cost": max_cost})
             for max_cost in NO_AMOUNTS]
    _, *answers = session(root, *calls, ceiling=ceiling, emulator=dashscope_emulator)
    assert len(answers) == len(NO_AMOUNTS)
    for max_cost, answer in zip(NO_AMOUNTS, answers, strict=True):
        assert error(answer), max_cost
    assert submissions(dashscope_emulator) == 0


def test_the_mcp_server_refuses_a_nan_ceiling(tmp_path: Path, make_media: Callable[..., Path],
                                             dashscope_emulator: EmulatorServer) -> None:
    result = invoke("mcp", series(tmp_path, make_media), "--budget-ceiling", "nan")
    assert result.exit_code == 2 and "is not an amount" in result.output


def test_a_series_priced_at_zero_still_needs_consent(tmp_path: Path,
                                                    make_media: Callable[..., Path],
                                                    dashscope_emulator: EmulatorServer) -> None:
    wire = series(tmp_path, make_media, ZERO) / "wire"
    planned = invoke("plan", wire)
    assert "below the list prices" in planned.output and "list price 0.1 USD" in planned.output
    refused = invoke("render", wire)
    assert refused.exit_code != 0 and "nothing was submitted" in refused.output
    assert submissions(dashscope_emulator) == 0


def test_a_budget_counts_each_task_at_its_list_price(tmp_path: Path,
                                                    make_media: Callable[..., Path],
                                                    dashscope_emulator: EmulatorServer) -> None:
    listed = json.loads(invoke("plan", series(tmp_path / "listed", make_media) / "wire",
                               "--json").stdout)
    costs = sorted(s["cost"] for s in listed["shots"])
    assert costs[0] > 0
    wire = series(tmp_path, make_media, ZERO) / "wire"
    result = invoke("render", wire, "--budget", f"{costs[0] + costs[1] / 2:.4f}")
    assert result.exit_code == 1  # the second shot would pass the budget at its list price
    assert submissions(dashscope_emulator) == 1


def test_the_mcp_ceiling_counts_each_task_at_its_list_price(
        tmp_path: Path, make_media: Callable[..., Path], dashscope_emulator: EmulatorServer) -> None:
    root = series(tmp_path, make_media, ZERO)
    _, answer = session(root, ("render", {"series": "wire", "provider": "dashscope",
                                          "max_cost": 0.3}), ceiling=0.3, emulator=dashscope_emulator)
    assert "refused, nothing was submitted" in error(answer)
    assert submissions(dashscope_emulator) == 0


@pytest.mark.parametrize("price", [".nan", ".inf", "-0.1"])
def test_a_declared_price_that_is_no_amount_is_a_located_error(
        tmp_path: Path, make_media: Callable[..., Path], price: str) -> None:
    head = HEAD.replace("poll: [0.2]}", f"poll: [0.2], prices: {{720P: {price}}}}}")
    wire = series(tmp_path, make_media, head) / "wire"
    result = invoke("check", wire)
    assert result.exit_code == 1, result.output
    assert "storyboard.yaml:" in result.output and "720P" in result.output
