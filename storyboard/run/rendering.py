"""A run's set-up into its steps: plan, protect approved shots, consent, execute, stitch one episode.

The steps ``pipeline`` walks through once, in order, for a plain series and a matrix alike. Each
takes the ``RunSetup`` and reads what it needs from it (the lock as read at the start, the ledger
opened once, the flags, the callbacks). Consent is the caller's to give (``yes``, a ``budget``, or
a ``confirm`` callback for an interactive terminal): a run that would spend money without one of
them is refused before anything is submitted.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from storyboard import stopping
from storyboard.errors import BudgetExceeded, ProblemsFound, StoreUnreachable, StoryboardError
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.providers.base import ELSEWHERE, Provider, maker_prices, makers
from storyboard.run import (
    Plan,
    RunResult,
    ShotEvent,
    check_consent,
    plan_for,
)
from storyboard.run import render as run_shots
from storyboard.run.boards.gate import hold, waiting
from storyboard.run.budgetcut import budget_cut
from storyboard.run.plans import below_list
from storyboard.run.setup import (
    RunSetup,
)
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.castinputs import with_made_files
from storyboard.run.state.lock.boardbytes import BoardBytes
from storyboard.run.state.lock.lockfile import (
    LockFile,
    lock_path,
    proxy,
    read_lock,
    with_take_changes,
    write_take_changes,
)
from storyboard.run.state.sharing import StoreLink
from storyboard.run.state.takes import (
    approved_changes,
)
from storyboard.run.team.ledger import Ledger
from storyboard.run.team.store import store_settings
from storyboard.run.trip.approvals import refusals
from storyboard.run.trip.budget.costs import asset_cost
from storyboard.run.trip.changes import Change
from storyboard.run.trip.guards.mediacheck import check_media, media_base_url
from storyboard.run.trip.model import Later, ShotResult, Wiring
from storyboard.stitch.series.episodes import EpisodeBuilder, EpisodeOutput


def plan_setup(setup: RunSetup) -> Plan:
    """What a render would do and cost. Free; the only network use is two listings of the
    shared store (when there is one), to say which shots come from it."""
    in_store = store_hits(setup)
    ledger, team, problem = setup.ledger()
    the_plan = plan_for(setup.shots, setup.provider, series_dir=setup.root,
                        price_overrides=setup.manifest.settings_for(setup.provider.name).get("prices"),
                        reference_video_seconds=setup.seconds, in_store=in_store,
                        ledger=ledger, team=team, locked=_shots_lock(setup).shots,
                        cache=setup.cache)
    _describe_store(the_plan, setup.manifest, setup.store, setup.offline)
    gate_boards(the_plan, setup)
    if setup.provider.traits.paid:
        the_plan.price_note = below_list(setup.prices, setup.provider.list_prices, setup.shots)
        the_plan.risk_note = unlisted_risk(the_plan, setup.provider)
    note = setup.provider.plan_note(sum(s.duration for s in the_plan.to_render))
    if note:
        the_plan.price_model = note  # comfyui: "free (your GPUs): ..., about N min"
    if problem:
        the_plan.store_note = "; ".join(filter(None, (the_plan.store_note, problem)))
    mark_approved(the_plan, approved_changes(setup.manifest, _lock(setup)))
    mark_made_elsewhere(the_plan, setup)
    return the_plan


def unlisted_risk(the_plan: Plan, provider: Provider) -> str:
    """What a provider without a task list may charge twice: a submit answered with an error
    after the task was made anyway (MiniMax's 1000) is sent again, with nothing to look in."""
    if provider.traits.lists or not the_plan.to_render:
        return ""
    return (f"{provider.name} has no task list: a submit answered with a server error (an HTTP "
            "500, such as MiniMax's 1000) is sent again, and if the service had made the task "
            "anyway it is paid twice (a lost answer is never sent again: it waits for `task "
            "adopt` or `task forget`)")


def gate_boards(the_plan: Plan, setup: RunSetup) -> None:
    """The gate: each video take whose board is not approved (or whose board's file is not the
    picture approved) waits, unpaid, and the runner skips it (``boards.gate.waiting``); nothing waits
    for a free provider."""
    files = BoardBytes(setup.cache, _lock(setup), setup.provider.name)
    waits = waiting(setup.manifest, files, paid=setup.provider.traits.paid)
    setup.skips.update(hold(the_plan, waits))
    setup.board_bytes.update(files.verified)  # checked again by the run right before sending


def mark_made_elsewhere(the_plan: Plan, setup: RunSetup) -> None:
    """What ``render`` will refuse (``Provider.refused``: a cast this provider does not make),
    kept on the plan at its lines; each such asset priced as its maker lists it."""
    paid = {s.hash for s in the_plan.to_render}
    shots = [s for s in setup.shots if s.hash in paid]
    the_plan.refused = setup.provider.refused(shots)
    elsewhere = {s.hash: s for s in shots if s.asset is not None and any(  # made by another kind
        d.code == ELSEWHERE for d in setup.provider.refused([s]))}
    if elsewhere:
        price_elsewhere(the_plan, elsewhere, setup)


def price_elsewhere(the_plan: Plan, elsewhere: dict[str, CompiledShot], setup: RunSetup) -> None:
    """Each asset made by its maker (the cast by DashScope, a board by its image model's) at its
    list price, in its currency, outside this provider's total (``Plan.elsewhere``); its models
    leave the plan's price line."""
    models = {s.request.model for s in elsewhere.values()} - {
        s.request.model for s in setup.shots if s.hash not in elsewhere}
    the_plan.priced_models = tuple(m for m in the_plan.priced_models if m not in models)
    for index, planned in enumerate(the_plan.shots):
        asset = elsewhere.get(planned.hash)
        if asset is not None and asset.asset is not None and planned.renders:
            maker = makers(asset.asset)[0]  # a board's: its image model's (Seedream's: ark)
            prices = maker_prices(maker)
            note = f"made by {maker} with its own key: render with {setup.provider.name} " \
                "refuses it"
            the_plan.shots[index] = replace(planned, cost=asset_cost(asset, prices), note=note,
                                            currency=prices.currency, made_by=maker)


def _lock(setup: RunSetup) -> LockFile:
    if setup.lock is None:
        setup.lock = read_lock(lock_path(setup.root))
    return setup.lock


def _shots_lock(setup: RunSetup) -> LockFile:
    if setup.shots_lock is None:
        setup.shots_lock = read_lock(lock_path(setup.root, proxy(setup.provider)))
    return setup.shots_lock


def mark_approved(the_plan: Plan, approved: dict[str, int]) -> None:
    """Each take of an approved shot whose request changed says so: ``was approved (take 2)``."""
    for index, shot in enumerate(the_plan.shots):
        take = approved.get(shot.key.partition("#")[0])
        if take is not None and shot.renders:
            the_plan.shots[index] = replace(shot, status="changed", changes=(
                Change("other", f"was approved (take {take})"), *shot.changes))


def protect_approved(setup: RunSetup, the_plan: Plan, *, replace_approved: bool,
                     ask: Callable[[str], bool] | None = None) -> None:
    """Refuse to spend on an approved shot whose request changed, unless told to replace it
    (``replace_approved``, or a yes from ``ask``, shown which shots); its approval and pick are
    then lifted: the new takes are to be looked at again."""
    keys = {s.key.partition("#")[0] for s in the_plan.shots if s.renders}
    approved = {k: t for k, t in approved_changes(setup.manifest, _lock(setup)).items()
                if k in keys}
    if not approved:
        return
    named = ", ".join(f"{k.split('/', 1)[1]} (take {t})" for k, t in sorted(approved.items()))
    if not (replace_approved or (ask is not None and ask(named))):
        raise StoryboardError(refusals(setup.manifest, approved, _lock(setup)))
    lifted = [(key, {"approved": None, "approved_hash": None, "approved_sha256": None,
                     "approved_on": None, "picked": None}) for key in approved]
    setup.pending += lifted  # written once the run has consent (``keep_take_changes``)
    setup.lock = with_take_changes(_lock(setup), lifted)


def keep_take_changes(setup: RunSetup) -> None:
    """Write what the run decided about takes (a retake's takes, lifted approvals) to the lock:
    only once it has consent, so a refused run leaves the lock byte for byte."""
    if setup.pending:
        setup.lock = write_take_changes(lock_path(setup.root), setup.pending)
        setup.pending = []


def store_hits(setup: RunSetup) -> set[str]:
    """The hashes of the setup's shots the store holds (one listing; none when it cannot be
    reached)."""
    store = setup.store
    if store is None:
        return set()
    store.scan()
    if store.problem is not None:
        return set()
    return store.available(setup.shots, _shots_lock(setup).shots)


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


def store_for_run(the_plan: Plan, setup: RunSetup) -> StoreLink | None:
    """The store the runner uses: refuses blind spending first; None when there is none, or
    when it cannot be reached and nothing would be paid (the run goes on locally)."""
    store = setup.store
    refuse_blind_spending(the_plan, store)
    if store is None or store.problem:
        return None
    free = not setup.provider.traits.paid
    store.rerender_refused = setup.flags.yes or setup.flags.budget is not None or free
    return store


def refuse_blind_spending(the_plan: Plan, store: StoreLink | None) -> None:
    """Stop before paying for shots an unreachable store may have, unless the run is offline."""
    if store is None or store.problem is None or the_plan.total_cost <= 0:
        return
    raise StoreUnreachable(
        f"{store.problem}. This render would pay about {the_plan.total_cost:.2f} "
        f"{the_plan.currency} for {len(the_plan.to_render)} shot(s) the store may already have; "
        "nothing was submitted. Run again when the store is back, or render without it (and pay "
        "for those shots): render --set offline=true (season, version and queue render: "
        "--offline).")



def consent(setup: RunSetup, the_plan: Plan) -> None:
    """Refuse, before anything is paid, a run nobody agreed to pay for; then check that the
    provider can work at all, and that a gateway finds each file at ``media_base_url``. Drops an
    unreachable store the run may go on without."""
    flags, confirm = setup.flags, setup.calls.confirm
    if the_plan.refused:  # before any question: a yes would buy nothing
        raise ProblemsFound(the_plan.refused)
    setup.store = store_for_run(the_plan, setup)
    verdict = check_consent(the_plan, yes=flags.yes, budget=flags.budget,
                            interactive=confirm is not None, paid=setup.provider.traits.paid)
    if verdict == "ask" and confirm is not None and not confirm(the_plan):
        raise BudgetExceeded("nothing was submitted: the render was not confirmed")
    if flags.budget is not None and setup.provider.traits.paid:
        cut_to_budget(setup, the_plan, flags.budget)
    if the_plan.to_render:
        setup.provider.preflight()
        paid = {s.hash for s in the_plan.to_render}
        check_sending(setup, [s for s in setup.shots if s.hash in paid])


def check_sending(setup: RunSetup, shots: list[CompiledShot]) -> None:
    """Before ``shots`` are paid for: each against the provider's own checks (ComfyUI's: its
    workflow), and each file they send found where a gateway fetches it (``media_base_url``)."""
    setup.provider.check_shots(shots)
    cast = setup.cache  # a gateway gets these too
    if media_base_url(setup.provider) is not None:
        pull_cast(setup, shots, cast)
    check_media(setup.provider, with_made_files(shots, cast), setup.root)


def cut_to_budget(setup: RunSetup, the_plan: Plan, budget: float) -> None:
    """A budget under the plan: say before the first submit what it buys and skips (the cast
    first, then episode by episode: ``budgetcut``), ask at a terminal (unless ``--yes``), and
    have the runner skip the rest up front."""
    cut = budget_cut(the_plan, budget)
    if cut is None:
        return
    the_plan.budget_cost = cut.cost
    if setup.calls.on_notice is not None:
        setup.calls.on_notice(cut.text())
    confirm = setup.calls.confirm
    if not setup.flags.yes and confirm is not None and not confirm(the_plan):
        raise BudgetExceeded("nothing was submitted: the render was not confirmed")
    setup.skips.update(cut.skips())


def pull_cast(setup: RunSetup, shots: list[CompiledShot], cast: OutputCache) -> None:
    """The cast assets ``shots`` use that the store has and this folder lacks, pulled now (it is
    free), so that the media check sees them at ``media_base_url`` before anything is paid."""
    if setup.store is None:
        return
    wanted = {digest for shot in shots for digest in shot.needs.values()
              if not cast.has(digest)}
    locked = _shots_lock(setup).shots
    for asset in setup.shots:
        if asset.hash in wanted:
            wanted.discard(asset.hash)
            setup.store.fetch(asset, cast, locked)  # a miss or a failure: the run says so


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders this render created if it wrote nothing into them (deepest first)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): its parents are not empty either


