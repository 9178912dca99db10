"""A run's shared records into one place the parts of a shot's way read and write.

One ``Session`` per run is shared by the parts of a shot's way: ``download.Downloader``,
``poll.Poller``, ``reconcile.Reconciler``, ``submit.Submitter``, driven by ``runner.ShotRun``.
It holds the provider (given its hooks), the journal and its writer threads, where the takes go
(``Place``) and what the run has learnt of its shots. The run's money (``money.Money``), pace
(``paced.Pacing``) and events (``events.Events``) are objects of their own, handed to the parts
that use them; none of the parts inherits from another.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from storyboard.language.request import CompiledShot
from storyboard.providers.base import Provider, task_key
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.castinputs import Made
from storyboard.run.state.lock.lockfile import LockEntry
from storyboard.run.state.sharing import StoreLink
from storyboard.run.state.tasks.journal import AttemptState, Journal, lookup_key
from storyboard.run.trip.model import ResultState, RunOptions, ShotResult
from storyboard.targets import TaskStatus

T = TypeVar("T")
P = ParamSpec("P")

# A task that ended without a video, as the journal records the attempt. UNKNOWN is not here: a
# word we do not know never ends an attempt (it stays in flight; see ``poll``).
TASK_END_STATE: dict[TaskStatus, AttemptState] = {
    TaskStatus.FAILED: "failed", TaskStatus.CANCELED: "canceled"}


class Gone(Exception):
    """A result restored from the ledger that the provider no longer has: render it anew."""


@dataclass(frozen=True)
class Place:
    """Where a run's takes go and what it finds there: the series folder, the provider's output
    cache, the team's store (if any) and the lock's entries as the run began."""

    root: Path
    cache: OutputCache
    locked: Mapping[str, LockEntry]
    store: StoreLink | None = None


class Session:
    def __init__(self, provider: Provider, journal: Journal, options: RunOptions,
                 place: Place) -> None:
        self.provider, self.journal, self.options = provider, journal, options
        self.root, self.cache, self.store = place.root, place.cache, place.store
        self.locked = place.locked
        self.task_key = task_key(provider)  # journal and ledger: tasks belong to an endpoint
        self.shortest: dict[str, float] = {}  # a model -> its quickest task seen done (seconds)
        self.submits = 0
        self.futures: dict[str, asyncio.Future[ShotResult]] = {}
        self.order: dict[str, int] = {}
        self.leaders: dict[str, str] = {}
        self.by_hash: dict[str, str] = {}  # a hash -> the first shot of this run with it
        self.made: dict[str, dict[str, Made]] = {}  # a shot's key -> the assets it is sent with
        self.key_locks: dict[str, asyncio.Lock] = {}  # one unknown submit per prompt at a time
        self.blocked: dict[str, str] = {}  # find key -> why no submit with it may start
        self.early: dict[str, tuple[ResultState, str, str]] = {}  # hash -> reconcile's verdict
        self.board_bytes: dict[str, str] = {}  # a board take the gate let go -> its sha256
        self.notes: dict[str, str] = {}  # hash -> why it is submitted again
        self.settles: dict[str, str] = {}  # hash -> the commands that settle its lost submit
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

    def key_lock(self, shot: CompiledShot) -> asyncio.Lock:
        return self.key_locks.setdefault(self.find_key(shot), asyncio.Lock())

    def find_key(self, shot: CompiledShot) -> str:
        return lookup_key(shot)
