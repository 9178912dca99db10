"""Requests into remembered facts: tasks, counters and the emulator's clock.

Everything here is touched only from the server's event loop; other threads read it through
``EmulatorServer``, which hops onto the loop first. The clock is wall time plus an offset that tests
can advance (``POST /_emulator/clock``) to expire policies, result URLs and 24-hour-old tasks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from storyboard.emulator.faults import HTTP_ENDPOINTS, PASS_ENDPOINTS
from storyboard.emulator.validate import Submission

STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
FINISHED = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")


def new_id() -> str:
    return str(uuid.uuid4())


def body_hash(body: object) -> str:
    """sha256 of a body's canonical JSON (sorted keys): the key of ``submissions.by_body``."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def prompt_hash(prompt: str) -> str:
    """sha256 of a prompt: the key of ``submissions.by_prompt``."""
    return hashlib.sha256(prompt.encode()).hexdigest()


class Clock:
    """Wall time plus an adjustable offset; prints and parses the API's time formats."""

    def __init__(self, utc_offset_hours: float = 0.0) -> None:
        self.offset = 0.0
        self.zone = timedelta(hours=utc_offset_hours)

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def stamp(self, when: float | None) -> str | None:
        """``YYYY-MM-DD hh:mm:ss.fff`` in the API's zone (None stays None)."""
        if when is None:
            return None
        local = datetime.fromtimestamp(when, UTC) + self.zone
        return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"

    def parse_compact(self, text: str) -> float:
        """``YYYYMMDDhhmmss`` in the API's zone into a UNIX time; ValueError if malformed."""
        if len(text) != 14 or not text.isdigit():
            raise ValueError(text)
        local = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return (local - self.zone).timestamp()


@dataclass
class Task:
    task_id: str
    request_id: str
    body: dict[str, Any]
    submission: Submission
    created: float
    fault: str | None = None
    status: str = "PENDING"
    scheduled: float | None = None
    ended: float | None = None
    account: str = ""  # a digest of the API key that submitted it (never the key)
    code: str = ""
    message: str = ""
    usage: dict[str, Any] | None = None
    video: Any = None  # Path of the rendered result, once SUCCEEDED
    wire: dict[str, Any] | None = None  # a gateway's body as it was sent (before ``unbody``)


@dataclass
class Stats:
    submissions: Counter[str] = field(default_factory=Counter)  # by body hash
    prompts: Counter[str] = field(default_factory=Counter)  # by prompt hash
    requests: Counter[str] = field(default_factory=Counter)  # by endpoint
    open: Counter[str] = field(default_factory=Counter)  # calls being answered now, by endpoint
    faults: Counter[str] = field(default_factory=Counter)  # by "endpoint:kind"
    renders: int = 0
    render_hits: int = 0
    uploads: int = 0
    webhooks: Counter[str] = field(default_factory=Counter)  # callbacks sent, by answer status
    in_flight: Counter[str] = field(default_factory=Counter)  # tasks PENDING/RUNNING, by key digest
    peak_in_flight: Counter[str] = field(default_factory=Counter)  # the most ever, by key digest
    throttled: int = 0  # submits refused past ``max_in_flight``
    task_seconds: float = 0.0  # from submit to end, summed over the tasks that ended
    tasks_ended: int = 0
    streamed: int = 0  # bytes sent by ``download:endless`` and ``download:huge`` faults


class TaskTable:
    """The tasks the emulator accepted, with their lifecycle facts."""

    def __init__(self, clock: Clock, task_ttl: float) -> None:
        self.clock = clock
        self.task_ttl = task_ttl
        self.tasks: dict[str, Task] = {}

    def add(self, task: Task) -> None:
        self.tasks[task.task_id] = task

    def get(self, task_id: str) -> Task | None:
        """A task still known to the service: not vanished and younger than its lifetime."""
        task = self.tasks.get(task_id)
        if task is None or task.status == "UNKNOWN":
            return None
        if self.clock.now() - task.created > self.task_ttl:
            return None
        return task

    def listing(self, start: float, end: float, model: str | None,
                status: str | None) -> list[Task]:
        """Known tasks created in ``[start, end]`` (whole seconds), newest first."""
        found = [t for t in self.tasks.values()
                 if self.get(t.task_id) is not None and start <= math.floor(t.created) <= end
                 and (model is None or t.submission.model == model)
                 and (status is None or t.status == status)]
        return sorted(found, key=lambda t: t.created, reverse=True)

    def by_status(self) -> dict[str, int]:
        counts = Counter(t.status if self.get(t.task_id) else "UNKNOWN"
                         for t in self.tasks.values())
        return {status: counts.get(status, 0) for status in STATUSES}


def stats_snapshot(stats: Stats, table: TaskTable) -> dict[str, Any]:
    """The ``GET /_emulator/stats`` answer (see the package docstring for its shape)."""
    return {
        "submissions": {"total": sum(stats.submissions.values()),
                        "by_body": dict(stats.submissions),
                        "by_prompt": dict(stats.prompts),
                        "duplicates": sum(1 for n in stats.submissions.values() if n > 1)},
        "requests": {name: stats.requests.get(name, 0)
                     for name in (*HTTP_ENDPOINTS, *PASS_ENDPOINTS)},
        "open": {name: n for name, n in stats.open.items() if n},
        "faults": dict(stats.faults),
        "tasks": table.by_status(),
        "renders": {"rendered": stats.renders, "cached": stats.render_hits},
        "uploads": stats.uploads,
        "streamed": stats.streamed,
        "webhooks": dict(stats.webhooks),
        "in_flight": {"now": dict(stats.in_flight), "peak": dict(stats.peak_in_flight),
                      "max": max(stats.peak_in_flight.values(), default=0),
                      "throttled": stats.throttled,
                      "task_seconds": round(stats.task_seconds, 3),
                      "tasks_ended": stats.tasks_ended},
    }


# --- a task's life, video or image alike ---------------------------------------------------------

FAILURES = {
    "failed": ("InternalError", "An internal error has occured, please try again later."),
    "moderation": ("DataInspectionFailed",
                   "Output data may contain inappropriate content."),
    "refused=video": ("DataInspectionFailed",
                      "Output video data may contain inappropriate content."),
    "refused=audio": ("DataInspectionFailed",
                      "Output audio data may contain inappropriate content."),
    "refused=image": ("DataInspectionFailed",
                      "Output image data may contain inappropriate content."),
}


class Lived(Protocol):
    status: str
    scheduled: float | None
    fault: str | None


async def run_task(task: Lived, latency: float, pending_share: float, clock: Clock,
                   finish: Callable[..., None], produce: Callable[[], Awaitable[None]]) -> None:
    """PENDING for a share of the latency, then RUNNING, then a fault's end (``stuck``: never;
    a failure; ``unknown``) or what ``produce`` makes. A task canceled meanwhile stops."""
    latency = max(latency, 0.0)
    await asyncio.sleep(latency * pending_share)
    if task.status != "PENDING":  # canceled meanwhile
        return
    task.status, task.scheduled = "RUNNING", clock.now()
    if task.fault == "stuck":
        return
    await asyncio.sleep(latency * (1 - pending_share))
    if task.fault in FAILURES:
        finish(task, "FAILED", *FAILURES[task.fault])
    elif task.fault == "unknown":
        finish(task, "UNKNOWN")
    else:
        await produce()
