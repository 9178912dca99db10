"""Providers into one task interface: what the runner needs of every provider.

A provider is mostly data, like a dialect: ``Capabilities`` (its limits), ``PriceTable`` (for plans)
and a status vocabulary, declared in ``storyboard.targets``, plus this small async task interface.
The runner owns retries, pacing, polling, the journal and the cache; a provider only sends one
request and translates one answer, the way an HTTP transport only sends while the client owns
redirects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from storyboard.language.request import CompiledShot
from storyboard.targets import Capabilities, PriceTable, TaskState


class Provider(Protocol):
    """What the runner needs of a provider. One call, one request: no retries in here."""

    name: str
    cache_key: str  # outputs are cached per (cache_key, shot hash): "local-r2-draft" != "local-r2"
    # (optional) ``writes_lock = False``: this provider's renders are proxies that never go into
    # ``storyboard.lock`` (the local provider's drafts); the runner reads it with a default of True.
    # (optional) ``downloads = False``: its results are local files, so no "downloading" state.
    capabilities: Capabilities
    prices: PriceTable

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        """Start a task for ``shot``; return its task id. ``first_frame`` is a frame from a
        dependency already rendered (``first_frame: {from: ...}``)."""
        ...

    def preflight(self) -> None:
        """Raise a clear error now if this provider cannot work at all (no API key, say), before
        a run starts, rather than one failure per shot."""
        ...

    async def query(self, task_id: str) -> TaskState: ...

    async def cancel(self, task_id: str) -> None: ...

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """Reconcile a submit whose answer never came: EVERY task the provider cannot tell apart
        from ``shot``'s (same prompt, say) created after ``since`` (a UNIX time), newest first.
        The runner decides which, if any, is this shot's: never return only the newest."""
        ...

    async def download(self, state: TaskState, dest: Path) -> None:
        """Fetch a finished task's video into ``dest`` (a temporary path the runner renames)."""
        ...

    async def aclose(self) -> None: ...


def task_key(provider: Provider) -> str:
    """Whose tasks these are: the endpoint and key that create them (``endpoint_key``), or the
    cache key for a provider without an endpoint (the local one)."""
    return str(getattr(provider, "task_key", provider.cache_key))
