"""SIGTERM with SIGINT ignored (a command a script started in the background): the running asyncio
work is cancelled at its next ``await``, as asyncio's own Ctrl-C handler does, never interrupted
at whatever line it was on (where a worker once hung in its shutdown: ``storyboard.stopping``)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from storyboard import stopping
from storyboard.cli.main import _TERMINATED, _terminate

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGINT and SIGTERM are POSIX")


@pytest.fixture
def in_the_background() -> Iterator[None]:
    """SIGINT ignored, SIGTERM the command's (``cli.main``), as in a background job."""
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    terminate = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, terminate)
        _TERMINATED.clear()
        stopping._STOPPED.clear()


def test_sigterm_cancels_the_work_at_its_next_await_not_mid_line(in_the_background: None
                                                                  ) -> None:
    steps: list[str] = []

    async def work() -> None:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the signal comes while this runs (a lock held)
            pass
        steps.append("the synchronous part ended")  # the lock released, the with-block left
        try:
            await asyncio.sleep(60)
        finally:
            steps.append("unwound")

    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        stopping.run(work())
    assert steps == ["the synchronous part ended", "unwound"]
    assert time.monotonic() - started < 10 and _TERMINATED == [signal.SIGTERM]


def test_sigterm_with_no_work_running_interrupts_as_before(in_the_background: None) -> None:
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with pytest.raises(KeyboardInterrupt):
        time.sleep(5)
    assert not stopping._RUNNING


def test_work_cancelled_by_itself_is_not_taken_for_a_stop() -> None:
    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        stopping.run(cancelled())
    assert stopping.run(asyncio.sleep(0, result=7)) == 7 and not stopping._RUNNING
