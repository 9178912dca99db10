"""Unanswered submits into known tasks: list the provider's tasks, adopt one, or stop as ambiguous.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Sequence
from pathlib import Path

from storyboard.errors import ListUnavailable, NeverListed
from storyboard.language.request import CompiledShot
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.state.tasks.journal import Attempt
from storyboard.run.team.ledger import LedgerEntry
from storyboard.run.trip.budget.money import Money
from storyboard.run.trip.events import Events, Outcome
from storyboard.run.trip.guards.verdicts import (
    describe,
)
from storyboard.run.trip.pace.pacing import Pacing
from storyboard.run.trip.session import Session
from storyboard.targets import TaskState
from storyboard.targets.wire.gateways import listed_without_prompt

log = logging.getLogger("storyboard.run")


class Reconciler:
    """Unanswered submits into adopted tasks (or lost intents), over the run's ``Session``."""

    def __init__(self, session: Session, money: Money, events: Events, pacing: Pacing) -> None:
        self.session, self.money, self.events, self.pacing = session, money, events, pacing

    async def reconcile_all(self, shots: Sequence[CompiledShot]) -> None:
        """Before any submit: restore what the ledger knows and the journal lost, and settle
        every intent whose answer never came, one at a time, so that no lookup can meet another
        shot's unknown task with the same prompt."""
        seen: set[str] = set()
        for shot in shots:
            if shot.hash in seen or self.session.cache.has(shot.hash):
                continue
            seen.add(shot.hash)
            try:
                await self.journal_attempts(shot)
            except Outcome as outcome:
                result = outcome.result
                self.session.early[shot.hash] = (result.state, result.message, result.code)

    async def journal_attempts(self, shot: CompiledShot) -> list[Attempt]:
        """This shot's unfinished rows (restored from the ledger if the journal has none), with
        every intent reconciled: adopted, or marked lost."""
        session = self.session
        money = self.money
        attempts = await session.db(session.journal.unfinished, shot.hash, session.task_key)
        if not attempts:
            attempts = await session.db(session.journal.restore, shot, session.provider.name,
                                        session.task_key, estimate=money.estimate(shot)[1])
        if not attempts:
            await self.note_elsewhere(shot)
        intents = [a for a in attempts if not a.task_id]
        if not intents:
            return attempts
        async with session.key_lock(shot):
            await self.reconcile_intents(shot, intents, with_task=len(intents) < len(attempts))
        return await session.db(session.journal.unfinished, shot.hash, session.task_key)

    async def note_elsewhere(self, shot: CompiledShot) -> None:
        """Say plainly when this shot has a task in flight at another endpoint (or key): it is
        that endpoint's, never polled here, and this one renders the shot on its own."""
        session = self.session
        events = self.events
        others = await session.db(session.journal.elsewhere, shot.hash, session.task_key)
        if others:
            other = others[-1]
            task = f"task {other.task_id}" if other.task_id else "an unanswered submit"
            session.notes[shot.hash] = (
                f"submitted here ({session.task_key}): {task} of this shot is in flight at "
                f"{other.cache_key}, which only that endpoint can answer; render with it "
                "to collect that task, or `storyboard task forget` it")
            events.emit(shot, "queued", session.notes[shot.hash], other.task_id)

    async def reconcile_intents(self, shot: CompiledShot, intents: list[Attempt], *,
                                with_task: bool) -> None:
        """Adopt the task of the newest intent, or mark it lost; older intents are superseded.
        When a task with a known id exists too, the intents are superseded by it."""
        session = self.session
        events = self.events
        newest, older = intents[-1], intents[:-1]
        for attempt in (intents if with_task else older):
            await session.db(session.journal.set_state, attempt.id, "lost",
                             note="superseded by a later attempt")
        if with_task:
            return
        entry = await session.db(session.journal.ledger_entry, newest)
        if entry is not None and entry.task_id:  # the ledger heard the answer the journal missed
            await session.db(session.journal.set_task, newest.id, entry.task_id,
                             note="adopted from the ledger")
            return
        since = min(a.intent_at for a in intents)
        found = await self.find(shot, since, newest.id)
        own = {a.ledger_id for a in intents}
        task_id = await self.adoptable(shot, newest.id, found, own)
        if task_id is None and LOST_ANSWER in (newest.note or ""):
            message = never_listed("an earlier run sent it and its answer was lost", None,
                                   self.by_hand(shot))
            session.blocked[session.find_key(shot)] = message
            raise events.end(shot, "pending", message, "failed", code="AmbiguousTask")
        if task_id is None:
            await session.db(session.journal.set_state, newest.id, "lost",
                             note="reconciled: the provider has no task for it")
            session.notes[shot.hash] = (f"resubmitted: the provider has no task for intent(s) "
                                        f"#{', #'.join(str(a.id) for a in intents)}")
            return
        await session.db(session.journal.set_task, newest.id, task_id, note="adopted by reconcile")

    async def adoptable(self, shot: CompiledShot, attempt_id: int, found: list[TaskState],
                        own: set[str | None]) -> str | None:
        """The one task a lost submit created, or None when it created none; stops the shot
        (and every later submit with its prompt) when the task cannot be told apart from
        another shot's."""
        session = self.session
        events = self.events
        attempt = await session.db(session.journal.get, attempt_id)
        others = await session.db(session.journal.other_open_intents, shot, session.task_key,
                                  own, around=attempt.intent_at)
        if not found:
            return None
        if len(found) == 1 and not others:
            return found[0].task_id
        message = _ambiguous(found, others, self.by_hand(shot, found), alike(shot))
        session.blocked[session.find_key(shot)] = message
        await session.db(session.journal.note, attempt_id, message)
        raise events.end(shot, "pending", message, "failed", code="AmbiguousTask")

    def by_hand(self, shot: CompiledShot, found: Sequence[TaskState] = (),
                never: NeverListed | None = None, *, keep: bool = True) -> str:
        """The commands that settle ``shot`` in this series, as a person would type them (the
        task id as ``never``, a call no list shows, takes it); said only where ``shot`` stops
        as ambiguous, and (``keep``: no later run settles it by itself) kept for the shots that
        use it (``Session.settles``)."""
        said = settle_by_hand(self.session.journal.series_dir, f"{shot.episode}/{shot.id}", found,
                              *((never.adopt_as, never.found_in) if never else ()))
        if keep:
            self.session.settles[shot.hash] = said
        return said

    async def find(self, shot: CompiledShot, since: float, attempt_id: int, *,
                   unlisted_none: bool = False) -> list[TaskState]:
        """Ask the provider for the tasks with ``shot``'s prompt since ``since`` that no journal
        or ledger holds. If the question itself keeps failing, nothing is submitted: the intent
        stays for the next run to reconcile, and no other shot with this prompt submits.
        ``unlisted_none``: none found where the provider keeps no list of such tasks
        (``ListUnavailable``: a synchronous picture call), not a stop."""
        session = self.session
        events, pacing = self.events, self.pacing
        tries, first_error = 0, pacing.clock()
        while True:
            tries += 1
            try:
                # Clock skew between us and the service is the provider's business (see its find()).
                # Each request of the lookup is retried by itself (``patiently``): allow that.
                found = await pacing.call(session.provider.find(shot, since),
                                          session.options.request_timeout + session.options.query_patience)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if unlisted_none and isinstance(exc, ListUnavailable):
                    return []
                if not pacing.ask_again(exc, tries, first_error):
                    message, waiting = self.stuck(shot, exc)
                    session.blocked[session.find_key(shot)] = waiting
                    await session.db(session.journal.note, attempt_id, message)
                    raise events.end(shot, "pending", message, "failed",
                                     code="AmbiguousTask") from exc
                await pacing.backoff(tries, exc)
                continue
            return [state for state in found
                    if not await session.db(session.journal.knows_task, session.task_key,
                                            state.task_id)]

    def stuck(self, shot: CompiledShot, exc: Exception) -> tuple[str, str]:
        """Why a lost submit of ``shot`` stops, and why a shot alike waits: a list that may
        answer later is asked again by the next run; a call no list ever shows is settled only
        by the commands named, with the series' path and the shot's id (a call that leaves no
        task id only by ``task forget``)."""
        if not isinstance(exc, NeverListed):
            return (unlisted(describe(exc), self.by_hand(shot, keep=False)),
                    f"waiting: shot {shot_key(shot)} has the same {alike(shot)} and an "
                    "unreconciled submit; run again to retry")
        settle = self.by_hand(shot, never=exc)
        return (never_seen(describe(exc), settle),
                f"waiting: shot {shot_key(shot)} has the same {alike(shot)} and a submit whose "
                f"answer was lost, which no run settles by itself: {settle}")


