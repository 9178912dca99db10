"""A worker's queued shots of one series into one long run, fed a shot each time the engine hands
the worker one for a free slot.

One run per series folder and provider (and queued render) stays open while its shots come: the
series compiled once (again only when the clone's files change), the provider, its HTTP clients,
the journal and the run lock kept. Each job the engine gives the worker feeds its shot to the
open run (``ShotRun.feed``: its journal settled, then the ordinary way to done); a run with
nothing in flight for ``linger`` seconds ends, letting go of the clone's run lock. Two renders of
one series folder never hold a run at once (the run lock is the folder's): a job of the other
waits for the open run to finish what it has.

Money is the runner's, as in any run: the team ledger's claim before each submit, the journal
written before the submit it guards, a dead worker's submitted task adopted and polled. The
run's budget is, before each shot, the render's agreed budget less what the other runs reported
spending on it, as their budgets counted it: each task at no less than its list price, so a
series priced under it never lets the runs together spend past the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.language.request import CompiledShot
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.team.queue_pg import QueuedShot
from storyboard.run.trip.model import ShotResult
from storyboard.run.trip.runner import ShotRun

Key = tuple[str, str, str]  # the series folder, the provider, the render


def key_of(row: QueuedShot, folder: Path) -> Key:
    return (str(folder), row.provider, row.render_id)


@dataclass
class Live:
    """One open run on this worker, and the shots fed to it."""

    key: Key
    run: ShotRun
    shots: dict[str, CompiledShot]  # the series' shots (and cast assets) by hash
    changed: Callable[[], bool]  # whether the clone's files changed since the compile
    inflight: int = 0
    closing: bool = False  # no more shots: it ends once those in flight have
    idle_since: float = field(default_factory=time.monotonic)
    reported: float = 0.0  # what this run's shots of the render cost, as the queue counts it
    fed: list[tuple[CompiledShot, ShotResult]] = field(default_factory=list)
    extra: list[asyncio.Task[ShotResult]] = field(default_factory=list)  # cast assets fed
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def usable(self, key: Key) -> bool:
        return self.key == key and not self.closing and not self.changed()

    async def until_done(self, linger: float, idle: float) -> None:
        """Until asked to close, or ``linger`` seconds with nothing in flight; then every shot
        fed has ended."""
        while True:
            quiet = self.inflight == 0
            if quiet and (self.closing or time.monotonic() - self.idle_since >= linger):
                self.closing = True  # in the same step as the look: no job joins it now
                break
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle)
        await asyncio.gather(*self.extra, return_exceptions=True)

    def close(self) -> None:
        self.closing = True
        self.wake.set()

    async def fed_one(self, shot: CompiledShot) -> ShotResult:
        result = await self.run.feed(shot)
        self.fed.append((shot, result))
        return result

    def start(self, shot: CompiledShot, budget: float) -> tuple[asyncio.Task[ShotResult],
                                                                list[str]]:
        """The shot fed under ``budget``, after the cast it needs (made here first unless made
        already): its task, and the journal keys of the cast fed for it."""
        self.run.money.budget = budget
        cast = []
        for digest in shot.needs.values():
            asset = self.shots.get(digest)
            if asset is not None and digest not in self.run.session.by_hash \
                    and not self.run.session.cache.has(digest):
                self.run.enter(asset)
                self.extra.append(asyncio.create_task(self.fed_one(asset)))
                cast.append(shot_key(asset))
        self.run.enter(shot)
        self.inflight += 1
        return asyncio.create_task(self.fed_one(shot)), cast

    def ended(self) -> None:
        self.inflight -= 1
        self.idle_since = time.monotonic()
        self.wake.set()

    def counted(self, shot: CompiledShot, cast: list[str], result: ShotResult) -> float:
        """What this run's budget counted of the shot and of the cast made for it (each at its
        list price at least), and at no less than it was billed (a resumed task: paid outside
        this run's budget); the other runs' budgets count it."""
        keys = (shot_key(shot), *cast)
        counted = round(sum(self.run.money.counted_by.get(k, 0.0) for k in keys), 4)
        counted = max(result.cost, counted)
        self.reported += counted
        return counted


Opener = Callable[[QueuedShot, Path, "asyncio.Future[Live]"], Awaitable[None]]


@dataclass
class Runs:
    """The open runs of one worker, one per series folder at a time."""

    opener: Opener  # opens a run for a shot, sets it on the future, returns once it ended
    live: dict[str, Live] = field(default_factory=dict)  # by series folder
    hosts: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def get(self, row: QueuedShot, folder: Path) -> Live:
        """The open run for the shot; one opened when none fits (the folder's other run
        closed first, once what it has in flight ended)."""
        where, key = str(folder), key_of(row, folder)
        async with self.locks.setdefault(where, asyncio.Lock()):
            live = self.live.get(where)
            if live is not None and live.usable(key):
                return live
            if live is not None:
                live.close()
            host = self.hosts.get(where)
            if host is not None:
                await asyncio.gather(host, return_exceptions=True)
            ready: asyncio.Future[Live] = asyncio.get_running_loop().create_future()
            self.hosts[where] = asyncio.create_task(self._host(where, row, folder, ready))
            live = await ready
            self.live[where] = live
            return live

    async def _host(self, where: str, row: QueuedShot, folder: Path,
                    ready: asyncio.Future[Live]) -> None:
        try:
            await self.opener(row, folder, ready)
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error if isinstance(error, Exception) else
                                    RuntimeError("the run was stopped"))
            if not isinstance(error, Exception):
                raise
        finally:
            self.live.pop(where, None)

    async def close_all(self) -> None:
        """Every open run closed, once what it has in flight ended."""
        for live in list(self.live.values()):
            live.close()
        await asyncio.gather(*self.hosts.values(), return_exceptions=True)
