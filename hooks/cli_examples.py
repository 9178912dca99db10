"""Each command's ``--help`` examples into the generated CLI reference (docs/cli.md).

``mkdocs.yml`` names this file under ``hooks:``. mkdocs-click writes a command's description, usage
and options, but not click's epilog, where ``storyboard.cli.examples`` keeps the examples. On the
page that holds ``::: mkdocs-click``, each command's description gets its examples appended (as a
console block) while the page is converted, and gets its own text back after, so the reference
shows the same lines as ``storyboard COMMAND --help``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's storyboard, not another installed one
    sys.path.insert(0, str(ROOT))

import click  # noqa: E402

from storyboard.cli import cli  # noqa: E402
from storyboard.cli.examples import EXAMPLES  # noqa: E402

MARKER = "::: mkdocs-click"
_OWN_HELP: dict[int, tuple[click.Command, str | None]] = {}  # while a page is converted


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, click.Command]]:
    """Every command under ``group`` by its name as typed (``cache prune``)."""
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((" ".join((*path, name)), command))
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
    return found


def with_examples(help_text: str | None, lines: tuple[str, ...]) -> str:
    """A command's help with its examples after it, as Markdown."""
    shown = "\n".join(f"$ {line}" for line in lines)
    return f"{help_text or ''}\n\n**Examples**\n\n```console\n{shown}\n```\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER in markdown:
        for name, command in commands(cli):
            if name in EXAMPLES and id(command) not in _OWN_HELP:
                _OWN_HELP[id(command)] = (command, command.help)
                command.help = with_examples(command.help, EXAMPLES[name])
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """The commands' own help back, once the page is HTML."""
    for command, own in _OWN_HELP.values():
        command.help = own
    _OWN_HELP.clear()
    return html
