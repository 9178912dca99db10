"""A run's shared state into small verbs: journal writes, events, results, budget, retries.

One ``Session`` per run is shared by the parts of a shot's way: ``download.Downloader``,
``poll.Poller``, ``reconcile.Reconciler``, ``submit.Submitter``, driven by ``runner.ShotRun``.
Each part holds the session and the parts it calls, no more; none inherits from another.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from storyboard.errors import ProviderError, StoryboardError
from storyboard.language.request import CompiledShot
from storyboard.providers.base import Provider, task_key
from storyboard.run.state.assets import Made
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.journal import AttemptState, Journal, lookup_key
from storyboard.run.state.lockfile import LockEntry, lock_path, proxy, read_lock, shot_key
from storyboard.run.state.pacing import (
    AccountSlots,
    Clock,
    Lease,
    ServiceTurns,
    SharedBucket,
    Sleep,
    Slots,
    TokenBucket,
)
from storyboard.run.state.sharing import StoreLink
from storyboard.run.team.ledger import Board
from storyboard.run.trip.checks import (
    retryable,
)
from storyboard.run.trip.costs import ReferenceSeconds, estimate
from storyboard.run.trip.model import (
    EventState,
    ResultState,
    RunOptions,
    ShotEvent,
    ShotResult,
)
from storyboard.targets import PriceTable, TaskStatus
from storyboard.targets.models import model_of
from storyboard.targets.prices import under

log = logging.getLogger("storyboard.run")

T = TypeVar("T")
P = ParamSpec("P")
UNPOLLED_TASKS, UNPOLLED_WORDS = 64, 500  # progress kept for tasks whose poll has not started

# A task that ended without a video, as the journal records the attempt. UNKNOWN is not here: a
# word we do not know never ends an attempt (it stays in flight; see ``poll``).
TASK_END_STATE: dict[TaskStatus, AttemptState] = {
    TaskStatus.FAILED: "failed", TaskStatus.CANCELED: "canceled"}


# A provider's word for a result it kept only in memory and no longer has (a spoken line: the
# service answers once, with no task to look up): it is made again, never polled for ever.
GONE = "Gone"


class Outcome(Exception):
    """Ends a shot's flow early with a result."""

    def __init__(self, result: ShotResult) -> None:
        super().__init__(result.message)
        self.result = result


class Gone(Exception):
    """A result restored from the ledger that the provider no longer has: render it anew."""


