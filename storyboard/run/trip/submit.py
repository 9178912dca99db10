"""Shots into paid tasks: snapshot the inputs, journal the intent, send, and retry only what
provably never arrived.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import NoReturn

from storyboard.errors import ProviderError
from storyboard.language.request import CompiledShot
from storyboard.providers.base import watching
from storyboard.run.state.castinputs import padded, substituted
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.state.tasks.journal import Attempt
from storyboard.run.team.ledger import LedgerEntry, ShotClaimed
from storyboard.run.trip import claims
from storyboard.run.trip.budget.money import Money
from storyboard.run.trip.download import Downloader
from storyboard.run.trip.events import Events
from storyboard.run.trip.guards.inputs import InputChanged, snapshot_inputs
from storyboard.run.trip.guards.verdicts import (
    describe,
    is_ambiguous,
    made_input_problem,
    made_voice_problem,
    may_have_made,
    retryable,
)
from storyboard.run.trip.model import (
    ShotResult,
)
from storyboard.run.trip.pace.gates import Busy, Lease
from storyboard.run.trip.pace.pacing import Pacing
from storyboard.run.trip.poll import Poller
from storyboard.run.trip.reconcile import (
    LOST_ANSWER,
    Reconciler,
    never_listed,
    waiting_for,
)
from storyboard.run.trip.session import Session
from storyboard.targets.kinds import classify_failure

log = logging.getLogger("storyboard.run")


class Submitter:
    """Shots into sent tasks, followed to their results: the ``Reconciler`` looks up a lost
    answer, the ``Poller`` waits for the task, the ``Downloader`` takes its video."""

    def __init__(self, session: Session, money: Money, events: Events, pacing: Pacing,
                 reconciler: Reconciler, poller: Poller, downloader: Downloader) -> None:
        self.session, self.money, self.events, self.pacing = session, money, events, pacing
        self.reconciler = reconciler
        self.poller, self.downloader = poller, downloader

    async def submit_and_finish(self, shot: CompiledShot, first_frame: Path | None,
                                note: str) -> ShotResult:
        session = self.session
        money, events, pacing = self.money, self.events, self.pacing
        session.made[shot_key(shot)] = await asyncio.to_thread(  # a short line padded, as sent
            padded, shot, session.made.get(shot_key(shot), {}), session.root)
        made = {asset: m.path for asset, m in session.made.get(shot_key(shot), {}).items()}
        waits = await asyncio.to_thread(made_voice_problem, shot, made, session.root) if made \
            else None
        if waits is not None:  # before the intent: nothing is paid for a voice too short
            raise events.end(shot, "blocked", waits, "blocked", code="VoiceTooShort")
        problem = await asyncio.to_thread(made_input_problem, shot, made) if made else None
        if problem is not None:  # before the intent: the service would refuse it, after a charge
            raise events.end(shot, "failed", f"failed: {problem}", "failed")
        slot = await self.slot_for(shot)  # before the intent: a lease never decides a payment
        try:
            _, cost = money.estimate(shot)
            await pacing.submit_bucket.take()
            if not money.reserve(shot):
                raise events.end(shot, "skipped", money.over(shot, cost), "skipped")
            attempt, task_id = await self.begin_and_send(shot, first_frame, cost, note)
            events.emit(shot, "submitted", note, task_id)
            state = await self.poller.poll(shot, attempt.id, task_id, immediate=False)
            slot.release()  # the task no longer runs at the provider: let the next one start
            return await self.downloader.finish(shot, attempt.id, state)
        finally:
            slot.release()
            money.reserved.pop(shot_key(shot), None)

    async def slot_for(self, shot: CompiledShot) -> Lease:
        """A slot (and the account's lease); a shot another machine renders now is followed
        through its claim instead of waiting in the account's queue for nothing."""
        session = self.session
        pacing = self.pacing
        while True:
            try:
                return await pacing.take_slot(shot, session.provider)
            except Busy:
                entries = await session.db(session.journal.ledger.entries, session.task_key, shot.hash) \
                    if session.journal.ledger is not None else []
                held = [entry for entry in entries if entry.open]
                if held:
                    raise ShotClaimed(held[0]) from None
                await pacing.sleep(0.2)  # its holder is about to write its claim: look again

    async def begin_and_send(self, shot: CompiledShot, first_frame: Path | None, cost: float,
                             note: str) -> tuple[Attempt, str]:
        """Intent, submit, task id: under this prompt's lock, so a lost answer has at most one
        unknown task to match. The inputs are snapshotted first, before the lock (the bytes sent
        are the bytes hashed): the lock is held only for the journal and the request."""
        session = self.session
        events = self.events
        sent = substituted(await self.snapshot(shot), session.made.get(shot_key(shot), {}))
        async with session.key_lock(shot):
            for _ in range(claims.ROUNDS):
                attempt = await self.intent(shot, cost, note)
                if attempt is not None:
                    task_id, written = await self.send(sent, first_frame, attempt)
                    break
            else:
                raise events.end(shot, "pending", "twins of other runs kept coming first; run "
                                 "again", "failed", code="AmbiguousTask")
        if written is not None:  # queued under the lock: the next twin's intent comes after it
            await written
        return attempt, task_id

    async def intent(self, shot: CompiledShot, cost: float, note: str) -> Attempt | None:
        """The intent, journaled once no other run's twin submit is unanswered (waiting while
        one is; stopping when one stays so); None when another run's twin intent came first
        (ours is withdrawn unsent: look again). Each look is one trip to the journal's thread."""
        session = self.session
        events = self.events
        blocked = session.blocked.get(session.find_key(shot))
        if blocked is not None:
            raise events.end(shot, "pending", blocked, "failed", code="AmbiguousTask")
        look = True
        while True:
            found = await session.db_turn(self.look_and_begin, shot, cost, note, look=look)
            if not isinstance(found, list):
                return found
            if not found:
                return None  # withdrawn
            others = await claims.answered(session, self.pacing, shot, found)  # other runs' twins: wait
            if others:
                raise events.end(shot, "pending", waiting_for(others), "failed",
                                 code="AmbiguousTask")
            look = False

    def look_and_begin(self, shot: CompiledShot, cost: float, note: str, *, look: bool
                       ) -> Attempt | list[LedgerEntry]:
        """On the journal's thread: other runs' unanswered twin submits (``look``), else the
        intent written. Another run (another series on this machine, a team member) may write
        an intent with this prompt between our look and our own intent: the earlier one is sent;
        a later one is withdrawn unsent (settled ``lost``, so no lookup counts it) and ``[]`` is
        returned, to look again and wait for the earlier one's task id."""
        session = self.session
        journal = session.journal
        if look:
            others = journal.other_open_intents(shot, session.task_key, set())
            if others:
                return others
        attempt = journal.begin(shot, session.provider.name, session.task_key, estimate=cost,
                                note=note)
        mine = journal.ledger_entry(attempt)
        if mine is None:
            return attempt
        others = journal.other_open_intents(shot, session.task_key, {mine.id})
        if not claims.earlier(others, mine):
            return attempt
        journal.set_state(attempt.id, "lost",
                          note="withdrawn unsent: another run's twin submit came first")
        return []

    async def snapshot(self, shot: CompiledShot) -> CompiledShot:
        try:
            return await asyncio.to_thread(snapshot_inputs, shot, self.session.root)
        except InputChanged as exc:
            raise self.events.end(shot, "failed", str(exc), "failed", code="InputChanged") from exc

    async def send(self, shot: CompiledShot, first_frame: Path | None, attempt: Attempt
                   ) -> tuple[str, asyncio.Future[None] | None]:
        """Submit until a task id is known, reconciling every answer that may have been lost;
        with the journal's write of a new task id, queued (None: a found task's, written)."""
        session = self.session
        pacing = self.pacing
        for tries in range(1, session.options.max_retries + 2):
            if tries > 1:
                await pacing.submit_bucket.take()
            session.submits += 1
            with watching() as wire:
                try:
                    task_id = await pacing.call(session.provider.submit(shot, first_frame))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failure: Exception | None = exc
                else:
                    failure = None
            if failure is not None:
                sent = wire.sent or not session.provider.traits.wire_watched
                adopted = await self.after_failed_submit(shot, attempt, failure, tries,
                                                         sent=sent)
                if adopted is not None:
                    return adopted, None
                continue
            # First thing after the answer: the task id, before anything can go wrong; queued
            # before the lock is let go, so it lands before any later intent of this prompt.
            return task_id, session.db_turn(session.journal.set_task, attempt.id, task_id)
        raise AssertionError("unreachable")

    async def after_failed_submit(self, shot: CompiledShot, attempt: Attempt, exc: Exception,
                                  tries: int, *, sent: bool = True) -> str | None:
        """A task id found for a submit whose answer was lost, or None to send again (after a
        backoff): only a failure that proves the request never reached the service is resent.
        ``sent``: whether the provider may have sent a request before it failed."""
        session = self.session
        money, events, pacing = self.money, self.events, self.pacing
        code = exc.code if isinstance(exc, ProviderError) else type(exc).__name__
        if not sent and not isinstance(exc, ProviderError | TimeoutError):
            await self.unsent(shot, attempt, exc, code)
        if not retryable(exc):
            await session.db(session.journal.fail, attempt.id, code, describe(exc))
            money.reserved.pop(shot_key(shot), None)
            said = classify_failure(session.provider.name, code, str(exc), stage="submit").words()
            raise events.end(shot, "failed", f"{exc} ({said})", "failed", code=code)
        if isinstance(exc, ProviderError) and exc.retry_after:
            pacing.submit_bucket.pause(exc.retry_after)
        if sent and is_ambiguous(exc):
            await session.db(session.journal.note, attempt.id, f"{LOST_ANSWER} ({describe(exc)})")
            return await self.late_task(shot, attempt, describe(exc))
        if sent and session.provider.traits.lists and may_have_made(exc):
            found = await self.made_anyway(shot, attempt, exc)
            if found is not None:
                return found
        if tries > session.options.max_retries:
            await session.db(session.journal.fail, attempt.id, code,
                             f"gave up after {tries} tries: {describe(exc)}")
            raise events.end(shot, "failed", f"submit failed {tries} times: {describe(exc)}",
                             "failed", code=code)
        await pacing.backoff(tries, exc)
        return None

    async def made_anyway(self, shot: CompiledShot, attempt: Attempt, exc: Exception
                          ) -> str | None:
        """The task a submit answered with an error made anyway (MiniMax's 1000, a 500 after
        the task was made), looked up as a lost answer's before the submit is sent again; None
        when the list shows none."""
        session = self.session
        found = await self.reconciler.find(shot, attempt.intent_at, attempt.id,
                                           unlisted_none=True)  # unlisted: sent again, as said
        task_id = await self.reconciler.adoptable(shot, attempt.id, found, {attempt.ledger_id})
        if task_id is not None:
            await session.db(session.journal.set_task, attempt.id, task_id,
                             note=f"adopted by reconcile after an error answer: {describe(exc)}")
        return task_id

    async def unsent(self, shot: CompiledShot, attempt: Attempt, exc: Exception,
                     code: str) -> NoReturn:
        """A fault of ours (a bug, a local file) before any request went out: no task can exist,
        so the shot fails at once, its intent settled, instead of being looked for."""
        session = self.session
        money, events = self.money, self.events
        message = (f"the submit failed before anything was sent, so nothing is paid: "
                   f"{code}: {describe(exc)}")
        log.warning("%s: %s", shot_key(shot), message)
        await session.db(session.journal.fail, attempt.id, code, message)
        money.reserved.pop(shot_key(shot), None)
        raise events.end(shot, "failed", message, "failed", code=code)

    async def late_task(self, shot: CompiledShot, attempt: Attempt, why: str) -> str:
        """The task of a submit that was sent and never answered, listed within
        ``late_window`` (it may land late); else the shot stops as ambiguous. Never resent."""
        session = self.session
        events, pacing = self.events, self.pacing
        window = session.options.late_window
        deadline = pacing.clock() + window
        every = max(session.options.reconcile_delay, window / 12)
        await pacing.sleep(session.options.reconcile_delay)
        while True:
            found = await self.reconciler.find(shot, attempt.intent_at, attempt.id)
            task_id = await self.reconciler.adoptable(shot, attempt.id, found, {attempt.ledger_id})
            if task_id is not None:
                await session.db(session.journal.set_task, attempt.id, task_id,
                                 note=f"adopted by reconcile after: {why}")
                return task_id
            remaining = deadline - pacing.clock()
            if remaining <= 0:
                message = never_listed(why, window, self.reconciler.by_hand(shot))
                session.blocked[session.find_key(shot)] = message
                await session.db(session.journal.note, attempt.id, f"{LOST_ANSWER}: {message}")
                raise events.end(shot, "pending", message, "failed", code="AmbiguousTask")
            await pacing.sleep(min(every, remaining))
