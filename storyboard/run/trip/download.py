"""Finished tasks into cached videos: download, verify, bill and cache; or take the store's copy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from storyboard.errors import DownloadTooLarge, StoryboardError, TaskFailed
from storyboard.language.request import CompiledShot
from storyboard.media.probes.probe import sha256_file
from storyboard.run.state.cache import CacheEntry
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.state.sharing import FROM_STORE
from storyboard.run.state.tasks.journal import REDOWNLOAD, Attempt
from storyboard.run.trip.budget.money import Money
from storyboard.run.trip.events import Events, Outcome
from storyboard.run.trip.guards.downloadcap import download_limit
from storyboard.run.trip.guards.verdicts import (
    InvalidOutput,
    describe,
    keep_rejected,
    verify_asset,
    verify_video,
)
from storyboard.run.trip.model import (
    ShotResult,
)
from storyboard.run.trip.pace.pacing import Pacing
from storyboard.run.trip.session import TASK_END_STATE, Session
from storyboard.targets import TaskState, TaskStatus
from storyboard.targets.kinds import classify_failure

log = logging.getLogger("storyboard.run")

TOO_LARGE = ("not tried again in this run; if the result is right, raise provider.max_download_mb "
             "(in MB)")
# Downloads of a result that came whole but cannot be used: once more from a fresh URL (a cut
# transfer), then it is the result itself (an HTML page, an absurd length), not the way.
UNUSABLE_TRIES = 2
STORE_NOT_REDOWNLOADED = ("restored from the ledger; its video was taken from the store (sha256 "
                          "verified) instead of being downloaded again")


class Downloader:
    """Finished tasks into cached videos (or the store's copy), over the run's ``Session``."""

    def __init__(self, session: Session, money: Money, events: Events, pacing: Pacing) -> None:
        self.session, self.money, self.events, self.pacing = session, money, events, pacing

    async def finish(self, shot: CompiledShot, attempt_id: int, state: TaskState) -> ShotResult:
        if state.status == TaskStatus.SUCCEEDED:
            return await self.download(shot, attempt_id, state)
        session = self.session
        money, events = self.money, self.events
        code = state.code or str(state.status)
        message = state.message or f"the task ended {state.status}"
        cost = self.failure_cost(shot, state, code, message)
        await session.db(session.journal.fail, attempt_id, code, message,
                         state=TASK_END_STATE[state.status], status=state.status,
                         cost=cost, currency=money.prices.currency if cost is not None else None)
        if cost is not None:
            money.reserved.pop(shot_key(shot), None)
            money.charge(shot, cost)
        error = TaskFailed(message, provider=session.provider.name, shot=shot_key(shot), code=code)
        said = f" ({failure_said(session.provider.name, state, code, message)})" \
            if state.status == TaskStatus.FAILED else ""
        raise events.end(shot, "failed", f"{error}{said}", "failed", task_id=state.task_id,
                         code=code, cost=cost or 0.0)

    def failure_cost(self, shot: CompiledShot, state: TaskState, code: str, message: str
                     ) -> float | None:
        """What a task that failed after the render is billed, as its provider declares (its
        estimate), or None when it is free."""
        if state.status != TaskStatus.FAILED:
            return None
        failure = classify_failure(self.session.provider.name, code, message, stage="render")
        return self.money.estimate(shot)[1] if failure.billed else None

    async def download(self, shot: CompiledShot, attempt_id: int, state: TaskState
                       ) -> ShotResult:
        """Fetch, verify and cache a finished task's video; failures retry with the same task."""
        session = self.session
        events, pacing = self.events, self.pacing
        await session.db(session.journal.set_state, attempt_id, "downloading", status=state.status)
        if session.provider.traits.downloads:  # a local render is only copied: no word
            events.emit(shot, "downloading", task_id=state.task_id)
        last: BaseException | None = None
        unusable = 0
        for tries in range(1, session.options.download_retries + 2):
            if tries > 1:
                await pacing.backoff(tries - 1, last or Exception())
                state = await self.fresh_state(state)  # a new URL, if the old one expired
            try:
                return await self.fetch_into_cache(shot, attempt_id, state)
            except asyncio.CancelledError:
                raise
            except DownloadTooLarge as exc:  # the same URL would only send as much again
                raise events.pending(shot, state.task_id, f"{exc}; {TOO_LARGE}") from exc
            except (StoryboardError, OSError, TimeoutError) as exc:
                log.warning("download of %s failed (%s)", shot_key(shot), describe(exc))
                last = exc
                unusable += isinstance(exc, InvalidOutput)
                if unusable >= UNUSABLE_TRIES:
                    break
        assert last is not None
        if isinstance(last, InvalidOutput):
            raise await self.unusable(shot, attempt_id, state, last)
        raise events.pending(shot, state.task_id, f"download failed: {describe(last)}")

    async def unusable(self, shot: CompiledShot, attempt_id: int, state: TaskState,
                       problem: InvalidOutput) -> Outcome:
        """A task that succeeded, so was billed, whose result cannot be used (an HTML page, an
        empty or corrupt file, an absurd length): its cost is journaled and counted as any
        billed task's (the run's spending, the budget, ``status``); the shot fails, and the
        next render pays for it again (``plan`` says so)."""
        session = self.session
        money, events = self.money, self.events
        billed, cost = self.billed(shot, state) if session.provider.traits.paid else (0.0, 0.0)
        message = f"the provider's video is unusable: {problem}"
        if session.provider.traits.paid:
            message += (f"; billed {cost:.2f} {money.prices.currency} (the task succeeded), and "
                        "the next render pays for it again")
        await session.db(session.journal.fail, attempt_id, "OutputInvalid", message,
                         status=state.status, cost=cost if cost > 0 else None,
                         currency=money.prices.currency)
        money.reserved.pop(shot_key(shot), None)
        money.charge(shot, cost)
        return events.end(shot, "failed", message, "failed", task_id=state.task_id,
                          code="OutputInvalid", billed_seconds=billed, cost=cost)

    async def fresh_state(self, state: TaskState) -> TaskState:
        try:
            fresh = await self.pacing.call(self.session.provider.query(state.task_id))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("re-query of task %s failed (%s)", state.task_id, describe(exc))
            return state
        return fresh if fresh.status == TaskStatus.SUCCEEDED else state

    async def fetch_into_cache(self, shot: CompiledShot, attempt_id: int, state: TaskState
                               ) -> ShotResult:
        session = self.session
        money, events, pacing = self.money, self.events, self.pacing
        tmp = session.cache.temp_path(shot.hash)
        billed, cost = self.billed(shot, state)
        try:
            limit = download_limit(shot, session.options.max_download_mb)
            await pacing.call(session.provider.download(state, tmp, limit=limit),
                              session.options.download_timeout)
            entry = await asyncio.to_thread(self.verify_and_store, shot, state, tmp, billed, cost)
        except InvalidOutput as exc:
            kept = keep_rejected(session.root, shot, state.task_id, tmp)  # paid: never lost
            raise InvalidOutput(f"{exc} (the file is kept at {kept})") from exc
        finally:
            tmp.unlink(missing_ok=True)
        path, usage = session.cache.path(shot.hash), state.usage
        await session.db(session.journal.done, attempt_id, output_path=str(path),
                         output_sha256=entry.sha256,
                         output_seconds=usage.output_seconds if usage else None,
                         input_video_seconds=usage.input_video_seconds if usage else None,
                         billed_seconds=billed, cost=cost, currency=money.prices.currency)
        money.reserved.pop(shot_key(shot), None)
        money.charge(shot, cost)
        events.emit(shot, "done", f"{cost:.2f} {money.prices.currency}", state.task_id)
        return events.result(shot, "done", output=path, task_id=state.task_id,
                             billed_seconds=billed, cost=cost)

    def verify_and_store(self, shot: CompiledShot, state: TaskState, tmp: Path, billed: float,
                         cost: float) -> CacheEntry:
        """Check the download and move it into the cache (blocking: runs on a worker thread)."""
        session = self.session
        money = self.money
        if shot.asset is not None:
            verify_asset(tmp, shot.asset.kind)
        else:
            verify_video(tmp, float(shot.request.duration), session.options.duration_tolerance,
                         session.options.require_audio and session.provider.traits.sound
                         and shot.request.audio is not False)
        entry = CacheEntry(shot.hash, sha256_file(tmp), session.provider.name, state.task_id,
                           shot.request.seed, billed, cost, money.prices.currency, time.time())
        session.cache.put(entry, tmp)
        return entry

    def billed(self, shot: CompiledShot, state: TaskState) -> tuple[float, float]:
        """What the provider bills for a finished task: from its usage when it says, else ours."""
        usage = state.usage
        if usage is None or usage.output_seconds <= 0 or shot.asset is not None:
            return self.money.estimate(shot)
        prices = self.money.prices.for_model(shot.request.model)
        billed = prices.billed_seconds(usage.output_seconds, usage.input_video_seconds)
        return billed, prices.cost(shot.request.resolution, billed)

    async def cached(self, shot: CompiledShot) -> ShotResult:
        session = self.session
        events = self.events
        entry = session.cache.get(shot.hash)
        assert entry is not None
        await self.settle_journal(shot, entry)
        events.emit(shot, "cached", task_id=entry.task_id or None)
        return events.result(shot, "cached", output=session.cache.path(shot.hash),
                             task_id=entry.task_id or None, billed_seconds=entry.billed_seconds)

    async def settle_journal(self, shot: CompiledShot, entry: CacheEntry) -> None:
        """A kill between the move into the cache and the journal's ``done``: finish that row."""
        session = self.session
        attempts = await session.db(session.journal.unfinished, shot.hash, session.task_key)
        for attempt in attempts:
            if attempt.task_id and attempt.task_id == entry.task_id:
                await session.db(
                    session.journal.done, attempt.id, output_path=str(session.cache.path(shot.hash)),
                    output_sha256=entry.sha256, output_seconds=None, input_video_seconds=None,
                    billed_seconds=entry.billed_seconds, cost=entry.cost,
                    currency=entry.currency, note="recovered: the video was already in the cache")

    async def cached_from_store(self, shot: CompiledShot) -> ShotResult:
        session = self.session
        events = self.events
        entry = session.cache.get(shot.hash)
        assert entry is not None
        events.emit(shot, "cached", FROM_STORE, entry.task_id or None)
        return events.result(shot, "cached", FROM_STORE, output=session.cache.path(shot.hash),
                             task_id=entry.task_id or None, billed_seconds=entry.billed_seconds)

    async def from_store(self, shot: CompiledShot) -> ShotResult | None:
        """The last question before paying: does the shared store have this shot?"""
        session = self.session
        events = self.events
        if session.store is None:
            return None
        fetched = await asyncio.to_thread(session.store.fetch, shot, session.cache, session.locked)
        if fetched.entry is not None:
            return await self.cached_from_store(shot)
        refusal = None if fetched.kind == "miss" else session.store.must_not_pay(shot, fetched)
        if refusal is not None:
            code = "StoreCorrupt" if fetched.kind == "refused" else "StoreUnreachable"
            raise events.end(shot, "failed", refusal, "failed", code=code)
        return None

    async def stored_instead(self, shot: CompiledShot, attempt: Attempt) -> bool:
        """A finished result restored from the ledger is taken from the store when the store has
        it (its sha256 verified) rather than downloaded again; the restored row is settled. Any
        other outcome (a miss, a refused copy, a store that does not answer) falls back to the
        free download from the provider."""
        session = self.session
        if session.store is None or REDOWNLOAD not in (attempt.note or ""):
            return False
        fetched = await asyncio.to_thread(session.store.fetch, shot, session.cache, session.locked)
        if fetched.entry is None:
            return False
        entry = fetched.entry
        await session.db(session.journal.done, attempt.id, output_path=str(session.cache.path(shot.hash)),
                         output_sha256=entry.sha256, output_seconds=None, input_video_seconds=None,
                         billed_seconds=entry.billed_seconds, cost=entry.cost,
                         currency=entry.currency, note=STORE_NOT_REDOWNLOADED)
        return True



def failure_said(provider: str, state: TaskState, code: str, message: str) -> str:
    """A failed task in our words: ``failed after the render, billed: content refusal of ...``."""
    return classify_failure(provider, code, message, stage="render").words()
