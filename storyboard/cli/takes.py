"""Take commands into library calls: ``takes``, ``pick``, ``approve`` and ``retake``.

``pick`` and ``approve`` write one shot's take state into ``storyboard.lock`` and nothing else;
``retake`` records the extra takes there, then renders exactly as ``render --shot`` does (plan,
price, consent).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from storyboard.cli.common import SERIES, compiled, guarded


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot")
@click.option("--json", "as_json", is_flag=True, help="Print the takes as JSON.")
def takes(path: Path, shot: str, as_json: bool) -> None:
    """Every take ever rendered of SHOT (EPISODE/SHOT), earlier versions too: take, seed, task
    id, cost, when, picked/approved."""
    from storyboard.run.takes import take_rows
    rows = guarded(lambda: take_rows(compiled(path), shot))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, sort_keys=True))
        return
    table = Table(title=f"takes of {shot}", title_justify="left")
    for column in ("take", "seed", "task id", "cost", "when", "state", "version", "marks"):
        table.add_column(column, no_wrap=column == "task id")  # an id stays whole, for grep
    for row in rows:
        table.add_row(str(row.take), _text(row.seed), _text(row.task_id), _text(row.cost),
                      _when(row.when), row.state, "current" if row.current else "earlier",
                      row.marks)
    from storyboard.review import progress
    out: Console = progress.console()  # a pipe gets whole rows (or COLUMNS), as plan does
    out.print(table)


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot")
@click.argument("take", type=click.IntRange(1))
def pick(path: Path, shot: str, take: int) -> None:
    """Use TAKE of SHOT (EPISODE/SHOT) in the stitch, the sheet and the exports."""
    from storyboard.run.takes import pick as pick_take
    guarded(lambda: pick_take(compiled(path), shot, take))
    click.echo(f"picked take {take} of {shot}; render again to re-stitch its episode")


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot")
def approve(path: Path, shot: str) -> None:
    """Approve SHOT's picked take (else its lowest-numbered rendered take): a later change to
    the shot's YAML is not rendered without --replace-approved."""
    from storyboard.run.takes import approve as approve_take
    take = guarded(lambda: approve_take(compiled(path), shot))
    click.echo(f"approved take {take} of {shot}")


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot")
@click.option("-n", "count", type=int, default=1, show_default=True,
              help="How many more takes to render (1..10).")
@click.option("--provider", help="This provider (default: the series' provider.name).")
@click.option("--yes", is_flag=True, help="Accept the planned cost without asking.")
@click.option("--budget", type=click.FloatRange(min=0),
              help="Refuse to start, or submit more, past this amount.")
@click.option("--quiet", is_flag=True, help="Only what failed is printed.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report at the end.")
@click.pass_context
def retake(ctx: click.Context, path: Path, shot: str, count: int, provider: str | None,
           yes: bool, budget: float | None, quiet: bool, as_json: bool) -> None:
    """Render COUNT more takes of SHOT (plan, price and consent as for render). A retake that
    was stopped is finished by running it again (or render), never paid twice."""
    from storyboard.run.takes import ask_retakes
    asked = guarded(lambda: ask_retakes(compiled(path), shot, count))
    if not (as_json or quiet):
        click.echo(f"{asked.shot_id}: {asked.message}", err=True)
    parent = ctx.parent
    assert parent is not None and isinstance(parent.command, click.Group)
    render = parent.command.commands["render"]
    options: dict[str, Any] = {"provider": provider, "yes": yes, "budget": budget,
                               "as_json": as_json, "quiet": quiet, "shots": (asked.shot_id,)}
    ctx.invoke(render, path=path, **options)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
