"""Boards in daily use (issue 65 items 8-11), through the DashScope emulator: what waiting on boards
will cost, approving an episode's boards in one command, a render held by the gate, and the
words of takes and approve on boards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.boards import planned, rows, write
from tests.fixtures.dashscope_cli import Emulator, invoke

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment


def test_the_plan_says_what_the_videos_waiting_on_boards_will_cost(
        tmp_path: Path, emulator: Emulator, make_media: Any) -> None:
    emulator()
    series = write(tmp_path / "boards", make_media)
    plan = planned(series)
    shots = rows(plan)
    each = shots["ep01/own"]["cost"]  # the same length and resolution as the two that wait
    assert each > 0
    for name in ("ep01/hello", "ep01/waves"):
        assert (shots[name]["status"], shots[name]["cost"]) == ("waits", 0.0)
        assert shots[name]["waiting_cost"] == each
    assert shots["ep01/own"]["waiting_cost"] == 0.0
    assert plan["waiting_cost"] == round(2 * each, 4)
    assert plan["total_cost"] == round(0.12 + each, 4)  # not in the total consented to
    text = invoke("plan", series, "--provider", "dashscope")
    assert text.exit_code == 0, text.output
    said = " ".join(text.stdout.split())
    assert f"waiting on boards: about {2 * each:.2f} USD more once they are approved" in said
