"""Compiled shots into a plan: per shot cached / new / changed (and why) / waits, and what it costs.

Free and offline: it reads the cache directory once, the lock file once, the journal (tasks in
flight, billed failures: a shot that pays again says so) and the price table, and
never runs ffmpeg, hashes a media file or touches the network, so a no-op plan of thousands of shots
takes milliseconds. The same estimate (``trip.costs``) is what the runner reserves against a budget.

Billed seconds follow the provider's ``PriceTable``: the reference videos' seconds (capped) plus the
output seconds. When the length of a shot's reference videos is unknown the cap is assumed, so the
estimate is an upper bound: a plan may promise less than it costs only if the prices are wrong.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from storyboard.errors import BudgetExceeded, Diagnostic, StoryboardError
from storyboard.language.request import (
    ASSET_EPISODES,
    BOARDS,
    CompiledShot,
    Manifest,
)
from storyboard.providers.base import Provider, host_of, task_key
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.castinputs import sent_voices, short_voice
from storyboard.run.state.lock.lockfile import LockEntry, describe, lock_path, proxy, read_lock, shot_key
from storyboard.run.state.measured import recorded
from storyboard.run.state.tasks.inflight import holdings, paid_before
from storyboard.run.team.ledger import Ledger
from storyboard.run.trip.budget.costs import ReferenceSeconds, estimate, shots_of
from storyboard.run.trip.changes import Change as Change  # re-exported: importers keep this path
from storyboard.run.trip.changes import explain
from storyboard.targets import PriceTable
from storyboard.targets.prices import apply_overrides, is_amount

# "store": pulled, rendered by others; "in flight": a paid task resumes; "claimed": another run's;
# "ledger": another folder's or machine's finished task, its result restored (downloaded again);
# "waits": its board is not approved (the gate): never sent, nothing paid
ShotStatus = Literal["cached", "store", "new", "changed", "in flight", "claimed", "ledger",
                     "waits"]
FREE: tuple[ShotStatus, ...] = ("cached", "store", "in flight", "claimed", "ledger", "waits")
AWAITING_BOARD = "awaiting board"  # the count of shots whose board is not approved (``waits``)


@dataclass(frozen=True)
class ShotPlan:
    series: str
    episode: str
    shot: str
    hash: str
    status: ShotStatus
    resolution: str
    duration: int
    billed_seconds: float  # estimated, what a render would bill (0 when cached or a duplicate)
    cost: float
    changes: tuple[Change, ...] = ()
    waits_on: str | None = None  # what must render first: its first frame's shot, else a cast asset
    same_as: str | None = None  # an earlier shot with the same hash: rendered once for both
    task_id: str | None = None  # the paid task that holds it ("in flight", "claimed", "ledger")
    note: str = ""  # why it costs nothing now ("in flight: task ..., paid, will be resumed")
    made_by: str = ""  # a cast asset this provider does not make: who does (its own key)
    currency: str = ""  # the cost's currency when not the plan's (``made_by``'s list price)
    waiting_cost: float = 0.0  # "waits" for its board: what it costs once the board is approved
    waits_for: tuple[str, ...] = ()  # every asset it uses not made yet (sheet, voice, line)

    @property
    def key(self) -> str:
        return f"{self.series}/{self.episode}/{self.shot}"

    @property
    def renders(self) -> bool:
        """True when this shot needs a paid task of its own."""
        return self.status not in FREE and self.same_as is None


@dataclass
class Plan:
    provider: str
    cache_key: str
    currency: str
    shots: list[ShotPlan] = field(default_factory=list)
    priced_models: tuple[str, ...] = ()  # the models price_model's first table is for
    host: str = ""  # where the provider sends tasks ("dashscope-intl.aliyuncs.com"), "" locally
    store: str | None = None  # the shared store asked (its URL, without credentials)
    store_note: str = ""  # why the store was not asked, or could not be reached
    price_model: str = ""  # "USD 0.1/s 720P, ..." or "USD 0.625 a generation 720P, ..."
    price_note: str = ""  # the series' prices are below the provider's list prices (or another currency)
    risk_note: str = ""  # what may be paid twice on this provider (no task list to look in)
    refused: list[Diagnostic] = field(default_factory=list)  # what ``render`` stops at, located
    budget_cost: float | None = None  # what a budget under the plan buys (``budgetcut``)

    @property
    def to_render(self) -> list[ShotPlan]:
        return [s for s in self.shots if s.renders]

    @property
    def total_cost(self) -> float:
        """What this provider bills (the cast another makes is not in it: ``elsewhere``)."""
        return round(sum(s.cost for s in self.to_render if not s.made_by), 4)

    @property
    def cast_cost(self) -> float:
        """What making the cast costs (its images, voices and lines), within ``total_cost``."""
        return round(sum(s.cost for s in self.to_render if s.episode in ASSET_EPISODES
                         and s.episode != BOARDS and not s.made_by), 4)

    @property
    def boards_cost(self) -> float:
        """What making the boards costs (a still per shot), within ``total_cost``."""
        return round(sum(s.cost for s in self.to_render
                         if s.episode == BOARDS and not s.made_by), 4)

    @property
    def videos_cost(self) -> float:
        """What the shots' videos cost, within ``total_cost`` (neither cast nor boards)."""
        return round(self.total_cost - self.cast_cost - self.boards_cost, 4)

    @property
    def waiting_cost(self) -> float:
        """What the videos that wait for their boards cost once the boards are approved: not in
        ``total_cost`` (nothing is sent until then)."""
        return round(sum(s.waiting_cost for s in self.shots if not s.made_by), 4)

    @property
    def once_approved(self) -> float:
        """What this plan costs in all once the boards it waits on are approved: its total and
        the waiting videos (what render pays, now and then)."""
        return round(self.total_cost + self.waiting_cost, 4)

    @property
    def elsewhere(self) -> dict[tuple[str, str], float]:
        """The cast another provider makes: its cost by (provider, currency), at its prices."""
        out: dict[tuple[str, str], float] = {}
        for shot in self.to_render:
            if shot.made_by:
                where = (shot.made_by, shot.currency or self.currency)
                out[where] = round(out.get(where, 0.0) + shot.cost, 4)
        return out

    @property
    def total_billed_seconds(self) -> float:
        return sum(s.billed_seconds for s in self.to_render)

    def counts(self) -> dict[str, int]:
        counts = {"cached": 0, "store": 0, "new": 0, "changed": 0, "in flight": 0, "claimed": 0,
                  "ledger": 0, "waits": 0, "duplicates": 0, AWAITING_BOARD: 0}
        for shot in self.shots:  # "waits": a dependency first; AWAITING_BOARD: the gate
            counts[AWAITING_BOARD if shot.status == "waits" else shot.status] += 1
            counts["waits"] += shot.waits_on is not None and shot.status != "waits"
            counts["duplicates"] += shot.same_as is not None
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider, "cache_key": self.cache_key, "currency": self.currency,
            "price_model": self.price_model,
            "priced_models": list(self.priced_models), "host": self.host,
            "total_cost": self.total_cost, "total_billed_seconds": self.total_billed_seconds,
            "cast_cost": self.cast_cost, "boards_cost": self.boards_cost,
            "videos_cost": self.videos_cost, "waiting_cost": self.waiting_cost,
            "cost_once_approved": self.once_approved,
            "counts": self.counts(), "store": self.store, "store_note": self.store_note,
            "price_note": self.price_note, "risk_note": self.risk_note,
            "refused": [{"at": str(d.span) if d.span else None, "message": d.message,
                         "code": d.code} for d in self.refused],
            "elsewhere": [{"provider": who, "currency": currency, "cost": cost}
                          for (who, currency), cost in sorted(self.elsewhere.items())],
            "shots": [{
                "key": s.key, "hash": s.hash, "status": s.status, "resolution": s.resolution,
                "duration": s.duration, "billed_seconds": s.billed_seconds, "cost": s.cost,
                "changes": [{"kind": c.kind, "what": c.what, "detail": c.detail}
                            for c in s.changes],
                "waits_on": s.waits_on, "waits_for": list(s.waits_for), "same_as": s.same_as,
                "task_id": s.task_id,
                "note": s.note, "made_by": s.made_by or None,
                "currency": s.currency or self.currency, "waiting_cost": s.waiting_cost,
            } for s in self.shots],
        }


