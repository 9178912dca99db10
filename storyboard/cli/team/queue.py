"""``storyboard queue render SERIES``: a render's flags into shots queued on the team ledger.

The render is planned, priced and consented here; its shots wait on the ledger for ``storyboard
worker``s, which compile the series as it is, at full size, so the command takes only the flags
that choose what is queued and what is agreed to (``worker.queue_render``).
"""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.common import EPISODE, JSON, SERIES
from storyboard.cli.flags import conflicts, options
from storyboard.cli.flags.renderflags import render_flags, with_episodes
from storyboard.cli.team.worker import queue_render, upgrade_ledger

__all__ = ["queue", "render", "upgrade"]


@click.group("queue")
def queue() -> None:
    """The team ledger's queue: renders priced and agreed to here, their shots rendered by
    `storyboard worker`s (`status SERIES --queue` shows them, `cancel --queue RENDER` stops one)."""


@queue.command("render")
@click.argument("path", type=SERIES)
@options.PROVIDER
@EPISODE
@options.SHOTS
@options.EPISODES
@options.YES
@options.BUDGET
@options.OFFLINE
@options.REPLACE_APPROVED
@JSON
def render(path: Path, provider: str | None, episode: str | None, shots: tuple[str, ...],
           episode_range: str | None, yes: bool, budget: float | None, offline: bool,
           replace_approved: bool, as_json: bool) -> None:
    """Plan and consent here, then queue the shots on the team ledger for `storyboard worker`s
    instead of rendering them (the series' `ledger:` or STORYBOARD_LEDGER).

    \b
    Exit codes:
      0  the shots were queued, or there was nothing to queue
      1  no team ledger, no consent, or the series has errors
      2  a bad flag, argument or series path"""
    ctx = click.get_current_context()
    conflicts.refuse(ctx, conflicts.QUEUE_RENDER)  # before the series is read
    flags = with_episodes(path, render_flags(ctx.params), episode_range)
    queue_render(path, flags, as_json=as_json)


@queue.command("upgrade")
@click.option("--ledger", "url", envvar="STORYBOARD_LEDGER", metavar="postgresql://HOST/DB",
              help="The team ledger (default: STORYBOARD_LEDGER).")
@JSON
def upgrade(url: str | None, as_json: bool) -> None:
    """Bring the team ledger's tables up to this storyboard's, once every `storyboard worker` has
    stopped: the job engine's (Procrastinate's own migration files, in order, each in its own
    transaction) and storyboard's own. Safe to run again: what is done is not done twice.

    \b
    Exit codes:
      0  the tables are up to date
      1  a worker still running, no ledger, or a migration failed (run it again once fixed)
      2  a bad flag"""
    upgrade_ledger(url, as_json=as_json)
