"""``storyboard config SERIES`` into every effective setting and where it came from.

The order of precedence: a flag, the environment, the series file, the user settings file, the
default (``storyboard.run.config``). The flags are ``render``'s settings (its ``--set``), so
``storyboard config S --provider freepik`` shows what ``storyboard render S --provider freepik``
would use.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from storyboard.cli.common import PROVIDER_CHOICE, SERIES, compiled, guarded


@click.command("config")
@click.argument("path", type=SERIES)
@click.option("--provider", type=PROVIDER_CHOICE,
              help="As render's --provider.")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="As render's -o/--out.")
@click.option("--concurrency", type=click.IntRange(1, 100), help="As render's --set concurrency=N.")
@click.option("--offline", is_flag=True, help="As render's --set offline=true.")
@click.option("--webhook-listen", metavar="HOST:PORT", help="As render's --set webhook_listen=HOST:PORT.")
@click.option("--webhook-url", help="As render's --set webhook_url=URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def config(path: Path, provider: str | None, out: Path | None, concurrency: int | None,
           offline: bool, webhook_listen: str | None, webhook_url: str | None,
           as_json: bool) -> None:
    """Print every effective setting of a render and where it came from (flag, environment,
    series file, user settings, default; keys only as set or not set)."""
    from storyboard.run.config import Flags, as_dicts, effective
    series = compiled(path, provider="local")  # the settings only: no provider's limits
    flags = Flags(provider, out, concurrency, offline, webhook_listen, webhook_url)
    settings = guarded(lambda: effective(series, flags))
    if as_json:
        click.echo(json.dumps(as_dicts(settings), indent=2))
        return
    width = max(len(s.name) for s in settings)
    for s in settings:
        origin = f"{s.source}: {s.where}" if s.where else s.source
        click.echo(f"{s.name:<{width}}  {s.value}  [{origin}]")
