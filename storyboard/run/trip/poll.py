"""Task ids into finished tasks: polling with backoff, and resuming a task the journal holds.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from storyboard.language.request import CompiledShot
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.state.tasks.journal import REDOWNLOAD, Attempt
from storyboard.run.trip.budget.money import Money
from storyboard.run.trip.download import Downloader
from storyboard.run.trip.events import Events, Outcome
from storyboard.run.trip.guards.verdicts import (
    describe,
)
from storyboard.run.trip.model import (
    DEFAULT_POLL_SCHEDULE,
    ShotResult,
)
from storyboard.run.trip.pace.pacing import GONE, Pacing
from storyboard.run.trip.session import Gone, Session
from storyboard.targets import TaskState, TaskStatus

log = logging.getLogger("storyboard.run")


@dataclass
class Unknown:
    """How long one task has answered a status word we do not know, and how many times."""

    since: float | None = None
    answers: int = 0


def unknown_message(task_id: str, word: str, waited: float) -> str:
    return (f"task {task_id} has answered {word} for {waited:.0f} s: a status word storyboard "
            "does not know, so the task may still be running and billed. Nothing was submitted "
            "again; it stays in flight in the journal and the next run polls it again. Look it "
            "up in the provider's console; if it is gone, `storyboard task forget SERIES SHOT` "
            "lets the next run submit anew (a second payment)")


class Poller:
    """Task ids into finished tasks, then into results through the ``Downloader``."""

    def __init__(self, session: Session, money: Money, events: Events, pacing: Pacing,
                 downloader: Downloader) -> None:
        self.session, self.money, self.events, self.pacing = session, money, events, pacing
        self.downloader = downloader

    async def poll(self, shot: CompiledShot, attempt_id: int, task_id: str, *,
                   immediate: bool, unknown_ends: bool = False) -> TaskState:
        """Query on the schedule until the task finishes, or give up (it stays journaled). A
        status word we do not know (UNKNOWN) is polled on, backing off, for ``unknown_patience``
        before the shot stops as ``AmbiguousTask``; only ``unknown_ends`` (a restored result
        the provider may have dropped) returns it."""
        self.events.follow(shot, task_id)
        try:
            return await self._poll(shot, attempt_id, task_id, immediate=immediate,
                                    unknown_ends=unknown_ends)
        finally:
            self.events.following.pop(task_id, None)

    async def _poll(self, shot: CompiledShot, attempt_id: int, task_id: str, *,
                    immediate: bool, unknown_ends: bool) -> TaskState:
        session = self.session
        events, pacing = self.events, self.pacing
        schedule = session.options.poll_schedule or DEFAULT_POLL_SCHEDULE
        since = pacing.clock()  # its rank for the query bucket: the longest-running first
        deadline = since + session.options.max_wait
        step, last, unknown = (0 if immediate else 1), "", Unknown()
        if not immediate:
            await self.pause(task_id, self.first_wait(shot, schedule[0]))
        while True:
            state = await self.ask(shot, task_id, since)
            if state.status != last:
                last = state.status
                await self.record_status(shot, attempt_id, state)
            if state.status.finished or (state.status is TaskStatus.UNKNOWN and (
                    unknown_ends or state.code == GONE)):
                if state.status is TaskStatus.SUCCEEDED and not immediate:
                    self.seen_done(shot, pacing.clock() - since, state.ran)
                return state
            self.still_unknown(shot, state, unknown)
            remaining = deadline - pacing.clock()
            if remaining <= 0:
                raise events.pending(shot, task_id, f"still {state.status} after "
                                     f"{session.options.max_wait:.0f} s")
            delay = schedule[min(step, len(schedule) - 1)] * 2 ** unknown.answers
            await self.pause(task_id, min(delay, max(session.options.backoff_cap, schedule[-1]),
                                          remaining))
            step += 1

    def first_wait(self, shot: CompiledShot, scheduled: float) -> float:
        """The wait before a new task's first poll: the schedule's, or the quickest a task of
        its model was seen done in this run when that is longer. A poll before it would only
        hear "running", and spend a query the tasks likely done need when queries are scarce
        (the cast's sheets teach their model's time to the boards that follow them)."""
        return max(scheduled, self.session.shortest.get(shot.request.model, 0.0))

    def seen_done(self, shot: CompiledShot, seconds: float, ran: float | None) -> None:
        """Note a task of ``shot``'s model seen done ``seconds`` after its submit; ``ran``:
        how long the service says it took (shorter: the poll that saw it came after its end)."""
        if ran is not None and math.isfinite(ran):
            seconds = min(seconds, ran)
        shortest = self.session.shortest
        model = shot.request.model
        shortest[model] = min(seconds, shortest.get(model, seconds))

    async def pause(self, task_id: str, seconds: float) -> None:
        """Wait ``seconds``, or less when the provider hears the task end first (pushed to it:
        ComfyUI's ``/ws``). Each end it hears cuts one wait short, never more."""
        session = self.session
        pacing = self.pacing
        ended = session.provider.ended(task_id)
        if ended is None:
            await pacing.sleep(seconds)
            return
        if not ended.is_set():
            waits = [asyncio.ensure_future(pacing.sleep(seconds)),
                     asyncio.ensure_future(ended.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        ended.clear()

    async def ask(self, shot: CompiledShot, task_id: str, since: float = 0.0) -> TaskState:
        """One answer about the task; passing errors are asked again (with backoff), never taken
        for an answer. ``since``: when its polling began; when queries are scarce, the task
        polled longest is asked first (``TokenBucket.take``)."""
        session = self.session
        events, pacing = self.events, self.pacing
        errors, first_error = 0, pacing.clock()
        while True:
            try:
                await pacing.query_bucket.take(since)
                return await pacing.call(session.provider.query(task_id))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                errors += 1
                first_error = pacing.clock() if errors == 1 else first_error
                if not pacing.ask_again(exc, errors, first_error):
                    raise events.pending(shot, task_id, f"cannot ask about the task: "
                                         f"{describe(exc)}") from exc
                await pacing.backoff(errors, exc)

    def still_unknown(self, shot: CompiledShot, state: TaskState, unknown: Unknown) -> None:
        """Count an UNKNOWN answer (say so once); past ``unknown_patience`` stop the shot as
        ambiguous, its task left in flight for the next run to poll."""
        session = self.session
        events, pacing = self.events, self.pacing
        if state.status is not TaskStatus.UNKNOWN:
            unknown.since, unknown.answers = None, 0
            return
        word = state.message or str(state.status)
        if unknown.since is None:
            unknown.since = pacing.clock()
            events.emit(shot, "running", f"task {state.task_id} answers {word}: a status word "
                        "storyboard does not know; polling it on (backing off), never submitting "
                        "again", state.task_id)
        unknown.answers = min(unknown.answers + 1, 6)
        waited = pacing.clock() - unknown.since
        if waited >= session.options.unknown_patience:
            raise events.end(shot, "pending", unknown_message(state.task_id, word, waited),
                             "failed", task_id=state.task_id, code="AmbiguousTask")

    async def record_status(self, shot: CompiledShot, attempt_id: int, state: TaskState) -> None:
        session = self.session
        events = self.events
        if state.status in (TaskStatus.RUNNING, TaskStatus.SUSPENDED):
            await session.db(session.journal.set_state, attempt_id, "running", status=state.status)
            events.emit(shot, "running", state.status, state.task_id)
        elif not state.status.finished:
            await session.db(session.journal.set_status, attempt_id, state.status)

    async def resume(self, shot: CompiledShot, attempt: Attempt, why: str) -> ShotResult:
        session = self.session
        money, events, pacing = self.money, self.events, self.pacing
        assert attempt.task_id is not None
        slot = await pacing.take_slot(shot, session.provider, force=True)
        money.resumed.add(shot_key(shot))  # paid when submitted: no budget reserved for it
        try:
            events.emit(shot, "submitted", why, attempt.task_id)
            redownload = REDOWNLOAD in (attempt.note or "")
            state = await self.poll(shot, attempt.id, attempt.task_id, immediate=True,
                                    unknown_ends=redownload)
            slot.release()  # the task no longer runs at the provider: let the next one start
            if state.status == TaskStatus.UNKNOWN and (redownload or state.code == GONE):
                await session.db(session.journal.set_state, attempt.id, "lost",
                                 note="the provider no longer has this result")
                raise Gone()
            result = await self.downloader.finish(shot, attempt.id, state)
        except Outcome as outcome:
            outcome.result.resumed = True
            raise
        finally:
            slot.release()
            money.resumed.discard(shot_key(shot))  # a resubmit after ``Gone`` is new spending
        result.resumed = True
        return result

