"""Compiled series into finished episodes: pick the provider, plan, get consent, run, stitch.

This is the library behind ``storyboard plan`` and ``storyboard render``. Consent is the caller's
to give (``yes``, a ``budget``, or a ``confirm`` callback for an interactive terminal): a run that
would spend money without one of them is refused before anything is submitted.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard import media
from storyboard.ahead import AheadOfStitch
from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.episodes import EpisodeBuilder, EpisodeOutput, output_dir
from storyboard.errors import BudgetExceeded, StoreUnreachable, StoryboardError
from storyboard.providers.base import PriceTable, Provider
from storyboard.request import CompiledShot, Manifest
from storyboard.run import (
    Plan,
    RunOptions,
    RunResult,
    ShotEvent,
    apply_price_overrides,
    check_consent,
    plan_for,
)
from storyboard.run import render as run_shots
from storyboard.run.ledger import Ledger
from storyboard.run.ledger_pg import PgLedger, ledger_settings
from storyboard.run.lockfile import lock_path, proxy, read_lock
from storyboard.run.sharing import StoreLink
from storyboard.run.store import RenderStore, store_settings
from storyboard.stitch import OutputNotWritable

PROVIDERS = ("local", *DIALECTS)
RUNNER_KEYS = ("poll", "max_wait", "concurrency", "submit_rate")
LOCAL_POLL = (0.01,)


@dataclass
class RenderReport:
    plan: Plan
    run: RunResult | None
    episodes: list[EpisodeOutput] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.run is None or self.run.ok) and all(
            e.state != "skipped" for e in self.episodes)


def provider_name(manifest: Manifest, override: str | None) -> str:
    name = override or str(manifest.provider.get("name") or "local")
    if name not in PROVIDERS:
        raise StoryboardError(f"unknown provider {name!r}; expected one of: {', '.join(PROVIDERS)}")
    return name


def make_provider(manifest: Manifest, name: str | None = None, *, draft: bool = False
                  ) -> Provider:
    """The provider to render with: ``--provider`` first, then the series' ``provider.name``."""
    chosen = provider_name(manifest, name)
    if chosen == "local":
        from storyboard.providers.local import LocalProvider
        return LocalProvider(manifest.root / ".storyboard" / "local", draft=draft)
    if draft:
        raise StoryboardError("--draft renders animatics: it works only with the local provider")
    from storyboard.providers import dashscope_settings as native
    from storyboard.providers import gateway_settings as gateway
    if chosen in GATEWAYS:
        from storyboard.providers.gateway import GatewayProvider
        block = _own(manifest.provider, set(native.SETTING_KEYS) - set(gateway.KNOWN))
        return GatewayProvider.from_settings(DIALECTS[chosen], block, manifest.root)
    from storyboard.providers.dashscope import DashScopeProvider
    settings = _own(manifest.provider, {*RUNNER_KEYS[:2], *gateway.KNOWN} -
                    set(native.SETTING_KEYS))
    settings["name"] = "dashscope"
    return DashScopeProvider.from_settings(settings)


def _own(block: dict[str, Any], others: set[str]) -> dict[str, Any]:
    """The series' block without the settings only another kind of provider reads (so one
    block can name a gateway while ``--provider dashscope`` renders natively)."""
    return {k: v for k, v in block.items() if k not in others and k != "name"}


def select(manifest: Manifest, episode: str | None) -> list[CompiledShot]:
    if episode is None:
        return manifest.shots()
    chosen = [e for e in manifest.episodes if e.id == episode]
    if not chosen:
        ids = ", ".join(e.id for e in manifest.episodes)
        raise StoryboardError(f"no episode {episode!r} in this series; expected one of: {ids}")
    return list(chosen[0].shots)


