"""Shell completion into click's scripts and the series' own names: ``storyboard completion SHELL``.

``storyboard completion bash`` prints click's completion script for that shell (bash, zsh, fish);
with it installed, ``--episode``, ``--shot``, ``--variation`` and the SHOT arguments of the take
commands (``takes``, ``pick``, ``approve``, ``retake``, ``task``) complete the ids of the series
named on the command line (read cheaply: ``storyboard.language.expansion.ids``), and the SHOT arguments
also the cast sheets, designed voices and boards its lock file holds (``cast/mia``,
``boards/ep01/ballad``: what the take commands pick from once made).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from storyboard.language.request import BOARDS

if TYPE_CHECKING:
    from storyboard.language.expansion.ids import Names

PROG = "storyboard"
COMPLETE_VAR = "_STORYBOARD_COMPLETE"  # what the scripts set; ``main`` passes it to click
SHELLS = ("bash", "zsh", "fish")


def _series(ctx: click.Context) -> Path | None:
    """The series given as PATH. While an option waits for its value click has not assigned the
    arguments yet: they are still in ``ctx.args``."""
    path = ctx.params.get("path") or ctx.params.get("series") or \
        next((a for a in ctx.args if not a.startswith("-")), None)
    return Path(path) if path else None


def _names(ctx: click.Context) -> Names:
    """The names of the series given as PATH."""
    from storyboard.language.expansion.ids import Names, names
    path = _series(ctx)
    return names(path) if path else Names()


def _made_assets(ctx: click.Context) -> list[str]:
    """The cast sheets, voices and boards the lock file of the series given holds, as the take
    commands name them (``cast/mia``; in a matrix led by the variation); none if unreadable."""
    from storyboard.errors import StoryboardError
    from storyboard.language.request import is_picked_asset
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    path = _series(ctx)
    try:
        keys = read_lock(lock_path(path)).shots if path else {}
    except (StoryboardError, OSError, ValueError):
        return []
    # after the series' name, without a take's ``#k``
    named = (key.split("/", 1)[1].partition("#")[0] for key in keys if "/" in key)
    return list(dict.fromkeys(n for n in named if is_picked_asset(n)
                              or is_picked_asset(n.partition("/")[2])))


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
    """Shots as the take commands and ``render SERIES EP/SHOT`` name them: ``EPISODE/SHOT`` (of
    the ``--episode`` or ``render``'s EP given, else of every episode); in a matrix
    ``VARIATION/EPISODE/SHOT``; then the assets made so far (``cast/mia``, ``boards/ep01/ballad``)."""
    found = _names(ctx)
    episode = ctx.params.get("episode")
    named = [w for w in ctx.params.get("what") or () if isinstance(w, str) and "/" not in w]
    episode = named[-1] if episode is None and named else episode  # ``render SERIES EP ...``
    chosen = [episode] if isinstance(episode, str) and episode in found.episodes else found.episodes
    paths = [f"{e}/{s}" for e in chosen for s in found.episodes[e]]
    if found.variations:
        paths = [f"{v}/{p}" for v in found.variations for p in paths]
    made = _made_assets(ctx)
    if len(chosen) == 1 and isinstance(episode, str):  # that episode's boards only
        made = [a for a in made if f"{BOARDS}/{episode}/" in f"/{a}"]
    return _offer(paths + made, incomplete)


def render_what(ctx: click.Context, param: click.Parameter, incomplete: str
                ) -> list[CompletionItem]:
    """What ``render SERIES`` renders: an episode id, then the shots (``shot_paths``)."""
    found = [CompletionItem(e) for e in _names(ctx).episodes if e.startswith(incomplete)]
    return found + shot_paths(ctx, param, incomplete)


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
