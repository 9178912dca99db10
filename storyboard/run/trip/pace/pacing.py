"""A run's limits and time into its pace: slots, leases, turns, rates, and the one retry policy.

One ``Pacing`` per run, handed to the parts of a shot's way that wait (the ``Submitter`` and the
``Poller`` take a slot; every part asks with ``call`` and backs off): this run's slots, the
account's leases with a team ledger (``AccountSlots``), a one-at-a-time service's turns, the
submit and query token buckets (``gates``), and the run's sleep, clock and chance (a test's own).
Its ``patiently`` is the provider's ``ask`` hook: each request of a lookup asked again on a passing
failure, backing off by the run's ``storyboard.backoff.RetryPolicy`` (the one backoff).
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from storyboard.backoff import RetryPolicy
from storyboard.errors import ProviderError, StoryboardError
from storyboard.language.request import CompiledShot
from storyboard.providers.base import Provider
from storyboard.run.state.tasks.journal import Journal
from storyboard.run.team.ledger import Board
from storyboard.run.trip.guards.verdicts import retryable
from storyboard.run.trip.model import Clock, RunOptions, Sleep
from storyboard.run.trip.pace.gates import (
    AccountSlots,
    Lease,
    ServiceTurns,
    SharedBucket,
    Slots,
    TokenBucket,
)
from storyboard.targets.video.models import model_of

T = TypeVar("T")

# A provider's word for a result it kept only in memory and no longer has (a spoken line: the
# service answers once, with no task to look up): it is made again, never polled for ever.
GONE = "Gone"


@dataclass(frozen=True)
class Timing:
    """A run's time and chance: real ones, or a test's."""

    sleep: Sleep
    clock: Clock
    rng: random.Random


class Pacing:
    def __init__(self, options: RunOptions, board: Board | None, task_key: str,
                 timing: Timing) -> None:
        self.options, self.board, self.task_key = options, board, task_key
        self.sleep, self.clock, self.rng = timing.sleep, timing.clock, timing.rng
        self.slots = Slots(options.concurrency)
        self.retry = RetryPolicy(options.backoff_base, options.backoff_cap)
        self.accounts: dict[str, AccountSlots] = {}  # account-wide pacing: a team ledger's
        self.turns = ServiceTurns(in_flight)  # a one-at-a-time service's (videoretalk)
        burst = options.submit_burst or max(1, math.ceil(options.submit_rate))
        self.submit_bucket = SharedBucket(
            TokenBucket(options.submit_rate, burst, self.clock, self.sleep), board, task_key,
            "submit", options.account_submit_rate)
        self.query_bucket = SharedBucket(
            TokenBucket(options.query_rate, max(1, math.ceil(options.query_rate)), self.clock,
                        self.sleep), board, task_key, "query", options.account_query_rate)

    async def call(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        return await asyncio.wait_for(coro, timeout or self.options.request_timeout)

    async def backoff(self, tries: int, exc: BaseException) -> None:
        """Wait before the try after ``tries`` failed ones (the run's ``RetryPolicy``)."""
        said = exc.retry_after if isinstance(exc, ProviderError) else None
        await self.sleep(self.retry.delay(tries, said, self.rng))

    async def patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """One free request (a list page, a query), asked again on a passing failure with
        backoff (``ask_again``); what still fails is raised."""
        tries, first_error = 0, self.clock()
        while True:
            tries += 1
            try:
                return await call()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.ask_again(exc, tries, first_error):
                    raise
                await self.backoff(tries, exc)

    def ask_again(self, exc: BaseException, tries: int, first_error: float) -> bool:
        """Whether a free question (a query, a lookup) that failed is asked again: for a passing
        failure, at least ``max_retries`` times and for as long as ``query_patience`` since the
        first failure in a row. Counting tries alone would end a long poll at any short burst of
        errors; the task runs (and is billed) whatever we do, so only a lasting outage stops."""
        if not retryable(exc):
            return False
        return (tries <= self.options.max_retries
                or self.clock() - first_error < self.options.query_patience)

    async def take_slot(self, shot: CompiledShot, provider: Provider, *, force: bool = False
                        ) -> Lease:
        """A slot for a task of ``shot``: this run's, then (with a team ledger and an account
        limit) the account's lease, taken before the submit's intent is journaled. ``force``: the
        task already runs at the provider (resumed), so it counts but never waits. Raises
        ``Busy`` when another machine's lease renders this shot now; ``provider`` answers
        whether a dead machine's task still runs."""
        turn = await self.turns.take(shot.request.model, force=force)
        if force:
            self.slots.force()
        else:
            await self.slots.acquire()
        try:
            also = await self.account_lease(shot, provider, force)
        except BaseException:
            self.slots.release()
            if turn is not None:
                turn()
            raise
        return Lease(self.slots, both(also, turn))

    async def account_lease(self, shot: CompiledShot, provider: Provider, force: bool
                            ) -> Callable[[], None] | None:
        model = shot.request.model
        limit = dict(self.options.account_in_flight_models).get(model,
                                                                self.options.account_in_flight)
        if self.board is None or limit is None:
            return None
        account = f"{self.task_key} {model}"  # the key's fingerprint, never the key
        slots = self.accounts.get(account)
        if slots is None:
            slots = self.accounts[account] = AccountSlots(
                self.board, account, limit, ended=functools.partial(self.task_ended, provider))
        ticket = await slots.acquire(force=force, what=shot.hash)
        return functools.partial(slots.release, ticket)

    async def task_ended(self, provider: Provider, task_id: str) -> bool:
        """Whether a task (a dead machine's, holding a lease) no longer runs: the provider's
        answer, a free query."""
        await self.query_bucket.take()
        state = await self.call(provider.query(task_id))
        return state.status.finished or state.code == GONE


def in_flight(model: str) -> int | None:
    """The service's own limit on a model's tasks in flight (None: the run's alone)."""
    declared = model_of(model)
    return None if declared is None else declared.in_flight


def both(first: Callable[[], None] | None, then: Callable[[], None] | None
         ) -> Callable[[], None] | None:
    """One release of two leases (either may be None)."""
    if first is None or then is None:
        return first or then

    def release() -> None:
        first()
        then()
    return release


def team_board(journal: Journal, options: RunOptions) -> Board | None:
    """The team ledger's account board when the run has an account limit to keep; a limit no
    comparison holds for (NaN, infinite, zero or less) is refused before anything is sent."""
    check_account_limits(options)
    wanted = (options.account_in_flight, options.account_submit_rate,
              options.account_query_rate)
    ledger = journal.ledger
    if ledger is None or (all(limit is None for limit in wanted)
                          and not options.account_in_flight_models):
        return None
    return ledger.board()


def check_account_limits(options: RunOptions) -> None:
    rates = {"account_submit_rate": options.account_submit_rate,
             "account_query_rate": options.account_query_rate}
    for name, rate in rates.items():
        if rate is not None and not (math.isfinite(rate) and rate > 0):
            raise StoryboardError(f"{name} must be a finite number > 0 (or None), got {rate}")
    counts = [("account_in_flight", options.account_in_flight),
              *((f"account_in_flight of {m}", n) for m, n in options.account_in_flight_models)]
    for name, count in counts:
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or count < 1):
            raise StoryboardError(f"{name} must be a whole number >= 1 (or None), got {count}")
