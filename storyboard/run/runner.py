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
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

from storyboard.errors import StoryboardError
from storyboard.files import check_state_folders
from storyboard.language.request import CompiledShot, Manifest
from storyboard.media import ffmpeg
from storyboard.providers.base import Provider, task_key
from storyboard.run import claims
from storyboard.run.assets import Made, not_made
from storyboard.run.cache import OutputCache, cast_source, is_asset
from storyboard.run.inputs import prune_inputs
from storyboard.run.journal import Journal
from storyboard.run.lockfile import LockEntry, entry_for, lock_path, proxy, shot_key, update_lock
from storyboard.run.model import (
    DEFAULT_POLL_SCHEDULE,
    EventState,
    ResultState,
    RunOptions,
    RunResult,
    ShotEvent,
    ShotResult,
)
from storyboard.run.pacing import Clock, Sleep, run_lock
from storyboard.run.plan import ReferenceSeconds, shots_of
from storyboard.run.session import Gone, Outcome
from storyboard.run.submit import Submitting
from storyboard.run.team.ledger import Ledger, ShotClaimed, default_ledger
from storyboard.run.team.sharing import StoreLink
from storyboard.targets import PriceTable
from storyboard.targets.prices import is_amount

log = logging.getLogger("storyboard.run")

T = TypeVar("T")
P = ParamSpec("P")