def build_episode(builder: EpisodeBuilder, ep: CompiledEpisode, done: dict[str, Path],
                  target: Path, on_start: Callable[[EpisodeOutput], None] | None = None
                  ) -> EpisodeOutput:
    """Stitch one episode from its rendered shots (``done``: shot id -> video); a failure is
    reported, not raised (one episode's failure does not stop the others)."""
    try:
        return builder.build(ep, done, on_start=on_start)
    except StoryboardError as error:
        return EpisodeOutput(ep.id, target / f"{ep.id}.mp4", "skipped", message=str(error))


def execute(setup: RunSetup, *, on_event: Callable[[ShotEvent], None] | None = None,
            sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
            source: Manifest | list[CompiledShot] | None = None,
            later: Callable[[Sequence[ShotResult]], Later] | None = None) -> RunResult:
    """Run ``setup``'s shots with its ledger (the team's when the series names one). ``source``
    (a whole manifest) lets the lock file drop the entries of deleted shots; ``later``: the
    shots the run goes on to once those end (``Wiring.later``)."""
    ledger, team, _ = setup.ledger()
    if team and ledger is None:
        raise setup.ledger_refused()
    return stopping.run(_run(setup, on_event=on_event, sleep=sleep, source=source,
                             ledger=ledger, later=later))


