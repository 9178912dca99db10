"""The queue's two promises on a real PostgreSQL and the real engine (Procrastinate's own claim
function, ``procrastinate_fetch_job_v2``): two workers claiming at the same instant get different
jobs, and neither waits for the other (``FOR UPDATE SKIP LOCKED``); a worker on a job longer than
its lease keeps its claim, its heartbeat beating every third of it, so no sweep hands it on."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from procrastinate import PsycopgConnector

from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import NewShot, PgQueue
from storyboard.run.workers import engine
from tests.fixtures import pg_server
from tests.fixtures.comfyui import prompts, wait_until
from tests.fixtures.patience import LOADED
from tests.run.test_workers import clones, ended, queued, storyboard

HOLD = 7_283_401  # the advisory lock that holds alice's claim open, row lock and all

# Alice's claim, once it has updated its job (and so holds the row's lock), waits for HOLD
# before its transaction commits: the test decides when it ends.
HELD_CLAIM = """
CREATE FUNCTION held_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(%(hold)s);
    RETURN NEW;
END $$;
CREATE TRIGGER held_claim AFTER UPDATE ON procrastinate_jobs FOR EACH ROW
    WHEN (NEW.worker_id = %(alice)s AND NEW.status = 'doing') EXECUTE FUNCTION held_claim();