class Session:
    def __init__(self, provider: Provider, root: Path, journal: Journal, options: RunOptions, *,
                 prices: PriceTable, budget: float | None, ref_seconds: ReferenceSeconds | None,
                 on_event: Callable[[ShotEvent], None] | None, sleep: Sleep, clock: Clock,
                 rng: random.Random, store: StoreLink | None = None,
                 locked: Mapping[str, LockEntry] | None = None, cache: OutputCache) -> None:
        self.root, self.journal, self.options = root, journal, options
        # a lookup's every request is retried, not the lookup; progress pushed between polls
        # (ComfyUI's /ws) heard
        self.provider = provider.with_hooks(
            replace(provider.hooks, ask=self.patiently, on_progress=self.heard))
        self.store = store
        self.prices, self.budget, self.ref_seconds = prices, budget, ref_seconds
        self.on_event, self.sleep, self.clock, self.rng = on_event, sleep, clock, rng
        self.cache = cache
        self.task_key = task_key(provider)  # journal and ledger: tasks belong to an endpoint
        self.following: dict[str, CompiledShot] = {}  # task id -> the shot its poll waits for
        self.shortest: dict[str, float] = {}  # a model -> its quickest task seen done (seconds)
        self.unpolled: dict[str, list[tuple[float | None, str]]] = {}  # words before a poll
        self.slots = Slots(options.concurrency)
        self.board = team_board(journal, options)  # account-wide pacing: a team ledger's
        self.accounts: dict[str, AccountSlots] = {}
        self.turns = ServiceTurns(in_flight)  # a one-at-a-time service's (videoretalk)
        burst = options.submit_burst or max(1, math.ceil(options.submit_rate))
        self.submit_bucket = SharedBucket(TokenBucket(options.submit_rate, burst, clock, sleep),
                                          self.board, self.task_key, "submit",
                                          options.account_submit_rate)
        self.query_bucket = SharedBucket(
            TokenBucket(options.query_rate, max(1, math.ceil(options.query_rate)), clock, sleep),
            self.board, self.task_key, "query", options.account_query_rate)
        self.spent = 0.0  # on tasks this run submitted, as billed
        # What the budget counts: each task at no less than the provider's list price (a series'
        # own prices of 0 must not switch the budget off); in the list's currency only.
        self.counted = 0.0
        floor = provider.list_prices if provider.traits.paid else None
        self.floor = floor if floor is not None and floor.currency == prices.currency else None
        self.resumed: set[str] = set()  # shot keys whose task an earlier run submitted (paid)
        self.resumed_cost = 0.0  # what those tasks cost: settled now, outside the budget
        self.reserved: dict[str, float] = {}
        self.refused: dict[str, float] = {}  # a shot key -> what the budget refused to hold
        self.submits = 0
        self.futures: dict[str, asyncio.Future[ShotResult]] = {}
        self.order: dict[str, int] = {}
        self.leaders: dict[str, str] = {}
        self.by_hash: dict[str, str] = {}  # a hash -> the first shot of this run with it
        self.made: dict[str, dict[str, Made]] = {}  # a shot's key -> the assets it is sent with
        self.started: dict[str, float] = {}
        self.locked = (read_lock(lock_path(root, proxy(provider))).shots if locked is None
                       else locked)
        self.key_locks: dict[str, asyncio.Lock] = {}  # one unknown submit per prompt at a time
        self.blocked: dict[str, str] = {}  # find key -> why no submit with it may start
        self.early: dict[str, tuple[ResultState, str, str]] = {}  # hash -> reconcile's verdict
        self.board_bytes: dict[str, str] = {}  # a board take the gate let go -> its sha256
        self.notes: dict[str, str] = {}  # hash -> why it is submitted again
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="storyboard-journal")
        # A submit's own journal calls (its intent, its task id): a thread of their own, so the
        # prompt's turn never waits behind other shots' reads and state changes.
        self.turn_executor = ThreadPoolExecutor(1, thread_name_prefix="storyboard-journal-turn")

    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a journal call on its one worker thread: calls stay in order, and its fsyncs never
        stall the polls and downloads of other shots. Awaited, so a write still happens before
        the step it guards."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def db_turn(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
                ) -> asyncio.Future[T]:
        """A journal call of a submit holding its prompt's turn (the intent, the task id),
        queued now on the turn's own thread: in order among themselves, so a task id queued
        before the turn is let go is written before the next intent of that prompt. (The
        journal and the ledger take their own locks: the two threads never write at once.)"""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self.turn_executor, functools.partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        """Wait for every journal call queued: each write lands before the run ends."""
        self.turn_executor.shutdown(wait=True)
        self.executor.shutdown(wait=True)

    def emit(self, shot: CompiledShot, state: EventState, message: str = "",
             task_id: str | None = None, progress: float | None = None) -> None:
        if self.on_event is None:
            return
        elapsed = self.clock() - self.started.get(shot_key(shot), self.clock())
        output = self.cache.path(shot.hash) if state in ("done", "cached") else None
        event = ShotEvent(shot.episode, shot.id, state, elapsed, round(self.spent, 4), message,
                          shot.series, task_id, output, progress)
        try:
            self.on_event(event)
        except Exception:  # a broken progress display must not lose a paid task
            log.exception("on_event callback failed")

    def heard(self, task_id: str, fraction: float | None, message: str) -> None:
        """A provider's word on a task (a step, a node): an event, nothing else; the poll's
        answer alone moves the shot on. Words that come before the task's poll starts (a job
        can start before its submit has answered) wait for it, a few of them."""
        shot = self.following.get(task_id)
        if shot is not None:
            self.emit(shot, "running", message, task_id, fraction)
        elif (task_id in self.unpolled or len(self.unpolled) < UNPOLLED_TASKS) and \
                len(self.unpolled.get(task_id, ())) < UNPOLLED_WORDS:
            self.unpolled.setdefault(task_id, []).append((fraction, message))

    def follow(self, shot: CompiledShot, task_id: str) -> None:
        """The task's poll starts: what its provider said of it so far, then all it says."""
        self.following[task_id] = shot
        for fraction, message in self.unpolled.pop(task_id, []):
            self.emit(shot, "running", message, task_id, fraction)

    def result(self, shot: CompiledShot, state: ResultState, message: str = "", **kw: Any
               ) -> ShotResult:
        return ShotResult(shot.series, shot.episode, shot.id, shot.hash, state, message=message,
                          **kw)

    def end(self, shot: CompiledShot, state: ResultState, message: str, event: EventState,
            **kw: Any) -> Outcome:
        self.emit(shot, event, message, kw.get("task_id"))
        return Outcome(self.result(shot, state, message, **kw))

    def estimate(self, shot: CompiledShot) -> tuple[float, float]:
        return estimate(shot, self.prices, self.ref_seconds)

    def counted_cost(self, shot: CompiledShot, cost: float) -> float:
        """What the budget counts for a task of ``shot`` costing ``cost``: never less than the
        provider's list price for it."""
        if self.floor is None:
            return cost
        return max(cost, estimate(shot, self.floor, self.ref_seconds)[1])

    def charge(self, shot: CompiledShot, cost: float) -> None:
        """Count a finished task's cost: this run's spending, or apart when the task was resumed
        (paid when an earlier run submitted it, so no budget of this run covers it)."""
        if shot_key(shot) in self.resumed:
            self.resumed_cost = round(self.resumed_cost + cost, 4)
        else:
            self.spent = round(self.spent + cost, 4)
            self.counted = round(self.counted + self.counted_cost(shot, cost), 4)

    def reserve(self, shot: CompiledShot, *, force: bool = False) -> bool:
        """Hold this shot's estimate as committed spend; refuse when it would pass the budget
        (fail closed: a budget no comparison holds for refuses). Only new submits reserve: a
        resumed task was paid for by the run that submitted it."""
        cost = self.counted_cost(shot, self.estimate(shot)[1])
        committed = self.counted + sum(self.reserved.values()) + cost
        if not force and self.budget is not None and not under(committed, self.budget):
            self.refused[shot_key(shot)] = cost
            return False
        self.reserved[shot_key(shot)] = cost
        return True

    async def call(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        return await asyncio.wait_for(coro, timeout or self.options.request_timeout)

    async def backoff(self, tries: int, exc: BaseException) -> None:
        retry_after = exc.retry_after if isinstance(exc, ProviderError) else None
        if retry_after:
            # Honour the server, plus a little jitter so many shots do not return at once.
            delay = retry_after + self.rng.uniform(0, min(1.0, retry_after * 0.1))
        else:
            ceiling = min(self.options.backoff_cap, self.options.backoff_base * 2 ** (tries - 1))
            delay = self.rng.uniform(0, ceiling)
        await self.sleep(delay)

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

    def pending(self, shot: CompiledShot, task_id: str, why: str) -> Outcome:
        return self.end(shot, "pending", f"{why}; task {task_id} stays in the journal: run again "
                        "to resume it without paying twice", "failed", task_id=task_id)

    def key_lock(self, shot: CompiledShot) -> asyncio.Lock:
        return self.key_locks.setdefault(self.find_key(shot), asyncio.Lock())

    def find_key(self, shot: CompiledShot) -> str:
        return lookup_key(shot)

    async def take_slot(self, shot: CompiledShot, *, force: bool = False) -> Lease:
        """A slot for a task of ``shot``: this run's, then (with a team ledger and an account
        limit) the account's lease, taken before the submit's intent is journaled. ``force``: the
        task already runs at the provider (resumed), so it counts but never waits. Raises
        ``Busy`` when another machine's lease renders this shot now."""
        turn = await self.turns.take(shot.request.model, force=force)
        if force:
            self.slots.force()
        else:
            await self.slots.acquire()
        try:
            also = await self.account_lease(shot, force)
        except BaseException:
            self.slots.release()
            if turn is not None:
                turn()
            raise
        return Lease(self.slots, both(also, turn))

    async def account_lease(self, shot: CompiledShot, force: bool) -> Callable[[], None] | None:
        model = shot.request.model
        limit = dict(self.options.account_in_flight_models).get(model,
                                                                self.options.account_in_flight)
        if self.board is None or limit is None:
            return None
        account = f"{self.task_key} {model}"  # the key's fingerprint, never the key
        slots = self.accounts.get(account)
        if slots is None:
            slots = self.accounts[account] = AccountSlots(self.board, account, limit,
                                                          ended=self.task_ended)
        ticket = await slots.acquire(force=force, what=shot.hash)
        return functools.partial(slots.release, ticket)

    async def task_ended(self, task_id: str) -> bool:
        """Whether a task (a dead machine's, holding a lease) no longer runs: the provider's
        answer, a free query."""
        await self.query_bucket.take()
        state = await self.call(self.provider.query(task_id))
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
