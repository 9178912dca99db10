"""Instances and their queues into the next job's place: one prompt per ComfyUI server at a time.

Each server (one GPU) runs one prompt at a time. ``Dispatch.acquire`` gives a job the next instance
(round robin) whose queue is empty and that holds no job of this process; an instance that does not
answer is skipped. When every instance stays busy for ``BUSY_WAIT`` (other people's jobs, or more
shots at once than instances) the job waits in the shortest queue instead.
"""

from __future__ import annotations

import asyncio

from storyboard.errors import ConnectFailed, ProviderError
from storyboard.providers.comfyui.client import NAME, Instance

BUSY_WAIT = 20.0  # seconds a submit waits for an idle instance before queueing behind others


class Dispatch:
    """Which instance takes the next job: one whose queue is empty, never two jobs on one GPU
    from this process; an instance that does not answer is skipped."""

    def __init__(self, instances: list[Instance]) -> None:
        self.instances = instances
        self.busy: dict[str, str] = {}  # instance url -> the prompt id this process gave it
        self._lock = asyncio.Lock()
        self._next = 0

    async def acquire(self, prompt_id: str, shot: str) -> Instance:
        """An instance with an empty queue; after ``BUSY_WAIT`` (other people's jobs, or more
        shots at once than instances) the answering one with the shortest queue."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_WAIT
        delay = 0.02
        while True:
            async with self._lock:
                chosen, lengths = await self._idle(loop.time() > deadline)
                if chosen is not None:
                    self.busy[chosen.url] = prompt_id
                    return chosen
            if not lengths:
                raise ConnectFailed("no ComfyUI instance answers: "
                                    + ", ".join(i.url for i in self.instances),
                                    provider=NAME, shot=shot)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _idle(self, shortest: bool) -> tuple[Instance | None, dict[str, int]]:
        """The next idle instance (round robin), or with ``shortest`` the one with the fewest
        jobs; and the queue length of each instance that answered."""
        lengths: dict[str, int] = {}
        count = len(self.instances)
        for step in range(count):
            instance = self.instances[(self._next + step) % count]
            if instance.url in self.busy and not shortest:
                continue  # running a job of ours: not asked
            try:
                running, pending = await instance.queue()
            except ProviderError:
                continue
            lengths[instance.url] = len(running) + len(pending)
            if instance.url not in self.busy and not running and not pending:
                self._next = (self._next + step + 1) % count
                return instance, lengths
        if shortest and lengths:
            url = min(lengths, key=lambda u: lengths[u])
            return next(i for i in self.instances if i.url == url), lengths
        return None, lengths

    def release(self, url: str, prompt_id: str) -> None:
        if self.busy.get(url) == prompt_id:
            del self.busy[url]
