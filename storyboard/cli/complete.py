"""Shell completion into click's scripts and the series' own names: ``storyboard completion SHELL``.

``storyboard completion bash`` prints click's completion script for that shell (bash, zsh, fish);
with it installed, ``--episode``, ``--shot``, ``--variation`` and the SHOT arguments of the take
commands (``takes``, ``pick``, ``approve``, ``retake``, ``task``) complete the ids of the series
named on the command line (read cheaply: ``storyboard.language.names``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem, get_completion_class

if TYPE_CHECKING:
    from storyboard.language.names import Names

PROG = "storyboard"
COMPLETE_VAR = "_STORYBOARD_COMPLETE"  # what the scripts set; ``main`` passes it to click
SHELLS = ("bash", "zsh", "fish")


def _names(ctx: click.Context) -> Names:
    """The names of the series given as PATH. While an option waits for its value click has not
    assigned the arguments yet: they are still in ``ctx.args``."""
    from storyboard.language.names import Names, names
    path = ctx.params.get("path") or ctx.params.get("series") or \
        next((a for a in ctx.args if not a.startswith("-")), None)
    return names(Path(path)) if path else Names()


def _offer(candidates: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(c) for c in candidates if c.startswith(incomplete)]


def episodes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The series' episode ids."""
    return _offer(list(_names(ctx).episodes), incomplete)


def shots(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The shot ids of the ``--episode`` given, else of every episode."""
    episode = ctx.params.get("episode")
    return _offer(_names(ctx).shots(episode if isinstance(episode, str) else None), incomplete)


def shot_paths(ctx: click.Context, param: click.Parameter, incomplete: str
               ) -> list[CompletionItem]:
    """Shots as the take commands and ``render --shot`` name them: ``EPISODE/SHOT`` (of the
    ``--episode`` given, else of every episode); in a matrix ``VARIATION/EPISODE/SHOT``."""
    found = _names(ctx)
    episode = ctx.params.get("episode")
    chosen = [episode] if isinstance(episode, str) and episode in found.episodes else found.episodes
    paths = [f"{e}/{s}" for e in chosen for s in found.episodes[e]]
    if found.variations:
        paths = [f"{v}/{p}" for v in found.variations for p in paths]
    return _offer(paths, incomplete)


def variations(ctx: click.Context, param: click.Parameter, incomplete: str
               ) -> list[CompletionItem]:
    """The series' variation names (a series without a matrix has none)."""
    return _offer(_names(ctx).variations, incomplete)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script (bash, zsh, fish); it completes commands, options, and
    the series' episode, shot and variation ids. For bash:
    eval "$(storyboard completion bash)" in ~/.bashrc."""
    cls: Any = get_completion_class(shell)
    click.echo(cls(click.get_current_context().find_root().command, {}, PROG, COMPLETE_VAR)
               .source())
