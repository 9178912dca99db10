"""``storyboard worker`` into a worker's loop over the team ledger's queue, and the queue into lines.

``queue render`` puts a priced, consented render on the queue (``cli/team/queue.py``); a worker on
any machine with the team's ledger (and store) takes its shots (``run/workers/worker.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.answering import answering
from storyboard.cli.common import (
    JSON,
    PROVIDER_CHOICE,
    SERIES,
    Seconds,
    compiled,
    emit,
    fail,
    guarded,
    variants_of,
)
from storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from storyboard.run.setup import RenderFlags
    from storyboard.run.team.ledger_pg import LedgerSettings
    from storyboard.run.team.queue_pg import QueuedShot

__all__ = ["cancel", "cancel_queued", "queue_json", "queue_lines", "queue_render", "show_queue",
           "upgrade_ledger", "worker"]


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(sorted({part.strip() for part in (text or "").split(",") if part.strip()}))


def _team_ledger(url: str | None, command: str) -> LedgerSettings | None:
    """The team ledger ``command`` works on (``--ledger``, else ``STORYBOARD_LEDGER``), the
    engine's extra first; None, said, when none is named."""
    from storyboard.run.team.ledger_pg import ledger_settings
    from storyboard.run.team.queue_pg import require_engine
    guarded(require_engine)
    settings = guarded(lambda: ledger_settings(url or ""))
    if settings is None:
        fail(StoryboardError(f"{command} needs the team ledger: --ledger "
                             "postgresql://HOST/DB or STORYBOARD_LEDGER"))
    return settings


@click.command(cls=answering(extra=(
    "a worker renders the shots `storyboard queue render SERIES` put on the team ledger, of any "
    "series in the clone it runs in (--root, default: here). To queue this one: `storyboard "
    "queue render {arg}`, then `storyboard worker --root CLONE` on each machine; to render it "
    "here alone: `storyboard render {arg}`")))
@click.option("--ledger", "url", envvar="STORYBOARD_LEDGER", metavar="postgresql://HOST/DB",
              help="The team ledger (default: STORYBOARD_LEDGER).")
@click.option("--providers", metavar="NAME,NAME",
              help="Only shots for these providers (default: any).")
@click.option("--tags", metavar="TAG,TAG",
              help="The tags this machine serves: a shot is taken only when it has all of its "
                   "provider block's tags.")
@click.option("--slots", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Shots rendered at once (the engine hands a worker at most its free slots).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The clone the queued series folders are relative to (default: here).")
@click.option("--lease", type=Seconds(1.0), default=60.0, show_default=True,
              help="Seconds of silence (no heartbeat: it beats every third of it) after which "
                   "this worker's shots are handed to another.")
@click.option("--linger", type=Seconds(0.0),
              help="Seconds a run stays open with nothing to render before it ends, letting go "
                   "of the clone's run lock, so a render of your own may run in it "
                   "(default: 30).")
@click.option("--drain", is_flag=True,
              help="Stop once nothing this worker could take is queued or taken.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object a line on stdout for each event (start, done, retried, "
                   "failed, refused, cancelled, given back, stop).")
def worker(url: str | None, providers: str | None, tags: str | None, slots: int, root: Path,
           lease: float, linger: float | None, drain: bool, as_json: bool) -> None:
    """Render queued shots from the team ledger (`queue render`), many workers on one queue.

    \b
    Exit codes:
      0  drained (--drain) with every shot it took done
      1  a shot it took failed for good, or the ledger cannot be used
      2  a bad flag"""
    settings = _team_ledger(url, "storyboard worker")
    if settings is None:
        return
    from storyboard.run.workers.worker import LINGER, Worker, WorkerOptions, line
    options = WorkerOptions(settings, root.resolve(), _names(providers), _names(tags), slots,
                            lease, drain=drain, linger=LINGER if linger is None else linger)

    def say(event: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(event, sort_keys=True, ensure_ascii=False))
        else:
            click.echo(line(event), err=True)
    one = guarded(lambda: Worker(options, say=say))
    one.say("start", slots=slots, ledger=settings.shown, queues=len(one.queues))
    tally = guarded(one.run)
    one.say("stop", done=tally.done, failed=tally.failed, retried=tally.retried,
            returned=tally.returned)
    if tally.failed:
        raise SystemExit(1)


def upgrade_ledger(url: str | None, *, as_json: bool) -> None:
    """``queue upgrade``: the engine's migrations due applied, then storyboard's own tables."""
    from storyboard.run.team.engine_pg import engine_version, installed_level, upgrade
    settings = _team_ledger(url, "queue upgrade")
    if settings is None:
        return
    from storyboard.run.team.ledger_pg import PgLedger
    from storyboard.run.team.queue_pg import PgQueue
    from storyboard.run.team.tasks_pg import PgTasks
    team = guarded(lambda: PgLedger(settings))
    try:
        applied = guarded(lambda: upgrade(team))
        guarded(lambda: (PgQueue(team), PgTasks(team)))  # storyboard's own: made or carried over
    finally:
        team.close()
    if as_json:
        emit({"ledger": settings.shown, "engine": engine_version(), "level": installed_level(),
              "applied": applied})
        return
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"{settings.shown}: the job engine's tables at Procrastinate {engine_version()}'s "
               f"level ({installed_level()}), {len(applied)} migration(s) applied; storyboard's "
               "tables up to date")


