"""A server's MCP tasks into the team ledger's rows, and rows back into tasks: what another server answers.

With a team ledger on the series (its ``ledger:``, or ``STORYBOARD_LEDGER``, which wins), a task
is also written to the ledger (``run.team.tasks_pg``) before its handle is answered; while it
runs, its progress numbers are written once a second (the beat), and each beat reads whether
another server asked it to stop; its result is written when it ends. A server asked about a task
its own disk does not have (another machine started it, on another clone of the series) looks it
up in the team ledgers of the series under its root, and answers from the row: its progress, its
result, or, when the server that ran it is gone (its lock dropped), its interruption. Without a
team ledger nothing here runs, and a task lives on its series' disk alone (``taskstore``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from storyboard.agents import taskstore
from storyboard.errors import MissingExtra, StoryboardError
from storyboard.language.read.load import load_file
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger, ledger_settings
from storyboard.run.team.tasks_pg import PgTasks, TaskRow

log = logging.getLogger("storyboard.agents")
SERIES_FILE = "storyboard.yaml"


def ledger_of(folder: Path) -> LedgerSettings | None:
    """The team ledger a series' tasks go to: ``STORYBOARD_LEDGER``, else its ``ledger:``."""
    setting = None
    if (folder / SERIES_FILE).is_file():
        data = load_file(folder / SERIES_FILE)[0].data
        setting = data.get("ledger") if isinstance(data, dict) else None
    return ledger_settings(setting)


class Mirror:
    """One running task's row on a team ledger: written at its start, at each beat, at its end."""

    def __init__(self, tasks: PgTasks, record: taskstore.Record) -> None:
        self.tasks = tasks
        self.record = record

    def publish(self) -> None:
        record = self.record
        self.tasks.publish(record.task_id, record.tool, taskstore.shared(record),
                           taskstore.progress(record), record.started)

    def beat(self) -> bool:
        """Its progress written; whether another server asked it to stop (False when the
        ledger could not be reached: the task runs on, and says so at its next beat)."""
        try:
            return self.tasks.report(self.record.task_id, taskstore.progress(self.record))
        except StoryboardError as error:
            log.warning("task %s: the team ledger was not written: %s", self.record.task_id[:8],
                        error)
            return False

    def end(self, result: dict[str, Any]) -> None:
        try:
            self.tasks.finish(self.record.task_id, taskstore.progress(self.record), result)
        except StoryboardError as error:  # the series' disk keeps it; a server there answers
            log.warning("task %s: its result was not written to the team ledger: %s",
                        self.record.task_id[:8], error)


class Team:
    """The team ledgers this server writes its tasks to and reads others' from, one connection
    each, opened at first use and kept for the server's life."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.opened: dict[str, PgTasks] = {}  # by URL

    def mirror(self, folder: Path, record: taskstore.Record) -> Mirror | None:
        """The new task's row on its series' team ledger (None: the series has none). A ledger
        that cannot be opened refuses the task, as a render with it would be refused."""
        settings = ledger_of(folder)
        if settings is None:
            return None
        mirror = Mirror(self._open(settings), record)
        mirror.publish()
        return mirror

    def find(self, task_id: str) -> tuple[PgTasks, TaskRow]:
        """The task's row in one of the team ledgers of the series under the root; else
        ValueError (the same "not found" as an unknown id), naming a ledger it could not read."""
        unread: list[str] = []
        for settings in self.ledgers():
            try:
                tasks = self._open(settings)
                row = tasks.read(task_id)
            except StoryboardError as error:
                unread.append(str(error))
                continue
            if row is not None:
                return tasks, row
        also = f" (not looked up: {'; '.join(unread)})" if unread else ""
        raise ValueError(f"Failed to retrieve task: Task not found{also}")

    def ledgers(self) -> list[LedgerSettings]:
        """``STORYBOARD_LEDGER``, else each distinct ``ledger:`` of a series under the root."""
        explicit = ledger_settings(None)
        if explicit is not None:
            return [explicit]
        found: dict[str, LedgerSettings] = {}
        for path in sorted(self.root.glob(f"**/{SERIES_FILE}")):
            if ".storyboard" in path.relative_to(self.root).parts:
                continue
            try:
                settings = ledger_of(path.parent)
            except (StoryboardError, OSError, ValueError):  # it names no ledger we can use
                continue
            if settings is not None:
                found.setdefault(settings.url, settings)
        return list(found.values())

    def _open(self, settings: LedgerSettings) -> PgTasks:
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise MissingExtra(f"the PostgreSQL ledger ({settings.origin})", "ledger-pg",
                               exc.name) from exc
        with self.lock:
            tasks = self.opened.get(settings.url)
            if tasks is None:
                tasks = self.opened[settings.url] = PgTasks(PgLedger(settings))
            return tasks


def detailed(task_id: str, row: TaskRow) -> dict[str, Any]:
    """The task as ``tasks/get`` answers it, from its ledger row (another server runs it)."""
    record = taskstore.from_shared(task_id, row.record)
    return taskstore.shaped(record, row.progress, row.result, row.running)
