"""Helpers shared by the emulator's tests: waiting for a task, boundedly."""

from __future__ import annotations

import time
from typing import Any

import httpx

FINISHED = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
WAIT_LIMIT = 30.0


def wait_for(http: httpx.Client, task_id: str,
             statuses: tuple[str, ...] = FINISHED) -> dict[str, Any]:
    """Poll until the task reaches one of ``statuses``; bounded in time."""
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        answer: dict[str, Any] = http.get(f"/tasks/{task_id}").json()
        if answer["output"]["task_status"] in statuses:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {statuses}")
