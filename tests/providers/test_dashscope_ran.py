"""How long the service says a task ran (``TaskState.ran``): from its ``submit_time`` to its
``end_time``, read for a finished task only; the runner's first poll of the next task of the
model waits that long (``poll.Poller.first_wait``)."""

from __future__ import annotations

from typing import Any

from storyboard.providers.dashscope.wire import parse_task


def answer(status: str, **times: str) -> dict[str, Any]:
    return {"output": {"task_id": "t-1", "task_status": status, **times}}


def test_a_finished_task_says_how_long_it_ran() -> None:
    done = parse_task(answer("SUCCEEDED", submit_time="2026-11-25 20:59:58.950",
                             end_time="2026-11-25 21:00:01.000"))
    assert done.ran is not None and abs(done.ran - 2.05) < 1e-6


def test_no_time_said_or_readable_is_none() -> None:
    assert parse_task(answer("RUNNING", submit_time="2026-11-25 20:59:58.950")).ran is None
    assert parse_task(answer("SUCCEEDED", submit_time="2026-11-25 20:59:58.950")).ran is None
    assert parse_task(answer("SUCCEEDED", submit_time="yesterday",
                             end_time="2026-11-25 21:00:01.000")).ran is None
    backwards = answer("FAILED", submit_time="2026-11-25 21:00:01.000",
                       end_time="2026-11-25 20:59:58.950")
    assert parse_task(backwards).ran is None