def queue_lines(shots: list[QueuedShot]) -> list[str]:
    """The queue as ``status --queue`` shows it: a count line, then one line per shot."""
    from storyboard.run.team.queue_pg import STATES
    counts: dict[str, int] = {}
    for shot in shots:
        counts[shot.state] = counts.get(shot.state, 0) + 1
    lines = [", ".join(f"{counts.get(s, 0)} {s}" for s in STATES)]
    for shot in shots:
        who = ""
        if shot.state == "claimed" and shot.holder:
            silent = shot.silent
            who = (f" by {shot.holder} (stalled: its worker is gone)" if silent is None
                   else f" by {shot.holder} (heartbeat {silent:.0f} s ago)")
        elif shot.state in ("done", "failed") and shot.holder:
            who = f" by {shot.holder}"
        tries = f" after {shot.tries} tries" if shot.state == "failed" and shot.tries > 1 else ""
        said = f": {shot.message}" if shot.message and shot.state == "failed" else ""
        tags = f" [{', '.join(shot.tags)}]" if shot.tags else ""
        lines.append(f"{shot.render_id} {shot.shot} {shot.provider}{tags} {shot.state}{who}"
                     f"{tries}{said}")
    return lines


def queue_json(shots: list[QueuedShot]) -> dict[str, Any]:
    """``status --queue --json``: each render with its agreed budget and what its shots cost
    and counted against it, then every shot."""
    from dataclasses import asdict
    renders: dict[str, dict[str, Any]] = {}
    for s in shots:
        r = renders.setdefault(s.render_id, {
            "render": s.render_id, "series": s.series, "provider": s.provider,
            "budget": s.budget, "cost": 0.0, "counted": 0.0, "queued_by": s.queued_by,
            "shots": {}})
        r["cost"] = round(r["cost"] + s.cost, 6)
        r["counted"] = round(r["counted"] + max(s.cost, s.counted), 6)
        r["shots"][s.state] = r["shots"].get(s.state, 0) + 1
    return {"renders": list(renders.values()),
            "shots": [{**asdict(s), "tries": s.tries} for s in shots]}


def queue_render(path: Path, flags: RenderFlags, *, as_json: bool) -> None:
    """``queue render``: the plan priced and consented here, its shots queued for workers."""
    from storyboard.cli.runs.renderview import confirm, warn
    from storyboard.run.rendering import interactive
    from storyboard.run.setup import Callbacks
    from storyboard.run.workers.queueing import queue_render as queue_it
    variants = variants_of(path, provider=flags.provider)
    ask = confirm() if interactive() and not as_json else None
    calls = Callbacks(confirm=ask, on_notice=warn)
    queued = guarded(lambda: queue_it(variants, flags, calls, base=Path.cwd()))
    if as_json:
        emit({"render": queued.render_id, "series": queued.series, "provider": queued.provider,
              "shots": queued.shots, "budget": queued.budget, "currency": queued.currency,
              "ledger": queued.where, "waiting_on_boards": list(queued.waiting),
              "boards_to_draw": list(queued.boards)})
        return
    if not queued.shots and not queued.waiting:
        click.echo("nothing to queue: every shot is rendered, in the store or claimed")
        return
    if queued.shots:
        click.echo(f"queued {queued.shots} shot(s) of {queued.series} for {queued.provider} on "
                   f"{queued.where} (render {queued.render_id}, agreed {queued.currency} "
                   f"{queued.budget:g}); `storyboard worker` renders them, `storyboard status "
                   f"{queued.series} --queue` shows them")
    if queued.waiting:
        click.echo(boards_first(path, queued))


def boards_first(path: Path, queued: Any) -> str:
    """What waits on boards, not queued, and the way to let it go."""
    named = ", ".join(queued.waiting[:6]) + (", ..." if len(queued.waiting) > 6 else "")
    draw = (f"draw {len(queued.boards)} board(s) first (storyboard render {path} boards: "
            "a worker draws no board), " if queued.boards else "")
    return (f"{'not queued' if queued.shots else 'nothing to queue yet'}: "
            f"{len(queued.waiting)} video(s) wait on their boards ({named}): {draw}approve them "
            f"(storyboard approve {path} boards/EP), then queue render again")


