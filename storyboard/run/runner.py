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
import functools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from storyboard import ffmpeg
from storyboard.errors import (
    ProviderError,
    StoryboardError,
    TaskFailed,
)
from storyboard.media import sha256_file
from storyboard.providers.base import PriceTable, Provider, TaskState, TaskStatus
from storyboard.request import CompiledShot, Manifest

from . import claims
from .cache import CacheEntry, OutputCache
from .checks import (
    InvalidOutput,
    describe,
    is_ambiguous,
    keep_rejected,
    retryable,
    verify_video,
)
from .inputs import InputChanged, prune_inputs, snapshot_inputs
from .journal import REDOWNLOAD, Attempt, AttemptState, Journal, read_status
from .ledger import Ledger, LedgerEntry, ShotClaimed, default_ledger, find_key
from .lockfile import entry_for, lock_path, proxy, read_lock, shot_key, update_lock
from .model import (
    DEFAULT_POLL_SCHEDULE,
    EventState,
    ResultState,
    RunOptions,
    RunResult,
    ShotEvent,
    ShotResult,
)
from .pacing import Clock, Lease, Sleep, Slots, TokenBucket, run_lock
from .plan import ReferenceSeconds, estimate, shots_of
from .sharing import FROM_STORE, StoreLink

log = logging.getLogger("storyboard.run")

T = TypeVar("T")
P = ParamSpec("P")

_TASK_END_STATE: dict[TaskStatus, AttemptState] = {
    TaskStatus.FAILED: "failed", TaskStatus.CANCELED: "canceled", TaskStatus.UNKNOWN: "lost"}


STORE_NOT_REDOWNLOADED = ("restored from the ledger; its video was taken from the store (sha256 "
                          "verified) instead of being downloaded again")


class _Outcome(Exception):
    """Ends a shot's flow early with a result."""

    def __init__(self, result: ShotResult) -> None:
        super().__init__(result.message)
        self.result = result


class _Gone(Exception):
    """A result restored from the ledger that the provider no longer has: render it anew."""


