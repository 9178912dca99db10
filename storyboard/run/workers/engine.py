"""The job engine under the queue (Procrastinate): its app on the team's database, what a shot's
end means to it (retried, given back, failed), the queues a worker listens to, and the sweep that
hands a silent worker's shots on.

- A shot that fails is tried again (``ShotRetry``) until it has failed ``retries + 1`` times, then
  it is ``failed`` with its last error (``PgQueue.report`` keeps it for ``status``).
- A shot given back (a clone that compiles it otherwise, a worker stopping, a task still
  running at the provider) goes back to the queue without counting as one of its tries.
- A worker beats every third of its ``lease``; a shot whose worker has not beaten for a whole
  lease is handed on by whichever worker sweeps first (``sweep``), and counted as a try: a shot
  that kills every worker that takes it ends ``failed`` after its retries, never handed out
  forever.
- The ledger going away is nobody's death: a worker silent only since the database last started
  is not stalled (``SWEEP``, ``PRUNE``), and a worker whose sweep lost the ledger waits a lease
  after it is back before it sweeps again, so every worker has beaten by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from itertools import combinations
from typing import TYPE_CHECKING, Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager

from storyboard.backoff import RetryPolicy
from storyboard.errors import StoryboardError
from storyboard.run.team.pg import advisory_key
from storyboard.run.team.queue_pg import queue_name
from storyboard.run.workers.jobs import SHOTS
from storyboard.targets.kinds import NAMES

if TYPE_CHECKING:
    from storyboard.run.team.pg import Session

log = logging.getLogger("storyboard.run")

__all__ = ["app_on", "queues", "reach", "sweep", "waiting"]

MOST_TAGS = 10  # a worker listens to every subset of its tags: 2**10 queues per provider
SWEEP_LOCK = advisory_key("storyboard queue sweep")  # one sweeper at a time
# Seconds between tries of a job's end while the ledger is away (0.2, doubled, at most 2).
AWAY = RetryPolicy(base=0.2, cap=2.0, jitter=False)


PRUNE = """
DELETE FROM procrastinate_workers
 WHERE greatest(last_heartbeat, pg_postmaster_start_time()) < now() - make_interval(secs => %(seconds)s)
RETURNING id
"""


class SteadyManager(JobManager):
    """The engine's calls as a worker makes them, riding out the database going away a while
    (a restart): a claim or a heartbeat that cannot be made is let go (the next one comes),
    a job's end is tried again, waiting longer each time, for up to ``patience`` seconds."""

    def __init__(self, connector: PsycopgConnector, patience: float) -> None:
        super().__init__(connector)
        self.patience = patience

    async def _again(self, call: Callable[[], Awaitable[None]]) -> None:
        lost, tries = time.monotonic(), 0
        while True:
            try:
                return await call()
            except ConnectorException as error:
                if isinstance(error, UniqueViolation) or \
                        time.monotonic() - lost > self.patience:
                    raise
                log.warning("the team ledger is away (%s): trying again", error)
                tries += 1
                await asyncio.sleep(AWAY.delay(tries))

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> Job | None:
        try:
            return await super().fetch_job(queues, worker_id)
        except ConnectorException as error:
            log.warning("the team ledger is away (%s): no job taken", error)
            return None

    async def update_heartbeat(self, worker_id: int) -> None:
        try:
            await super().update_heartbeat(worker_id)
        except ConnectorException as error:
            log.warning("the team ledger is away (%s): a heartbeat missed", error)

    async def finish_job(self, job: Job, status: Status, delete_job: bool) -> None:
        await self._again(lambda: super(SteadyManager, self).finish_job(job, status, delete_job))

    async def retry_job(self, job: Job, retry_at: datetime | None = None,
                        priority: int | None = None, queue: str | None = None,
                        lock: str | None = None) -> None:
        await self._again(lambda: super(SteadyManager, self).retry_job(
            job, retry_at, priority, queue, lock))

    async def prune_stalled_workers(self, seconds_since_heartbeat: float) -> list[int]:
        """Procrastinate's prune, but a worker silent only since the database started is not
        stalled: a restart cut every worker off at once."""
        rows = await self.connector.execute_query_all_async(
            query=PRUNE, seconds=seconds_since_heartbeat)
        return [row["id"] for row in rows]

    async def unregister_worker(self, worker_id: int) -> None:
        with contextlib.suppress(ConnectorException):  # its row goes with the next prune
            await super().unregister_worker(worker_id)


