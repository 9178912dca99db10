"""``storyboard sheet`` and ``storyboard export``: review pages and editor timelines.

Thin commands over ``storyboard.sheet.build_sheet`` and ``storyboard.export.export_series``; each
flag is one argument of those calls.
"""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli import DRAFT, PROVIDER, SERIES, cli, guarded


@cli.command()
@click.argument("path", type=SERIES)
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="The HTML file to write (default: out/<series>/sheet.html).")
@click.option("--png", "with_png", is_flag=True,
              help="Also write a contact sheet image beside it (<out>.png).")
@click.option("--episodes", "episodes_dir", type=click.Path(path_type=Path),
              help="Where the stitched episodes are (default: output.dir, else out/<series>).")
@PROVIDER
@DRAFT
def sheet(path: Path, out: Path | None, with_png: bool, episodes_dir: Path | None,
          provider: str | None, draft: bool) -> None:
    """Write a self-contained HTML review sheet: every shot as a panel, problems on their shots."""
    from storyboard.sheet import build_sheet
    result = guarded(lambda: build_sheet(path, out=out, provider=provider, draft=draft,
                                         episodes_dir=episodes_dir, png_out=with_png))
    for diagnostic in result.problems:
        click.echo(diagnostic.format(), err=True)
    click.echo(f"wrote {result.html} ({result.episodes} episode(s), {result.panels} shot(s))")
    if result.png is not None:
        click.echo(f"wrote {result.png}")
