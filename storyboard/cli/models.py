"""``storyboard models`` into the capability table: each model and wire target, from declarations.

A thin command: ``storyboard.targets.table`` builds the rows; this prints them with rich (a column
per model, to fit a terminal), or as JSON (``--json``) or markdown (``--markdown``, a row per model,
as in docs/models.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the table and rich are imported when the command runs
    from rich.table import Table

    from storyboard.targets.table import Column, Row


def _rich_table(title: str, rows: list[Row], columns: Sequence[Column]) -> Table:
    """One column per model (or target), one line per fact: narrow enough for a terminal."""
    from rich.table import Table

    from storyboard.targets.table import cells
    values = cells(rows, columns)
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column(columns[0][0], style="bold")
    for row in values:
        table.add_column(row[0], overflow="fold")
    for index, (header, _) in enumerate(columns[1:], start=1):
        table.add_row(header, *(row[index] for row in values))
    return table


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the table as markdown.")
def models(as_json: bool, as_markdown: bool) -> None:
    """Print what each model and each wire target (DashScope, the gateways) accepts and costs,
    from the declarations storyboard checks shots against."""
    from rich.console import Console

    from storyboard.targets.table import MODEL_COLUMNS, TARGET_COLUMNS, capability_table, markdown
    table = capability_table()
    if as_json:
        click.echo(json.dumps(table, indent=2))
    elif as_markdown:
        click.echo(markdown(table), nl=False)
    else:
        console = Console()
        console.print(_rich_table("models", table["models"], MODEL_COLUMNS))
        console.print(_rich_table("wire targets", table["targets"], TARGET_COLUMNS))
