"""Compiled series into finished episodes: pick the provider, plan, get consent, run, stitch.

This is the library behind ``storyboard plan`` and ``storyboard render``. Consent is the caller's
to give (``yes``, a ``budget``, or a ``confirm`` callback for an interactive terminal): a run that
would spend money without one of them is refused before anything is submitted.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from storyboard.errors import BudgetExceeded, StoreUnreachable, StoryboardError
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.providers.base import Provider
from storyboard.run import (
    Plan,
    RunResult,
    ShotEvent,
    check_consent,
    drafts,
    plan_for,
)
from storyboard.run import render as run_shots
from storyboard.run.ahead import AheadOfStitch
from storyboard.run.cache import OutputCache
from storyboard.run.lockfile import lock_path, proxy, read_lock, update_take_state
from storyboard.run.mediacheck import check_media
from storyboard.run.plan import Change
from storyboard.run.setup import (
    RunSetup,
    Seconds,
    ensure_writable,
    open_ledger,
    prepare,
    setup_for,
)
from storyboard.run.takes import (
    approved_changes,
    cached_outputs,
    episode_as_used,
    select_shots,
)
from storyboard.run.team.ledger import Ledger, default_ledger
from storyboard.run.team.sharing import StoreLink
from storyboard.run.team.store import store_settings
from storyboard.stitch.episodes import EpisodeBuilder, EpisodeOutput, output_dir
from storyboard.targets import PriceTable


@dataclass
class RenderReport:
    plan: Plan
    run: RunResult | None
    episodes: list[EpisodeOutput] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.run is None or self.run.ok) and all(
            e.state != "skipped" for e in self.episodes)









def plan_series(manifest: Manifest, provider: Provider, episode: str | None = None, *,
                seconds: Seconds | None = None, store: StoreLink | None = None,
                offline: bool = False) -> Plan:
    """What a render of ``manifest`` with ``provider`` would do and cost (``plan_setup``);
    ``seconds`` and ``store`` reuse what the caller already has."""
    setup = setup_for(manifest, provider, episode, offline=offline or store is not None)
    setup.seconds = seconds or setup.seconds
    setup.store, setup.offline = (store, offline) if store is not None else (setup.store, offline)
    return plan_setup(setup)


def plan_setup(setup: RunSetup) -> Plan:
    """What a render would do and cost. Free; the only network use is two listings of the
    shared store (when there is one), to say which shots come from it."""
    in_store = store_hits(setup.store, setup.root, setup.shots, setup.provider)
    ledger, team, problem = _plan_ledger(setup)
    try:
        the_plan = plan_for(setup.shots, setup.provider, series_dir=setup.root,
                            price_overrides=setup.manifest.provider.get("prices"),
                            reference_video_seconds=setup.seconds, in_store=in_store,
                            ledger=ledger, team=team)
    finally:
        if ledger is not None:
            ledger.close()
    _describe_store(the_plan, setup.manifest, setup.store, setup.offline)
    note = getattr(setup.provider, "plan_note", None)  # comfyui: "free (your GPUs) ..."
    if note is not None:
        the_plan.price_model = note(sum(s.duration for s in the_plan.to_render))
    if problem:
        the_plan.store_note = "; ".join(filter(None, (the_plan.store_note, problem)))
    mark_approved(the_plan, approved_changes(setup.manifest))
    return the_plan


def mark_approved(the_plan: Plan, approved: dict[str, int]) -> None:
    """Each take of an approved shot whose request changed says so: ``was approved (take 2)``."""
    for index, shot in enumerate(the_plan.shots):
        take = approved.get(shot.key.partition("#")[0])
        if take is not None and shot.renders:
            the_plan.shots[index] = replace(shot, status="changed", changes=(
                Change("other", f"was approved (take {take})"), *shot.changes))


def choose_shots(setup: RunSetup, patterns: tuple[str, ...]) -> None:
    """``--shot``: render only the named shots' takes (globs allowed)."""
    if not patterns:
        return
    chosen = select_shots(setup.manifest, patterns)
    setup.shots = [take for shot in chosen for take in shot.all_takes()]
    setup.chosen = {shot.shot_id for shot in chosen}