# --- prices ------------------------------------------------------------------------------------


def apply_price_overrides(prices: PriceTable, overrides: Mapping[str, Any] | None) -> PriceTable:
    """A price table with the series' overrides: ``{"720P": 0.08, "currency": "EUR",
    "input_video_cap": 5}`` (resolutions may also sit under ``per_second``), and a model's own
    under its id: ``{"wan3.0-video": {"480P": 0.06}}``. The other models' tables are kept."""
    if not overrides:
        return prices
    table, problems = apply_overrides(prices, overrides)
    if problems:
        raise StoryboardError("price overrides: " + "; ".join(problems))
    return table


def price_model(prices: PriceTable, shots: Sequence[CompiledShot]) -> str:
    """The price model in one line, with the table of each other model the shots use."""
    models = dict.fromkeys(s.request.model for s in shots)
    others = {prices.for_model(m).describe(): m for m in models
              if prices.for_model(m) is not prices}
    return "; ".join([prices.describe(), *(f"{m}: {text}" for text, m in others.items())])


# --- the plan ----------------------------------------------------------------------------------


def plan(source: Manifest | Sequence[CompiledShot], *, provider: str, prices: PriceTable,
         cache_key: str | None = None, series_dir: Path | None = None,
         price_overrides: Mapping[str, Any] | None = None,
         reference_video_seconds: ReferenceSeconds | None = None,
         in_store: Collection[str] = (), proxies: bool = False,
         ledger: Ledger | None = None, team: bool = False,
         task_key: str | None = None, locked: Mapping[str, LockEntry] | None = None,
         cache: OutputCache | None = None) -> Plan:
    """What rendering ``source`` with ``provider`` would do and cost. No network, no ffmpeg:
    ``in_store`` (the hashes a shared store holds) is asked by the caller. A shot whose paid task
    is in flight (the journal, or ``ledger``: a ``team`` one says "another machine") costs 0.

    ``proxies``: the provider renders drafts, whose lock lives apart (``lockfile.lock_path``);
    ``locked``: that lock's shots as the caller read them (else it is read here); ``cache``: the
    provider's output cache as the caller holds it (a set-up's, else one is made here)."""
    root = _series_dir(source, series_dir)
    shots = shots_of(source)
    cache_key = cache_key or provider
    prices = apply_price_overrides(prices, price_overrides)
    cache = cache or OutputCache(root, cache_key)
    cached = cache.hashes()
    if locked is None:
        locked = read_lock(lock_path(root, proxies)).shots
    by_key = {shot_key(s): s for s in shots}
    seen: dict[str, str] = {}
    result = Plan(provider, cache_key, prices.currency, price_model=price_model(prices, shots))
    stored = set(in_store)
    missing = {s.hash for s in shots} - cached - stored
    held = holdings(root, task_key or cache_key, missing, ledger, team=team)
    again = paid_before(root, task_key or cache_key, missing - set(held))
    heard: dict[str, float | None] = {}
    for shot in shots:
        planned = _plan_shot(shot, prices, reference_video_seconds, root, cached, locked,
                             by_key, seen, stored)
        if planned.renders:
            planned = _voice_waits(planned, shot, cache, root, heard)
        holding = held.get(shot.hash)
        if holding is not None and planned.same_as is None:
            planned = replace(planned, status=holding.kind, billed_seconds=0.0, cost=0.0,
                              changes=(), task_id=holding.task_id, note=holding.note)
        elif planned.renders and shot.hash in again:
            planned = replace(planned, note=again[shot.hash])
        result.shots.append(planned)
    return result


