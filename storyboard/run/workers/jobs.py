"""One job of the engine into one queued shot rendered by the worker's open run: the task the
engine runs (``storyboard.shot``), and what its end tells the engine.

- done: the job succeeds; what it was billed and what its run's budget counted are reported.
- failed at the provider: tried again after a backoff until its retries are spent, then
  ``failed`` for good with its last error; skipped or blocked (the budget, a missing source):
  ``failed`` at once, as trying again changes nothing.
- refused (this clone compiles it otherwise, or cannot compile its series), or its task still
  running at the provider, or the team ledger's server out of reach as its run opens, or the
  clone's run lock held by another run (a second worker on the same folder, a render of your
  own: runs of one folder take turns), or the worker stopping: given back, not one of its
  tries.
- its render cancelled while it runs: its paid task settles (ends, is downloaded and kept), the
  job ends cancelled and is never tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from procrastinate import Blueprint, RetryDecision
from procrastinate.job_context import AbortReason, JobContext
from procrastinate.jobs import Job as EngineJob
from procrastinate.retry import BaseRetryStrategy

from storyboard.backoff import RetryPolicy
from storyboard.errors import LedgerAway, RunBusy, StoryboardError
from storyboard.run.team.queue_pg import TASK

if TYPE_CHECKING:
    from storyboard.language.request import CompiledShot
    from storyboard.run.team.queue_pg import PgQueue, QueuedShot
    from storyboard.run.trip.model import ShotResult
    from storyboard.run.workers.stream import Live

# The queue's one task, declared here, at module level, as Procrastinate declares tasks; each
# worker's app runs it (``engine.app_on``), the worker that took the job in its context.
SHOTS = Blueprint()
WORKER = "worker"  # the key of that worker in the job's ``additional_context``
REFUSED_WAIT = 5.0  # seconds before a refused shot may be taken again (by another worker)
TURN_WAIT = 5.0  # seconds before a shot given back for another run's lock is taken again


@dataclass
class Tally:
    """What a worker did: shots done, failed (for good), retried, given back."""

    done: int = 0
    failed: int = 0
    retried: int = 0
    returned: int = 0


class Host(Protocol):
    """What a job needs of its worker: the queue, its open runs, its tally, how it speaks."""

    queue: PgQueue
    tally: Tally
    refused: set[int]  # jobs this clone compiles to another hash
    waited: set[int]  # jobs given back for another run's lock on the clone
    active: int  # jobs it runs now

    @property
    def name(self) -> str: ...
    def say(self, kind: str, **fields: Any) -> None: ...
    def folder_of(self, row: QueuedShot) -> Path: ...
    async def live_for(self, row: QueuedShot) -> Live: ...


class CloneCannot(StoryboardError):
    """This clone cannot compile the shot's series: another worker's may."""


class Job:
    """The task the engine runs for each queued shot, bound to one worker."""

    def __init__(self, worker: Host) -> None:
        self.worker = worker

    async def run(self, context: JobContext, /, **_args: Any) -> str:
        w = self.worker
        job_id = context.job.id
        assert job_id is not None
        row = await asyncio.to_thread(w.queue.shot, job_id)
        if row is None:
            raise ShotFailed(f"job {job_id} is not a shot storyboard queued")
        w.active += 1
        try:
            await asyncio.to_thread(w.queue.taken, job_id, w.name)
            return await self._render(context, row)
        finally:
            w.active -= 1

    async def _render(self, context: JobContext, row: QueuedShot) -> str:
        w = self.worker
        try:
            live = await w.live_for(row)
        except CloneCannot as error:
            return await self._refuse(row, str(error))
        except RunBusy as error:  # another run on the clone: this one takes its turn later
            return await self._wait_turn(row, w.folder_of(row), error.holder)
        except LedgerAway as error:  # nobody's fault: given back, not one of its tries
            with contextlib.suppress(StoryboardError):  # away still: counted as a try, then
                await self._report(row, 0.0, 0.0, "", given_back=True)
            w.tally.returned += 1
            raise GiveBack(str(error), REFUSED_WAIT) from error
        except StoryboardError as error:  # the run could not open: the shot fails, saying why
            return await self._ended(context, row, "failed", str(error), final=True)
        shot = live.shots.get(row.shot_hash)
        if shot is None:
            return await self._refuse(row, f"{w.folder_of(row)} does not compile it to "
                                           f"{row.shot_hash[:12]} (a clone at another commit, or "
                                           "edited?)")
        spent = await asyncio.to_thread(w.queue.spent, row.render_id)
        budget = max(0.0, row.budget - max(0.0, spent - live.reported))
        result = await self._feed(context, row, live, shot, budget)
        if result.state == "pending":  # its task still runs: resumed by whoever takes it
            self.worker.tally.returned += 1
            raise GiveBack("its task still runs at the provider")
        if result.ok:
            return await self._ended(context, row, "done", result.task_id or result.state)
        return await self._ended(context, row, "failed", result.message,
                                 final=result.state != "failed")

    async def _feed(self, context: JobContext, row: QueuedShot, live: Live,
                    shot: CompiledShot, budget: float) -> ShotResult:
        """The shot fed to the run, its money reported; a cancelled render's shot settles and
        the job ends cancelled; a stopping worker's shot stops (journaled) and is given back."""
        feed, cast = live.start(shot, budget)
        try:
            result = await asyncio.shield(feed)
        except asyncio.CancelledError:
            if context.abort_reason() == AbortReason.USER_REQUEST:
                result = await feed  # paid for: it ends, is kept, and is never tried again
                await self._report(row, result.cost, live.counted(shot, cast, result),
                                   f"cancelled with its render ({result.state})")
                self.worker.say("cancelled", shot=row.shot, render=row.render_id,
                                job=row.id, message=result.state)
                raise
            feed.cancel()
            await asyncio.gather(feed, return_exceptions=True)
            await self._report(row, 0.0, 0.0, "", given_back=True)
            self.worker.tally.returned += 1
            raise GiveBack("the worker stopped") from None
        finally:
            live.ended()
        pending = result.state == "pending"
        await self._report(row, 0.0 if pending else result.cost, live.counted(shot, cast, result),
                           "", given_back=pending)
        return result

    async def _report(self, row: QueuedShot, cost: float, counted: float, message: str, *,
                      given_back: bool = False) -> None:
        await asyncio.to_thread(self.worker.queue.report, row.id, cost=cost, counted=counted,
                                message=message, given_back=given_back)

    async def _refuse(self, row: QueuedShot, why: str) -> NoReturn:
        w = self.worker
        first = row.id not in w.refused
        w.refused.add(row.id)
        await self._report(row, 0.0, 0.0, "", given_back=True)
        w.tally.returned += first
        if first:
            w.say("refused", shot=row.shot, render=row.render_id, job=row.id, message=why)
        raise GiveBack(why, REFUSED_WAIT)

    async def _wait_turn(self, row: QueuedShot, folder: Path, holder: str) -> NoReturn:
        """Given back, not one of its tries: another run (a worker on the same clone, a render
        of your own) holds the clone's run lock; taken again once ``TURN_WAIT`` has passed."""
        w = self.worker
        why = (f"waiting for its turn: another run holds {folder}'s run lock (pid {holder}); "
               f"taken again in {TURN_WAIT:g} s")
        await self._report(row, 0.0, 0.0, why, given_back=True)
        if row.id not in w.waited:
            w.waited.add(row.id)
            w.tally.returned += 1
            w.say("given back", shot=row.shot, render=row.render_id, job=row.id, message=why)
        raise GiveBack(why, TURN_WAIT)

    async def _ended(self, context: JobContext, row: QueuedShot, state: str, message: str, *,
                     final: bool = False) -> str:
        """A try's end told: done, retried, or failed for good (the engine's decision follows
        from the exception raised)."""
        w = self.worker
        await self._report(row, 0.0, 0.0, message)
        fields = {"shot": row.shot, "render": row.render_id, "job": row.id, "message": message}
        if state == "done":
            w.tally.done += 1
            w.say("done", **fields)
            return message
        failures = context.job.attempts - row.given_back + 1
        if final or failures > row.retries:
            w.tally.failed += 1
            w.say("failed", tries=failures, **fields)
            raise ShotFailed(message)
        wait = backoff(failures)
        w.tally.retried += 1
        w.say("retried", tries=failures, retries=row.retries, wait=wait, **fields)
        raise Retry(message, wait)