class _Run:
    def __init__(self, provider: Provider, root: Path, journal: Journal, options: RunOptions, *,
                 prices: PriceTable, budget: float | None, ref_seconds: ReferenceSeconds | None,
                 on_event: Callable[[ShotEvent], None] | None, sleep: Sleep, clock: Clock,
                 rng: random.Random, store: StoreLink | None = None) -> None:
        self.provider, self.root, self.journal, self.options = provider, root, journal, options
        self.store = store
        self.prices, self.budget, self.ref_seconds = prices, budget, ref_seconds
        self.on_event, self.sleep, self.clock, self.rng = on_event, sleep, clock, rng
        self.cache = OutputCache(root, provider.cache_key)
        self.slots = Slots(options.concurrency)
        burst = options.submit_burst or max(1, math.ceil(options.submit_rate))
        self.submit_bucket = TokenBucket(options.submit_rate, burst, clock, sleep)
        self.query_bucket = TokenBucket(options.query_rate, max(1, math.ceil(options.query_rate)),
                                        clock, sleep)
        self.spent = 0.0
        self.reserved: dict[str, float] = {}
        self.submits = 0
        self.futures: dict[str, asyncio.Future[ShotResult]] = {}
        self.order: dict[str, int] = {}
        self.leaders: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.locked = read_lock(lock_path(root, proxy(provider))).shots
        self.key_locks: dict[str, asyncio.Lock] = {}  # one unknown submit per prompt at a time
        self.blocked: dict[str, str] = {}  # find key -> why no submit with it may start
        self.early: dict[str, tuple[ResultState, str, str]] = {}  # hash -> reconcile's verdict
        self.notes: dict[str, str] = {}  # hash -> why it is submitted again
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="storyboard-journal")

    # --- the journal, off the event loop --------------------------------------------------------

    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a journal call on its one worker thread: calls stay in order, and its fsyncs never
        stall the polls and downloads of other shots. Awaited, so a write still happens before
        the step it guards."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    # --- reporting ----------------------------------------------------------------------------

    def emit(self, shot: CompiledShot, state: EventState, message: str = "",
             task_id: str | None = None) -> None:
        if self.on_event is None:
            return
        elapsed = self.clock() - self.started.get(shot_key(shot), self.clock())
        output = self.cache.path(shot.hash) if state in ("done", "cached") else None
        event = ShotEvent(shot.episode, shot.id, state, elapsed, round(self.spent, 4), message,
                          shot.series, task_id, output)
        try:
            self.on_event(event)
        except Exception:  # a broken progress display must not lose a paid task
            log.exception("on_event callback failed")

    def result(self, shot: CompiledShot, state: ResultState, message: str = "", **kw: Any
               ) -> ShotResult:
        return ShotResult(shot.series, shot.episode, shot.id, shot.hash, state, message=message,
                          **kw)

    def end(self, shot: CompiledShot, state: ResultState, message: str, event: EventState,
            **kw: Any) -> _Outcome:
        self.emit(shot, event, message, kw.get("task_id"))
        return _Outcome(self.result(shot, state, message, **kw))

    # --- the whole run -------------------------------------------------------------------------

    async def execute(self, shots: Sequence[CompiledShot]) -> list[ShotResult]:
        loop = asyncio.get_running_loop()
        for position, shot in enumerate(shots):
            key = shot_key(shot)
            self.order.setdefault(key, position)
            self.futures.setdefault(key, loop.create_future())
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
        except _Outcome as outcome:
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
        return await self.from_journal(shot, first_frame)

    # --- cache hits, duplicates, dependencies ---------------------------------------------------

    async def cached(self, shot: CompiledShot) -> ShotResult:
        entry = self.cache.get(shot.hash)
        assert entry is not None
        await self.settle_journal(shot, entry)
        self.emit(shot, "cached", task_id=entry.task_id or None)
        return self.result(shot, "cached", output=self.cache.path(shot.hash),
                           task_id=entry.task_id or None, billed_seconds=entry.billed_seconds)

    async def settle_journal(self, shot: CompiledShot, entry: CacheEntry) -> None:
        """A kill between the move into the cache and the journal's ``done``: finish that row."""
        attempts = await self.db(self.journal.unfinished, shot.hash, self.provider.cache_key)
        for attempt in attempts:
            if attempt.task_id and attempt.task_id == entry.task_id:
                await self.db(
                    self.journal.done, attempt.id, output_path=str(self.cache.path(shot.hash)),
                    output_sha256=entry.sha256, output_seconds=None, input_video_seconds=None,
                    billed_seconds=entry.billed_seconds, cost=entry.cost,
                    currency=entry.currency, note="recovered: the video was already in the cache")

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

    # --- the journal decides: resume, reconcile or submit ---------------------------------------

    async def reconcile_all(self, shots: Sequence[CompiledShot]) -> None:
        """Before any submit: restore what the ledger knows and the journal lost, and settle
        every intent whose answer never came, one at a time, so that no lookup can meet another
        shot's unknown task with the same prompt."""
        seen: set[str] = set()
        for shot in shots:
            if shot.hash in seen or self.cache.has(shot.hash):
                continue
            seen.add(shot.hash)
            try:
                await self.journal_attempts(shot)
            except _Outcome as outcome:
                result = outcome.result
                self.early[shot.hash] = (result.state, result.message, result.code)

    async def journal_attempts(self, shot: CompiledShot) -> list[Attempt]:
        """This shot's unfinished rows (restored from the ledger if the journal has none), with
        every intent reconciled: adopted, or marked lost."""
        attempts = await self.db(self.journal.unfinished, shot.hash, self.provider.cache_key)
        if not attempts:
            attempts = await self.db(self.journal.restore, shot, self.provider.name,
                                     self.provider.cache_key, estimate=self.estimate(shot)[1])
        intents = [a for a in attempts if not a.task_id]
        if not intents:
            return attempts
        async with self.key_lock(shot):
            await self.reconcile_intents(shot, intents, with_task=len(intents) < len(attempts))
        return await self.db(self.journal.unfinished, shot.hash, self.provider.cache_key)

    def key_lock(self, shot: CompiledShot) -> asyncio.Lock:
        return self.key_locks.setdefault(self.find_key(shot), asyncio.Lock())

    def find_key(self, shot: CompiledShot) -> str:
        return find_key(shot.request.model, shot.request.prompt)

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
            except _Gone:
                self.notes[shot.hash] = "resubmitted: the earlier result has expired"
        pulled = await self.from_store(shot)
        if pulled is not None:
            return pulled
        return await self.submit_and_finish(shot, first_frame, self.notes.get(shot.hash, ""))

    async def stored_instead(self, shot: CompiledShot, attempt: Attempt) -> bool:
        """A finished result restored from the ledger is taken from the store when the store has
        it (its sha256 verified) rather than downloaded again; the restored row is settled. Any
        other outcome (a miss, a refused copy, a store that does not answer) falls back to the
        free download from the provider."""
        if self.store is None or REDOWNLOAD not in (attempt.note or ""):
            return False
        fetched = await asyncio.to_thread(self.store.fetch, shot, self.cache, self.locked)
        if fetched.entry is None:
            return False
        entry = fetched.entry
        await self.db(self.journal.done, attempt.id, output_path=str(self.cache.path(shot.hash)),
                      output_sha256=entry.sha256, output_seconds=None, input_video_seconds=None,
                      billed_seconds=entry.billed_seconds, cost=entry.cost,
                      currency=entry.currency, note=STORE_NOT_REDOWNLOADED)
        return True

    async def cached_from_store(self, shot: CompiledShot) -> ShotResult:
        entry = self.cache.get(shot.hash)
        assert entry is not None
        self.emit(shot, "cached", FROM_STORE, entry.task_id or None)
        return self.result(shot, "cached", FROM_STORE, output=self.cache.path(shot.hash),
                           task_id=entry.task_id or None, billed_seconds=entry.billed_seconds)

    async def from_store(self, shot: CompiledShot) -> ShotResult | None:
        """The last question before paying: does the shared store have this shot?"""
        if self.store is None:
            return None
        fetched = await asyncio.to_thread(self.store.fetch, shot, self.cache, self.locked)
        if fetched.entry is not None:
            return await self.cached_from_store(shot)
        refusal = None if fetched.kind == "miss" else self.store.must_not_pay(shot, fetched)
        if refusal is not None:
            code = "StoreCorrupt" if fetched.kind == "refused" else "StoreUnreachable"
            raise self.end(shot, "failed", refusal, "failed", code=code)
        return None

    async def reconcile_intents(self, shot: CompiledShot, intents: list[Attempt], *,
                                with_task: bool) -> None:
        """Adopt the task of the newest intent, or mark it lost; older intents are superseded.
        When a task with a known id exists too, the intents are superseded by it."""
        newest, older = intents[-1], intents[:-1]
        for attempt in (intents if with_task else older):
            await self.db(self.journal.set_state, attempt.id, "lost",
                          note="superseded by a later attempt")
        if with_task:
            return
        entry = await self.db(self.journal.ledger_entry, newest)
        if entry is not None and entry.task_id:  # the ledger heard the answer the journal missed
            await self.db(self.journal.set_task, newest.id, entry.task_id,
                          note="adopted from the ledger")
            return
        since = min(a.intent_at for a in intents)
        found = await self.find(shot, since, newest.id)
        own = {a.ledger_id for a in intents}
        task_id = await self.adoptable(shot, newest.id, found, own)
        if task_id is None:
            await self.db(self.journal.set_state, newest.id, "lost",
                          note="reconciled: the provider has no task for it")
            self.notes[shot.hash] = (f"resubmitted: the provider has no task for intent(s) "
                                     f"#{', #'.join(str(a.id) for a in intents)}")
            return
        await self.db(self.journal.set_task, newest.id, task_id, note="adopted by reconcile")

    async def adoptable(self, shot: CompiledShot, attempt_id: int, found: list[TaskState],
                        own: set[str | None]) -> str | None:
        """The one task a lost submit created, or None when it created none; stops the shot
        (and every later submit with its prompt) when the task cannot be told apart from
        another shot's."""
        others = await self.db(self.journal.other_open_intents, shot, self.provider.cache_key,
                               own)
        if not found:
            return None
        if len(found) == 1 and not others:
            return found[0].task_id
        message = _ambiguous(shot, found, others)
        self.blocked[self.find_key(shot)] = message
        await self.db(self.journal.note, attempt_id, message)
        raise self.end(shot, "pending", message, "failed", code="AmbiguousTask")

    async def find(self, shot: CompiledShot, since: float, attempt_id: int) -> list[TaskState]:
        """Ask the provider for the tasks with ``shot``'s prompt since ``since`` that no journal
        or ledger holds. If the question itself keeps failing, nothing is submitted: the intent
        stays for the next run to reconcile, and no other shot with this prompt submits."""
        tries, first_error = 0, self.clock()
        while True:
            tries += 1
            try:
                # Clock skew between us and the service is the provider's business (see its find()).
                found = await self.call(self.provider.find(shot, since))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.ask_again(exc, tries, first_error):
                    message = (f"cannot tell whether a task exists ({describe(exc)}); nothing "
                               "was submitted: run again to retry")
                    self.blocked[self.find_key(shot)] = (
                        f"waiting: shot {shot_key(shot)} has the same prompt and an unreconciled "
                        "submit; run again to retry")
                    await self.db(self.journal.note, attempt_id, message)
                    raise self.end(shot, "pending", message, "failed") from exc
                await self.backoff(tries, exc)
                continue
            return [state for state in found
                    if not await self.db(self.journal.knows_task, self.provider.cache_key,
                                         state.task_id)]

    def ask_again(self, exc: BaseException, tries: int, first_error: float) -> bool:
        """Whether a free question (a query, a lookup) that failed is asked again: for a passing
        failure, at least ``max_retries`` times and for as long as ``query_patience`` since the
        first failure in a row. Counting tries alone would end a long poll at any short burst of
        errors; the task runs (and is billed) whatever we do, so only a lasting outage stops."""
        if not retryable(exc):
            return False
        return (tries <= self.options.max_retries
                or self.clock() - first_error < self.options.query_patience)

    async def resume(self, shot: CompiledShot, attempt: Attempt, why: str) -> ShotResult:
        assert attempt.task_id is not None
        self.slots.force()
        slot = Lease(self.slots)
        self.reserve(shot, force=True)
        try:
            self.emit(shot, "submitted", why, attempt.task_id)
            state = await self.poll(shot, attempt.id, attempt.task_id, immediate=True)
            slot.release()  # the task no longer runs at the provider: let the next one start
            if state.status == TaskStatus.UNKNOWN and REDOWNLOAD in (attempt.note or ""):
                await self.db(self.journal.set_state, attempt.id, "lost",
                              note="the provider no longer has this result")
                raise _Gone()
            return await self.finish(shot, attempt.id, state)
        finally:
            slot.release()
            self.reserved.pop(shot_key(shot), None)

    async def submit_and_finish(self, shot: CompiledShot, first_frame: Path | None,
                                note: str) -> ShotResult:
        await self.slots.acquire()
        slot = Lease(self.slots)
        try:
            _, cost = self.estimate(shot)
            await self.submit_bucket.take()
            if not self.reserve(shot):
                raise self.end(shot, "skipped", f"skipped (budget): about {cost:.2f} "
                               f"{self.prices.currency} more would pass the budget of "
                               f"{self.budget:.2f}", "skipped")
            attempt, task_id = await self.begin_and_send(shot, first_frame, cost, note)
            self.emit(shot, "submitted", note, task_id)
            state = await self.poll(shot, attempt.id, task_id, immediate=False)
            slot.release()  # the task no longer runs at the provider: let the next one start
            return await self.finish(shot, attempt.id, state)
        finally:
            slot.release()
            self.reserved.pop(shot_key(shot), None)

    async def begin_and_send(self, shot: CompiledShot, first_frame: Path | None, cost: float,
                             note: str) -> tuple[Attempt, str]:
        """Intent, submit, task id: under this prompt's lock, so a lost answer has at most one
        unknown task to match. The inputs are snapshotted first (the bytes sent are the bytes
        hashed)."""
        async with self.key_lock(shot):
            blocked = self.blocked.get(self.find_key(shot))
            if blocked is not None:
                raise self.end(shot, "pending", blocked, "failed", code="AmbiguousTask")
            others = await self.db(self.journal.other_open_intents, shot,
                                   self.provider.cache_key, set())
            others = await claims.answered(self, shot, others)  # other runs' twins: wait
            if others:
                message = _waiting_for(others)
                raise self.end(shot, "pending", message, "failed", code="AmbiguousTask")
            sent = await self.snapshot(shot)
            attempt = await self.db(self.journal.begin, shot, self.provider.name,
                                    self.provider.cache_key, estimate=cost, note=note)
            return attempt, await self.send(sent, first_frame, attempt)

    async def snapshot(self, shot: CompiledShot) -> CompiledShot:
        try:
            return await asyncio.to_thread(snapshot_inputs, shot, self.root)
        except InputChanged as exc:
            raise self.end(shot, "failed", str(exc), "failed", code="InputChanged") from exc

    # --- money ----------------------------------------------------------------------------------

    def estimate(self, shot: CompiledShot) -> tuple[float, float]:
        return estimate(shot, self.prices, self.ref_seconds)

    def reserve(self, shot: CompiledShot, *, force: bool = False) -> bool:
        """Hold this shot's estimate as committed spend; refuse when it would pass the budget."""
        _, cost = self.estimate(shot)
        committed = self.spent + sum(self.reserved.values()) + cost
        if not force and self.budget is not None and committed > self.budget + 1e-9:
            return False
        self.reserved[shot_key(shot)] = cost
        return True

    # --- talking to the provider ---------------------------------------------------------------

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

    async def send(self, shot: CompiledShot, first_frame: Path | None, attempt: Attempt) -> str:
        """Submit until a task id is known, reconciling every answer that may have been lost."""
        for tries in range(1, self.options.max_retries + 2):
            if tries > 1:
                await self.submit_bucket.take()
            self.submits += 1
            try:
                task_id = await self.call(self.provider.submit(shot, first_frame))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                adopted = await self.after_failed_submit(shot, attempt, exc, tries)
                if adopted is not None:
                    return adopted
                continue
            # First thing after the answer: the task id, before anything can go wrong.
            await self.db(self.journal.set_task, attempt.id, task_id)
            return task_id
        raise AssertionError("unreachable")

    async def after_failed_submit(self, shot: CompiledShot, attempt: Attempt, exc: Exception,
                                  tries: int) -> str | None:
        """A task id adopted by reconcile, or None to send again (after a backoff)."""
        code = exc.code if isinstance(exc, ProviderError) else type(exc).__name__
        if not retryable(exc):
            await self.db(self.journal.fail, attempt.id, code, describe(exc))
            self.reserved.pop(shot_key(shot), None)
            raise self.end(shot, "failed", str(exc), "failed", code=code)
        if isinstance(exc, ProviderError) and exc.retry_after:
            self.submit_bucket.pause(exc.retry_after)
        if is_ambiguous(exc):
            await self.db(self.journal.note, attempt.id,
                          f"submit answer lost ({describe(exc)}); reconciling")
            await self.sleep(self.options.reconcile_delay)
            found = await self.find(shot, attempt.intent_at, attempt.id)
            task_id = await self.adoptable(shot, attempt.id, found, {attempt.ledger_id})
            if task_id is not None:
                await self.db(self.journal.set_task, attempt.id, task_id,
                              note=f"adopted by reconcile after: {describe(exc)}")
                return task_id
            await self.db(self.journal.note, attempt.id,
                          f"resending: no task found after: {describe(exc)}")
        if tries > self.options.max_retries:
            await self.db(self.journal.fail, attempt.id, code,
                          f"gave up after {tries} tries: {describe(exc)}")
            raise self.end(shot, "failed", f"submit failed {tries} times: {describe(exc)}",
                           "failed", code=code)
        await self.backoff(tries, exc)
        return None

    async def poll(self, shot: CompiledShot, attempt_id: int, task_id: str, *,
                   immediate: bool) -> TaskState:
        """Query on the schedule until the task finishes, or give up (it stays journaled)."""
        schedule = self.options.poll_schedule or DEFAULT_POLL_SCHEDULE
        deadline = self.clock() + self.options.max_wait
        step, errors, last = (0 if immediate else 1), 0, ""
        first_error = self.clock()
        if not immediate:
            await self.sleep(schedule[0])
        while True:
            try:
                await self.query_bucket.take()
                state = await self.call(self.provider.query(task_id))
                errors = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                errors += 1
                first_error = self.clock() if errors == 1 else first_error
                if not self.ask_again(exc, errors, first_error):
                    raise self.pending(shot, task_id, f"cannot ask about the task: "
                                       f"{describe(exc)}") from exc
                await self.backoff(errors, exc)
                continue
            if state.status != last:
                last = state.status
                await self.record_status(shot, attempt_id, state)
            if state.status.finished:
                return state
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise self.pending(shot, task_id, f"still {state.status} after "
                                   f"{self.options.max_wait:.0f} s")
            await self.sleep(min(schedule[min(step, len(schedule) - 1)], remaining))
            step += 1

    async def record_status(self, shot: CompiledShot, attempt_id: int, state: TaskState) -> None:
        if state.status in (TaskStatus.RUNNING, TaskStatus.SUSPENDED):
            await self.db(self.journal.set_state, attempt_id, "running", status=state.status)
            self.emit(shot, "running", state.status, state.task_id)
        elif not state.status.finished:
            await self.db(self.journal.set_status, attempt_id, state.status)

    def pending(self, shot: CompiledShot, task_id: str, why: str) -> _Outcome:
        return self.end(shot, "pending", f"{why}; task {task_id} stays in the journal: run again "
                        "to resume it without paying twice", "failed", task_id=task_id)

    # --- the end of a task --------------------------------------------------------------------

    async def finish(self, shot: CompiledShot, attempt_id: int, state: TaskState) -> ShotResult:
        if state.status == TaskStatus.SUCCEEDED:
            return await self.download(shot, attempt_id, state)
        code = state.code or str(state.status)
        message = state.message or f"the task ended {state.status}"
        await self.db(self.journal.fail, attempt_id, code, message,
                      state=_TASK_END_STATE[state.status], status=state.status)
        error = TaskFailed(message, provider=self.provider.name, shot=shot_key(shot), code=code)
        raise self.end(shot, "failed", str(error), "failed", task_id=state.task_id, code=code)

    async def download(self, shot: CompiledShot, attempt_id: int, state: TaskState
                       ) -> ShotResult:
        """Fetch, verify and cache a finished task's video; failures retry with the same task."""
        await self.db(self.journal.set_state, attempt_id, "downloading", status=state.status)
        if getattr(self.provider, "downloads", True):  # a local render is only copied: no word
            self.emit(shot, "downloading", task_id=state.task_id)
        last: BaseException | None = None
        for tries in range(1, self.options.download_retries + 2):
            if tries > 1:
                await self.backoff(tries - 1, last or Exception())
                state = await self.fresh_state(state)  # a new URL, if the old one expired
            try:
                return await self.fetch_into_cache(shot, attempt_id, state)
            except asyncio.CancelledError:
                raise
            except (StoryboardError, OSError, TimeoutError) as exc:
                log.warning("download of %s failed (%s)", shot_key(shot), describe(exc))
                last = exc
        assert last is not None
        if isinstance(last, InvalidOutput):
            await self.db(self.journal.fail, attempt_id, "OutputInvalid", str(last),
                          status=state.status)
            raise self.end(shot, "failed", f"the provider's video is unusable: {last}", "failed",
                           task_id=state.task_id, code="OutputInvalid")
        raise self.pending(shot, state.task_id, f"download failed: {describe(last)}")

    async def fresh_state(self, state: TaskState) -> TaskState:
        try:
            fresh = await self.call(self.provider.query(state.task_id))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("re-query of task %s failed (%s)", state.task_id, describe(exc))
            return state
        return fresh if fresh.status == TaskStatus.SUCCEEDED else state

    async def fetch_into_cache(self, shot: CompiledShot, attempt_id: int, state: TaskState
                               ) -> ShotResult:
        tmp = self.cache.temp_path(shot.hash)
        billed, cost = self.billed(shot, state)
        try:
            await self.call(self.provider.download(state, tmp), self.options.download_timeout)
            entry = await asyncio.to_thread(self.verify_and_store, shot, state, tmp, billed, cost)
        except InvalidOutput as exc:
            kept = keep_rejected(self.root, shot, state.task_id, tmp)  # paid: never lost
            raise InvalidOutput(f"{exc} (the file is kept at {kept})") from exc
        finally:
            tmp.unlink(missing_ok=True)
        path, usage = self.cache.path(shot.hash), state.usage
        await self.db(self.journal.done, attempt_id, output_path=str(path),
                      output_sha256=entry.sha256,
                      output_seconds=usage.output_seconds if usage else None,
                      input_video_seconds=usage.input_video_seconds if usage else None,
                      billed_seconds=billed, cost=cost, currency=self.prices.currency)
        self.reserved.pop(shot_key(shot), None)
        self.spent = round(self.spent + cost, 4)
        self.emit(shot, "done", f"{cost:.2f} {self.prices.currency}", state.task_id)
        return self.result(shot, "done", output=path, task_id=state.task_id,
                           billed_seconds=billed, cost=cost)

    def verify_and_store(self, shot: CompiledShot, state: TaskState, tmp: Path, billed: float,
                         cost: float) -> CacheEntry:
        """Check the download and move it into the cache (blocking: runs on a worker thread)."""
        verify_video(tmp, float(shot.request.duration), self.options.duration_tolerance,
                     self.options.require_audio)
        entry = CacheEntry(shot.hash, sha256_file(tmp), self.provider.name, state.task_id,
                           shot.request.seed, billed, cost, self.prices.currency, time.time())
        self.cache.put(entry, tmp)
        return entry

    def billed(self, shot: CompiledShot, state: TaskState) -> tuple[float, float]:
        """What the provider bills for a finished task: from its usage when it says, else ours."""
        usage = state.usage
        if usage is None or usage.output_seconds <= 0:
            return self.estimate(shot)
        billed = self.prices.billed_seconds(usage.output_seconds, usage.input_video_seconds)
        return billed, self.prices.cost(shot.request.resolution, billed)


