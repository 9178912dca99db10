"""Command lines into library calls: each flag maps onto one argument of the public API.

Errors are printed as ``file:line:col: error: message`` lines (or one clear sentence) with a non-zero
exit code, never a traceback: 1 when problems were found or a run failed, 2 for a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from storyboard import manifest as manifest_json
from storyboard.compile import compile_source
from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.series import load_source

SERIES = click.Path(path_type=Path)


def fail(error: StoryboardError) -> None:
    if isinstance(error, ProblemsFound):
        click.echo(error.format(), err=True)
        errors = sum(1 for d in error.diagnostics if d.severity == "error")
        click.echo(f"{errors} error(s) found", err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storyboard")
def cli() -> None:
    """storyboard: compile YAML storyboards into Wan 2.7 reference-to-video renders."""


@cli.command()
@click.argument("path", type=SERIES)
def check(path: Path) -> None:
    """Validate a series: every problem at once, each at file:line:col."""
    try:
        compiled = compile_source(load_source(path))
    except StoryboardError as error:
        fail(error)
        return
    shots = len(compiled.shots())
    click.echo(f"ok: {len(compiled.episodes)} episode(s), {shots} shot(s)")


@cli.command("compile")
@click.argument("path", type=SERIES)
@click.option("--episode", help="Only this episode.")
@click.option("--shot", help="Only this shot.")
def compile_command(path: Path, episode: str | None, shot: str | None) -> None:
    """Print the compiled manifest as stable, sorted JSON."""
    try:
        compiled = compile_source(load_source(path))
    except StoryboardError as error:
        fail(error)
        return
    click.echo(manifest_json.to_json(compiled, episode=episode, shot=shot), nl=False)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
