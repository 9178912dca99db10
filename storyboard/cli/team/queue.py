"""``storyboard queue render SERIES``: a render's flags into shots queued on the team ledger.

The render is planned, priced and consented here; its shots wait on the ledger for ``storyboard
worker``s, which compile the series as it is, at full size, so the command takes only the flags
that choose what is queued and what is agreed to (``worker.queue_render``). ``render --queue`` is
its old spelling (``cli/render/conflicts.Moved``), kept for a release.
"""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.common import EPISODE, JSON, SERIES
from storyboard.cli.render import conflicts, options
from storyboard.cli.render.flags import render_flags
from storyboard.cli.season import episodes
from storyboard.cli.team.worker import queue_render

__all__ = ["queue", "render"]


@click.group("queue")
def queue() -> None:
    """The team ledger's queue: renders priced and agreed to here, their shots rendered by
    `storyboard worker`s (`status SERIES --queue` shows them, `cancel --queue RENDER` stops one)."""


@queue.command("render")
@click.argument("path", type=SERIES)
@options.PROVIDER
@EPISODE
@options.SHOTS
@episodes.EPISODES
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
    flags = episodes.with_episodes(path, render_flags(ctx.params), episode_range)
    queue_render(path, flags, as_json=as_json)
