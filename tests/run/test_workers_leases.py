"""The queue's two promises on a real PostgreSQL: two workers claiming at the same instant get
different rows, and neither waits for the other (``FOR UPDATE SKIP LOCKED``); a worker on a job
longer than its lease keeps its claim, its heartbeat renewing the lease every third of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import NewShot, PgQueue, QueuedShot
from tests.fixtures.comfyui import prompts, wait_until
from tests.fixtures.patience import LOADED
from tests.run.test_workers import clones, ended, queued, storyboard

HOLD = 7_283_401  # the advisory lock that holds alice's claim open, row lock and all

# Alice's claim, once it has updated its row (and so holds the row's lock), waits for HOLD
# before its transaction commits: the test decides when it ends.
HELD_CLAIM = """
CREATE FUNCTION held_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(%(hold)s);
    RETURN NEW;
END $$;
CREATE TRIGGER held_claim AFTER UPDATE ON storyboard_queue FOR EACH ROW
    WHEN (NEW.holder = 'alice') EXECUTE FUNCTION held_claim();
"""


@pytest.fixture
def queues(pg_url: str) -> Iterator[tuple[PgQueue, PgQueue]]:
    """Two workers' queues, each on its own connection to the ledger."""
    sessions = [PgLedger(LedgerSettings(pg_url, "test")) for _ in range(2)]
    try:
        yield PgQueue(sessions[0]), PgQueue(sessions[1])
    finally:
        for session in sessions:
            session.close()


def waiting_on_locks(db: psycopg.Connection[Any]) -> int:
    """How many other sessions of this database wait for a lock now."""
    row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def claiming(queue: PgQueue, holder: str) -> tuple[threading.Thread, list[list[QueuedShot]]]:
    got: list[list[QueuedShot]] = []
    thread = threading.Thread(target=lambda: got.append(queue.claim(holder, 1, lease=60.0)))
    thread.start()
    return thread, got


def test_two_workers_claiming_at_the_same_instant_get_different_rows(
        pg_url: str, queues: tuple[PgQueue, PgQueue]) -> None:
    """Alice's claim holds the oldest row's lock, uncommitted, while Bob claims: he gets the
    next row at once (he skips hers, never waits for it nor takes it too)."""
    alice, bob = queues
    alice.enqueue("s", "comfyui", [NewShot("ep01/a", "a" * 64), NewShot("ep01/b", "b" * 64)],
                  budget=0.0, queued_by="test")
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(HELD_CLAIM % {"hold": HOLD})
        db.execute("SELECT pg_advisory_lock(%s)", (HOLD,))
        first, hers = claiming(alice, "alice")
        try:
            wait_until(lambda: waiting_on_locks(db) == 1)  # her row updated, held open
            second, his = claiming(bob, "bob")
            wait_until(lambda: not second.is_alive() or waiting_on_locks(db) == 2)
            done_while_held = not second.is_alive()
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (HOLD,))
            first.join(LOADED)
            second.join(LOADED)
    assert [s.shot for s in hers[0]] == ["ep01/a"] and [s.shot for s in his[0]] == ["ep01/b"]
    assert done_while_held, "bob's claim waited for alice's"
    assert {s.shot: s.holder for s in alice.shots()} == {"ep01/a": "alice", "ep01/b": "bob"}


def lease_left(url: str) -> Callable[[], float | None]:
    """Seconds the one claimed row's lease has left on the database server's clock (None: no
    row is claimed)."""
    def left() -> float | None:
        with psycopg.connect(url, autocommit=True) as db:
            row = db.execute("SELECT lease_until - extract(epoch from clock_timestamp()) FROM "
                             "storyboard_queue WHERE state = 'claimed'").fetchone()
        return None if row is None else float(row[0])
    return left


def test_a_worker_on_a_job_longer_than_its_lease_keeps_its_claim(
        tmp_path: Path, pg_url: str) -> None:
    """A 3 s lease, a 7 s job: the heartbeat keeps the lease ahead all along, so another worker
    asking the whole time never gets the shot, and the worker that took it reports it done."""
    with ComfyUIServer(ComfyConfig(job_time=7.0, plain=True)) as gpu:
        alice, _ = clones(tmp_path, (gpu,), pg_url)
        child = storyboard(alice.parent, "render", alice.name, "--queue", "--shot", "ep01/ballad")
        out, err = child.communicate(timeout=LOADED)
        assert child.returncode == 0, out + err
        assert [s.shot for s in queued(pg_url)] == ["ep01/ballad"]
        worker = storyboard(alice.parent, "worker", "--ledger", pg_url, "--drain", "--lease", "3")
        session = PgLedger(LedgerSettings(pg_url, "test"))
        try:
            left, thief = lease_left(pg_url), PgQueue(session)
            wait_until(lambda: bool(prompts(gpu)) or worker.poll() is not None)  # the job runs
            started, shortest = time.monotonic(), 3.0
            while worker.poll() is None and (remaining := left()) is not None:
                shortest = min(shortest, remaining)
                assert thief.claim("thief", 1, lease=60.0) == [], \
                    f"its lease lapsed {time.monotonic() - started:.1f} s into the job"
                time.sleep(0.1)
            said = ended(worker)
        finally:
            session.close()
            if worker.poll() is None:
                worker.kill()
                worker.communicate(timeout=LOADED)
        assert list(prompts(gpu).values()) == [1]  # its one prompt, sent once
    assert time.monotonic() - started > 3.0  # the job outlasted its lease
    assert shortest > 0 and "1 done" in said and "lease had passed" not in said, said
    [shot] = queued(pg_url)
    assert shot.state == "done" and shot.holder != "thief" and shot.tries == 1