def protect_approved(setup: RunSetup, the_plan: Plan, *, replace_approved: bool,
                     ask: Callable[[str], bool] | None = None) -> None:
    """Refuse to spend on an approved shot whose request changed, unless told to replace it
    (``replace_approved``, or a yes from ``ask``, shown which shots); its approval and pick are
    then lifted: the new takes are to be looked at again."""
    keys = {s.key.partition("#")[0] for s in the_plan.shots if s.renders}
    approved = {k: t for k, t in approved_changes(setup.manifest).items() if k in keys}
    if not approved:
        return
    named = ", ".join(f"{k.split('/', 1)[1]} (take {t})" for k, t in sorted(approved.items()))
    if not (replace_approved or (ask is not None and ask(named))):
        raise StoryboardError(
            f"approved shot(s) changed since they were approved: {named}; nothing was "
            "submitted. Their approved takes stay in the cache. Pass --replace-approved to "
            "render the changed shots anyway, or revert their YAML.")
    for key in approved:
        update_take_state(lock_path(setup.root), key, approved=None, approved_hash=None,
                          picked=None)


def _plan_ledger(setup: RunSetup) -> tuple[Ledger | None, bool, str]:
    """The ledger a plan reads for tasks in flight and claims (the team's, else the per-user one
    for a paid provider), whether it is the team's, and why the team's could not be read."""
    try:
        team = open_ledger(setup.manifest)
    except StoryboardError as error:
        team, problem = None, f"{error}; claims of other machines are not shown"
    else:
        problem = ""
    if team is not None:
        return team, True, problem
    paid = any(price > 0 for price in setup.prices.per_second.values())
    return (default_ledger() if paid else None), False, problem


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
                  webhook_url: str | None = None, shots: tuple[str, ...] = (),
                  replace_approved: bool = False,
                  ask_replace: Callable[[str], bool] | None = None,
                  preview: bool = False) -> RenderReport:
    """Plan, ask, render every shot, then stitch each episode whose shots all rendered.

    ``webhook_listen`` (``HOST:PORT``) takes status callbacks of a gateway that sends them; they
    only wake the pollers (see ``webhooks``); ``webhook_url`` is the public URL that reaches it.
    ``shots`` (``episode/shot``, globs) renders only those shots' takes and re-stitches the
    episodes that contain them; ``replace_approved`` (or a yes from ``ask_replace``) lets it
    spend on changed approved shots; ``preview`` (the studio's) stitches without loudness
    passes."""
    output_dir(manifest, out, draft=draft)  # a refused output.dir: said before the plan
    setup = prepare(manifest, provider=provider, episode=episode, draft=draft,
                    concurrency=concurrency, offline=offline, preview=preview)
    choose_shots(setup, shots)
    return render_setup(setup, draft=draft, out=out, yes=yes, budget=budget, confirm=confirm,
                        on_plan=on_plan, on_event=on_event, on_episode=on_episode,
                        on_notice=on_notice, webhook=(webhook_listen, webhook_url),
                        replace_approved=replace_approved, ask_replace=ask_replace)


def render_setup(setup: RunSetup, *, draft: bool, out: Path | None, yes: bool,
                 budget: float | None, confirm: Callable[[Plan], bool] | None,
                 on_plan: Callable[[Plan], None] | None,
                 on_event: Callable[[ShotEvent], None] | None,
                 on_episode: Callable[[EpisodeOutput], None] | None,
                 on_notice: Callable[[str], None] | None,
                 webhook: tuple[str | None, str | None] = (None, None),
                 replace_approved: bool = False,
                 ask_replace: Callable[[str], bool] | None = None) -> RenderReport:
    """Plan, protect approved shots, ask, render ``setup``'s takes and stitch."""
    manifest = setup.manifest
    the_plan = plan_setup(setup)
    if on_plan is not None:
        on_plan(the_plan)
    protect_approved(setup, the_plan, replace_approved=replace_approved, ask=ask_replace)
    consent(setup, the_plan, yes=yes, budget=budget, confirm=confirm)
    target = output_dir(manifest, out, draft=draft)
    made = [p for p in (target, *target.parents) if not p.exists()]
    ensure_writable(target)  # before anything is paid for, not after
    try:
        return _render_and_stitch(setup, the_plan, target, budget=budget, on_event=on_event,
                                  on_episode=on_episode, on_notice=on_notice, webhook=webhook)
    finally:
        remove_empty(made)


def consent(setup: RunSetup, the_plan: Plan, *, yes: bool, budget: float | None,
            confirm: Callable[[Plan], bool] | None) -> None:
    """Refuse, before anything is paid, a run nobody agreed to pay for; then check that the
    provider can work at all, and that a gateway finds each file at ``media_base_url``. Drops an
    unreachable store the run may go on without."""
    setup.store = store_for_run(the_plan, setup.store, setup.prices, yes=yes, budget=budget)
    verdict = check_consent(the_plan, yes=yes, budget=budget, interactive=confirm is not None)
    if verdict == "ask" and confirm is not None and not confirm(the_plan):
        raise BudgetExceeded("nothing was submitted: the render was not confirmed")
    if the_plan.to_render:
        setup.provider.preflight()
        paid = {s.hash for s in the_plan.to_render}
        shots = [s for s in setup.shots if s.hash in paid]
        check_shots = getattr(setup.provider, "check_shots", None)  # comfyui: vs its workflows
        if check_shots is not None:
            check_shots(shots)
        check_media(setup.provider, shots, setup.root)


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders this render created if it wrote nothing into them (deepest first)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): its parents are not empty either


