"""``storyboard version render SERIES LANG|--all``: a version's flags into its run.

A version is made from the series' approved cut as it is (its lines, lip-sync passes and
subtitles, into ``out/LANG/``), so the command takes no flag that picks other shots, takes or
variations (``making.render_versions``).
"""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.common import EPISODE, SERIES
from storyboard.cli.flags import conflicts, options
from storyboard.cli.flags.renderflags import render_flags
from storyboard.cli.versions import making

__all__ = ["render", "version"]


@click.group("version")
def version() -> None:
    """A version of the series in another language, made from its approved cut: no video
    rendered again."""


@version.command("render")
@click.argument("path", type=SERIES)
@click.argument("language", metavar="[LANG]", required=False)
@click.option("--all", "all_languages", is_flag=True,
              help="Every language of the series' `languages:` but the first (the original).")
@options.PROVIDER
@EPISODE
@options.OUT
@options.YES
@options.BUDGET
@options.CONCURRENCY
@options.OFFLINE
@options.QUIET
@options.REPORT_JSON
@options.WEBHOOK_LISTEN
@options.WEBHOOK_URL
def render(path: Path, language: str | None, all_languages: bool, provider: str | None,
           episode: str | None, out: Path | None, yes: bool, budget: float | None,
           concurrency: int | None, offline: bool, quiet: bool, as_json: bool,
           webhook_listen: str | None, webhook_url: str | None) -> None:
    """Render the LANG version of the approved cut (its lines, lip-sync passes and subtitles
    from languages/LANG/EP.yaml) into out/LANG/, or with --all every version: one plan and one
    consent per language.

    \b
    Exit codes:
      0  every version came out
      1  a version did not come out, or the series has errors
      2  a bad flag, argument or series path, or an extra not installed"""
    ctx = click.get_current_context()
    conflicts.refuse(ctx, conflicts.VERSION_RENDER)  # before the series is read
    making.render_versions(path, render_flags(ctx.params), language, all_languages,
                            quiet=quiet, as_json=as_json)