def below_list(prices: PriceTable, listed: PriceTable, shots: Sequence[CompiledShot]) -> str:
    """Why the plan's costs may be low: the series' own prices below the provider's list prices
    (or in another currency) for a model and resolution these shots use; "" when they are not."""
    low = []
    for model, resolution in sorted({(s.request.model, s.request.resolution) for s in shots}):
        declared, official = prices.for_model(model), listed.for_model(model)
        if declared.currency != official.currency:
            return (f"the series' prices are in {declared.currency}, the provider lists "
                    f"{official.currency}: --budget and the MCP server count each task at no "
                    "less than its list price where they can compare")
        ours, theirs = declared.cost(resolution, 1.0), official.cost(resolution, 1.0)
        if not ours >= theirs:
            low.append(f"{model} {resolution} at {ours:g} (list price {theirs:g} "
                       f"{official.currency})")
    if not low:
        return ""
    return ("the series' provider.prices are below the list prices: " + ", ".join(low) +
            "; the plan shows the series' prices, but consent is still asked and --budget and "
            "the MCP server count each task at no less than its list price")


def after_run(the_plan: Plan, done: Collection[str]) -> Plan:
    """The plan as it stands once a run has rendered ``done`` (hashes): those shots are cached
    now and cost nothing more. What the studio shows after a draft, without planning again."""
    shots = [replace(s, status="cached", billed_seconds=0.0, cost=0.0, changes=(), same_as=None,
                     waits_on=None, waits_for=()) if s.hash in done else s
             for s in the_plan.shots]
    return replace(the_plan, shots=shots)