def _ambiguous(shot: CompiledShot, found: list[TaskState], others: list[LedgerEntry]) -> str:
    ids = ", ".join(state.task_id for state in found)
    text = (f"cannot tell which task is this shot's: {len(found)} task(s) with its prompt are "
            f"recorded for no shot ({ids})")
    if others:
        text += f", and {_describe_intents(others)} has the same prompt"
    return (text + "; nothing was submitted, so nothing is paid twice. Check these tasks in the "
            "provider's console; once they are more than 24 hours old the next run submits "
            "this shot again")


def _waiting_for(others: list[LedgerEntry]) -> str:
    return (f"not submitted: {_describe_intents(others)} has the same prompt, and its task id is "
            "not known yet; render that series first (or wait for the render running it), so "
            "the two are never confused")


def _describe_intents(entries: list[LedgerEntry]) -> str:
    first = entries[0]
    more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(first.intent_at))
    return f"an unanswered submit of {first.shot} in {first.series} at {when}{more}"


def _event_for(state: ResultState) -> EventState:
    mapping: dict[ResultState, EventState] = {
        "done": "done", "cached": "cached", "failed": "failed", "skipped": "skipped",
        "blocked": "blocked", "pending": "failed"}
    return mapping[state]


# --- the public API -------------------------------------------------------------------------------


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
                 on_notice: Callable[[str], None] | None = None) -> RunResult:
    """Render every shot of ``source`` with ``provider``; never pays twice for one shot.

    ``options`` (a ``RunOptions``) overrides the individual settings when given. ``prices``
    defaults to the provider's table (pass one with the series' overrides applied). ``ledger``
    is the per-user record of paid tasks (default: ``ledger.default_ledger()``); ``on_notice``
    hears what a user must know before anything is spent (default: the log). ``sleep``,
    ``clock`` and ``rng`` exist for tests. Ends with the lock file updated for every shot that
    is rendered or cached. With a ``store``, a shot is looked up there before it is submitted and
    pushed there once it is verified in the cache (see ``sharing``).
    """
    root = series_dir or (source.root if isinstance(source, Manifest) else None)
    if root is None:
        raise StoryboardError("render of a list of shots needs series_dir")
    if budget is not None and budget < 0:
        raise StoryboardError(f"budget must be >= 0, got {budget}")
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
        with run_lock(root), Journal.open(root, the_ledger) as journal:
            OutputCache(root, provider.cache_key).clean_temporaries()
            if the_ledger is not None:
                _warn_if_journal_lost(journal, the_ledger, shots, provider, on_notice)
            run = _Run(provider, root, journal, opts, prices=table, budget=budget,
                       ref_seconds=reference_video_seconds, on_event=on_event, sleep=sleep,
                       clock=clock, rng=rng or random.Random(), store=store)
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
                     notes=list(store.notes) if store else [])


