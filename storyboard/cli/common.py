"""Command-line arguments into compiled series: what every command shares (errors, loading).

Errors are printed as ``file:line:col: error: message`` lines (or one clear sentence) with a non-zero
exit code, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from storyboard.cli import complete
from storyboard.cli import variations as matrix
from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.targets.gateways import TARGETS

if TYPE_CHECKING:  # the compiler is imported where a command uses it
    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variants

T = TypeVar("T")

SERIES = click.Path(path_type=Path)
# Every provider by name: local, and each wire target (a dialect each), without importing them.
PROVIDERS = ("local", *TARGETS)
EPISODE = click.option("--episode", help="Only this episode.", shell_complete=complete.episodes)


def fail(error: StoryboardError) -> None:
    if isinstance(error, ProblemsFound):
        click.echo(error.format(), err=True)
        errors = sum(1 for d in error.diagnostics if d.severity == "error")
        click.echo(f"{errors} error(s) found", err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a StoryboardError becomes a message and an exit code, never a traceback."""
    try:
        return action()
    except StoryboardError as error:
        fail(error)
        raise AssertionError("unreachable") from error  # fail() exits


def variants_of(path: Path, var: tuple[str, ...] = (), variation: tuple[str, ...] = (), *,
                provider: str | None = None, keep_going: bool = False) -> Variants:
    """Expand and compile the series (every selected variation, for ``provider``'s limits);
    warnings go to stderr, errors end the command (with ``keep_going``, a matrix renders the
    variations that compiled)."""
    return matrix.load_variants(path, var, variation, fail=fail, provider=provider,
                                keep_going=keep_going)


def compiled(path: Path, var: tuple[str, ...] = (), variation: tuple[str, ...] = (),
             provider: str | None = None) -> Manifest:
    """The one manifest of a series (the first selected variation of a matrix)."""
    return variants_of(path, var, variation, provider=provider).manifests[0]