def reference_seconds(manifest: Manifest) -> Callable[[CompiledShot], float | None]:
    """Seconds of reference video a shot sends (billed up to a cap), from the media fact cache."""
    cache = media.MediaCache(manifest.root / ".storyboard" / "media.json")

    def seconds(shot: CompiledShot) -> float | None:
        total = 0.0
        for item in shot.request.media:
            if item.role != "reference_video":
                continue
            if item.ref is None or item.ref.path is None:
                return None  # a URL: unknown length
            total += cache.facts(item.ref.path).seconds
        return total
    return seconds


def open_store(manifest: Manifest, provider: Provider, *, offline: bool = False
               ) -> StoreLink | None:
    """The run's link to the shared store (``STORYBOARD_STORE`` or ``store:``), if any."""
    settings = store_settings(manifest.store, manifest.root)
    if settings is None or offline:
        return None
    return StoreLink(RenderStore(settings), provider.cache_key)


def open_ledger(manifest: Manifest) -> Ledger | None:
    """The team ledger (``STORYBOARD_LEDGER`` or ``ledger:``), or None for the per-user one."""
    settings = ledger_settings(manifest.ledger)
    if settings is None:
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise StoryboardError(f"{settings.origin} names a PostgreSQL ledger, which needs "
                              "psycopg: pip install 'storyboard[ledger-pg]'") from exc
    return PgLedger(settings)


def plan_series(manifest: Manifest, provider: Provider, episode: str | None = None, *,
                seconds: Callable[[CompiledShot], float | None] | None = None,
                store: StoreLink | None = None, offline: bool = False) -> Plan:
    """What a render would do and cost. Free; the only network use is two listings of the
    shared store (when there is one), to say which shots come from it."""
    shots = select(manifest, episode)
    if store is None and not offline:
        store = open_store(manifest, provider)
    in_store = store_hits(store, manifest.root, shots, provider)
    the_plan = plan_for(shots, provider, series_dir=manifest.root,
                        price_overrides=manifest.provider.get("prices"),
                        reference_video_seconds=seconds or reference_seconds(manifest),
                        in_store=in_store)
    _describe_store(the_plan, manifest, store, offline)
    return the_plan


def store_hits(store: StoreLink | None, root: Path, shots: list[CompiledShot],
               provider: Provider) -> set[str]:
    """The hashes of ``shots`` the store holds (one listing; none when it cannot be reached)."""
    if store is None:
        return set()
    store.scan()
    if store.problem is not None:
        return set()
    return store.available(shots, read_lock(lock_path(root, proxy(provider))).shots)


def _describe_store(the_plan: Plan, manifest: Manifest, store: StoreLink | None,
                    offline: bool) -> None:
    settings = store_settings(manifest.store, manifest.root)
    if settings is None:
        return
    the_plan.store = settings.shown
    if offline:
        the_plan.store_note = f"offline: the store {settings.shown} was not asked"
    elif store is not None and store.problem:
        the_plan.store_note = f"{store.problem}; shots it may have are planned as new"


def store_for_run(the_plan: Plan, store: StoreLink | None, prices: PriceTable, *, yes: bool,
                  budget: float | None) -> StoreLink | None:
    """The store the runner uses: refuses blind spending first; None when there is none, or
    when it cannot be reached and nothing would be paid (the run goes on locally)."""
    refuse_blind_spending(the_plan, store)
    if store is None or store.problem:
        return None
    free = not any(prices.per_second.values())
    store.rerender_refused = yes or budget is not None or free  # blanket consent to pay again
    return store


def refuse_blind_spending(the_plan: Plan, store: StoreLink | None) -> None:
    """Stop before paying for shots an unreachable store may have, unless the run is offline."""
    if store is None or store.problem is None or the_plan.total_cost <= 0:
        return
    raise StoreUnreachable(
        f"{store.problem}. This render would pay about {the_plan.total_cost:.2f} "
        f"{the_plan.currency} for {len(the_plan.to_render)} shot(s) the store may already have; "
        "nothing was submitted. Run again when the store is back, or pass --offline to render "
        "without it (and pay for those shots).")


