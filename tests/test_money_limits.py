"""Limits that fail closed: NaN and infinite amounts, and a series' own prices of 0.

Every amount a user gives (``--budget``, ``--max-cost``, the MCP ``max_cost`` and ceiling) is a
finite number >= 0 or refused; a series whose ``provider.prices`` are 0 still needs consent for a
paid render, and ``--budget`` and the MCP server count each task at no less than its list price.
Driven through the real CLI and the official MCP client, against the emulator on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from compiler_fixtures import write_series

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from tests.test_mcp import HEAD, TWO_SHOTS, error, session, submissions

ZERO = HEAD.replace("provider: {name: dashscope, poll: [0.2]}",
                    "provider: {name: dashscope, poll: [0.2], prices: {720P: 0, 1080P: 0}}")


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.05, plain_results=True).start()
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-limits")
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    monkeypatch.setenv("CI", "1")
    yield server
    server.stop()


def series(tmp_path: Path, make_media: Callable[..., Path], head: str = HEAD) -> Path:
    write_series(tmp_path / "series" / "wire", make_media, TWO_SHOTS, head=head)
    return tmp_path / "series"


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("amount", ["nan", "NaN", "inf", "-inf", "-1", "1e999", "five"])
def test_a_budget_or_cost_gate_that_is_no_amount_is_refused(
        tmp_path: Path, make_media: Callable[..., Path], emulator: EmulatorServer,
        amount: str) -> None:
    wire = series(tmp_path, make_media) / "wire"
    rendered = invoke("render", wire, "--budget", amount)
    assert rendered.exit_code == 2 and "is not an amount" in rendered.output
    gated = invoke("plan", wire, "--max-cost", amount)
    assert gated.exit_code == 2 and "is not an amount" in gated.output
    assert submissions(emulator) == 0


@pytest.mark.parametrize("max_cost", ["NaN", float("nan"), float("inf"), -1.0, "lots"])
def test_the_mcp_server_refuses_a_max_cost_that_is_no_amount(
        tmp_path: Path, make_media: Callable[..., Path], emulator: EmulatorServer,
        max_cost: Any) -> None:
    root = series(tmp_path, make_media)
    for ceiling in (0.0, 100.0):
        _, answer = session(root, ("render", {"series": "wire", "provider": "dashscope",
                                              "max_cost": max_cost}),
                            ceiling=ceiling, emulator=emulator)
        assert error(answer)
    assert submissions(emulator) == 0


def test_the_mcp_server_refuses_a_nan_ceiling(tmp_path: Path, make_media: Callable[..., Path],
                                             emulator: EmulatorServer) -> None:
    result = invoke("mcp", series(tmp_path, make_media), "--budget-ceiling", "nan")
    assert result.exit_code == 2 and "is not an amount" in result.output


def test_a_series_priced_at_zero_still_needs_consent(tmp_path: Path,
                                                    make_media: Callable[..., Path],
                                                    emulator: EmulatorServer) -> None:
    wire = series(tmp_path, make_media, ZERO) / "wire"
    planned = invoke("plan", wire)
    assert "below the list prices" in planned.output and "list price 0.1 USD" in planned.output
    refused = invoke("render", wire)
    assert refused.exit_code != 0 and "nothing was submitted" in refused.output
    assert submissions(emulator) == 0


def test_a_budget_counts_each_task_at_its_list_price(tmp_path: Path,
                                                    make_media: Callable[..., Path],
                                                    emulator: EmulatorServer) -> None:
    listed = json.loads(invoke("plan", series(tmp_path / "listed", make_media) / "wire",
                               "--json").stdout)
    costs = sorted(s["cost"] for s in listed["shots"])
    assert costs[0] > 0
    wire = series(tmp_path, make_media, ZERO) / "wire"
    result = invoke("render", wire, "--budget", f"{costs[0] + costs[1] / 2:.4f}")
    assert result.exit_code == 1  # the second shot would pass the budget at its list price
    assert submissions(emulator) == 1


def test_the_mcp_ceiling_counts_each_task_at_its_list_price(
        tmp_path: Path, make_media: Callable[..., Path], emulator: EmulatorServer) -> None:
    root = series(tmp_path, make_media, ZERO)
    _, answer = session(root, ("render", {"series": "wire", "provider": "dashscope",
                                          "max_cost": 0.3}), ceiling=0.3, emulator=emulator)
    assert "refused, nothing was submitted" in error(answer)
    assert submissions(emulator) == 0


@pytest.mark.parametrize("price", [".nan", ".inf", "-0.1"])
def test_a_declared_price_that_is_no_amount_is_a_located_error(
        tmp_path: Path, make_media: Callable[..., Path], price: str) -> None:
    head = HEAD.replace("poll: [0.2]}", f"poll: [0.2], prices: {{720P: {price}}}}}")
    wire = series(tmp_path, make_media, head) / "wire"
    result = invoke("check", wire)
    assert result.exit_code == 1, result.output
    assert "storyboard.yaml:" in result.output and "720P" in result.output