class ShotRun(Submitting):
    async def execute(self, shots: Sequence[CompiledShot]) -> list[ShotResult]:
        loop = asyncio.get_running_loop()
        for position, shot in enumerate(shots):
            key = shot_key(shot)
            self.order.setdefault(key, position)
            self.futures.setdefault(key, loop.create_future())
            self.by_hash.setdefault(shot.hash, key)
        await self.reconcile_all(shots)
        tasks = [asyncio.create_task(self.shot(shot)) for shot in shots]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def shot(self, shot: CompiledShot) -> ShotResult:
        key = shot_key(shot)
        self.started[key] = self.clock()
        self.emit(shot, "queued")
        try:
            result = await self.flow(shot)
        except Outcome as outcome:
            result = outcome.result
        except StoryboardError as exc:
            self.emit(shot, "failed", str(exc))
            result = self.result(shot, "failed", str(exc))
        except Exception as exc:  # a bug: report it on this shot, keep the others going
            log.exception("shot %s failed unexpectedly", key)
            message = f"internal error: {type(exc).__name__}: {exc}"
            self.emit(shot, "failed", message)
            result = self.result(shot, "failed", message)
        future = self.futures[key]
        if not future.done():
            future.set_result(result)
        if result.ok and self.store is not None and self.store.claim(shot.hash):
            await asyncio.to_thread(self.store.push, shot, self.cache)  # a failure is a note
        return result

    async def flow(self, shot: CompiledShot) -> ShotResult:
        if self.cache.has(shot.hash):
            return await self.cached(shot)
        if shot.hash in self.early:
            state, message, code = self.early[shot.hash]
            raise self.end(shot, state, message, _event_for(state), code=code)
        await self.follow_duplicate(shot)
        dependency = await self.dependency_output(shot)
        if self.cache.has(shot.hash):
            return await self.cached(shot)
        first_frame = await self.first_frame(dependency) if dependency else None
        self.made[shot_key(shot)] = {asset: await self.asset_made(shot, asset, digest)
                                     for asset, digest in shot.needs.items()}
        return await self.from_journal(shot, first_frame)

    async def asset_made(self, shot: CompiledShot, asset: str, digest: str) -> Made:
        """The take of ``asset`` that ``shot`` uses, made (waiting for it if it renders in this
        run); ends the shot as ``blocked`` when that take failed or was never made."""
        key = self.by_hash.get(digest)
        if key is not None and key in self.futures and key != shot_key(shot):
            made = await self.futures[key]
            if made.output is not None:
                return Made(made.output, made.task_id or "")
            raise self.end(shot, "blocked", not_made(asset, shot, f"ended {made.state}",
                                                     self.root, self.refused.get(key)), "blocked")
        entry = self.cache.get(digest)
        if entry is not None:
            return Made(self.cache.path(digest), entry.task_id)
        raise self.end(shot, "blocked", not_made(asset, shot, "is not made", self.root),
                       "blocked")

    async def follow_duplicate(self, shot: CompiledShot) -> None:
        """Shots with the same hash (variations) render once: later ones wait for the first."""
        key = shot_key(shot)
        leader = self.leaders.setdefault(shot.hash, key)
        if leader == key:
            return
        first = await self.futures[leader]
        if first.ok or self.cache.has(shot.hash):
            return
        message = f"same request as {leader}, which ended {first.state}: {first.message}"
        raise self.end(shot, first.state, message, _event_for(first.state), code=first.code)

    async def dependency_output(self, shot: CompiledShot) -> Path | None:
        """The video whose last frame is this shot's first frame (waiting for it if it renders
        in this run); ends the shot as ``blocked`` when it failed or was never rendered."""
        if not shot.depends_on:
            return None
        key = f"{shot.series}/{shot.episode}/{shot.depends_on}"
        if key in self.futures and self.order[key] < self.order[shot_key(shot)]:
            first = await self.futures[key]
            if first.output is not None:
                return first.output
            raise self.end(shot, "blocked", f"blocked: shot {shot.depends_on} (its first frame) "
                           f"ended {first.state}", "blocked")
        dep_hash = self.locked.get(key, {}).get("hash")
        if isinstance(dep_hash, str) and self.cache.has(dep_hash):
            return self.cache.path(dep_hash)
        raise self.end(shot, "blocked", f"blocked: shot {shot.depends_on} (its first frame) is not "
                       "rendered; render it first", "blocked")

    async def first_frame(self, video: Path) -> Path:
        # Keyed by the cache folder too: a draft and a full render of one shot share a hash.
        frame = self.root / ".storyboard" / "frames" / f"{video.parent.name}-{video.stem}-last.png"
        if not frame.is_file():
            await asyncio.to_thread(ffmpeg.last_frame, video, frame)
        return frame

    async def from_journal(self, shot: CompiledShot, first_frame: Path | None) -> ShotResult:
        """Resume, pull or submit; a shot claimed by another run is followed (``claims``)."""
        for _ in range(claims.ROUNDS):
            try:
                return await self.resume_pull_or_submit(shot, first_frame)
            except ShotClaimed as claimed:
                followed = await claims.follow(self, shot, claimed.holder)
                if followed is not None:
                    return followed
        raise self.end(shot, "pending", "claimed by other runs again and again; run again",
                       "failed")

    async def resume_pull_or_submit(self, shot: CompiledShot, first_frame: Path | None
                                    ) -> ShotResult:
        attempts = await self.journal_attempts(shot)
        with_task = [a for a in attempts if a.task_id]
        if with_task and await self.stored_instead(shot, with_task[-1]):
            return await self.cached_from_store(shot)
        if with_task:
            adopted = "adopted" in (with_task[-1].note or "")
            try:
                return await self.resume(shot, with_task[-1], "adopted a task found by reconcile"
                                         if adopted else "resumed from the journal")
            except Gone:
                self.notes[shot.hash] = "resubmitted: the earlier result has expired"
        pulled = await self.from_store(shot)
        if pulled is not None:
            return pulled
        return await self.submit_and_finish(shot, first_frame, self.notes.get(shot.hash, ""))



def _event_for(state: ResultState) -> EventState:
    mapping: dict[ResultState, EventState] = {
        "done": "done", "cached": "cached", "failed": "failed", "skipped": "skipped",
        "blocked": "blocked", "pending": "failed"}
    return mapping[state]


