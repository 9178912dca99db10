"""Task ids into finished tasks: polling with backoff, and resuming a task the journal holds.
"""

from __future__ import annotations

import asyncio
import logging

from storyboard.language.request import CompiledShot
from storyboard.run.checks import (
    describe,
)
from storyboard.run.download import Downloading
from storyboard.run.journal import REDOWNLOAD, Attempt
from storyboard.run.lockfile import shot_key
from storyboard.run.model import (
    DEFAULT_POLL_SCHEDULE,
    ShotResult,
)
from storyboard.run.pacing import Lease
from storyboard.run.session import Gone, Outcome
from storyboard.targets import TaskState, TaskStatus

log = logging.getLogger("storyboard.run")


class Polling(Downloading):
    async def poll(self, shot: CompiledShot, attempt_id: int, task_id: str, *,
                   immediate: bool) -> TaskState:
        """Query on the schedule until the task finishes, or give up (it stays journaled)."""
        schedule = self.options.poll_schedule or DEFAULT_POLL_SCHEDULE
        deadline = self.clock() + self.options.max_wait
        step, errors, last = (0 if immediate else 1), 0, ""
        first_error = self.clock()
        if not immediate:
            await self.sleep(schedule[0])
        while True:
            try:
                await self.query_bucket.take()
                state = await self.call(self.provider.query(task_id))
                errors = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                errors += 1
                first_error = self.clock() if errors == 1 else first_error
                if not self.ask_again(exc, errors, first_error):
                    raise self.pending(shot, task_id, f"cannot ask about the task: "
                                       f"{describe(exc)}") from exc
                await self.backoff(errors, exc)
                continue
            if state.status != last:
                last = state.status
                await self.record_status(shot, attempt_id, state)
            if state.status.finished:
                return state
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise self.pending(shot, task_id, f"still {state.status} after "
                                   f"{self.options.max_wait:.0f} s")
            await self.sleep(min(schedule[min(step, len(schedule) - 1)], remaining))
            step += 1

    async def record_status(self, shot: CompiledShot, attempt_id: int, state: TaskState) -> None:
        if state.status in (TaskStatus.RUNNING, TaskStatus.SUSPENDED):
            await self.db(self.journal.set_state, attempt_id, "running", status=state.status)
            self.emit(shot, "running", state.status, state.task_id)
        elif not state.status.finished:
            await self.db(self.journal.set_status, attempt_id, state.status)

    async def resume(self, shot: CompiledShot, attempt: Attempt, why: str) -> ShotResult:
        assert attempt.task_id is not None
        self.slots.force()
        slot = Lease(self.slots)
        self.resumed.add(shot_key(shot))  # paid when submitted: no budget reserved for it
        try:
            self.emit(shot, "submitted", why, attempt.task_id)
            state = await self.poll(shot, attempt.id, attempt.task_id, immediate=True)
            slot.release()  # the task no longer runs at the provider: let the next one start
            if state.status == TaskStatus.UNKNOWN and REDOWNLOAD in (attempt.note or ""):
                await self.db(self.journal.set_state, attempt.id, "lost",
                              note="the provider no longer has this result")
                raise Gone()
            result = await self.finish(shot, attempt.id, state)
        except Outcome as outcome:
            outcome.result.resumed = True
            raise
        finally:
            slot.release()
            self.resumed.discard(shot_key(shot))  # a resubmit after ``Gone`` is new spending
        result.resumed = True
        return result