def show_queue(path: Path, as_json: bool) -> None:
    """``status --queue``: the series' queued shots on the team ledger."""
    from storyboard.run.setup import open_ledger
    from storyboard.run.team.ledger_pg import PgLedger
    from storyboard.run.team.queue_pg import PgQueue
    from storyboard.run.workers.queueing import recorded_path
    series = compiled(path)
    team = guarded(lambda: open_ledger(series))
    if not isinstance(team, PgLedger):
        fail(StoryboardError("status --queue needs a team ledger: set `ledger: "
                             "postgresql://HOST/DB` in storyboard.yaml or STORYBOARD_LEDGER"))
        return
    try:
        queue = guarded(lambda: PgQueue(team))
        shots = guarded(lambda: queue.shots(recorded_path(series.root, Path.cwd())))
    finally:
        team.close()
    if as_json:
        emit(queue_json(shots))
        return
    for text in queue_lines(shots):
        click.echo(text)


def cancel_queued(render_id: str, url: str | None, as_json: bool) -> None:
    """``cancel --queue RENDER``: the render's queued shots never start; its running ones settle
    (their paid tasks end and are kept) and are never tried again."""
    settings = _team_ledger(url, "cancel --queue")
    if settings is None:
        return
    from storyboard.run.team.ledger_pg import PgLedger
    from storyboard.run.team.queue_pg import PgQueue
    team = guarded(lambda: PgLedger(settings))
    try:
        queue = guarded(lambda: PgQueue(team))
        if render_id not in guarded(queue.renders):
            fail(StoryboardError(f"cancel --queue: no queued render {render_id!r} on "
                                 f"{settings.shown} (`storyboard status SERIES --queue` lists "
                                 "them)"))
        queued, running = guarded(lambda: queue.cancel(render_id))
    finally:
        team.close()
    if as_json:
        emit({"render": render_id, "cancelled": queued, "settling": running})
        return
    click.echo(f"render {render_id}: {queued} queued shot(s) cancelled, {running} running "
               "shot(s) settling (their tasks end and are kept, never tried again)")


@click.command()
@click.argument("path", type=SERIES, required=False)
@click.option("--provider", type=PROVIDER_CHOICE,
              help="This provider (default: the series' provider.name, else local).")
@click.option("--queue", "render_id", metavar="RENDER",
              help="Cancel a queued render (`queue render`) instead: its queued shots never "
                   "start, its running ones settle.")
@click.option("--ledger", "url", envvar="STORYBOARD_LEDGER", metavar="postgresql://HOST/DB",
              help="With --queue: the team ledger (default: STORYBOARD_LEDGER, else SERIES').")
@JSON
def cancel(path: Path | None, provider: str | None, render_id: str | None, url: str | None,
           as_json: bool) -> None:
    """Cancel the tasks still pending at the provider (only PENDING tasks can be canceled);
    each is settled in the series' ledger (the team one when it has one). With --queue
    RENDER: a queued render instead."""
    if render_id is not None:
        return cancel_queued(render_id, url or _ledger_of(path), as_json)
    if path is None:
        fail(StoryboardError("cancel: expected a series folder (or --queue RENDER)"))
        return None
    return _cancel_pending(path, provider, as_json)


def _ledger_of(path: Path | None) -> str | None:
    """The series' ``ledger:`` (None without a series)."""
    if path is None:
        return None
    ledger: Any = compiled(path).ledger
    return ledger if isinstance(ledger, str) else None


def _cancel_pending(path: Path, provider: str | None, as_json: bool) -> None:
    from storyboard import stopping
    from storyboard.run import cancel_pending
    from storyboard.run.setup import make_provider, open_ledger
    series = compiled(path)
    chosen = guarded(lambda: make_provider(series, provider))
    team = guarded(lambda: open_ledger(series))

    async def go() -> list[Any]:
        try:
            return await cancel_pending(series.root, chosen, ledger=team)
        finally:
            await chosen.aclose()
            if team is not None:
                team.close()

    outcomes = guarded(lambda: stopping.run(go()))
    if as_json:
        emit([{"shot": f"{o.attempt.episode}/{o.attempt.shot}", "task_id": o.attempt.task_id,
               "canceled": o.canceled, "message": o.message} for o in outcomes])
        return
    if not outcomes:
        click.echo("nothing to cancel")
    for outcome in outcomes:
        row = outcome.attempt
        verdict = "canceled" if outcome.canceled else "not canceled"
        click.echo(f"{row.episode}/{row.shot} {row.task_id or '-'}: {verdict} {outcome.message}")
