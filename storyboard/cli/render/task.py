"""``storyboard task adopt|forget``: command lines into ``run.settle`` calls on an ambiguous shot.

Registered on the main group by ``cli``. A shot that ended ``AmbiguousTask`` is never submitted
again by itself; these two commands are how a person settles it (the rule is in docs/money.md).
Exit code 0 when the journal was changed, 1 with a message otherwise, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli import complete
from storyboard.cli.common import JSON, SERIES, compiled, emit, guarded
from storyboard.errors import printable, shown

if TYPE_CHECKING:
    from storyboard.run.state.tasks.settle import Settled


@click.group("task")
def task() -> None:
    """Settle a shot whose task is ambiguous (AmbiguousTask): adopt a task id, or forget it."""


MAX_TASK_ID = 200  # providers' ids are UUIDs and the like: far shorter


def task_id_arg(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A task id of printable characters only: one with a terminal escape or a line break in it
    is refused at the door, before it reaches the journal (and every later ``status``)."""
    if not printable(value) or value != value.strip() or len(value) > MAX_TASK_ID:
        raise click.BadParameter(f"{shown(value)}: expected the task id as the provider shows "
                                 f"it: printable characters, no spaces around it, at most "
                                 f"{MAX_TASK_ID}")
    return value


@task.command()
@click.argument("series", type=SERIES)
@click.argument("shot", shell_complete=complete.shot_paths)
@click.argument("task_id", callback=task_id_arg)
@JSON
def adopt(series: Path, shot: str, task_id: str, as_json: bool) -> None:
    """SHOT (or EPISODE/SHOT) is paid by TASK_ID (from the provider's console or billing
    export, printable characters only): the next render polls that task and downloads its
    video; nothing is submitted."""
    from storyboard.run.setup import open_ledger
    from storyboard.run.state.tasks import settle
    manifest = compiled(series)
    team = guarded(lambda: open_ledger(manifest))
    done = guarded(lambda: settle.adopt(manifest.root, shot, task_id, ledger=team))
    _said(done, as_json)


@task.command()
@click.argument("series", type=SERIES)
@click.argument("shot", shell_complete=complete.shot_paths)
@click.option("--yes", is_flag=True, help="Accept a second payment without asking.")
@JSON
def forget(series: Path, shot: str, yes: bool, as_json: bool) -> None:
    """Give up SHOT's (or EPISODE/SHOT's) unsettled task: the next render submits it anew,
    which is a second payment if that task exists."""
    from storyboard.run.setup import open_ledger
    from storyboard.run.state.tasks import settle
    manifest = compiled(series)
    if not yes and not click.confirm(f"{shot}: the next render submits it anew, a second "
                                     "payment if its earlier task exists. Forget that task?"):
        raise click.exceptions.Exit(1)
    team = guarded(lambda: open_ledger(manifest))
    done = guarded(lambda: settle.forget(manifest.root, shot, ledger=team))
    _said(done, as_json)


def _said(done: Settled, as_json: bool) -> None:
    """What a settle did: its sentence, or (``--json``) the attempt as ``status --json`` has it."""
    if not as_json:
        click.echo(done.message)
        return
    from storyboard.review.progress import attempt_dict
    emit({"message": done.message, "attempt": attempt_dict(done.attempt)})
