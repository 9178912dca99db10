"""Concurrency and rate limits into awaitable gates: submit pacing, task slots, one run per series.

The runner owns pacing (like an HTTP client owns connection pools): a token bucket spaces submits
and polls and pauses everyone on a 429's ``Retry-After``; ``Slots`` bounds the tasks in flight at a
provider; ``run_lock`` keeps two renders of one series from reading the same journal at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import filelock

from storyboard.errors import JournalError

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class TokenBucket:
    """At most ``rate`` acquisitions a second on average, ``burst`` at once; FIFO."""

    def __init__(self, rate: float, burst: int, clock: Clock, sleep: Sleep) -> None:
        self.rate, self.burst = rate, max(1, burst)
        self.clock, self.sleep = clock, sleep
        self.tokens = float(self.burst)
        self.stamp = clock()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Hold every taker for ``seconds`` (the provider said 429 with a Retry-After)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def take(self) -> None:
        if self.rate <= 0 or math.isinf(self.rate):
            return
        async with self._lock:
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
    """One held slot, released at most once (early when a task ends, or on the way out)."""

    def __init__(self, slots: Slots) -> None:
        self.slots, self.held = slots, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()


# --- one series at a time ------------------------------------------------------------------------


@contextlib.contextmanager
def run_lock(series_dir: Path) -> Iterator[None]:
    """Refuse a second render (or cancel) of the same series while one runs: two runners reading
    the same journal could both submit a shot. The lock is the OS's (``filelock``: flock on
    POSIX, msvcrt on Windows), so it is taken on every platform and dropped when a process dies;
    ``run.pid`` says who holds it."""
    folder = series_dir / ".storyboard"
    lock = filelock.FileLock(str(folder / "run.lock"), timeout=0)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except filelock.Timeout as exc:
        raise JournalError(f"another storyboard render is running on {series_dir} "
                           f"(pid {_holder(folder)}); wait for it or stop it first") from exc
    except OSError as exc:
        raise JournalError(
            f"cannot write to {folder}: {exc.strerror or exc}; storyboard keeps its task "
            "journal and cache there: make it a writable folder and run again (nothing was "
            "spent)") from exc
    try:
        with contextlib.suppress(OSError):
            (folder / "run.pid").write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        lock.release()


def _holder(folder: Path) -> str:
    try:
        return (folder / "run.pid").read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"
