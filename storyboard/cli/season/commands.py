"""``storyboard season render``: a season's flags into its admission and its render.

The command takes only what a season's render means: whole episodes (all of them, or
``--episodes``), each held to ``--episode-budget``, admitted all or nothing, then one consent for
the season (``admission.render_season``).
"""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli import variations as matrix
from storyboard.cli.answering import answering
from storyboard.cli.common import AMOUNT, SERIES
from storyboard.cli.flags import conflicts, options
from storyboard.cli.flags.renderflags import render_flags
from storyboard.cli.season import admission

__all__ = ["render", "season"]


@click.group("season")
def season() -> None:
    """A season of episodes as one: admitted all or nothing, rendered with one consent."""


@season.command("render", cls=answering({"--boards": (
    "it draws a series' boards itself (with a `boards:` block, the boards are paid now and each "
    "video once its board is approved). To draw the boards alone first: `storyboard render "
    "SERIES boards` (one episode: `boards/EP`); look at them in `storyboard studio SERIES`, "
    "approve them with `storyboard approve SERIES boards/EP`, then `storyboard season render "
    "SERIES` (`storyboard docs boards`)")}))
@click.argument("path", type=SERIES)
@options.PROVIDER
@options.DRAFT
@options.OUT
@options.YES
@options.BUDGET
@options.CONCURRENCY
@options.OFFLINE
@options.QUIET
@options.REPORT_JSON
@options.WEBHOOK_LISTEN
@options.WEBHOOK_URL
@options.REPLACE_APPROVED
@options.EPISODES
@click.option("--episode-budget", type=AMOUNT, metavar="AMOUNT",
              help="Refuse the season if an episode costs more than this; the render holds each "
                   "episode to it.")
@matrix.VAR
@matrix.VARIATION
def render(path: Path, provider: str | None, draft: bool, out: Path | None, yes: bool,
           budget: float | None, concurrency: int | None, offline: bool, quiet: bool,
           as_json: bool, webhook_listen: str | None, webhook_url: str | None,
           replace_approved: bool, episode_range: str | None, episode_budget: float | None,
           var: tuple[str, ...], variation: tuple[str, ...]) -> None:
    """Render every episode (or --episodes) as one season: every episode planned and checked
    first, any problem anywhere submits nothing and lists every problem by episode; else one
    consent for the season, then each episode rendered and stitched.

    \b
    Exit codes:
      0  every shot came out and every episode was stitched, or waits only for its boards'
         approval
      1  the season was refused (nothing was submitted), a shot failed or was left out (a
         budget), or an episode could not be stitched
      2  a bad flag, argument or series path, or an extra not installed"""
    ctx = click.get_current_context()
    conflicts.refuse(ctx, conflicts.SEASON_RENDER)  # before the series is read
    admission.render_season(path, render_flags(ctx.params), episode_range, episode_budget,
                            var=var, variation=variation, quiet=quiet, as_json=as_json)