def run_options(manifest: Manifest, concurrency: int | None, provider: Provider) -> RunOptions:
    settings = manifest.provider
    values: dict[str, Any] = {}
    if provider.name == "local":
        values["poll_schedule"] = LOCAL_POLL  # a local task is finished when its submit returns
    if concurrency is not None or "concurrency" in settings:
        values["concurrency"] = int(concurrency or settings["concurrency"])
    if "submit_rate" in settings:
        values["submit_rate"] = float(settings["submit_rate"])
    if "poll" in settings:
        values["poll_schedule"] = tuple(float(x) for x in settings["poll"])
    if "max_wait" in settings:
        values["max_wait"] = float(settings["max_wait"])
    return RunOptions(**values)


def render_series(manifest: Manifest, *, provider: str | None = None,
                  episode: str | None = None, draft: bool = False, out: Path | None = None,
                  yes: bool = False, budget: float | None = None,
                  concurrency: int | None = None, offline: bool = False,
                  confirm: Callable[[Plan], bool] | None = None,
                  on_plan: Callable[[Plan], None] | None = None,
                  on_event: Callable[[ShotEvent], None] | None = None,
                  on_episode: Callable[[EpisodeOutput], None] | None = None,
                  on_notice: Callable[[str], None] | None = None,
                  webhook_listen: str | None = None,
                  webhook_url: str | None = None) -> RenderReport:
    """Plan, ask, render every shot, then stitch each episode whose shots all rendered.

    ``webhook_listen`` (``HOST:PORT``) takes status callbacks of a gateway that sends them; they
    only wake the pollers (see ``webhooks``); ``webhook_url`` is the public URL that reaches it."""
    chosen = make_provider(manifest, provider, draft=draft)
    seconds = reference_seconds(manifest)  # one read of the media facts for plan and run
    store = open_store(manifest, chosen, offline=offline)
    the_plan = plan_series(manifest, chosen, episode, seconds=seconds, store=store,
                           offline=offline)
    if on_plan is not None:
        on_plan(the_plan)
    prices = apply_price_overrides(chosen.prices, manifest.provider.get("prices"))
    store = store_for_run(the_plan, store, prices, yes=yes, budget=budget)
    verdict = check_consent(the_plan, yes=yes, budget=budget, interactive=confirm is not None)
    if verdict == "ask" and confirm is not None and not confirm(the_plan):
        raise BudgetExceeded("nothing was submitted: the render was not confirmed")
    if the_plan.to_render:
        chosen.preflight()
    shots = select(manifest, episode)
    target = output_dir(manifest, out, draft=draft)
    made = [p for p in (target, *target.parents) if not p.exists()]
    ensure_writable(target)  # before anything is paid for, not after
    try:
        return _render_and_stitch(
            manifest, shots, chosen, target, draft=draft, episode=episode, budget=budget,
            concurrency=concurrency, seconds=seconds, plan=the_plan, prices=prices, store=store,
            on_event=on_event, on_episode=on_episode, on_notice=on_notice,
            webhook=(webhook_listen, webhook_url))
    finally:
        remove_empty(made)


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders this render created if it wrote nothing into them (deepest first)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): its parents are not empty either


