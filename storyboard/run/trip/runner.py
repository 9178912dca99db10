"""Compiled shots into rendered videos: submit, journal, poll, download, verify, cache; safely.

Per shot: a cache hit is done at once (no submit). Otherwise the journal decides: an attempt with a
task id that is not finished is RESUMED by polling; an ``intent`` with no task id (the process died
between writing the intent and reading the answer) is RECONCILED with ``provider.find`` first, and
only a task the provider does not know is submitted again. A submit error that may have reached the
server (a timeout, a dropped connection) is reconciled the same way; one that proves nothing was
created (429, a 5xx answer, a refused connection) is retried directly, with exponential backoff and
full jitter, honouring ``retry_after``.

Twins: shots often compile to the same prompt, and a lost submit can only be looked up by prompt.
So submits that share a prompt (``ledger.find_key``) are sent one at a time, each only once the
one before has a known task id, and every unanswered intent is settled (``reconcile_all``) before
any submit: a lookup then meets at most one task no journal or ledger claims. Meeting more, it
adopts none and submits nothing (the shot ends ``pending`` with the task ids to check). Every money
write also goes to the per-user ``ledger`` (through ``journal``), so a deleted journal loses no
task; and each local file is snapshotted and re-hashed before a submit (``inputs``), so the bytes
sent are the bytes hashed.

Money: ``spent`` is the billed cost of the tasks that succeeded in this run. A submit is never
STARTED when spent + in-flight estimates + its own estimate would pass the budget; such shots end as
``skipped``. Killing the process at any instant and running again carries on: the journal writes
happen before the step they guard (see ``journal``), and a video is renamed into the cache before
the journal says ``done``, so a cache hit wins if the kill falls in between.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import check_state_folders
from storyboard.language.request import CompiledShot, Manifest
from storyboard.media import ffmpeg
from storyboard.providers.base import Provider, task_key
from storyboard.run.state.cache import OutputCache, cast_source, is_asset
from storyboard.run.state.castinputs import Made, not_made, unsettled
from storyboard.run.state.lock.boardbytes import file_problem
from storyboard.run.state.lock.lockfile import (
    LockEntry,
    entry_for,
    lock_path,
    proxy,
    read_lock,
    shot_key,
    update_lock,
)
from storyboard.run.state.runlock import run_lock
from storyboard.run.state.tasks.journal import Journal
from storyboard.run.team.ledger import Ledger, ShotClaimed, default_ledger
from storyboard.run.trip import claims
from storyboard.run.trip.budget.costs import shots_of
from storyboard.run.trip.budget.money import Money, list_floor
from storyboard.run.trip.download import Downloader
from storyboard.run.trip.events import Events, Outcome
from storyboard.run.trip.guards.inputs import prune_inputs
from storyboard.run.trip.model import (
    EventState,
    ResultState,
    RunOptions,
    RunResult,
    ShotResult,
    Wiring,
)
from storyboard.run.trip.pace.pacing import Pacing, Timing, team_board
from storyboard.run.trip.poll import Poller
from storyboard.run.trip.reconcile import Reconciler
from storyboard.run.trip.session import Gone, Place, Session
from storyboard.run.trip.submit import Submitter
from storyboard.targets.prices import is_amount

log = logging.getLogger("storyboard.run")


class ShotRun:
    """A run's shots driven from cache hit to done through its parts, which share one
    ``Session``: the ``Reconciler`` settles what earlier runs left, the ``Submitter`` sends, the
    ``Poller`` resumes a journaled task, the ``Downloader`` takes a cached or stored video."""

    def __init__(self, session: Session, money: Money, events: Events, pacing: Pacing) -> None:
        self.session, self.money, self.events, self.pacing = session, money, events, pacing
        self.downloader = Downloader(session, money, events, pacing)
        self.poller = Poller(session, money, events, pacing, self.downloader)
        self.reconciler = Reconciler(session, money, events, pacing)
        self.submitter = Submitter(session, money, events, pacing, self.reconciler, self.poller,
                                   self.downloader)

    async def execute(self, shots: Sequence[CompiledShot]) -> list[ShotResult]:
        session = self.session
        loop = asyncio.get_running_loop()
        start = len(session.order)  # shots a run goes on to come after those it began with
        for position, shot in enumerate(shots, start):
            key = shot_key(shot)
            session.order.setdefault(key, position)
            session.futures.setdefault(key, loop.create_future())
            session.by_hash.setdefault(shot.hash, key)
        await self.reconciler.reconcile_all(shots)
        tasks = [asyncio.create_task(self.shot(shot)) for shot in shots]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def feed(self, shot: CompiledShot) -> ShotResult:
        """One more shot for a run already going (a worker's): its journal settled as
        ``execute`` settles every shot's before any submit, then its way to done. A shot fed
        again (its task was pending) starts afresh; one it waits on must be fed first."""
        self.enter(shot)
        await self.reconciler.reconcile_all([shot])
        return await self.shot(shot)

    def enter(self, shot: CompiledShot) -> None:
        """``shot`` known to the run before it is fed (shots that use it wait for it)."""
        session = self.session
        key = shot_key(shot)
        session.order.setdefault(key, len(session.order))
        future = session.futures.get(key)
        if future is None or future.done():
            session.futures[key] = asyncio.get_running_loop().create_future()
            session.early.pop(shot.hash, None)
        session.by_hash.setdefault(shot.hash, key)

    def write_lock(self, source: Manifest | Sequence[CompiledShot],
                   shots: Sequence[CompiledShot], results: Sequence[ShotResult]) -> Path:
        """The lock file updated for ``shots`` that rendered (journal writes landed first)."""
        self.session.shutdown()
        return _write_lock(source, shots, results, self.session, self.session.root)

    async def shot(self, shot: CompiledShot) -> ShotResult:
        session = self.session
        events, pacing = self.events, self.pacing
        key = shot_key(shot)
        events.started[key] = pacing.clock()
        events.emit(shot, "queued")
        try:
            result = await self.flow(shot)
        except Outcome as outcome:
            result = outcome.result
        except StoryboardError as exc:
            events.emit(shot, "failed", str(exc))
            result = events.result(shot, "failed", str(exc))
        except Exception as exc:  # a bug: report it on this shot, keep the others going
            log.exception("shot %s failed unexpectedly", key)
            message = f"internal error: {type(exc).__name__}: {exc}"
            events.emit(shot, "failed", message)
            result = events.result(shot, "failed", message)
        future = session.futures[key]
        if not future.done():
            future.set_result(result)
        if result.ok and session.store is not None and session.store.claim(shot.hash):
            await asyncio.to_thread(session.store.push, shot, session.cache)  # a failure is a note
        return result

    async def flow(self, shot: CompiledShot) -> ShotResult:
        session = self.session
        events = self.events
        if session.cache.has(shot.hash):
            return await self.downloader.cached(shot)
        if shot.hash in session.early:
            state, message, code = session.early[shot.hash]
            raise events.end(shot, state, message, _event_for(state), code=code)
        await self.follow_duplicate(shot)
        dependency = await self.dependency_output(shot)
        if session.cache.has(shot.hash):
            return await self.downloader.cached(shot)
        first_frame = await self.first_frame(dependency) if dependency else None
        session.made[shot_key(shot)] = {asset: await self.asset_made(shot, asset, digest)
                                        for asset, digest in shot.needs.items()}
        return await self.from_journal(shot, first_frame)

    async def asset_made(self, shot: CompiledShot, asset: str, digest: str) -> Made:
        """The take of ``asset`` that ``shot`` uses, made (waiting for it if it renders in this
        run); ends the shot as ``blocked`` when that take failed or was never made."""
        session = self.session
        money, events = self.money, self.events
        key = session.by_hash.get(digest)
        if key is not None and key in session.futures and key != shot_key(shot):
            made = await session.futures[key]
            if made.output is not None:
                return Made(self.board_checked(shot, asset, digest, made.output),
                            made.task_id or "")
            settle = session.settles.get(digest) if made.code == "AmbiguousTask" else None
            why = unsettled(asset, shot, settle) if settle else not_made(
                asset, shot, f"ended {made.state}", session.root, money.refused.get(key))
            raise events.end(shot, "blocked", why, "blocked")
        entry = session.cache.get(digest)
        if entry is not None:
            return Made(self.board_checked(shot, asset, digest, session.cache.path(digest)),
                        entry.task_id)
        raise events.end(shot, "blocked", not_made(asset, shot, "is not made", session.root),
                         "blocked")

    def board_checked(self, shot: CompiledShot, asset: str, digest: str, path: Path) -> Path:
        """``path``, the file of ``asset``'s take ``digest``; a board's checked again, right
        before it is sent, to be the picture the gate let go (``boardbytes``): else the shot
        ends ``blocked``, unpaid."""
        session = self.session
        events = self.events
        if digest not in session.board_bytes:
            return path
        why = file_problem(path, session.board_bytes[digest])
        if why is None:
            return path
        raise events.end(shot, "blocked", f"blocked: its board {asset} changed after approval "
                         f"({path.name}: {why}); run plan to see what ends it", "blocked")

    async def follow_duplicate(self, shot: CompiledShot) -> None:
        """Shots with the same hash (variations) render once: later ones wait for the first."""
        session = self.session
        events = self.events
        key = shot_key(shot)
        leader = session.leaders.setdefault(shot.hash, key)
        if leader == key:
            return
        first = await session.futures[leader]
        if first.ok or session.cache.has(shot.hash):
            return
        message = f"same request as {leader}, which ended {first.state}: {first.message}"
        raise events.end(shot, first.state, message, _event_for(first.state), code=first.code)

    async def dependency_output(self, shot: CompiledShot) -> Path | None:
        """The video whose last frame is this shot's first frame (waiting for it if it renders
        in this run); ends the shot as ``blocked`` when it failed or was never rendered."""
        session = self.session
        events = self.events
        if not shot.depends_on:
            return None
        key = f"{shot.series}/{shot.episode}/{shot.depends_on}"
        if key in session.futures and session.order[key] < session.order[shot_key(shot)]:
            first = await session.futures[key]
            if first.output is not None:
                return first.output
            raise events.end(shot, "blocked", f"blocked: shot {shot.depends_on} (its first "
                             f"frame) ended {first.state}", "blocked")
        dep_hash = session.locked.get(key, {}).get("hash")
        if isinstance(dep_hash, str) and session.cache.has(dep_hash):
            return session.cache.path(dep_hash)
        raise events.end(shot, "blocked", f"blocked: shot {shot.depends_on} (its first frame) "
                         "is not rendered; render it first", "blocked")

    async def first_frame(self, video: Path) -> Path:
        # Keyed by the cache folder too: a draft and a full render of one shot share a hash.
        frames = self.session.root / ".storyboard" / "frames"
        frame = frames / f"{video.parent.name}-{video.stem}-last.png"
        if not frame.is_file():
            await asyncio.to_thread(ffmpeg.last_frame, video, frame)
        return frame

    async def from_journal(self, shot: CompiledShot, first_frame: Path | None) -> ShotResult:
        """Resume, pull or submit; a shot claimed by another run is followed (``claims``)."""
        for _ in range(claims.ROUNDS):
            try:
                return await self.resume_pull_or_submit(shot, first_frame)
            except ShotClaimed as claimed:
                followed = await claims.follow(self.session, self.events, self.pacing,
                                               self.downloader, shot, claimed.holder)
                if followed is not None:
                    return followed
        raise self.events.end(shot, "pending", "claimed by other runs again and again; run "
                              "again", "failed")

    async def resume_pull_or_submit(self, shot: CompiledShot, first_frame: Path | None
                                    ) -> ShotResult:
        attempts = await self.reconciler.journal_attempts(shot)
        with_task = [a for a in attempts if a.task_id]
        if with_task and await self.downloader.stored_instead(shot, with_task[-1]):
            return await self.downloader.cached_from_store(shot)
        notes = self.session.notes
        if with_task:
            adopted = "adopted" in (with_task[-1].note or "")
            try:
                return await self.poller.resume(shot, with_task[-1],
                                                "adopted a task found by reconcile" if adopted
                                                else "resumed from the journal")
            except Gone:
                notes[shot.hash] = "resubmitted: the earlier result has expired"
        pulled = await self.downloader.from_store(shot)
        if pulled is not None:
            return pulled
        return await self.submitter.submit_and_finish(shot, first_frame, notes.get(shot.hash, ""))



def _event_for(state: ResultState) -> EventState:
    mapping: dict[ResultState, EventState] = {
        "done": "done", "cached": "cached", "failed": "failed", "skipped": "skipped",
        "blocked": "blocked", "pending": "failed"}
    return mapping[state]


async def render(source: Manifest | Sequence[CompiledShot], provider: Provider,
                 options: RunOptions | None = None, wiring: Wiring | None = None) -> RunResult:
    """Render every shot of ``source`` with ``provider``; never pays twice for one shot.

    ``options`` are the run's flags (concurrency, rates, polls, the budget); ``wiring`` what it is
    wired to (the series folder when ``source`` is a list of shots, prices, the store, the ledger,
    the listeners, ``later``: what the run goes on to once its shots end, asked in turn). Ends
    with the lock file updated for every shot that is rendered or cached. With a store, a shot
    is looked up there before it is submitted and pushed there once it is verified in the cache
    (see ``sharing``).
    """
    wired = wiring or Wiring()
    root = wired.series_dir or (source.root if isinstance(source, Manifest) else None)
    if root is None:
        raise StoryboardError("render of a list of shots needs series_dir")
    shots = list(shots_of(source))
    async with opened(provider, options, replace(wired, series_dir=root), shots) as run:
        results = await run.execute(shots)
        ended, later = results, wired.later
        try:
            while later is not None:  # what only the made shots let be asked: the same run
                more = await asyncio.to_thread(later, ended)
                run.session.early.update({h: ("skipped", why, "")
                                          for h, why in more.skips.items()})
                ended, later = await run.execute(more.shots), more.later
                results, shots = [*results, *ended], [*shots, *more.shots]
        finally:  # what ended is in the lock, whatever stops what comes after
            lock = run.write_lock(source, shots, results)
    store = wired.store
    return RunResult(results, run.money.spent, run.money.prices.currency, run.session.submits,
                     lock, notes=list(store.notes) if store else [],
                     resumed_cost=run.money.resumed_cost, counted=run.money.counted)


@asynccontextmanager
async def opened(provider: Provider, options: RunOptions | None, wired: Wiring,
                 shots: Sequence[CompiledShot] = ()) -> AsyncIterator[ShotRun]:
    """A run open in ``wired.series_dir`` (its run lock, its journal, its provider's hooks) for
    shots given at once (``ShotRun.execute``) or one by one as they come (``ShotRun.feed``: a
    worker's long run); ``shots`` are those known at the start (a lost journal is told of)."""
    opts, root = options or RunOptions(), wired.series_dir
    if root is None:
        raise StoryboardError("a run needs its series folder")
    if opts.budget is not None and not is_amount(opts.budget):
        raise StoryboardError(f"budget must be a finite amount >= 0, got {opts.budget}")
    table = wired.prices or provider.prices
    # Free tasks (the local provider) cost nothing to redo: they stay out of the user's ledger.
    paid = any(price > 0 for price in table.per_second.values())
    the_ledger = (default_ledger() if paid else None) if wired.ledger is None else wired.ledger
    try:
        check_state_folders(root)  # before the lock: nothing is written through a link
        with run_lock(root), Journal.open(root, the_ledger) as journal:
            cache = wired.cache or OutputCache(root, provider.cache_key)
            cache.clean_temporaries()
            if the_ledger is not None:
                _warn_if_journal_lost(journal, the_ledger, shots, provider, cache,
                                      wired.on_notice)
            money = Money(table, opts.budget, wired.reference_video_seconds,
                          list_floor(provider, table))
            events = Events(wired.on_event, wired.clock, cache, money)
            timing = Timing(wired.sleep, wired.clock, wired.rng or random.Random())
            pacing = Pacing(opts, team_board(journal, opts), task_key(provider), timing)
            # a lookup's every request is retried, not the lookup; progress pushed between polls
            # (ComfyUI's /ws) heard: the provider's hooks, given at construction
            hooked = provider.with_hooks(replace(provider.hooks, ask=pacing.patiently,
                                                 on_progress=events.heard))
            locked = (read_lock(lock_path(root, proxy(provider))).shots if wired.locked is None
                      else wired.locked)
            session = Session(hooked, journal, opts, Place(root, cache, locked, wired.store))
            session.early.update({h: ("skipped", why, "")
                                  for h, why in (wired.skips or {}).items()})
            session.board_bytes.update(wired.board_bytes or {})
            try:
                yield ShotRun(session, money, events, pacing)
            finally:
                session.shutdown()  # every journal write lands first
            prune_inputs(root)
    finally:
        if wired.ledger is None and the_ledger is not None:
            the_ledger.close()


def _warn_if_journal_lost(journal: Journal, ledger: Ledger, shots: Sequence[CompiledShot],
                          provider: Provider, cache: OutputCache,
                          on_notice: Callable[[str], None] | None) -> None:
    """A new journal while the ledger holds tasks of these shots: say so before anything is
    spent (they are resumed by polling, not paid again)."""
    if not journal.was_empty:
        return
    hashes = {shot.hash for shot in shots if not cache.has(shot.hash)}
    held = [entry for digest in sorted(hashes)
            for entry in ledger.entries(task_key(provider), digest)
            if entry.open and not ledger.alive(entry.id)]  # a living run's claim: it is waited for
    if not held:
        return
    message = (f"the task journal {journal.path} is new, but the ledger {ledger.where} holds "
               f"{len(held)} unfinished task(s) of these shots (was .storyboard/ deleted?): "
               "they are resumed from the ledger, not paid for again")
    if on_notice is None:
        log.warning("%s", message)
    else:
        on_notice(message)


def _write_lock(source: Manifest | Sequence[CompiledShot], shots: Sequence[CompiledShot],
                results: Sequence[ShotResult], run: Session, root: Path) -> Path:
    entries = []
    failed = _billed_failures(run)
    for shot, result in zip(shots, results, strict=True):
        cached = run.cache.get(shot.hash) if result.ok else None
        if cached is not None:
            key = run.provider.cache_key  # a cast asset's: the cast's maker's (``cast_source``)
            entry = entry_for(shot, cached, root, run.provider.name,
                              cast_source(key) if is_asset(shot.hash) else key)
            entries.append(entry | _paid_before(shot, failed, run.locked.get(shot_key(shot))))
    prune: dict[str, set[str]] | None = None
    if isinstance(source, Manifest):  # the whole series: drop the entries of deleted shots
        prune = {}
        for shot in source.takes():  # not those a run went on to (``Wiring.later``)
            prune.setdefault(shot.series, set()).add(shot_key(shot))
    path = lock_path(root, proxy(run.provider))  # a draft never rewrites the committed lock
    update_lock(path, entries, prune_series=prune)
    return path


FAILED_FIELDS = ("failed_cost", "failed_tasks")


def _billed_failures(run: Session) -> dict[str, list[float]]:
    """Each request's billed failures in this clone's journal (their costs), by hash."""
    found: dict[str, list[float]] = {}
    for attempt in run.journal.billed_failures(run.task_key):
        found.setdefault(attempt.shot_hash, []).append(float(attempt.cost or 0.0))
    return found


def _paid_before(shot: CompiledShot, failed: dict[str, list[float]],
                 old: LockEntry | None) -> LockEntry:
    """What a take's request cost in billed failures before it rendered (an unusable result),
    for its lock entry: from this clone's journal, else as the lock had it for the same request
    (a clone without that journal keeps it)."""
    costs = failed.get(shot.hash)
    if costs:
        return {"failed_cost": round(sum(costs), 6), "failed_tasks": len(costs)}
    if old is not None and old.get("hash") == shot.hash:
        return {name: old[name] for name in FAILED_FIELDS if name in old}
    return {}
