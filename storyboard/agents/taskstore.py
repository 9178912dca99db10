"""A task id into its record, state and progress, read from disk: what any server answers for it.

A task's record is a small JSON file beside the series' journal
(``SERIES/.storyboard/mcp-tasks/ID.json``: the tool, its arguments, the series, when it started,
the shots it plans, which process runs it); its result, once there is one, is ``ID.result.json``
beside it. Its progress (shots done of those planned, money spent) is read from the journal, the
same rows ``storyboard status`` reads. So a server started later, or another on the same machine,
answers ``tasks/get`` for a task an earlier one made (a server on another machine reads the
team ledger's copy: ``taskledger``). The id is 128 random bits: a bearer token nobody can guess
or enumerate.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storyboard.run import read_status
from storyboard.run.state.tasks.journal import UNFINISHED

FOLDER = Path(".storyboard") / "mcp-tasks"
ID = re.compile(r"[0-9a-f]{32}")
POLL_MS = 1000  # what a client is asked to wait between two tasks/get
INTERRUPTED = ("interrupted: the server that ran this task stopped before it ended; what it paid "
               "is journaled; call the tool again to resume (nothing is paid twice)")


@dataclass(frozen=True)
class Record:
    """What a task is: written once, when it starts."""

    task_id: str
    tool: str
    arguments: dict[str, Any]
    folder: str  # the series folder (absolute)
    started: float  # epoch seconds: journal rows from then on are this task's
    shots: int  # the shots its plan renders
    waiting_on_boards: int  # shots of the plan that wait for a board's approval
    currency: str
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)

    @property
    def path(self) -> Path:
        return Path(self.folder) / FOLDER / f"{self.task_id}.json"

    @property
    def result_path(self) -> Path:
        return self.path.with_suffix(".result.json")


def new_id() -> str:
    return secrets.token_hex(16)


def write(record: Record) -> None:
    """The record, durably, before the task's handle is answered (a tasks/get then finds it)."""
    _atomic(record.path, asdict(record))


def finish(record: Record, result: dict[str, Any]) -> None:
    """The task's CallToolResult (``cancelled``: stopped on request), kept for later reads."""
    _atomic(record.result_path, result)


def find(root: Path, task_id: object) -> Record:
    """The record of ``task_id`` among the series under ``root``, or ValueError."""
    if not isinstance(task_id, str) or not ID.fullmatch(task_id):
        raise ValueError("Failed to retrieve task: Task not found")
    for path in sorted(root.glob(f"**/{FOLDER.as_posix()}/{task_id}.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        return Record(**data)
    raise ValueError("Failed to retrieve task: Task not found")


def result_of(record: Record) -> dict[str, Any] | None:
    if not record.result_path.is_file():
        return None
    data: dict[str, Any] = json.loads(record.result_path.read_text(encoding="utf-8"))
    return data


def owner_alive(record: Record) -> bool:
    """Whether the process that runs the task is still there (on this machine)."""
    if record.host != socket.gethostname():
        return False
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def say(record: Record, text: str) -> None:
    """A breakdown's last progress line, beside its record (it has no journal rows)."""
    now = time.monotonic()
    if now - _SAID.get(record.task_id, 0.0) < 0.5:
        return
    _SAID[record.task_id] = now
    said = record.path.with_suffix(".said")
    spare = said.with_name(said.name + ".tmp")
    spare.write_text(text, encoding="utf-8")
    os.replace(spare, said)


_SAID: dict[str, float] = {}  # when each task last said something (a stream says a lot)


def progress(record: Record) -> dict[str, Any]:
    """Shots done of those planned, money spent and tasks in flight: the journal's rows since
    the task started (a breakdown: its last line, and the calls it plans)."""
    if record.tool == "breakdown":
        said = record.path.with_suffix(".said")
        return {"said": said.read_text(encoding="utf-8") if said.is_file() else "",
                "calls": record.shots}
    rows = [r for r in read_status(Path(record.folder)) if r.intent_at >= record.started]
    done = sum(1 for r in rows if r.state == "done")
    spent = round(sum(r.cost or 0.0 for r in rows), 6)
    flying = sum(1 for r in rows if r.state in UNFINISHED)
    return {"done": done, "total": record.shots, "spent": spent, "currency": record.currency,
            "in_flight": flying, "waiting_on_boards": record.waiting_on_boards}


def message(numbers: dict[str, Any]) -> str:
    if "said" in numbers:
        return str(numbers["said"] or f"breaking the story down: {numbers['calls']} call(s)")
    text = (f"{numbers['done']} of {numbers['total']} shots done, {numbers['spent']:.2f} "
            f"{numbers['currency']} spent, {numbers['in_flight']} in flight")
    if numbers["waiting_on_boards"]:
        text += f", {numbers['waiting_on_boards']} waiting on boards"
    return text


def detailed(record: Record, running: bool) -> dict[str, Any]:
    """The task as ``tasks/get`` answers it (a DetailedTask): ``running`` when this process
    runs it; else its result, its owner, or its interruption says its status."""
    result = result_of(record)
    alive = running or (result is None and owner_alive(record))
    return shaped(record, progress(record), result, alive)


def shaped(record: Record, numbers: dict[str, Any], result: dict[str, Any] | None,
           alive: bool) -> dict[str, Any]:
    """A DetailedTask from what is known of a task, wherever it was read (this disk, or the
    team ledger's row): its result says how it ended; without one, a task whose server is gone
    was interrupted."""
    task: dict[str, Any] = {"taskId": record.task_id, "createdAt": stamp(record.started),
            "lastUpdatedAt": stamp(time.time()), "ttlMs": None, "pollIntervalMs": POLL_MS,
            "status": "working", "statusMessage": message(numbers),
            "_meta": {"storyboard/progress": numbers}}
    if result is not None:
        cancelled = result.get("structuredContent", {}).get("cancelled") is True
        task["status"] = "cancelled" if cancelled else "completed"
        if not cancelled:
            task["result"] = result
    elif not alive:
        task["status"] = "failed"
        task["statusMessage"] = INTERRUPTED
        task["error"] = {"code": -32603, "message": INTERRUPTED}
    return task


def shared(record: Record) -> dict[str, Any]:
    """The record as the team ledger keeps it: everything but its id (a bearer token)."""
    data = asdict(record)
    del data["task_id"]
    return data


def from_shared(task_id: str, data: dict[str, Any]) -> Record:
    """A record read back from the team ledger, under the id it was asked for by."""
    return Record(task_id=task_id, **data)


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    spare = path.with_name(path.name + ".tmp")
    with spare.open("w", encoding="utf-8") as out:
        json.dump(data, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(spare, path)