def _render_and_stitch(manifest: Manifest, shots: list[CompiledShot], chosen: Provider,
                       target: Path, *, draft: bool, episode: str | None, budget: float | None,
                       concurrency: int | None, seconds: Callable[[CompiledShot], float | None],
                       plan: Plan, prices: PriceTable, store: StoreLink | None,
                       on_event: Callable[[ShotEvent], None] | None,
                       on_episode: Callable[[EpisodeOutput], None] | None,
                       on_notice: Callable[[str], None] | None,
                       webhook: tuple[str | None, str | None]) -> RenderReport:
    options = run_options(manifest, concurrency, chosen)
    team = open_ledger(manifest)
    builder = EpisodeBuilder(manifest, target, draft=draft)
    ahead = AheadOfStitch([builder])  # mezzanines made as the shots arrive
    try:
        with listening(chosen, manifest, *webhook) as sleep:
            result = asyncio.run(_run(shots, chosen, manifest.root, budget=budget, prices=prices,
                                      options=options, on_event=ahead.listen(on_event),
                                      ref_seconds=seconds, store=store, on_notice=on_notice,
                                      sleep=sleep, ledger=team))
    finally:
        ahead.wait()
        if team is not None:
            team.close()
    outputs = {(r.episode, r.shot): r.output for r in result.shots if r.ok and r.output}
    report = RenderReport(plan, result)
    for ep in manifest.episodes:
        if episode is not None and ep.id != episode:
            continue
        done = {shot_id: path for (ep_id, shot_id), path in outputs.items() if ep_id == ep.id}
        try:
            built = builder.build(ep, done, on_start=on_episode)
        except StoryboardError as error:  # one episode's failure does not stop the others
            built = EpisodeOutput(ep.id, target / f"{ep.id}.mp4", "skipped", message=str(error))
        report.episodes.append(built)
        if on_episode is not None:
            on_episode(built)
    return report


async def _run(shots: list[CompiledShot], provider: Provider, root: Path, *,
               budget: float | None, prices: Any, options: RunOptions,
               on_event: Callable[[ShotEvent], None] | None,
               ref_seconds: Callable[[CompiledShot], float | None],
               store: StoreLink | None = None,
               on_notice: Callable[[str], None] | None = None,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
               source: Manifest | list[CompiledShot] | None = None,
               ledger: Ledger | None = None) -> RunResult:
    """``source`` (a whole manifest) lets the lock file drop the entries of deleted shots;
    ``ledger`` is the team's (None: the per-user one)."""
    try:
        return await run_shots(source or shots, provider, series_dir=root, budget=budget,
                               prices=prices,
                               options=options, on_event=on_event,
                               reference_video_seconds=ref_seconds, store=store,
                               on_notice=on_notice, sleep=sleep, ledger=ledger)
    finally:
        await provider.aclose()


@contextmanager
def listening(provider: Provider, manifest: Manifest, listen: str | None, url: str | None
              ) -> Iterator[Callable[[float], Awaitable[None]]]:
    """The runner's sleep: plain, or cut short by accepted webhook callbacks while they listen."""
    if listen is None:
        yield asyncio.sleep
        return
    from storyboard import webhooks
    from storyboard.providers.gateway import GatewayProvider
    if not isinstance(provider, GatewayProvider) or not provider.dialect.webhook_field:
        raise StoryboardError(f"--webhook-listen: {provider.name} sends no status callbacks; "
                              "polling alone follows its tasks")
    host, port = webhooks.parse_listen(listen)
    secret_env = provider.settings.webhook_secret_env
    secret = (os.environ.get(secret_env, "").strip() or None) if secret_env else None
    if secret_env and secret is None:
        raise StoryboardError(f"{secret_env} is not set: export the webhook signing secret")
    waker = webhooks.Waker()
    root = manifest.root

    def known(task_id: str) -> bool:
        from storyboard.run import read_status
        return any(row.task_id == task_id for row in read_status(root))

    with webhooks.WebhookListener(host, port, provider.dialect, known, waker, secret) as hook:
        provider.webhook_url = url or f"http://{host}:{hook.port}/"
        yield waker.sleep


def ensure_writable(folder: Path) -> None:
    """Create the output folder and prove it takes files, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".storyboard-probe-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(f"cannot write episodes to {folder}: "
                                f"{exc.strerror or exc}") from exc


def interactive() -> bool:
    """A person at a terminal who can answer a question (never in CI)."""
    import sys
    return sys.stdin.isatty() and os.environ.get("CI", "") == ""