def _warn_if_journal_lost(journal: Journal, ledger: Ledger, shots: Sequence[CompiledShot],
                          provider: Provider, on_notice: Callable[[str], None] | None) -> None:
    """A new journal while the ledger holds tasks of these shots: say so before anything is
    spent (they are resumed by polling, not paid again)."""
    if not journal.was_empty:
        return
    cache = OutputCache(journal.series_dir, provider.cache_key)
    hashes = {shot.hash for shot in shots if not cache.has(shot.hash)}
    held = [entry for digest in sorted(hashes)
            for entry in ledger.entries(provider.cache_key, digest)
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
                results: Sequence[ShotResult], run: _Run, root: Path) -> Path:
    entries = []
    for shot, result in zip(shots, results, strict=True):
        cached = run.cache.get(shot.hash) if result.ok else None
        if cached is not None:
            entries.append(entry_for(shot, cached, root, run.provider.name,
                                     run.provider.cache_key))
    prune: dict[str, set[str]] | None = None
    if isinstance(source, Manifest):  # the whole series: drop the entries of deleted shots
        prune = {}
        for shot in shots:
            prune.setdefault(shot.series, set()).add(shot_key(shot))
    path = lock_path(root, proxy(run.provider))  # a draft never rewrites the committed lock
    update_lock(path, entries, prune_series=prune)
    return path