def plan_for(source: Manifest | Sequence[CompiledShot], provider: Provider, *,
             series_dir: Path | None = None, price_overrides: Mapping[str, Any] | None = None,
             reference_video_seconds: ReferenceSeconds | None = None,
             in_store: Collection[str] = (), ledger: Ledger | None = None, team: bool = False,
             locked: Mapping[str, LockEntry] | None = None,
             cache: OutputCache | None = None) -> Plan:
    """``plan`` with the name, cache key and prices read from a provider object (the other
    keywords are ``plan``'s, by name)."""
    result = plan(source, provider=provider.name, cache_key=provider.cache_key,
                  prices=provider.prices, proxies=proxy(provider), task_key=task_key(provider),
                  series_dir=series_dir, price_overrides=price_overrides,
                  reference_video_seconds=reference_video_seconds, in_store=in_store,
                  ledger=ledger, team=team, locked=locked, cache=cache)
    prices = apply_price_overrides(provider.prices, price_overrides)
    result.priced_models = tuple(dict.fromkeys(
        s.request.model for s in shots_of(source) if prices.for_model(s.request.model) is prices))
    result.host = provider_host(provider)
    return result


def provider_host(provider: Provider) -> str:
    """The host a provider's tasks (and so its prices) are for: DashScope's region or workspace,
    a gateway's; "" for a provider that renders here. Never the URL's user-info (a key)."""
    return host_of(provider.base_url)


def _series_dir(source: Manifest | Sequence[CompiledShot], series_dir: Path | None) -> Path:
    if series_dir is not None:
        return series_dir
    if isinstance(source, Manifest):
        return source.root
    raise StoryboardError("plan/render of a list of shots needs series_dir")


