"""``storyboard doctor`` into the ffmpeg choice, said plainly: which binary, its version, and why."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from storyboard.media import ffbinary


def _lines(choice: ffbinary.Choice) -> list[str]:
    from storyboard.media import ffbinary
    chosen = choice.chosen
    lines = [f"ffmpeg:  {chosen.path}", f"version: {chosen.version or '(unknown)'}",
             f"source:  {chosen.source}", f"why:     {choice.reason}"]
    if chosen.error:
        lines.append(f"problem: it cannot be run: {chosen.error}")
    for missing in chosen.missing:
        lines.append(f"missing: {missing}")
    lines.append("candidates:")
    lines += [f"  - {c.summary()}" for c in choice.candidates]
    lines.append(f"choose another with {ffbinary.ENV_VAR}=/path/to/ffmpeg, or `ffmpeg: PATH` in "
                 f"{ffbinary.settings_file()}")
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def doctor(as_json: bool) -> None:
    """Show which ffmpeg storyboard uses, its version and why; exit 1 if it lacks a feature."""
    from storyboard.media import ffbinary
    try:
        choice = ffbinary.choose()
    except StoryboardError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(ffbinary.doctor_report(choice), indent=2, sort_keys=True))
    else:
        click.echo("\n".join(_lines(choice)))
    sys.exit(0 if choice.chosen.usable else 1)