@dataclass
class CancelOutcome:
    attempt: Attempt
    canceled: bool
    message: str


async def cancel_pending(series_dir: Path, provider: Provider, *,
                         request_timeout: float = 60.0) -> list[CancelOutcome]:
    """Ask the provider to cancel every unfinished task the journal holds for it.

    DashScope cancels only PENDING tasks; a running one is left (and a later render downloads it,
    since it will be billed anyway). An intent with no task id has nothing to cancel: the next
    render reconciles it.
    """
    outcomes: list[CancelOutcome] = []
    paid = any(price > 0 for price in provider.prices.per_second.values())
    ledger = default_ledger() if paid else None  # a canceled task is settled there too
    try:
        with run_lock(series_dir), Journal.open(series_dir, ledger) as journal:
            for attempt in journal.unfinished_for_provider(provider.cache_key):
                outcomes.append(await _cancel_one(journal, provider, attempt, request_timeout))
    finally:
        if ledger is not None:
            ledger.close()
    return outcomes


async def _cancel_one(journal: Journal, provider: Provider, attempt: Attempt,
                      timeout: float) -> CancelOutcome:
    if not attempt.task_id:
        return CancelOutcome(attempt, False, "no task id yet (intent only): the next render "
                             "checks with the provider whether a task exists")
    refusal = ""
    try:
        await asyncio.wait_for(provider.cancel(attempt.task_id), timeout)
    except (ProviderError, TimeoutError) as exc:
        refusal = describe(exc)
    try:
        state = await asyncio.wait_for(provider.query(attempt.task_id), timeout)
    except (ProviderError, TimeoutError) as exc:
        journal.note(attempt.id, f"cancel: {refusal or 'sent'}; status unknown: {describe(exc)}")
        return CancelOutcome(attempt, False, f"could not confirm: {describe(exc)}")
    if state.status in _TASK_END_STATE:
        journal.fail(attempt.id, state.code or str(state.status),
                     state.message or "canceled by storyboard cancel",
                     state=_TASK_END_STATE[state.status], status=state.status)
        return CancelOutcome(attempt, state.status == TaskStatus.CANCELED, str(state.status))
    journal.set_status(attempt.id, state.status)
    why = f" ({refusal})" if refusal else ""
    if state.status == TaskStatus.SUCCEEDED:
        return CancelOutcome(attempt, False, f"already succeeded{why}: it is billed, the next "
                             "render downloads it")
    return CancelOutcome(attempt, False, f"still {state.status}{why}: only pending tasks can be "
                         "canceled; the next render resumes it")


def status(series_dir: Path, *, unfinished_only: bool = False) -> list[Attempt]:
    """The journal's rows (every attempt, oldest first) for ``storyboard status``."""
    return read_status(series_dir, unfinished_only=unfinished_only)
