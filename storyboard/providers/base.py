"""Providers into one task interface: what the runner needs of every provider.

A provider is mostly data, like a dialect: ``Capabilities`` (its limits), ``PriceTable`` (for plans)
and a status vocabulary, declared in ``storyboard.targets``, plus this small async task interface.
The runner owns retries, pacing, polling, the journal and the cache; a provider only sends one
request and translates one answer, the way an HTTP transport only sends while the client owns
redirects.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.request import AssetRequest, CompiledShot
from storyboard.providers.account_limits import AccountLimits
from storyboard.targets import Capabilities, PriceTable, TaskState
from storyboard.targets.cast.assets import EACH, ELEMENT_MAKERS, board_model_of, maker_tables
from storyboard.targets.kinds import CAST_MAKER
from storyboard.targets.wire.gateways import TARGETS

Ask = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
# What a provider hears of a task between polls (ComfyUI's /ws): the task id, the fraction done
# (None: not known) and what it does now, in words.
Progress = Callable[[str, float | None, str], None]
MB = 1_000_000
# A sent submit's task is created within this long of its intent (a proxy holds a request up to
# its own timeout, 60-120 s; the runner looks for a late one for ``late_window``, 150 s). A lost
# submit whose task cannot be told apart by its prompt (a generated image) is looked for within it.
LOST_SUBMIT_LANDS = 300.0
CLOCK_SKEW = 120.0  # between us and a service: a lookup looks this much before a lost submit
DEFAULT_MAX_DOWNLOAD = 2_000 * MB  # a download that names no limit (the runner always names one)


@dataclass(frozen=True)
class Traits:
    """What a provider can do, declared once by each provider class; the runner, the plan and the
    consent read these, never probe for methods or types.

    - ``paid``: its tasks cost money (consent, the ledger, list prices); ``local`` is free.
    - ``lists``: ``find`` lists the account's tasks, so a lost submit can be reconciled.
    - ``uploads``: local files go to the provider's own upload store before a submit.
    - ``public_media``: local files are sent as URLs under ``media_base_url`` (a gateway).
    - ``webhooks``: it can call back when a task's status changes.
    - ``downloads``: results are fetched over the network ("downloading" is a state).
    - ``writes_lock``: its renders are recorded in ``storyboard.lock`` (drafts are not).
    - ``wire_watched``: every request it sends goes through ``protocol.LazyClient`` (which tells
      ``watching``), so a submit that failed with an exception of ours before any request went
      out is known to have created nothing. Off: every such failure may have sent its request.
    - ``sound``: its videos carry an audio track. Off (your own GPUs: open Wan weights make no
      sound): a silent video is accepted as silent, and the stitch gives it silence or the
      series' audio.
    """

    paid: bool = True
    lists: bool = True
    uploads: bool = False
    public_media: bool = False
    webhooks: bool = False
    downloads: bool = True
    writes_lock: bool = True
    wire_watched: bool = False
    sound: bool = True


class Wire:
    """Whether a provider sent any request while it was watched (``watching``): a failure of
    ours before anything went out cannot have created (nor paid for) a task."""

    def __init__(self) -> None:
        self.sent = False


_WIRE: ContextVar[Wire | None] = ContextVar("storyboard_wire", default=None)


@contextmanager
def watching() -> Iterator[Wire]:
    """A ``Wire`` that hears of every request a provider sends inside this block (in this task
    and in the tasks it starts)."""
    wire = Wire()
    token = _WIRE.set(wire)
    try:
        yield wire
    finally:
        _WIRE.reset(token)


def on_the_wire() -> None:
    """Said by a provider's HTTP client just before each request goes out."""
    wire = _WIRE.get()
    if wire is not None:
        wire.sent = True


async def once(call: Callable[[], Awaitable[Any]]) -> Any:
    """A lookup's request sent once (the runner gives providers its retry policy instead)."""
    return await call()


@dataclass(frozen=True)
class Hooks:
    """What a run hands its provider, as httpx's ``event_hooks``: how each of a lookup's
    requests is sent (the runner's retry policy; sent once by default), where a task's
    progress pushed between polls goes and where its status callbacks go (``--webhook-listen``;
    nowhere by default)."""

    ask: Ask = once
    on_progress: Progress | None = None
    webhook_url: str | None = None