def alike(shot: CompiledShot) -> str:
    """What a lost submit of ``shot`` is matched by: its prompt, or on a list that shows none
    (Ark) the settings the list does show."""
    if listed_without_prompt(shot.request.model):
        return "model, duration, resolution, ratio and seed"
    return "prompt"


def _ambiguous(found: list[TaskState], others: list[LedgerEntry], settle: str,
               what: str = "prompt") -> str:
    ids = ", ".join(state.task_id for state in found)
    text = (f"cannot tell which task is this shot's: {len(found)} task(s) with its {what} are "
            f"recorded for no shot ({ids})")
    if others:
        text += f", and {_describe_intents(others)} has the same {what}"
    return (text + "; nothing was sent again, so nothing is paid twice. Check these tasks in the "
            f"provider's console and {settle}; once they are more than 24 hours old the next "
            "run submits this shot again")


def settle_by_hand(series: Path | str, shot: str, found: Sequence[TaskState] = (),
                   adopt_as: str | None = "TASK_ID",
                   found_in: str = "from the provider's console or billing export") -> str:
    """The two commands that settle ``shot`` (``EPISODE/SHOT``) of ``series``, in full: the task
    id as ``task adopt`` takes it (``adopt_as``; None: the call leaves none, so only ``task
    forget``)."""
    where = f"{shlex.quote(str(series))} {shlex.quote(shot)}"
    if adopt_as is None:
        return (f"settle it by hand with `storyboard task forget {where}` (accepting a second "
                "payment: the call leaves no task id to adopt)")
    ids = [state.task_id for state in found]
    task = shlex.quote(ids[0]) if len(ids) == 1 else adopt_as
    which = (f" (one of {', '.join(ids)})" if len(ids) > 1
             else "" if ids else f" ({found_in})")
    return (f"settle it by hand with `storyboard task adopt {where} {task}`{which} or "
            f"`storyboard task forget {where}` (accepting a second payment)")


