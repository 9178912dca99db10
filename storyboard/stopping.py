"""A SIGTERM into the cancellation of the running asyncio work, as asyncio's own Ctrl-C handler does.

``asyncio.run`` stops its work on Ctrl-C by cancelling its main task: the work unwinds at its next
``await``, through every ``finally``. It installs that handler only where SIGINT has Python's
default handler, and a command started in the background by a script has SIGINT ignored; there
``cli.main`` turned SIGTERM into a ``KeyboardInterrupt`` raised at whatever line the main thread
was on: a worker's landed inside the websockets frame parser of its ComfyUI connection, which it
broke, and asyncio then waited for that connection's task forever (seen in a suite run started in
the background). Work run through ``run`` is cancelled instead (``stop``), in every case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_RUNNING: list[asyncio.Task[Any]] = []  # the main task of the work running now, if any
_STOPPED: list[bool] = []  # a stop cancelled it (the command then ends as interrupted)


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, its work cancelled by ``stop``: a ``KeyboardInterrupt`` once it
    has unwound, as after Ctrl-C."""
    async def held() -> T:
        task = asyncio.current_task()
        assert task is not None
        _RUNNING.append(task)
        try:
            return await main
        finally:
            _RUNNING.remove(task)
    try:
        return asyncio.run(held())
    except asyncio.CancelledError:
        if _STOPPED:
            raise KeyboardInterrupt from None
        raise


def stop() -> bool:
    """Cancel the running work, from a signal handler on the main thread (False: none runs, so
    the caller interrupts as it would)."""
    if not _RUNNING:
        return False
    task = _RUNNING[-1]
    _STOPPED.append(True)
    task.cancel()
    task.get_loop().call_soon_threadsafe(lambda: None)  # wake the loop if it waits in select
    return True