"""


class EngineWorker:
    """A worker as the engine knows one: registered, claiming with its own function."""

    def __init__(self, url: str) -> None:
        self.db = psycopg.connect(url, autocommit=True)
        row = self.db.execute("SELECT worker_id FROM procrastinate_register_worker_v1()"
                              ).fetchone()
        assert row is not None
        self.id = int(row[0])

    def claim(self) -> int | None:
        """The job the engine hands this worker (None: none)."""
        row = self.db.execute("SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)",
                              (self.id,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def give_back(self, job: int) -> None:
        self.db.execute("SELECT procrastinate_retry_job_v2(%s, now(), NULL, NULL, NULL)", (job,))

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def queue(pg_url: str) -> Iterator[PgQueue]:
    session = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        yield PgQueue(session)
    finally:
        session.close()


def waiting_on_locks(db: psycopg.Connection[Any]) -> int:
    """How many other sessions of this database wait for a lock now."""
    row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def claiming(worker: EngineWorker) -> tuple[threading.Thread, list[int | None]]:
    got: list[int | None] = []
    thread = threading.Thread(target=lambda: got.append(worker.claim()))
    thread.start()
    return thread, got


def test_two_workers_claiming_at_the_same_instant_get_different_jobs(
        pg_url: str, queue: PgQueue) -> None:
    """Alice's claim holds the first job's lock, uncommitted, while Bob claims: he gets the
    next job at once (he skips hers, never waits for it nor takes it too)."""
    queue.enqueue("s", "comfyui", [NewShot("ep01/a", "a" * 64), NewShot("ep01/b", "b" * 64)],
                  budget=0.0, queued_by="test")
    alice, bob = EngineWorker(pg_url), EngineWorker(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(HELD_CLAIM % {"hold": HOLD, "alice": alice.id})
        db.execute("SELECT pg_advisory_lock(%s)", (HOLD,))
        first, hers = claiming(alice)
        try:
            wait_until(lambda: waiting_on_locks(db) == 1)  # her job updated, held open
            second, his = claiming(bob)
            wait_until(lambda: not second.is_alive() or waiting_on_locks(db) == 2)
            done_while_held = not second.is_alive()
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (HOLD,))
            first.join(LOADED)
            second.join(LOADED)
    try:
        shots = {s.id: s.shot for s in queue.shots()}
        assert shots[hers[0] or 0] == "ep01/a" and shots[his[0] or 0] == "ep01/b"
        assert done_while_held, "bob's claim waited for alice's"
        assert {s.shot: s.state for s in queue.shots()} == {"ep01/a": "claimed",
                                                            "ep01/b": "claimed"}
    finally:
        alice.close()
        bob.close()


def silence(url: str) -> float | None:
    """Seconds since the heartbeat of the worker of the one claimed job (None: none claimed)."""
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT extract(epoch from now() - w.last_heartbeat) FROM "
                         "procrastinate_jobs j JOIN procrastinate_workers w ON w.id = "
                         "j.worker_id WHERE j.status = 'doing'").fetchone()
    return None if row is None else float(row[0])


def test_a_worker_on_a_job_longer_than_its_lease_keeps_its_claim(
        tmp_path: Path, pg_url: str, queue: PgQueue) -> None:
    """A 3 s lease, a 7 s job: the heartbeat keeps the worker alive all along, so a sweep (what
    every worker runs) never hands the shot on, another worker asking the whole time never gets
    it, and the worker that took it reports it done after one try."""
    with ComfyUIServer(ComfyConfig(job_time=7.0, plain=True)) as gpu:
        alice, _ = clones(tmp_path, (gpu,), pg_url)
        child = storyboard(alice.parent, "queue", "render", alice.name, "--shot", "ep01/ballad")
        out, err = child.communicate(timeout=LOADED)
        assert child.returncode == 0, out + err
        assert [s.shot for s in queued(pg_url)] == ["ep01/ballad"]
        worker = storyboard(alice.parent, "worker", "--ledger", pg_url, "--drain", "--lease", "3")
        thief = EngineWorker(pg_url)
        try:
            wait_until(lambda: bool(prompts(gpu)) or worker.poll() is not None)  # the job runs
            started, longest = time.monotonic(), 0.0
            while worker.poll() is None and (quiet := silence(pg_url)) is not None:
                longest = max(longest, quiet)
                handed = engine.sweep(queue.session, 3.0)
                assert handed == [] and thief.claim() is None, \
                    f"its claim lapsed {time.monotonic() - started:.1f} s into the job"
                time.sleep(0.1)
            said = ended(worker)
        finally:
            thief.close()
            if worker.poll() is None:
                worker.kill()
                worker.communicate(timeout=LOADED)
        assert list(prompts(gpu).values()) == [1]  # its one prompt, sent once
    assert time.monotonic() - started > 3.0  # the job outlasted its lease
    # it beats every third of its lease: never near a lease's silence (beating every lease, it
    # would come within a poll of losing the shot each time)
    assert longest < 2.5, f"its worker was silent {longest:.2f} s of a 3 s lease"
    assert "1 done" in said and "handed on" not in said, said
    [shot] = queued(pg_url)
    assert shot.state == "done" and shot.attempts == 1 and shot.given_back == 0


def test_a_silent_workers_shot_is_handed_on_then_fails_after_its_retries(
        pg_url: str, queue: PgQueue) -> None:
    """A shot whose worker stops beating (killed by it, say) goes back to the queue on the next
    sweep after a lease, counted as a try; after its retries (2) it ends failed, saying why,
    never handed out again."""
    queue.enqueue("s", "comfyui", [NewShot("ep01/poison", "p" * 64)], budget=0.0,
                  queued_by="test")
    for attempt in range(3):
        worker = EngineWorker(pg_url)  # a fresh worker takes it, then goes silent (dies)
        try:
            job = worker.claim()
            assert job is not None, f"try {attempt + 1}: not handed on"
            assert engine.sweep(queue.session, 1.0) == []  # it beat a moment ago
            time.sleep(1.2)
            handed = engine.sweep(queue.session, 1.0)
        finally:
            worker.close()
        assert handed == [("ep01/poison", attempt == 2)]
    [shot] = queue.shots()
    assert shot.state == "failed" and shot.tries == 3
    assert "stopped beating 3 time(s)" in shot.message
    late = EngineWorker(pg_url)
    assert late.claim() is None
    late.close()


def test_a_database_restart_is_no_workers_death(own_pg_cluster: pg_server.PgServer) -> None:
    """The server stopped longer than a lease and started again: nobody could beat, so neither
    the sweep nor a starting worker's prune counts it against the shot's worker; once it has
    been up a lease and that worker is still silent, the sweep hands its shot on."""
    session = PgLedger(LedgerSettings(own_pg_cluster.url, "test"))
    try:
        queue = PgQueue(session)
        queue.enqueue("s", "comfyui", [NewShot("ep01/held", "p" * 64)], budget=0.0,
                      queued_by="test")
        worker = EngineWorker(own_pg_cluster.url)
        assert worker.claim() is not None
        worker.close()
        own_pg_cluster.halt()
        time.sleep(1.5)
        own_pg_cluster.resume()
        assert engine.sweep(session, 1.0) == []
        manager = engine.SteadyManager(PsycopgConnector(conninfo=own_pg_cluster.url), 5.0)
        assert asyncio.run(pruned(manager)) == []
        time.sleep(1.2)
        assert engine.sweep(session, 1.0) == [("ep01/held", False)]
    finally:
        session.close()


async def pruned(manager: engine.SteadyManager) -> list[int]:
    await manager.connector.open_async()
    try:
        return await manager.prune_stalled_workers(1.0)
    finally:
        await manager.connector.close_async()
