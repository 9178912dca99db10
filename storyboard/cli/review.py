"""Command lines into review sheets and editor timelines: `storyboard sheet`, `storyboard export`.

Thin commands over ``storyboard.sheet.build_sheet`` and ``storyboard.export.export_series``; each
flag is one argument of those calls.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from storyboard.cli.common import EPISODE, PROVIDER_CHOICE, SERIES, guarded, variants_of
from storyboard.cli.variations import VAR, VARIATION, parse_vars

PROVIDER = click.option("--provider", type=PROVIDER_CHOICE,
                        help="Show this provider's renders and prices (default: the series' "
                             "provider.name, else local).")
DRAFT = click.option("--draft", is_flag=True, help="Use the draft proxies (render --draft).")


@click.command()
@click.argument("path", type=SERIES)
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="The HTML file to write (default: sheet.html in the episodes' folder).")
@click.option("--png", "with_png", is_flag=True,
              help="Also write a contact sheet image beside it (<out>.png).")
@click.option("--episodes", "episodes_dir", type=click.Path(path_type=Path),
              help="Where the stitched episodes are (default: the series' output.dir, else out/, "
                   "inside the series folder).")
@PROVIDER
@DRAFT
@VAR
@VARIATION
def sheet(path: Path, out: Path | None, with_png: bool, episodes_dir: Path | None,
          provider: str | None, draft: bool, var: tuple[str, ...],
          variation: tuple[str, ...]) -> None:
    """Write a self-contained HTML review sheet: every shot as a panel, problems on their shots
    (a series with variations: a section per variation)."""
    from storyboard.review.sheet import build_sheet
    values = parse_vars(var)
    result = guarded(lambda: build_sheet(path, out=out, provider=provider, draft=draft,
                                         episodes_dir=episodes_dir, png_out=with_png,
                                         vars=values, select=list(variation) or None))
    for diagnostic in result.problems:
        click.echo(diagnostic.format(), err=True)
    sections = f"{result.variations} variation(s), " if result.variations else ""
    click.echo(f"wrote {result.html} ({sections}{result.episodes} episode(s), "
               f"{result.panels} shot(s))")
    if result.png is not None:
        click.echo(f"wrote {result.png}")
    if result.hint:
        click.echo(f"hint: {result.hint}", err=True)
    errors = sum(1 for d in result.problems if d.severity == "error")
    if errors:  # the sheet is written (problems on their shots), but the series is not clean
        click.echo(f"{errors} error(s) found", err=True)
        sys.exit(1)


@click.command("export")
@click.argument("path", type=SERIES)
@click.option("--format", "format_name",
              type=click.Choice(["otio", "fcp7", "fcpxml", "edl", "jianying", "capcut"]),
              default="otio", show_default=True,
              help="The timeline format (jianying, capcut: a draft folder per episode).")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder for the timelines (default: the series' output.dir, else out/, inside the "
                   "series folder).")
@EPISODE
@PROVIDER
@DRAFT
@VAR
@VARIATION
def export(path: Path, format_name: str, out: Path | None, episode: str | None,
           provider: str | None, draft: bool, var: tuple[str, ...],
           variation: tuple[str, ...]) -> None:
    """Write each episode as an editor timeline (OTIO, FCP7 XML, FCPXML or EDL) or a Jianying or
    CapCut draft folder; with variations, one per variation and episode
    (<out>/<variation>/<episode>). Media paths are relative to the folder written to."""
    from storyboard.review.export import DRAFTS, export_series, export_variations
    from storyboard.run.setup import make_provider
    variants = variants_of(path, var, variation)
    series = variants.manifests[0]
    cache_key = guarded(lambda: make_provider(series, provider, draft=draft)).cache_key
    options: dict[str, Any] = {"out": out, "cache_key": cache_key, "draft": draft, "episode": episode,
               "warn": lambda m: click.echo(f"warning: {m}", err=True)}
    result = guarded(lambda: export_variations(variants, format_name, **options)
                     if variants.matrix else export_series(series, format_name, **options))
    for file in result.files:
        stem = file.name.removesuffix(f"-{format_name}") if format_name in DRAFTS else file.stem
        key = f"{file.parent.name}/{stem}" if variants.matrix else stem
        click.echo(f"wrote {file} ({result.durations[key]:.3f} s at {result.rates[key]:g} fps)")
