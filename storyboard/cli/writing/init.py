"""``storyboard init`` into a new series folder: from a template, or from a Fountain screenplay.

Errors are printed as ``file:line:col: error: message`` lines (or one clear sentence) with exit
code 1, never a traceback; what a screenplay holds that the language cannot say is printed as
warnings, each at its line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli.common import JSON, emit, fail
from storyboard.errors import StoryboardError
from storyboard.scaffold.episodes import DEFAULT_MINUTES

if TYPE_CHECKING:  # the templates and the screenplay reader are imported when a series is made
    from storyboard.scaffold.blueprint import Blueprint


def _report(folder: Path, blueprint: Blueprint, as_json: bool) -> None:
    if as_json:
        from storyboard.cli.diagnostics import record
        from storyboard.scaffold.init import written
        emit({"folder": str(folder), "files": [str(f) for f in written(folder, blueprint)],
              "episodes": blueprint.episodes, "shots": blueprint.shots,
              "images": blueprint.images, "voices": blueprint.voices,
              "warnings": [record(w) for w in blueprint.warnings]})
        return
    for warning in blueprint.warnings:
        click.echo(warning.format(), err=True)
    if blueprint.warnings:
        click.echo(f"{len(blueprint.warnings)} thing(s) not mapped (listed above)", err=True)
    click.echo(f"wrote {folder}: {blueprint.episodes} episode(s), {blueprint.shots} shot(s), "
               f"{blueprint.images} picture(s) and {blueprint.voices} voice(s) described to "
               "generate")
    click.echo(f"next: storyboard check {folder} && storyboard render {folder} --draft")


def _minutes(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if not math.isfinite(value) or not 0.5 <= value <= 600:
        raise click.BadParameter(f"expected a number of minutes from 0.5 to 600, found {value}")
    return value


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--template", type=click.Choice(["series", "ad"]), default=None,
              help="What to start from: a series with one episode (default) or a small ad with "
                   "variations.")
@click.option("--from", "screenplay", type=click.Path(path_type=Path, dir_okay=False),
              help="A Fountain screenplay (.fountain) to turn into the series.")
@click.option("--episode-minutes", "minutes", type=float, default=DEFAULT_MINUTES,
              callback=_minutes, show_default=True,
              help="With --from: a screenplay with no # sections and no acts is cut into episodes "
                   "of about this many minutes, at scene headings.")
@JSON
def init(folder: Path, template: str | None, screenplay: Path | None, minutes: float,
         as_json: bool) -> None:
    """Start a series in FOLDER (new or empty): one that checks clean and renders locally at once."""
    if template and screenplay:
        raise click.UsageError("choose --template or --from, not both")
    from storyboard.scaffold import init as scaffold
    try:
        if screenplay is not None:
            blueprint = scaffold.create_from(folder, screenplay, minutes=minutes)
        else:
            blueprint = scaffold.create(folder, "ad" if template == "ad" else "series")
    except StoryboardError as error:
        fail(error)
        return
    _report(folder, blueprint, as_json)
