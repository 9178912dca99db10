"""MCP task rows on the team's PostgreSQL ledger (``run/team/tasks_pg.py``): one server writes a
task's record, progress and result, another reads them; the running server's liveness is its
session lock, a cancel a flag it reads at its report; the id (a bearer token) is never stored."""

from __future__ import annotations

import secrets

from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.tasks_pg import PgTasks, task_key

NUMBERS = {"done": 0, "total": 2, "spent": 0.0, "currency": "USD", "in_flight": 0,
           "waiting_on_boards": 0}


def test_a_task_written_by_one_server_is_read_and_cancelled_by_another(pg_url: str) -> None:
    runner, reader = PgLedger(LedgerSettings(pg_url, "test")), PgLedger(LedgerSettings(pg_url,
                                                                                        "test"))
    try:
        here, there = PgTasks(runner), PgTasks(reader)
        task_id = secrets.token_hex(16)
        here.publish(task_id, "render", {"tool": "render", "shots": 2}, NUMBERS, 100.0)
        row = there.read(task_id)
        assert row is not None and row.running and row.result is None and not row.cancel
        assert row.record == {"tool": "render", "shots": 2} and row.progress == NUMBERS
        assert there.read(secrets.token_hex(16)) is None
        assert not here.report(task_id, {**NUMBERS, "done": 1})
        assert there.ask_cancel(task_id)
        assert here.report(task_id, {**NUMBERS, "done": 1})  # the runner hears the cancel
        here.finish(task_id, {**NUMBERS, "done": 1}, {"structuredContent": {"cancelled": True}})
        ended = there.read(task_id)
        assert ended is not None and not ended.running and ended.progress["done"] == 1
        assert ended.result == {"structuredContent": {"cancelled": True}}
        assert not there.ask_cancel(task_id)  # ended: nothing to stop
        assert not here.report(task_id, NUMBERS) and there.read(task_id) == ended
        stored = reader.transact(lambda db: db.execute(
            "SELECT key, record, progress, result FROM storyboard_mcp_tasks").fetchall())
        assert stored[0][0] == task_key(task_id) and task_id not in repr(stored)
    finally:
        reader.close()
        runner.close()


def test_a_server_that_dies_drops_its_tasks_lock_and_one_made_again_takes_it_back(
        pg_url: str) -> None:
    runner, reader = PgLedger(LedgerSettings(pg_url, "test")), PgLedger(LedgerSettings(pg_url,
                                                                                        "test"))
    try:
        task_id = secrets.token_hex(16)
        PgTasks(runner).publish(task_id, "render", {}, NUMBERS, 100.0)
        there = PgTasks(reader)
        assert there.read(task_id).running  # type: ignore[union-attr]
        runner.transact(lambda db: db.execute("SELECT pg_advisory_unlock_all()"))  # as if lost
        assert not there.read(task_id).running  # type: ignore[union-attr]
        PgTasks(runner).report(task_id, NUMBERS)  # its next report holds it again
        assert there.read(task_id).running  # type: ignore[union-attr]
        runner.close()
        assert not there.read(task_id).running  # type: ignore[union-attr]
    finally:
        reader.close()
        runner.close()