def _plan_shot(shot: CompiledShot, prices: PriceTable, ref_seconds: ReferenceSeconds | None,
               root: Path, cached: set[str], locked: Mapping[str, LockEntry],
               by_key: Mapping[str, CompiledShot], seen: dict[str, str],
               in_store: set[str]) -> ShotPlan:
    key = shot_key(shot)
    request = shot.request
    if shot.hash in cached or shot.hash in in_store:
        return ShotPlan(shot.series, shot.episode, shot.id, shot.hash,
                        "cached" if shot.hash in cached else "store",
                        request.resolution, request.duration, 0.0, 0.0)
    billed, cost = estimate(shot, prices, ref_seconds)
    same_as = seen.setdefault(shot.hash, key)
    if same_as != key:  # rendered once, for the first shot with this hash
        billed, cost = 0.0, 0.0
    old = locked.get(key)
    status: ShotStatus = "new"
    changes: tuple[Change, ...] = ()
    if old is not None and old.get("hash") != shot.hash:
        status, changes = "changed", explain(old, describe(shot, root))
    have = cached | in_store
    missing = _unmade(shot, have)
    return ShotPlan(shot.series, shot.episode, shot.id, shot.hash, status, request.resolution,
                    request.duration, billed, cost, changes,
                    waits_on=_waits_on(shot, missing, have, locked, by_key),
                    same_as=None if same_as == key else same_as, waits_for=missing)


def _voice_waits(planned: ShotPlan, shot: CompiledShot, cache: OutputCache, root: Path,
                 heard: dict[str, float | None]) -> ShotPlan:
    """``planned`` waiting, unpaid, when a designed voice it sends was measured too short to be
    a reference voice (``assets.short_voice``: what the render says and does). ``heard``: each
    voice's measured seconds by digest, read once per plan."""
    for asset in sent_voices(shot):
        digest = shot.needs.get(asset, "")
        if digest not in heard:
            entry = cache.get(digest)
            found = recorded(root, entry.sha256) if entry is not None else None
            heard[digest] = found.seconds if found is not None else None
        seconds = heard[digest]
        problem = short_voice(shot, asset, seconds, root) if seconds is not None else None
        if problem is not None:
            return replace(planned, billed_seconds=0.0, cost=0.0, waits_on=asset, note=problem)
    return planned


def _unmade(shot: CompiledShot, cached: set[str]) -> tuple[str, ...]:
    """The assets ``shot`` uses (cast sheets, voices, lines) not made yet, in order."""
    return tuple(asset for asset, digest in shot.needs.items() if digest not in cached)


def _waits_on(shot: CompiledShot, missing: tuple[str, ...], cached: set[str],
              locked: Mapping[str, LockEntry], by_key: Mapping[str, CompiledShot]) -> str | None:
    """The dependency whose output does not exist yet, so ``shot`` cannot start before it: the
    shot whose last frame it starts from, else the first asset it uses not yet made
    (``missing``, from ``_unmade``)."""
    if not shot.depends_on:
        return missing[0] if missing else None
    key = f"{shot.series}/{shot.episode}/{shot.depends_on}"
    dependency = by_key.get(key)
    dep_hash = dependency.hash if dependency is not None else locked.get(key, {}).get("hash")
    return None if dep_hash in cached else shot.depends_on


# --- consent -----------------------------------------------------------------------------------


def check_consent(the_plan: Plan, *, yes: bool, budget: float | None,
                  interactive: bool, paid: bool = True) -> Literal["proceed", "ask"]:
    """Whether a run may spend: "proceed", "ask" (the CLI asks the user), or BudgetExceeded.

    Nothing to submit, or a free provider, proceeds; with a ``paid`` provider any submit needs
    consent whatever the series' own prices say (they may be set to 0): ``--yes`` or a budget
    (the runner never passes the budget); an interactive terminal asks; anything else (CI, a
    pipe) is refused, never billed by surprise.
    """
    if budget is not None and not is_amount(budget):
        raise BudgetExceeded(f"--budget must be a finite amount >= 0, got {budget}")
    if not the_plan.to_render or not paid or yes or budget is not None:
        return "proceed"
    if interactive:
        return "ask"
    raise BudgetExceeded(
        f"this render would start {len(the_plan.to_render)} paid task(s) costing about "
        f"{the_plan.total_cost:.2f} {the_plan.currency} with {the_plan.provider}; nothing was "
        "submitted. Run `storyboard plan` to see why, then pass --yes to accept the cost or "
        "--budget AMOUNT to cap it.")