def _render_and_stitch(setup: RunSetup, plan: Plan, target: Path, *, budget: float | None,
                       on_event: Callable[[ShotEvent], None] | None,
                       on_episode: Callable[[EpisodeOutput], None] | None,
                       on_notice: Callable[[str], None] | None,
                       webhook: tuple[str | None, str | None]) -> RenderReport:
    builder = EpisodeBuilder(setup.manifest, target, draft=setup.draft, preview=setup.preview)
    ahead = AheadOfStitch([builder])  # mezzanines made as the shots arrive
    try:
        if drafts.quick(setup):  # the studio's free previews: no journal to keep
            result = drafts.draft_shots(setup, builder.cache_dir / "facts", ahead.listen(on_event))
        else:
            with listening(setup.provider, setup.manifest, *webhook) as sleep:
                result = execute(setup, budget=budget, on_event=ahead.listen(on_event),
                                 on_notice=on_notice, sleep=sleep)
    finally:
        ahead.wait()
    report = RenderReport(plan, result)
    for ep in setup.manifest.episodes:
        if setup.episode is not None and ep.id != setup.episode:
            continue
        if setup.chosen is not None and not any(s.shot_id in setup.chosen for s in ep.shots):
            continue  # --shot: only the episodes that contain the named shots
        outputs = {**cached_outputs(ep, OutputCache(setup.root, setup.provider.cache_key)),
                   **{r.shot: r.output for r in result.shots
                      if r.ok and r.output and r.episode == ep.id}}
        used, done = episode_as_used(ep, read_lock(lock_path(setup.root)).takes, outputs)
        built = build_episode(builder, used, done, target, on_episode)
        report.episodes.append(built)
        if on_episode is not None:
            on_episode(built)
    return report


def build_episode(builder: EpisodeBuilder, ep: CompiledEpisode, done: dict[str, Path],
                  target: Path, on_start: Callable[[EpisodeOutput], None] | None = None
                  ) -> EpisodeOutput:
    """Stitch one episode from its rendered shots (``done``: shot id -> video); a failure is
    reported, not raised (one episode's failure does not stop the others)."""
    try:
        return builder.build(ep, done, on_start=on_start)
    except StoryboardError as error:
        return EpisodeOutput(ep.id, target / f"{ep.id}.mp4", "skipped", message=str(error))


def execute(setup: RunSetup, *, budget: float | None,
            on_event: Callable[[ShotEvent], None] | None = None,
            on_notice: Callable[[str], None] | None = None,
            sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
            source: Manifest | list[CompiledShot] | None = None) -> RunResult:
    """Run ``setup``'s shots, through the team ledger when the series names one. ``source`` (a
    whole manifest) lets the lock file drop the entries of deleted shots."""
    team = open_ledger(setup.manifest)
    try:
        return asyncio.run(_run(setup, budget=budget, on_event=on_event, on_notice=on_notice,
                                sleep=sleep, source=source, ledger=team))
    finally:
        if team is not None:
            team.close()


async def _run(setup: RunSetup, *, budget: float | None,
               on_event: Callable[[ShotEvent], None] | None,
               on_notice: Callable[[str], None] | None,
               sleep: Callable[[float], Awaitable[None]],
               source: Manifest | list[CompiledShot] | None, ledger: Ledger | None) -> RunResult:
    try:
        return await run_shots(source or setup.shots, setup.provider, series_dir=setup.root,
                               budget=budget, prices=setup.prices, options=setup.options,
                               on_event=on_event, reference_video_seconds=setup.seconds,
                               store=setup.store, on_notice=on_notice, sleep=sleep, ledger=ledger)
    finally:
        await setup.provider.aclose()


@contextmanager
def listening(provider: Provider, manifest: Manifest, listen: str | None, url: str | None
              ) -> Iterator[Callable[[float], Awaitable[None]]]:
    """The runner's sleep: plain, or cut short by accepted webhook callbacks while they listen."""
    if listen is None:
        yield asyncio.sleep
        return
    from storyboard.providers.gateway import GatewayProvider
    from storyboard.run import webhooks
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



def interactive() -> bool:
    """A person at a terminal who can answer a question (never in CI)."""
    import sys
    return sys.stdin.isatty() and os.environ.get("CI", "") == ""
