"""Concurrency and rate limits into awaitable gates: submit and query buckets, task slots, leases.

The runner owns pacing (like an HTTP client owns connection pools): a token bucket spaces submits
and polls and pauses everyone on a 429's ``Retry-After``; ``Slots`` bounds the tasks in flight at a
provider. ``pacing.Pacing`` holds a run's gates.

A provider's limits are per account, so machines sharing a team ledger also pace account-wide:
``AccountSlots`` takes a lease from the ledger's ``Board`` (a queue served in arrival order, fair
between machines) before each submit and gives it back when the task ends; ``SharedBucket`` asks
the board's shared token bucket after the local one.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from storyboard.run.trip.model import Clock, Sleep

if TYPE_CHECKING:  # the board is the team ledger's; pacing only asks it
    from storyboard.run.team.ledger import Board

log = logging.getLogger("storyboard.run")
LAPSE_EVERY = 5.0  # seconds between looks at dead machines' leases while waiting for one



class RankedLock:
    """An ``asyncio.Lock`` whose waiters are served lowest rank first (ties in arrival order)."""

    def __init__(self) -> None:
        self.held = False
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, rank: float) -> None:
        if not self.held and not self._waiters:
            self.held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (rank, next(self._arrivals), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the lock was handed over just as we were cancelled
            raise

    def release(self) -> None:
        """Hand the lock to the lowest-ranked waiter still waiting, else free it."""
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self.held = False


class TokenBucket:
    """At most ``rate`` acquisitions a second on average, ``burst`` at once; the waiters served
    lowest ``rank`` first, equal ranks in arrival order (FIFO). A poll ranks by its task's
    start: when tokens are scarce, the task that has run longest (most likely done) is asked
    first, instead of every task waiting its turn behind tasks just submitted."""

    def __init__(self, rate: float, burst: int, clock: Clock, sleep: Sleep) -> None:
        self.rate, self.burst = rate, max(1, burst)
        self.clock, self.sleep = clock, sleep
        self.tokens = float(self.burst)
        self.stamp = clock()
        self.paused_until = 0.0
        self._lock = RankedLock()

    def pause(self, seconds: float) -> None:
        """Hold every taker for ``seconds`` (the provider said 429 with a Retry-After)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def take(self, rank: float = 0.0) -> None:
        if self.rate <= 0 or math.isinf(self.rate):
            return
        await self._lock.acquire(rank)
        try:
            while True:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.paused_until > now:
                    await self.sleep(self.paused_until - now)
                elif self.tokens >= 1:
                    self.tokens -= 1
                    return
                else:
                    await self.sleep((1 - self.tokens) / self.rate)
        finally:
            self._lock.release()