async def render(source: Manifest | Sequence[CompiledShot], provider: Provider, *,
                 series_dir: Path | None = None,
                 concurrency: int = 4,
                 submit_rate: float = 2.0,
                 poll_schedule: Sequence[float] = DEFAULT_POLL_SCHEDULE,
                 request_timeout: float = 60.0,
                 max_retries: int = 5,
                 budget: float | None = None,
                 on_event: Callable[[ShotEvent], None] | None = None,
                 max_wait: float = 1800.0,
                 prices: PriceTable | None = None,
                 reference_video_seconds: ReferenceSeconds | None = None,
                 options: RunOptions | None = None,
                 store: StoreLink | None = None,
                 sleep: Sleep = asyncio.sleep,
                 clock: Clock = time.monotonic,
                 rng: random.Random | None = None,
                 ledger: Ledger | None = None,
                 on_notice: Callable[[str], None] | None = None,
                 locked: Mapping[str, LockEntry] | None = None,
                 skips: Mapping[str, str] | None = None) -> RunResult:
    """Render every shot of ``source`` with ``provider``; never pays twice for one shot.

    ``options`` (a ``RunOptions``) overrides the individual settings when given. ``prices``
    defaults to the provider's table (pass one with the series' overrides applied). ``ledger``
    is the per-user record of paid tasks (default: ``ledger.default_ledger()``); ``on_notice``
    hears what a user must know before anything is spent (default: the log). ``sleep``,
    ``clock`` and ``rng`` exist for tests. Ends with the lock file updated for every shot that
    is rendered or cached. With a ``store``, a shot is looked up there before it is submitted and
    pushed there once it is verified in the cache (see ``sharing``). ``locked``: the lock's
    shots as the caller read them at the start (else they are read here). ``skips``: the shots
    (by hash) a budget under the plan leaves out, each with why (``budgetcut``).
    """
    root = series_dir or (source.root if isinstance(source, Manifest) else None)
    if root is None:
        raise StoryboardError("render of a list of shots needs series_dir")
    if budget is not None and not is_amount(budget):
        raise StoryboardError(f"budget must be a finite amount >= 0, got {budget}")
    opts = options or RunOptions(
        concurrency=concurrency, submit_rate=submit_rate,
        poll_schedule=tuple(poll_schedule), request_timeout=request_timeout,
        max_retries=max_retries, max_wait=max_wait)
    shots = shots_of(source)
    table = prices or provider.prices
    # Free tasks (the local provider) cost nothing to redo: they stay out of the user's ledger.
    paid = any(price > 0 for price in table.per_second.values())
    the_ledger = (default_ledger() if paid else None) if ledger is None else ledger
    try:
        check_state_folders(root)  # before the lock: nothing is written through a link
        with run_lock(root), Journal.open(root, the_ledger) as journal:
            OutputCache(root, provider.cache_key).clean_temporaries()
            if the_ledger is not None:
                _warn_if_journal_lost(journal, the_ledger, shots, provider, on_notice)
            run = ShotRun(provider, root, journal, opts, prices=table, budget=budget,
                       ref_seconds=reference_video_seconds, on_event=on_event, sleep=sleep,
                       clock=clock, rng=rng or random.Random(), store=store,
                       locked=locked)
            run.early.update({h: ("skipped", why, "") for h, why in (skips or {}).items()})
            try:
                results = await run.execute(shots)
            finally:
                run.executor.shutdown(wait=True)  # every journal write lands before the close
            lock = _write_lock(source, shots, results, run, root)
            prune_inputs(root)
    finally:
        if ledger is None and the_ledger is not None:
            the_ledger.close()
    return RunResult(results, run.spent, table.currency, run.submits, lock,
                     notes=list(store.notes) if store else [], resumed_cost=run.resumed_cost)


def _warn_if_journal_lost(journal: Journal, ledger: Ledger, shots: Sequence[CompiledShot],
                          provider: Provider, on_notice: Callable[[str], None] | None) -> None:
    """A new journal while the ledger holds tasks of these shots: say so before anything is
    spent (they are resumed by polling, not paid again)."""
    if not journal.was_empty:
        return
    cache = OutputCache(journal.series_dir, provider.cache_key)
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
                results: Sequence[ShotResult], run: ShotRun, root: Path) -> Path:
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
        for shot in shots:
            prune.setdefault(shot.series, set()).add(shot_key(shot))
    path = lock_path(root, proxy(run.provider))  # a draft never rewrites the committed lock
    update_lock(path, entries, prune_series=prune)
    return path


FAILED_FIELDS = ("failed_cost", "failed_tasks")


def _billed_failures(run: ShotRun) -> dict[str, list[float]]:
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