class Provider(Protocol):
    """What the runner needs of a provider. One call, one request: no retries in here."""

    name: str
    cache_key: str  # outputs are cached per (cache_key, shot hash): "local-r2-draft" != "local-r2"
    task_key: str  # whose tasks these are (journal and ledger): the endpoint and key, or cache_key
    traits: Traits
    capabilities: Capabilities
    prices: PriceTable
    list_prices: PriceTable  # its published prices: the floor a budget counts a task at
    media_base_url: str | None  # where a gateway fetches the series' files (``public_media``)
    base_url: str | None  # where its tasks are sent (None: it renders here)
    account_limits: AccountLimits | None  # the account's limits (a team ledger keeps them)

    @property
    def hooks(self) -> Hooks:
        """What its run handed it (``with_hooks``)."""
        ...

    @property
    def ask(self) -> Ask:
        """How ``find`` sends each of its requests: the run's retry policy (its ``Hooks``)."""
        ...

    @property
    def webhook_url(self) -> str | None:
        """Where status callbacks go (``webhooks``): the run's (its ``Hooks``), or nowhere."""
        ...

    @property
    def on_progress(self) -> Progress | None:
        """Where a task's pushed progress goes: the run's (its ``Hooks``), or nowhere."""
        ...

    def with_hooks(self, hooks: Hooks) -> Self:
        """A copy of this provider holding ``hooks`` (the run's); this one is left as it was."""
        ...

    def ended(self, task_id: str) -> asyncio.Event | None:
        """An event the provider sets when it hears, pushed to it, that ``task_id`` has ended,
        or None (it hears nothing): the poll then asks at once instead of waiting its
        schedule. The answer still comes from ``query``."""
        ...

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

    async def download(self, state: TaskState, dest: Path, *,
                       limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
        """Fetch a finished task's video into ``dest`` (a temporary path the runner renames), at
        most ``limit`` bytes (``DownloadTooLarge`` past it, nothing kept)."""
        ...

    async def aclose(self) -> None: ...

    def plan_note(self, seconds: float) -> str:
        """A line for the plan's price model in place of the prices, or "" (``seconds``: what
        the plan renders)."""
        ...

    def refused(self, shots: list[CompiledShot]) -> list[Diagnostic]:
        """The located errors a render stops at before any submit that need no server: a
        cast asset this provider does not make. ``plan`` says the same, from the same call."""
        ...

    def check_shots(self, shots: list[CompiledShot]) -> None:
        """Raise a located error now for a shot this provider cannot render, before any
        submit (a provider with nothing to check does nothing)."""
        ...


class BaseProvider:
    """The declared defaults every provider class starts from (a paid service that lists its
    tasks and downloads its results); a provider overrides what differs."""

    traits: Traits = Traits()
    hooks: Hooks = Hooks()  # the run's, given by ``with_hooks``
    media_base_url: str | None = None
    base_url: str | None = None  # where its tasks are sent (None: it renders here)
    account_limits: AccountLimits | None = None  # the account's limits, kept across a team
    name: str
    cache_key: str
    _task_key: str | None = None

    prices: PriceTable

    @property
    def ask(self) -> Ask:
        """How ``find`` sends each of its requests (its hooks' retry policy)."""
        return self.hooks.ask

    @property
    def on_progress(self) -> Progress | None:
        """Where a task's pushed progress goes (its hooks')."""
        return self.hooks.on_progress

    @property
    def webhook_url(self) -> str | None:
        """Where status callbacks go (its hooks')."""
        return self.hooks.webhook_url

    def with_hooks(self, hooks: Hooks) -> Self:
        """A copy of this provider holding ``hooks`` (the run's), as httpx's clients take their
        ``event_hooks`` when they are made: this one is left as it was, and no attribute of
        either is written from outside. The copy shares the connections and what the provider
        keeps (so closing either closes both); its parts that ask through their provider ask
        through the copy (``rebind_parts``)."""
        copied = copy.copy(self)
        copied.hooks = hooks
        copied.rebind_parts()
        return copied

    def rebind_parts(self) -> None:
        """A fresh copy's parts that ask through their provider, pointed at the copy: called by
        ``with_hooks`` on the copy it makes (a provider with such parts extends this)."""

    @property
    def list_prices(self) -> PriceTable:
        """Its published prices (set by a provider whose series may declare others)."""
        table: PriceTable = self.__dict__.get("_list_prices", self.prices)
        return table

    @list_prices.setter
    def list_prices(self, table: PriceTable) -> None:
        self.__dict__["_list_prices"] = table

    def plan_note(self, seconds: float) -> str:
        return ""

    def check_shots(self, shots: list[CompiledShot]) -> None:
        return None

    def refused(self, shots: list[CompiledShot]) -> list[Diagnostic]:
        return []

    def ended(self, task_id: str) -> asyncio.Event | None:
        return None

    @property
    def task_key(self) -> str:
        """The endpoint and key that create its tasks; the cache key when it has no endpoint."""
        return self._task_key or self.cache_key

    @task_key.setter
    def task_key(self, value: str) -> None:
        self._task_key = value


ASSET_WORDS = {"image": "image: {generate: ...}", "voice": "voices: {NAME: {design: ...}}",
               "element": "identity: {kling: {element: make}}",
               "kvoice": "identity: {kling: {voice: make}}",
               "portrait": "identity: {ark: {asset: make}}",
               "speech": "driving_audio: {say: ..., voice: ...}", "board": "boards: {model: ...}"}


def makers(asset: AssetRequest) -> tuple[str, ...]:
    """The provider kinds that make ``asset``: an image by the kinds its image model declares
    (``wan2.7-image`` by DashScope, Seedream by Ark and ModelArk, Kling's by Kling, a ComfyUI
    workflow by ComfyUI), a voice or a line by DashScope, an element by the kinds declared for it
    (Kling), a portrait by the kind whose asset library it is in (Ark, ModelArk). ``local``
    makes every asset (its stand-ins) and is never named here."""
    if asset.kind in ("element", "kvoice", "portrait"):
        return ELEMENT_MAKERS[asset.model]
    declared = board_model_of(asset.model) if asset.kind == "image" else None
    return declared.makers if declared is not None else (CAST_MAKER,)


def with_boards(table: PriceTable, kind: str) -> PriceTable:
    """``table`` (a provider's prices) with the list price of each image model provider kind
    ``kind`` makes and the table does not price yet (Seedream's on Ark), in its currency."""
    region = "cn" if table.currency == "CNY" else "intl"
    own = maker_tables(kind, region, table.currency)
    return replace(table, by_model={**own, **table.by_model}) if own else table


def maker_prices(kind: str) -> PriceTable:
    """The list prices provider kind ``kind`` makes its assets at (DashScope's international
    table; a gateway's own with its boards'; nothing for a free kind, which has no target)."""
    target = TARGETS.get(kind)
    if target is None:
        return PriceTable({EACH: 0.0})
    prices = target.protocol.prices
    return with_boards(prices.get("intl") or next(iter(prices.values())), kind)


def makes(kind: str, asset: AssetRequest) -> bool:
    """Whether a provider of kind ``kind`` makes ``asset``."""
    return kind in makers(asset)


def _words(asset: AssetRequest) -> str:
    return ASSET_WORDS["board" if asset.subject == "board" else asset.kind]


ELSEWHERE = "provider-video-only"  # an asset refused here: made first by the kind that makes it


def asset_refusals(shots: list[CompiledShot], who: str, kind: str = "") -> list[Diagnostic]:
    """A located error for each asset among ``shots`` that a provider of kind ``kind`` (``who``:
    ``gateway X``) does not make: it is made first with a provider that does (its own key)."""
    return [Diagnostic(
        shot.span, f"{shot.asset.name} is generated ({_words(shot.asset)}); {who} does not make "
        f"{shot.asset.model}: make it with --provider {makers(shot.asset)[0]} first (this render "
        "then uses that file)",
        code=ELSEWHERE)
        for shot in shots if shot.asset is not None and not makes(kind, shot.asset)]


def refuse_assets(shots: list[CompiledShot], who: str, kind: str = "") -> None:
    """``asset_refusals`` raised: nothing is submitted."""
    problems = asset_refusals(shots, who, kind)
    if problems:
        raise ProblemsFound(problems)


def host_of(url: str | None) -> str:
    """``host[:port]`` of a URL: never its user-info (``ID:SECRET@``), never its path."""
    if not url:
        return ""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "") + (f":{port}" if port else "")


def task_key(provider: Provider) -> str:
    """Whose tasks these are: the endpoint and key that create them (``endpoint_key``), or the
    cache key for a provider without an endpoint (the local one)."""
    return provider.task_key
