"""Command lines into review sheets and editor timelines: `storyboard sheet`, `storyboard export`.

Thin commands over ``storyboard.sheet.build_sheet`` and ``storyboard.export.export_series``; each
flag is one argument of those calls.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import EPISODE, JSON, PROVIDER_CHOICE, SERIES, emit, guarded, variants_of
from storyboard.cli.variations import VAR, VARIATION, parse_vars

if TYPE_CHECKING:
    from storyboard.review.sheet import SheetResult

PROVIDER = click.option("--provider", type=PROVIDER_CHOICE,
                        help="Show this provider's renders and prices (default: the series' "
                             "provider.name, else local).")
DRAFT = click.option("--draft", is_flag=True, help="Use the draft proxies (render --draft).")
QUIET = click.option("-q", "--quiet", is_flag=True,
                     help="No progress lines on stderr (--json is quiet too).")


def _steps(quiet: bool) -> AbstractContextManager[None]:
    """Each step of the work said on stderr as it starts, unless ``quiet``."""
    from storyboard.review.steps import told
    return nullcontext() if quiet else told(lambda text: click.echo(f"... {text}", err=True))


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
@QUIET
@JSON
def sheet(path: Path, out: Path | None, with_png: bool, episodes_dir: Path | None,
          provider: str | None, draft: bool, var: tuple[str, ...],
          variation: tuple[str, ...], quiet: bool, as_json: bool) -> None:
    """Write a self-contained HTML review sheet: every shot as a panel, problems on their shots
    (a series with variations: a section per variation)."""
    from storyboard.review.sheet import build_sheet
    values = parse_vars(var)
    with _steps(quiet or as_json):
        result = guarded(lambda: build_sheet(path, out=out, provider=provider, draft=draft,
                                             episodes_dir=episodes_dir, png_out=with_png,
                                             vars=values, select=list(variation) or None))
    errors = sum(1 for d in result.problems if d.severity == "error")
    if as_json:
        _sheet_json(result)
        sys.exit(1 if errors else 0)
    for diagnostic in result.problems:
        click.echo(diagnostic.format(), err=True)
    sections = f"{result.variations} variation(s), " if result.variations else ""
    click.echo(f"wrote {result.html} ({sections}{result.episodes} episode(s), "
               f"{result.panels} shot(s))")
    if result.png is not None:
        click.echo(f"wrote {result.png}")
    if result.hint:
        click.echo(f"hint: {result.hint}", err=True)
    if errors:  # the sheet is written (problems on their shots), but the series is not clean
        click.echo(f"{errors} error(s) found", err=True)
        sys.exit(1)


def _sheet_json(result: SheetResult) -> None:
    from storyboard.cli.diagnostics import record
    emit({"html": str(result.html), "png": str(result.png) if result.png else None,
          "episodes": result.episodes, "shots": result.panels, "variations": result.variations,
          "problems": [record(d) for d in result.problems], "hint": result.hint or None})


@click.command("export")
@click.argument("path", type=SERIES)
@click.option("--format", "format_name",
              type=click.Choice(["otio", "otioz", "fcp7", "fcpxml", "edl", "jianying", "capcut"]),
              default="otio", show_default=True,
              help="The timeline format (otioz: one file with its media inside; jianying, "
                   "capcut: a draft folder per episode).")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder for the timelines (default: the series' output.dir, else out/, inside the "
                   "series folder).")
@EPISODE
@PROVIDER
@DRAFT
@VAR
@VARIATION
@QUIET
@JSON
@click.option("--language", metavar="LANG",
              help="The made LANG version (version render SERIES LANG) instead: its clips and words, "
                   "in <out>/LANG/, each timeline named and marked with its language.")
def export(path: Path, format_name: str, out: Path | None, episode: str | None,
           provider: str | None, draft: bool, var: tuple[str, ...],
           variation: tuple[str, ...], quiet: bool, as_json: bool, language: str | None) -> None:
    """Write each episode as an editor timeline (OTIO, an OTIO bundle with its media, FCP7 XML,
    FCPXML or EDL) or a Jianying or CapCut draft folder; with variations, one per variation and
    episode (<out>/<variation>/<episode>). Media paths are relative to the folder written to."""
    from storyboard.review.export import DRAFTS, export_series, export_variations
    from storyboard.run.setup import make_provider
    variants = variants_of(path, var, variation)
    series = variants.manifests[0]
    cache_key = guarded(lambda: make_provider(series, provider, draft=draft)).cache_key
    options: dict[str, Any] = {"out": out, "cache_key": cache_key, "draft": draft, "episode": episode,
               "warn": None if as_json else lambda m: click.echo(f"warning: {m}", err=True)}
    if language is not None:
        if variants.matrix:
            raise click.UsageError("--language exports a version of a plain series' approved "
                                   "cut, not a matrix's variations")
        options["language"] = language
    with _steps(quiet or as_json):
        result = guarded(lambda: export_variations(variants, format_name, **options)
                         if variants.matrix else export_series(series, format_name, **options))
    written = []
    for file in result.files:
        stem = file.name.removesuffix(f"-{format_name}") if format_name in DRAFTS else file.stem
        stem = stem.removesuffix(f".{language}") if language else stem
        key = f"{file.parent.name}/{stem}" if variants.matrix else stem
        written.append({"path": str(file), "episode": key, "duration": result.durations[key],
                        "fps": result.rates[key]})
    if as_json:
        emit({"format": format_name, "files": written, "warnings": result.warnings})
        return
    for one in written:
        click.echo(f"wrote {one['path']} ({one['duration']:.3f} s at {one['fps']:g} fps)")