def app_on(url: str, patience: float) -> App:
    """The engine's app on the team's database (its pool opened by ``open_async``), its calls
    riding out a restart of the database (``SteadyManager``), running the tasks ``jobs.SHOTS``
    declares (a worker's own app: one process may run several workers)."""
    connector = PsycopgConnector(conninfo=url, min_size=1, max_size=4, timeout=5.0,
                                 kwargs={"application_name": "storyboard-worker"})
    app = App(connector=connector)
    app.job_manager = SteadyManager(connector, patience)
    for task in SHOTS.tasks.values():  # the queue's task, declared once in ``jobs``
        app.add_task_alias(task, task.name)
    return app


def queues(providers: Sequence[str], tags: Sequence[str]) -> list[str]:
    """The queues a worker serving ``providers`` (every one when empty) with ``tags`` listens
    to: each provider's with every set of tags it has."""
    if len(tags) > MOST_TAGS:
        raise StoryboardError(f"--tags: at most {MOST_TAGS} tags a worker, got {len(tags)}")
    sets = [c for n in range(len(tags) + 1) for c in combinations(sorted(tags), n)]
    return [queue_name(p, s) for p in (providers or NAMES) for s in sets]


# The sweep is storyboard's own SQL, not the engine's public calls, where those do not fit:
# - ``JobManager.get_stalled_jobs(seconds_since_heartbeat=)`` takes a worker whose last beat is
#   older than the lease for stalled; after a restart of the database every worker's is (none
#   could beat meanwhile), so every running shot would be handed on as a try. ``SWEEP`` takes a
#   beat from before the server started as made at its start (as ``PRUNE`` does for the
#   engine's own prune), and reads storyboard's columns (``given_back``, ``retries``) with it.
# - ``JobManager.retry_job_by_id`` and ``finish_job_by_id_async`` take no ``connection``: run
#   here they would wait for the rows this transaction holds (``FOR UPDATE``, so that no two
#   sweepers and no worker's own end act on a shot at once). So the two ends call the SQL
#   functions those methods run (``sql/queries.sql``: ``retry_job``, ``finish_job``), by the
#   names of the engine's 3.x schema; pyproject.toml bounds the engine below 4 and
#   ``tests/run/test_workers_upgrade.py`` checks they are still the ones the engine runs.
# Defer and cancel go through the public calls (``team/engine_pg``), in storyboard's transaction.
SWEEP = """
SELECT j.id, j.attempts, s.given_back, s.retries, s.shot
  FROM procrastinate_jobs j JOIN storyboard_queue_shots s ON s.job_id = j.id
  LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
 WHERE j.status = 'doing'
   AND (j.worker_id IS NULL
        OR greatest(w.last_heartbeat, pg_postmaster_start_time()) < now() - make_interval(secs => %s))
 ORDER BY j.id FOR UPDATE OF j SKIP LOCKED
"""
RETRY = "SELECT procrastinate_retry_job_v2(%s, now(), NULL, NULL, NULL)"  # JobManager.retry_job's
FAIL = "SELECT procrastinate_finish_job_v1(%s, 'failed', false)"  # JobManager.finish_job's


def sweep(session: Session, lease: float) -> list[tuple[str, bool]]:
    """The shots of workers silent for ``lease`` seconds (or gone) handed on: back in the queue,
    or ``failed`` once they have no retries left; each shot's name and whether it failed."""
    def work(db: Any) -> list[tuple[str, bool]]:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (SWEEP_LOCK,))
        handed = []
        for job_id, attempts, given_back, retries, shot in db.execute(SWEEP, (lease,)):
            failures = attempts - given_back + 1
            if failures > retries:
                db.execute("UPDATE storyboard_queue_shots SET message = %s WHERE job_id = %s",
                           (f"its worker stopped beating {failures} time(s) while rendering it "
                            f"(no heartbeat for {lease:g} s)", job_id))
                db.execute(FAIL, (job_id,))
            else:
                db.execute(RETRY, (job_id,))
            handed.append((shot, failures > retries))
        return handed
    result: list[tuple[str, bool]] = session.transact(work)
    return result


def reach(session: Session) -> None:
    """Whether the ledger answers (``StoryboardError`` when it does not)."""
    session.transact(lambda db: db.execute("SELECT 1"))


WAITING = """
SELECT count(*) FROM procrastinate_jobs j JOIN storyboard_queue_shots s ON s.job_id = j.id
 WHERE j.queue_name = ANY(%s) AND j.status IN ('todo', 'doing') AND NOT (j.id = ANY(%s))
"""


def waiting(session: Session, names: Sequence[str], refused: Iterable[int]) -> int:
    """How many shots of these queues are queued or taken (but those this worker refused)."""
    params = (list(names), sorted(refused))
    rows = session.transact(lambda db: db.execute(WAITING, params).fetchall())
    return int(rows[0][0])