class GiveBack(Exception):
    """The shot goes back to the queue, not one of its tries; taken again after ``wait`` s."""

    def __init__(self, why: str, wait: float = 0.0) -> None:
        super().__init__(why)
        self.wait = wait


class Retry(Exception):
    """The shot failed and has retries left: tried again after ``wait`` seconds."""

    def __init__(self, why: str, wait: float) -> None:
        super().__init__(why)
        self.wait = wait


class ShotFailed(Exception):
    """The shot failed for the last time."""


class ShotRetry(BaseRetryStrategy):
    """The engine's retry decision, as the task said it: given back or retried, else final."""

    def get_retry_decision(self, *, exception: BaseException, job: EngineJob) -> RetryDecision | None:
        if isinstance(exception, (GiveBack, Retry)):
            return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=exception.wait))
        return None


# Seconds before a failed shot is tried again: 2, doubled each try, at most a minute.
BACKOFF = RetryPolicy(base=2.0, cap=60.0, jitter=False)


def backoff(failures: int) -> float:
    """Seconds before the next try of a shot that failed ``failures`` times."""
    return BACKOFF.delay(max(1, failures))


@SHOTS.task(name=TASK, pass_context=True, retry=ShotRetry())
async def shot(context: JobContext, /, **args: Any) -> str:
    """A queued shot, rendered by the worker whose engine took it (``Job``)."""
    worker: Host = context.additional_context[WORKER]
    return await Job(worker).run(context, **args)