LOST_ANSWER = "submit sent, answer lost"  # in a journal note: never sent again by itself


def never_listed(why: str, window: float | None, settle: str) -> str:
    """A submit that reached the wire and whose task no list shows: settled only by hand."""
    within = f" within {window:.0f} s" if window is not None else ""
    return (f"the submit was sent and its answer lost ({why}); the service may have created "
            f"the task (a late request lands after the client gave up), and its task list "
            f"showed none{within}. It is never sent again by itself, so nothing is paid twice: "
            f"{settle}")


def unlisted(why: str, settle: str) -> str:
    """A lost submit whose task cannot be looked up (yet): never "nothing was submitted"."""
    return (f"a submit whose answer was lost may have created a task, and the provider's task "
            f"list cannot say ({why}); nothing is sent again, so nothing is paid twice. The next "
            f"run asks again; or {settle}")


def never_seen(why: str, settle: str) -> str:
    """A lost submit no list of the provider will ever show: no later run can settle it."""
    return (f"a submit whose answer was lost may have created its result and been paid, and no "
            f"list of the provider will ever show it ({why}); nothing is sent again, so nothing "
            f"is paid twice, and no later run can settle it by itself: {settle}")


def waiting_for(others: list[LedgerEntry]) -> str:
    first = others[0]
    return (f"not submitted: {_describe_intents(others)} has the same prompt, and its task id is "
            "not known yet; render that series first (or wait for the render running it), so "
            f"the two are never confused, or {settle_by_hand(first.series, first.shot)}")


def _describe_intents(entries: list[LedgerEntry]) -> str:
    first = entries[0]
    more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(first.intent_at))
    return f"an unanswered submit of {first.shot} in {first.series} at {when}{more}"