class Slots:
    """Tasks in flight at the provider: new submits wait for a slot; resumed tasks take one anyway
    (they already run at the provider, so they count but never wait)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = max(1, limit), 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.used < self.limit and not self._waiters:
            self.used += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # a slot was handed over just as we were cancelled
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def force(self) -> None:
        self.used += 1

    def release(self) -> None:
        self.used -= 1
        while self._waiters and self.used < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.used += 1
                waiter.set_result(None)


class Lease:
    """One held slot, released at most once (early when a task ends, or on the way out); with
    ``also``, the account-wide lease it holds too is given back first."""

    def __init__(self, slots: Slots, also: Callable[[], None] | None = None) -> None:
        self.slots, self.held, self.also = slots, True, also

    def release(self) -> None:
        if self.held:
            self.held = False
            if self.also is not None:
                self.also()
            self.slots.release()


class ServiceTurns:
    """A service's own tasks in flight, by model, where it runs only a few at a time and queues
    the others (``Model.in_flight``: videoretalk's one): a run keeps to it itself, so a task
    waits here, not in the service's queue, and its time there is not its time in flight."""

    def __init__(self, limits: Callable[[str], int | None]) -> None:
        self.limits, self.slots = limits, dict[str, Slots]()

    async def take(self, model: str, *, force: bool = False) -> Callable[[], None] | None:
        """A turn for a task of ``model`` (its release), or None where the model has no limit;
        ``force``: the task already runs at the service (resumed)."""
        limit = self.limits(model)
        if limit is None:
            return None
        slots = self.slots.setdefault(model, Slots(limit))
        if force:
            slots.force()
        else:
            await slots.acquire()
        return slots.release


# --- one account, many machines ------------------------------------------------------------------


class Busy(Exception):
    """Another lease (another machine) renders this shot now: follow its claim, not the queue."""


class AccountSlots:
    """Tasks in flight at one account, across machines: a lease per task from the ``Board``.

    One pump per process asks the board for all of its waiting tickets at once, every ``every``
    seconds or as soon as a lease of this process comes back. While it waits it also asks, every
    ``LAPSE_EVERY`` seconds, whether the tasks of dead machines' leases have ended (``ended``:
    the provider's answer), and frees those leases."""

    def __init__(self, board: Board, account: str, limit: int, every: float = 0.05,
                 ended: Callable[[str], Awaitable[bool]] | None = None) -> None:
        self.board, self.account, self.limit, self.every = board, account, max(1, limit), every
        self.ended, self.next_look = ended, 0.0
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.wake = asyncio.Event()
        self.pump: asyncio.Task[None] | None = None
        self.leaving: set[asyncio.Task[None]] = set()

    async def acquire(self, *, force: bool = False, what: str = "") -> int:
        """A ticket that holds a lease for ``what`` (``force``: at once, the task already runs);
        raises ``Busy`` when another lease renders the same ``what``."""
        ticket = await self._enqueue(force, what)
        if force:
            return ticket
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[ticket] = waiter
        if self.pump is None or self.pump.done():
            self.pump = asyncio.create_task(self._pump())
        try:
            await waiter
        except BaseException:
            self.waiting.pop(ticket, None)
            self.release(ticket)  # granted or not: the ticket leaves the queue
            raise
        return ticket

    async def _enqueue(self, held: bool, what: str) -> int:
        """A new ticket; one that lands after its taker was cancelled leaves the queue again."""
        job = asyncio.ensure_future(asyncio.to_thread(self.board.enqueue, self.account,
                                                      held=held, what=what))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            job.add_done_callback(self._leave)
            raise

    def _leave(self, job: asyncio.Future[int]) -> None:
        if not job.cancelled() and job.exception() is None:
            self.release(job.result())

    async def _pump(self) -> None:
        try:
            await self._serve()
        except Exception as exc:  # the ledger failed: every waiter hears it, none hangs
            for waiter in self.waiting.values():  # each acquire gives its ticket back
                if not waiter.done():
                    waiter.set_exception(exc)
            self.waiting.clear()

    async def _serve(self) -> None:
        while self.waiting:
            self.wake.clear()
            tickets = list(self.waiting)
            granted, busy = await asyncio.to_thread(self.board.grant, self.account,
                                                    self.limit, tickets)
            for ticket in busy - granted:
                waiter = self.waiting.pop(ticket, None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(Busy())  # its acquire gives the ticket back
            for ticket in granted:
                waiter = self.waiting.pop(ticket, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
                elif waiter is not None:
                    self.release(ticket)
            if self.waiting:
                await self._free_lapsed()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.every)

    async def _free_lapsed(self) -> None:
        """Dead machines' leases whose task the provider says has ended: freed."""
        now = asyncio.get_running_loop().time()
        if self.ended is None or now < self.next_look:
            return
        self.next_look = now + LAPSE_EVERY
        for ticket, task_id in await asyncio.to_thread(self.board.lapsed, self.account):
            try:
                over = await self.ended(task_id)
            except Exception as exc:  # asked again at the next look
                log.debug("could not ask about task %s (%s)", task_id, exc)
                continue
            if over:
                await asyncio.to_thread(self.board.drop, ticket)

    def release(self, ticket: int) -> None:
        """Give the lease back (in a thread, not awaited: a late return only leaves a slot
        unused a moment) and let this process's waiters ask again."""
        job = asyncio.get_running_loop().create_task(self._give_back(ticket))
        self.leaving.add(job)
        job.add_done_callback(self.leaving.discard)

    async def _give_back(self, ticket: int) -> None:
        try:
            await asyncio.to_thread(self.board.release, ticket)
        except Exception:  # the holder's rows go when its connection does
            log.debug("could not give lease %s back", ticket, exc_info=True)
        self.wake.set()

    async def drain(self) -> None:
        """Wait for the leases given back (before the run closes the ledger)."""
        if self.leaving:
            await asyncio.gather(*self.leaving, return_exceptions=True)


class SharedBucket:
    """A local ``TokenBucket`` and then, with a board, the account's shared one."""

    def __init__(self, local: TokenBucket, board: Board | None, account: str, kind: str,
                 rate: float | None) -> None:
        self.local, self.board, self.account, self.kind, self.rate = (
            local, board, account, kind, rate)

    def pause(self, seconds: float) -> None:
        self.local.pause(seconds)

    async def take(self, rank: float = 0.0) -> None:
        """A token (``rank``: ``TokenBucket.take``'s), the local bucket's, then the account's."""
        await self.local.take(rank)
        rate = self.rate
        if self.board is None or rate is None or rate <= 0 or math.isinf(rate):
            return
        burst = max(1, math.ceil(rate))
        while True:
            wait = await asyncio.to_thread(self.board.take_token, self.account, self.kind, rate,
                                           burst)
            if wait <= 0:
                return
            await self.local.sleep(wait)
