"""``storyboard mcp`` into a running MCP server over stdio: flags map onto ``agents.server.serve``."""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.common import AMOUNT, guarded


@click.command("mcp")
@click.argument("root", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--budget-ceiling", type=AMOUNT, default=0.0, show_default=True,
              help="USD the server's paid calls may spend in all (0: paid renders refused). "
                   "No call can raise it.")
def mcp(root: Path, budget_ceiling: float) -> None:
    """An MCP server over stdio for coding agents, for the series under ROOT: free tools
    (check, compile, plan, estimate, status, sheet, doctor), notes and local drafts, and paid
    renders only under each call's max_cost (or a person's accept) and this server's ceiling;
    renders as MCP tasks for clients with the Tasks extension."""
    try:
        from storyboard.agents.server import serve
    except ImportError as exc:
        from storyboard.cli.common import fail
        from storyboard.errors import MissingExtra
        fail(MissingExtra("storyboard mcp", "mcp", exc.name))
        return
    guarded(lambda: serve(root, budget_ceiling))
