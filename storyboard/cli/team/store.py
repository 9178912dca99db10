"""``storyboard push`` and ``storyboard pull``: command lines into ``store_sync`` calls.

Registered on the main group by ``cli``; each flag maps onto one argument of ``push_series`` /
``pull_series``. Exit code 0 when every transfer worked, 1 when one failed or the store cannot be
reached (a message, never a traceback).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli import complete
from storyboard.cli.common import compiled, guarded
from storyboard.targets.kinds import DASHSCOPE, LOCAL

if TYPE_CHECKING:  # the commands import the machinery only when they run
    from storyboard.run.sync import SyncReport

SyncCall = Callable[..., "SyncReport"]
WORDS = {"push": ("pushed", "already in the store", "not rendered here"),
         "pull": ("pulled", "already here", "not in the store")}


def _sync(call_name: str, path: Path, provider: str | None, episode: str | None, draft: bool,
          as_json: bool) -> None:
    from storyboard.run import sync as store_sync
    call: SyncCall = getattr(store_sync, f"{call_name}_series")
    series = compiled(path)
    report = guarded(lambda: call(series, provider=provider, episode=episode, draft=draft))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        _summary(report)
    sys.exit(0 if report.ok else 1)


def _summary(report: SyncReport) -> None:
    done, already, missing = WORDS[report.direction]
    click.echo(f"{report.store}: {len(report.done)} {done}, {len(report.already)} {already}, "
               f"{len(report.missing)} {missing}, {len(report.failed)} failed")
    for key, message in report.failed:
        click.echo(f"error: {key}: {message}", err=True)


def _options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed((
            click.argument("path", type=click.Path(path_type=Path)),
            click.option("--provider", type=click.Choice([LOCAL.name, DASHSCOPE.name]),
                         help="Whose renders (default: the series' provider.name, else local)."),
            click.option("--episode", help="Only this episode.", shell_complete=complete.episodes),
            click.option("--draft", is_flag=True, help="The draft proxies (local provider)."),
            click.option("--json", "as_json", is_flag=True, help="Print a JSON report."))):
        command = option(command)
    return command


@click.command()
@_options
def push(path: Path, provider: str | None, episode: str | None, draft: bool,
         as_json: bool) -> None:
    """Send this series' rendered shots that the shared store lacks."""
    _sync("push", path, provider, episode, draft, as_json)


@click.command()
@_options
def pull(path: Path, provider: str | None, episode: str | None, draft: bool,
         as_json: bool) -> None:
    """Fetch this series' shots from the shared store, each checked by sha256."""
    _sync("pull", path, provider, episode, draft, as_json)
