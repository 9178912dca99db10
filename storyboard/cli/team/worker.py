"""``storyboard worker`` into a worker's loop over the team ledger's queue, and the queue into lines.

``render --queue`` puts a priced, consented render on the queue (``cli/render/commands.py``); a worker on
any machine with the team's ledger (and store) takes its shots (``run/workers/worker.py``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli.common import Seconds, compiled, emit, fail, guarded, variants_of
from storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from storyboard.run.setup import RenderFlags
    from storyboard.run.team.queue_pg import QueuedShot

__all__ = ["queue_lines", "queue_render", "show_queue", "worker"]


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(sorted({part.strip() for part in (text or "").split(",") if part.strip()}))


@click.command()
@click.option("--ledger", "url", envvar="STORYBOARD_LEDGER", metavar="postgresql://HOST/DB",
              help="The team ledger (default: STORYBOARD_LEDGER).")
@click.option("--providers", metavar="NAME,NAME",
              help="Only shots for these providers (default: any).")
@click.option("--tags", metavar="TAG,TAG",
              help="The tags this machine serves: a shot is taken only when it has all of its "
                   "provider block's tags.")
@click.option("--slots", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Shots rendered at once (a worker claims at most its free slots).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The clone the queued series folders are relative to (default: here).")
@click.option("--lease", type=Seconds(1.0), default=60.0, show_default=True,
              help="Seconds a claim outlives this worker's last heartbeat.")
@click.option("--linger", type=Seconds(0.0),
              help="Seconds a run stays open with nothing to render before it ends, letting go "
                   "of the clone's run lock, so a render of your own may run in it "
                   "(default: 30).")
@click.option("--drain", is_flag=True,
              help="Stop once nothing this worker could take is queued or claimed.")
def worker(url: str | None, providers: str | None, tags: str | None, slots: int, root: Path,
           lease: float, linger: float | None, drain: bool) -> None:
    """Render queued shots from the team ledger (`render --queue`), many workers on one queue.

    \b
    Exit codes:
      0  drained (--drain) with every shot it took done
      1  a shot it took failed, or the ledger cannot be used
      2  a bad flag"""
    from storyboard.run.team.ledger_pg import ledger_settings
    from storyboard.run.workers.worker import LINGER, Worker, WorkerOptions
    settings = guarded(lambda: ledger_settings(url or ""))
    if settings is None:
        fail(StoryboardError("storyboard worker needs the team ledger: --ledger "
                             "postgresql://HOST/DB or STORYBOARD_LEDGER"))
        return
    options = WorkerOptions(settings, root.resolve(), _names(providers), _names(tags), slots,
                            lease, drain=drain, linger=LINGER if linger is None else linger)
    one = guarded(lambda: Worker(options, say=lambda line: click.echo(line, err=True)))
    click.echo(f"worker {options.name}: {slots} slot(s) on {settings.shown}", err=True)
    tally = guarded(one.run)
    click.echo(f"worker {options.name}: {tally.done} done, {tally.failed} failed, "
               f"{tally.returned} given back", err=True)
    if tally.failed:
        raise SystemExit(1)


def queue_lines(shots: list[QueuedShot], now: float | None = None) -> list[str]:
    """The queue as ``status --queue`` shows it: a count line, then one line per shot."""
    now = time.time() if now is None else now
    counts: dict[str, int] = {}
    for shot in shots:
        counts[shot.state] = counts.get(shot.state, 0) + 1
    lines = [", ".join(f"{counts.get(s, 0)} {s}" for s in ("queued", "claimed", "done",
                                                           "failed"))]
    for shot in shots:
        who = ""
        if shot.state == "claimed" and shot.holder:
            lapse = (shot.lease_until or 0.0) - now
            who = (f" by {shot.holder} (lease {lapse:.0f} s)" if lapse >= 0
                   else f" by {shot.holder} (lease lapsed: claimable)")
        elif shot.state in ("done", "failed") and shot.holder:
            who = f" by {shot.holder}"
        said = f": {shot.message}" if shot.message and shot.state == "failed" else ""
        tags = f" [{', '.join(shot.tags)}]" if shot.tags else ""
        lines.append(f"{shot.render_id} {shot.shot} {shot.provider}{tags} {shot.state}{who}"
                     f"{said}")
    return lines


def queue_render(path: Path, flags: RenderFlags, *, var: tuple[str, ...],
                 variation: tuple[str, ...], as_json: bool) -> None:
    """``render --queue``: the plan priced and consented here, its shots queued for workers."""
    from storyboard.cli.render.view import confirm, warn
    from storyboard.run.rendering import interactive
    from storyboard.run.setup import Callbacks
    from storyboard.run.workers.queueing import queue_render as queue_it
    variants = variants_of(path, var, variation, provider=flags.provider)
    ask = confirm() if interactive() and not as_json else None
    calls = Callbacks(confirm=ask, on_notice=warn)
    queued = guarded(lambda: queue_it(variants, flags, calls, base=Path.cwd()))
    if as_json:
        emit({"render": queued.render_id, "series": queued.series, "provider": queued.provider,
              "shots": queued.shots, "budget": queued.budget, "currency": queued.currency,
              "ledger": queued.where})
        return
    if not queued.shots:
        click.echo("nothing to queue: every shot is rendered, in the store or claimed")
        return
    click.echo(f"queued {queued.shots} shot(s) of {queued.series} for {queued.provider} on "
               f"{queued.where} (render {queued.render_id}, agreed {queued.currency} "
               f"{queued.budget:g}); `storyboard worker` renders them, `storyboard status "
               f"{queued.series} --queue` shows them")


def show_queue(path: Path, as_json: bool) -> None:
    """``status --queue``: the series' queued shots on the team ledger."""
    from dataclasses import asdict

    from storyboard.cli.team.worker import queue_lines
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
        now = guarded(queue.now)
    finally:
        team.close()
    if as_json:
        emit([asdict(s) for s in shots])
        return
    for line in queue_lines(shots, now):
        click.echo(line)