async def _run(setup: RunSetup, *, on_event: Callable[[ShotEvent], None] | None,
               sleep: Callable[[float], Awaitable[None]],
               source: Manifest | list[CompiledShot] | None, ledger: Ledger | None,
               later: Callable[[Sequence[ShotResult]], Later] | None) -> RunResult:
    try:
        wiring = replace(wiring_of(setup, ledger, on_event=on_event, sleep=sleep), later=later)
        return await run_shots(source or setup.shots, setup.provider, setup.options, wiring)
    finally:
        await setup.provider.aclose()


def wiring_of(setup: RunSetup, ledger: Ledger | None, *,
              on_event: Callable[[ShotEvent], None] | None = None,
              sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Wiring:
    """What a run of ``setup`` is wired to: its folder, prices, store, lock, cache, skips."""
    return Wiring(setup.root, setup.prices, setup.seconds, setup.store, ledger,
                  _shots_lock(setup).shots, on_event, setup.calls.on_notice, sleep,
                  cache=setup.cache, skips=setup.skips, board_bytes=setup.board_bytes)


@contextmanager
def listening(setup: RunSetup) -> Iterator[Callable[[float], Awaitable[None]]]:
    """The runner's sleep: plain, or cut short by accepted webhook callbacks while they listen."""
    listen = setup.flags.webhook_listen
    if listen is None:
        yield asyncio.sleep
        return
    from storyboard.providers.registry import calling_back
    from storyboard.run.trip.pace import webhooks
    provider = calling_back(setup.provider)
    if provider is None:
        raise StoryboardError(f"--webhook-listen: {setup.provider.name} sends no status callbacks; "
                              "polling alone follows its tasks")
    host, port = webhooks.parse_listen(listen)
    secret_env = provider.settings.webhook_secret_env
    secret = (os.environ.get(secret_env, "").strip() or None) if secret_env else None
    if secret_env and secret is None:
        raise StoryboardError(f"{secret_env} is not set: export the webhook signing secret")
    waker = webhooks.Waker()
    root = setup.root

    def known(task_id: str) -> bool:
        from storyboard.run import read_status
        return any(row.task_id == task_id for row in read_status(root))

    with webhooks.WebhookListener(host, port, provider.dialect, known, waker, secret) as hook:
        url = setup.flags.webhook_url or f"http://{host}:{hook.port}/"
        setup.provider = provider.with_hooks(replace(provider.hooks, webhook_url=url))
        yield waker.sleep


def interactive() -> bool:
    """A person at a terminal who can answer a question (never in CI)."""
    import sys
    return sys.stdin.isatty() and os.environ.get("CI", "") == ""
