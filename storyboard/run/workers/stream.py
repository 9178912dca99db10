"""A worker's claimed shots of one series into one long run, fed a shot each time a slot frees.

One run per series folder and provider (and queued render) stays open while its shots come: the
series compiled once (again only when the clone's files change), the provider, its HTTP clients,
the journal and the run lock kept. Each time one of its shots ends, the worker claims another
(``queue_pg``) and feeds it to the run (``ShotRun.feed``: its journal settled, then the ordinary
way to done), instead of waiting for a batch's slower shot and paying a run's set-up again.

Money is the runner's, as in any run: the team ledger's claim before each submit, the journal
written before the submit it guards, a dead worker's submitted task adopted and polled. The
run's budget is, before each shot, the render's agreed budget less what the other runs reported
spending on it, as their budgets counted it: each task at no less than its list price, so a
series priced under it never lets the runs together spend past the budget (``Stream.budget``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.team.queue_pg import PgQueue, QueuedShot, QueueState
from storyboard.run.trip.model import ShotResult
from storyboard.run.trip.runner import ShotRun


class Host(Protocol):
    """What the stream needs of its worker: the queue, its name and slots, how rows end."""

    queue: PgQueue
    held: list[QueuedShot]  # claimed for the next run
    open: dict[str, QueuedShot]  # claimed for this run, not ended yet

    def claim(self, count: int) -> list[QueuedShot]: ...
    def waiting(self) -> bool: ...
    def stopping(self) -> bool: ...
    def end(self, row: QueuedShot, state: QueueState, *, cost: float = 0.0,
            counted: float = 0.0, message: str = "") -> None: ...
    def refuse(self, row: QueuedShot, folder: Path, why: str) -> None: ...


def same_run(row: QueuedShot, other: QueuedShot) -> bool:
    """Whether two queued shots render in one run (one series, provider and render)."""
    return (row.series, row.provider, row.render_id) == (other.series, other.provider,
                                                         other.render_id)


@dataclass
class Stream:
    """The shots fed to one open run, and the slots they hold."""

    host: Host
    run: ShotRun
    folder: Path
    shots: dict[str, CompiledShot]  # the series' shots (and cast assets) by hash
    slots: int
    idle: float
    drain: bool
    changed: Callable[[], bool]  # whether the clone's files changed since the compile
    linger: float  # seconds the run stays open with nothing in flight before it ends
    inflight: dict[asyncio.Task[ShotResult], QueuedShot] = field(default_factory=dict)
    extra: list[asyncio.Task[ShotResult]] = field(default_factory=list)  # cast assets fed
    cast: dict[str, list[str]] = field(default_factory=dict)  # a row's id -> the cast fed for it
    fed: list[tuple[CompiledShot, ShotResult]] = field(default_factory=list)
    reported: float = 0.0  # what this run's shots of the render cost, as the queue counts it

    async def serve(self, first: Sequence[QueuedShot]) -> list[tuple[CompiledShot, ShotResult]]:
        """Feed ``first``, then claim a shot each time a slot frees, until none of this run's
        comes (another series' shot is held for the next run), the files changed, nothing has
        been in flight for ``linger`` seconds (the run ends, and with it the clone's run lock:
        a worker waiting on an empty queue never keeps a render of your own out), or the worker
        stops; every shot fed has ended when it returns."""
        model, ready, busy = first[0], list(first), time.monotonic()
        try:
            while True:
                for row in ready:
                    await self.start(row)
                ready = await self.more(model)
                if ready or self.inflight:
                    busy = time.monotonic()
                if ready:
                    continue
                if not self.inflight:
                    if self.host.held or self.host.stopping() or self.changed() or \
                            time.monotonic() - busy >= self.linger:
                        break
                    if self.drain and not await asyncio.to_thread(self.host.waiting):
                        break
                    await asyncio.sleep(self.idle)
                    continue
                done, _ = await asyncio.wait(self.inflight, timeout=self.idle,
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    self.report(self.inflight.pop(task), task.result())
        except BaseException:  # stopped (SIGTERM, Ctrl-C) or broken: the shots fed stop too,
            for task in [*self.inflight, *self.extra]:  # journaled, before the run closes
                task.cancel()
            raise
        finally:
            await asyncio.gather(*self.inflight, *self.extra, return_exceptions=True)
        return self.fed

    async def more(self, model: QueuedShot) -> list[QueuedShot]:
        """This run's shots claimed for the free slots (others held for the next run)."""
        free = self.slots - len(self.inflight)
        if free <= 0 or self.host.held or self.host.stopping():
            return []
        rows = await asyncio.to_thread(self.host.claim, free)
        mine = [r for r in rows if same_run(r, model)]
        self.host.held.extend(r for r in rows if not same_run(r, model))
        if mine and self.changed():  # recompile first: the next run takes them
            self.host.held.extend(mine)
            return []
        self.host.open.update((r.id, r) for r in mine)
        return mine

    async def start(self, row: QueuedShot) -> None:
        shot = self.shots.get(row.shot_hash)
        if shot is None:
            self.host.refuse(row, self.folder, f"{self.folder} does not compile it to "
                                               f"{row.shot_hash[:12]} (a clone at another "
                                               "commit, or edited?)")
            return
        self.run.money.budget = await self.budget(row)
        for digest in shot.needs.values():  # its cast, made here first unless made already
            asset = self.shots.get(digest)
            if asset is not None and digest not in self.run.session.by_hash \
                    and not self.run.session.cache.has(digest):
                self.run.enter(asset)
                self.extra.append(asyncio.create_task(self.fed_one(asset)))
                self.cast.setdefault(row.id, []).append(shot_key(asset))
        self.run.enter(shot)
        self.inflight[asyncio.create_task(self.fed_one(shot))] = row

    async def fed_one(self, shot: CompiledShot) -> ShotResult:
        result = await self.run.feed(shot)
        self.fed.append((shot, result))
        return result

    async def budget(self, row: QueuedShot) -> float:
        """The agreed budget less what the other runs reported spending on the render (as
        their budgets counted it)."""
        spent = await asyncio.to_thread(self.host.queue.spent, row.render_id)
        others = max(0.0, spent - self.reported)
        return max(0.0, row.budget - others)

    def report(self, row: QueuedShot, result: ShotResult) -> None:
        """The shot's end on the queue: what it was billed, and what this run's budget counted
        of it and of the cast made for it (each at its list price at least), which the other
        runs' budgets count."""
        keys = (shot_key(self.shots[row.shot_hash]), *self.cast.pop(row.id, ()))
        counted = round(sum(self.run.money.counted_by.get(k, 0.0) for k in keys), 4)
        state: QueueState = "done" if result.ok else "failed"
        message = (result.task_id or result.state) if result.ok else result.message
        cost = result.cost
        if result.state == "pending":  # its task still runs: resumed by whoever takes it
            state, cost = "queued", 0.0
        counted = max(cost, counted)  # a resumed task: paid, outside this run's budget
        self.reported += counted
        self.host.end(row, state, cost=cost, counted=counted, message=message)


def fail_open(host: Host, rows: Sequence[QueuedShot], error: StoryboardError) -> None:
    """A run that could not open (or broke): its claimed shots end failed, saying why."""
    for row in rows:
        host.end(row, "failed", message=str(error))
