"""``storyboard models`` into the capability table: each model and wire target, from declarations.

A thin command: ``storyboard.targets.table`` builds the rows; this prints them with rich (a column
per model, to fit a terminal), or as JSON (``--json``) or markdown (``--markdown``, a row per model,
as in docs/models.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the table and rich are imported when the command runs
    from rich.table import Table

    from storyboard.targets.table import Column, Row


def _rich_table(title: str, rows: list[Row], columns: Sequence[Column], ids: Sequence[str],
                width: int) -> Table:
    """One column per model (or target), one line per fact, in ``width`` characters. A column is
    never narrower than its name or a model id in it (ids are never cut in two); the others
    share what is left."""
    from rich.table import Table

    from storyboard.targets.table import cells
    values = cells(rows, columns)
    needs = [_widest_id(row, ids) for row in values]
    frame = 3 * (len(values) + 1) + 1  # padding and borders
    if sum(needs) + frame + 8 > width:  # too narrow for whole ids: fold them, never crop
        needs = [len(str(row[0])) for row in values]
    first = max(8, min(FACT_WIDTH, max(len(header) for header, _ in columns),
                       width - frame - sum(needs)))
    room = width - first - frame
    share = max(1, room // max(1, len(values)))
    wide = [need for need in needs if need > share]
    share = max(1, (room - sum(wide)) // max(1, len(values) - len(wide)))
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column(columns[0][0], style="bold", overflow="fold", max_width=first)
    for row, need in zip(values, needs, strict=True):
        table.add_column(row[0], overflow="fold", min_width=need, max_width=max(need, share))
    for index, (header, _) in enumerate(columns[1:], start=1):
        table.add_row(header, *(row[index] for row in values))
    return table


FACT_WIDTH = 20  # the facts' names column at most (it folds past that)


def _widest_id(texts: Sequence[str], ids: Sequence[str]) -> int:
    """The width the column's name and the widest model id in it (with its comma) need."""
    words = [word for text in texts[1:] for word in str(text).split() if word.strip(",") in ids]
    return max([len(str(texts[0])), *(len(word) for word in words)])


@click.group("models", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the table as markdown.")
@click.pass_context
def models(ctx: click.Context, as_json: bool, as_markdown: bool) -> None:
    """Print what each model and each wire target (DashScope, the gateways) accepts and costs,
    from the declarations storyboard checks shots against; ``models check`` compares them with
    the vendors' catalogues."""
    if ctx.invoked_subcommand is not None:
        return
    from storyboard.review import progress
    from storyboard.targets.table import MODEL_COLUMNS, TARGET_COLUMNS, capability_table, markdown
    table = capability_table()
    if as_json:
        click.echo(json.dumps(table, indent=2))
    elif as_markdown:
        click.echo(markdown(table), nl=False)
    else:
        console = progress.console()  # a pipe gets whole rows (or COLUMNS), as plan does
        ids = [str(i) for row in table["models"] for i in (row["id"], *row["snapshots"])]
        for title, rows, columns in (("models", table["models"], MODEL_COLUMNS),
                                     ("wire targets", table["targets"], TARGET_COLUMNS)):
            groups = _groups(rows, columns, ids, console.width)
            for number, group in enumerate(groups, start=1):
                part = f" ({number} of {len(groups)})" if len(groups) > 1 else ""
                console.print(_rich_table(title + part, group, columns, ids, console.width))


@models.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--base-url", "hosts", multiple=True, metavar="TARGET=URL",
              help="A target's host where not its declared one (a gateway of your own).")
def check(as_json: bool, hosts: tuple[str, ...]) -> None:
    """Compare the declared model ids (and prices, where shown) with each vendor's catalogue:
    what is missing, new or different. Only reads (a free GET a vendor, with that vendor's key
    from the environment, to its own host); says which vendors it could not ask. Exits 1 when a
    catalogue differs."""
    import os

    from storyboard.cli.setup.catalogue_report import lines
    from storyboard.run.catalogue import check_all
    reports = check_all(os.environ, _hosts(hosts))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2, sort_keys=True))
    else:
        click.echo("\n".join(lines(reports)))
    if any(r.differs for r in reports):
        sys.exit(1)


def _hosts(given: tuple[str, ...]) -> dict[str, str]:
    """``TARGET=URL`` pairs into hosts by target (a bad one is a usage error, said plainly)."""
    from storyboard.targets.wire.gateways import TARGETS
    found: dict[str, str] = {}
    for pair in given:
        name, _, url = pair.partition("=")
        if name not in TARGETS or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{pair!r}: expected TARGET=URL with TARGET one of "
                                     f"{', '.join(TARGETS)} and an http(s) URL",
                                     param_hint="--base-url")
        found[name] = url
    return found


COLUMN_WIDTH = 12  # a model's column at least, so its facts read as words, not letters


def _groups(rows: list[Row], columns: Sequence[Column], ids: Sequence[str],
            width: int) -> list[list[Row]]:
    """``rows`` cut into runs of models whose columns fit ``width`` side by side, each at least
    its widest id (or ``COLUMN_WIDTH``) wide beside the facts' names."""
    from storyboard.targets.table import cells
    groups: list[list[Row]] = [[]]
    used = FACT_WIDTH + 4
    for row, texts in zip(rows, cells(rows, columns), strict=True):
        need = max(COLUMN_WIDTH, _widest_id(texts, ids)) + 3
        if groups[-1] and used + need > width:
            groups.append([])
            used = FACT_WIDTH + 4
        groups[-1].append(row)
        used += need
    return groups
