"""MCP task records into rows of the team's PostgreSQL ledger: what another ``storyboard mcp`` reads.

One table, ``storyboard_mcp_tasks``, one row per task a ``storyboard mcp`` server started on a
series whose ledger is a team's: the tool, the record (its arguments, the series, when it started,
the shots it plans), its progress numbers (shots done of planned, spent, waiting on boards), its
result once it ended, and whether someone asked it to stop. A server on another machine, over
another clone of the series, answers ``tasks/get`` and ``tasks/cancel`` from it.

- The row's key is the SHA-256 of the task id, never the id: the id is a bearer token (whoever
  holds it reads and cancels the task), and the ledger's readers do not get it from a row.
- Whether the server running a task still lives is its session advisory lock on the task's key,
  as a claim's is (``ledger_pg``): held by its connection while the task runs, dropped by the
  database with the connection of a server that died. Read from ``pg_locks``, so a reader never
  takes it. A connection made again (the database restarted) takes it again at its next report.
- A cancel from another server is a flag on the row; the running server reads it with each
  report (once a second) and stops the task as its own ``tasks/cancel`` does.

Nothing secret is stored: the key's digest, tool names, arguments, paths, numbers, times.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storyboard.run.team.pg import SCHEMA_LOCK, advisory_key

if TYPE_CHECKING:
    from storyboard.run.team.pg import Session

SCHEMA = """
CREATE TABLE IF NOT EXISTS storyboard_mcp_tasks (
    key         TEXT PRIMARY KEY,
    tool        TEXT NOT NULL,
    record      TEXT NOT NULL,
    progress    TEXT NOT NULL DEFAULT '{}',
    result      TEXT,
    cancel      BOOLEAN NOT NULL DEFAULT FALSE,
    started_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);
"""
# The session lock of a task's key, as pg_locks shows a bigint advisory lock: its high half in
# ``classid``, its low half in ``objid``, ``objsubid`` 1.
HELD = ("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        "AND classid::bigint = %s AND objid::bigint = %s")


def task_key(task_id: str) -> str:
    """What a task's row is found by: the SHA-256 of its id (the id itself is never stored)."""
    return hashlib.sha256(task_id.encode()).hexdigest()


def lock_parts(key: str) -> tuple[int, int, int]:
    """The advisory lock of a task's row: its bigint, and the two halves pg_locks shows."""
    lock = advisory_key("storyboard-mcp-task:" + key)
    unsigned = lock & 0xFFFF_FFFF_FFFF_FFFF
    return lock, unsigned >> 32, unsigned & 0xFFFF_FFFF


@dataclass(frozen=True)
class TaskRow:
    """A task as the ledger holds it."""

    tool: str
    record: dict[str, Any]  # the task's record, without its id
    progress: dict[str, Any]
    result: dict[str, Any] | None
    cancel: bool  # someone asked it to stop
    running: bool  # the server that runs it still holds its lock
    updated_at: float


class PgTasks:
    """The task rows on a session of the team's database (a ``PgLedger``: one connection)."""

    def __init__(self, session: Session) -> None:
        self.session = session

        def create(db: Any) -> None:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            db.execute(SCHEMA)
        session.transact(create)

    def publish(self, task_id: str, tool: str, record: dict[str, Any],
                progress: dict[str, Any], started: float) -> None:
        """A new task's row, and this session's lock on it (it runs here)."""
        key = task_key(task_id)
        sql = ("INSERT INTO storyboard_mcp_tasks (key, tool, record, progress, started_at, "
               "updated_at) VALUES (%s,%s,%s,%s,%s,%s)")
        lock, _, _ = lock_parts(key)

        def work(db: Any) -> None:
            db.execute("SELECT pg_advisory_lock(%s)", (lock,))
            db.execute(sql, (key, tool, _json(record), _json(progress), started, time.time()))
        self.session.transact(work)

    def report(self, task_id: str, progress: dict[str, Any]) -> bool:
        """The running task's progress; whether someone asked it to stop. Its lock is taken
        again when this session lost it (a connection made again); an ended task's row is
        left as it ended."""
        key = task_key(task_id)
        lock, high, low = lock_parts(key)

        def work(db: Any) -> bool:
            rows = db.execute("UPDATE storyboard_mcp_tasks SET progress = %s, updated_at = %s "
                              "WHERE key = %s AND result IS NULL RETURNING cancel",
                              (_json(progress), time.time(), key)).fetchall()
            if rows and not db.execute(HELD + " AND pid = pg_backend_pid()",
                                       (high, low)).fetchall():
                db.execute("SELECT pg_advisory_lock(%s)", (lock,))
            return bool(rows and rows[0][0])
        return self.session.transact(work)

    def finish(self, task_id: str, progress: dict[str, Any], result: dict[str, Any]) -> None:
        """The task's end: its last numbers and its result; its lock let go."""
        key = task_key(task_id)
        lock, high, low = lock_parts(key)

        def work(db: Any) -> None:
            db.execute("UPDATE storyboard_mcp_tasks SET progress = %s, result = %s, "
                       "updated_at = %s WHERE key = %s",
                       (_json(progress), _json(result), time.time(), key))
            for _ in range(64):  # taken once, or again after a reconnect: let go of each
                if not db.execute(HELD + " AND pid = pg_backend_pid()", (high, low)).fetchall():
                    return
                db.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        self.session.transact(work)

    def read(self, task_id: str) -> TaskRow | None:
        """The task's row, or None when this ledger does not know the id."""
        key = task_key(task_id)
        _, high, low = lock_parts(key)
        sql = ("SELECT tool, record, progress, result, cancel, updated_at, "
               f"EXISTS ({HELD}) FROM storyboard_mcp_tasks WHERE key = %s")
        rows = self.session.transact(lambda db: db.execute(sql, (high, low, key)).fetchall())
        if not rows:
            return None
        tool, record, progress, result, cancel, updated, running = rows[0]
        return TaskRow(str(tool), json.loads(record), json.loads(progress),
                       json.loads(result) if result is not None else None, bool(cancel),
                       bool(running), float(updated))

    def ask_cancel(self, task_id: str) -> bool:
        """Ask the server running the task to stop it; False when it has already ended."""
        sql = ("UPDATE storyboard_mcp_tasks SET cancel = TRUE, updated_at = %s "
               "WHERE key = %s AND result IS NULL RETURNING key")
        rows = self.session.transact(
            lambda db: db.execute(sql, (time.time(), task_key(task_id))).fetchall())
        return bool(rows)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True)
