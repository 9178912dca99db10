"""``plan --compare`` into a table or JSON: each model's price for the series and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import click

from storyboard.cli.common import guarded

__all__ = ["show_comparison"]


def show_comparison(path: Path, models: str, provider: str | None, episode: str | None,
             as_json: bool) -> None:
    """``plan --compare``: each model's price and what it refuses, as a table or JSON."""
    from storyboard.review import progress
    from storyboard.run.compare import compare_series, left_out, models_named
    columns = guarded(lambda: compare_series(path, models, provider, episode))
    for note in left_out(guarded(lambda: models_named(path, models))):
        click.echo(f"note: {note}", err=True)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in columns], indent=2, sort_keys=True))
        return
    width = max(len(c.model) for c in columns)
    by = max(len("provider"), *(len(c.provider) for c in columns))
    key = max(len("key"), *(len(c.key) for c in columns))
    click.echo(f"{'model':<{width}}  {'provider':<{by}}  {'key':<{key}}  shots  renders  "
               "billed s  cost")
    for c in columns:
        click.echo(f"{c.model:<{width}}  {c.provider:<{by}}  {c.key:<{key}}  {c.shots:>5}  "
                   f"{c.renders:>7}  {c.seconds:>8g}  {progress.money(c.cost, c.currency)}"
                   + (f"  (renders none: {c.why_none})" if c.why_none else ""))
    for c in columns:
        if c.refused:
            click.echo(f"\n{c.model} cannot render {', '.join(c.refused_shots)}:")
        for r in c.refused:
            click.echo(f"  {r.shot}: {r.message} ({r.where})")
