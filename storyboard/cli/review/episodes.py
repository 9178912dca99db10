"""``approve SERIES EP`` (an episode's id, or a glob of them: ``'ep0*'``, ``EP/*``) into each of
its shots' approvals, listed shot by shot before the count.

Each shot is approved as ``approve SERIES EP/SHOT`` approves it (its picked take, else its
lowest-numbered rendered take; findings need ``--force``; a lip-sync route's pass asked for), and
a shot that cannot be (no take rendered, findings) is skipped with why, never stopping the others;
the command then exits 1, so a script goes no further on an episode not wholly approved.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli.common import emit, guarded
from storyboard.errors import StoryboardError
from storyboard.language.request import ASSET_EPISODES

if TYPE_CHECKING:
    from storyboard.language.request import Manifest
    from storyboard.run.state.lock.pictures import Drawer

def is_episode_name(name: str) -> bool:
    """Whether ``name`` (past a matrix's variation) names episodes: ``ep01``, ``ep0*``,
    ``ep01/*``; not a shot, a board or a cast asset."""
    head, _, rest = name.partition("/")
    return head not in ASSET_EPISODES and head != "boards" and rest in ("", "*")


def episodes_named(series: Manifest, name: str) -> list[str]:
    """The ids of the episodes ``name`` covers, in series order; refused when none."""
    pattern = name.partition("/")[0]
    found = [e.id for e in series.episodes if fnmatch.fnmatchcase(e.id, pattern)]
    if not found:
        ids = ", ".join(e.id for e in series.episodes[:8])
        raise StoryboardError(f"no episode matches {name!r}; expected an episode id or a glob "
                              f"of them ({ids}), or EP/SHOT for one shot")
    return found


def approve_episodes(path: Path, series: Manifest, name: str, prefix: str, force: bool,
                     drawer: Drawer | None, as_json: bool,
                     after: Callable[[Manifest, str], object]) -> None:
    """Approve every shot of the episodes ``name`` covers (``after``: what follows each
    approval, its lip-sync pass asked for); say each, then the counts; exit 1 where a shot was
    skipped."""
    from storyboard.run.choices.checks import approve_checked
    chosen = guarded(lambda: episodes_named(series, name))
    shots = [s.shot_id for e in series.episodes if e.id in chosen for s in e.shots]
    made: list[tuple[str, int]] = []
    skipped: list[tuple[str, str]] = []
    for shot in shots:
        try:
            made.append((shot, approve_checked(series, shot, force=force, drawer=drawer)))
            after(series, shot)
        except StoryboardError as error:
            skipped.append((shot, str(error)))
    if as_json:
        emit({"episodes": [prefix + e for e in chosen],
              "approved": [{"shot": prefix + s, "take": t} for s, t in made],
              "skipped": [{"shot": prefix + s, "why": why} for s, why in skipped]})
    else:
        say_approved(shots, chosen, prefix, made, skipped)
    if skipped:
        raise SystemExit(1)


def say_approved(shots: list[str], chosen: list[str], prefix: str, made: list[tuple[str, int]],
                 skipped: list[tuple[str, str]]) -> None:
    """Each shot approved (its take) and each skipped (why), then the counts."""
    click.echo(f"approving {len(shots)} shot(s) of {', '.join(prefix + e for e in chosen)}:")
    for shot, take in made:
        click.echo(f"  approved take {take} of {prefix}{shot}")
    for shot, why in skipped:
        click.echo(f"  skipped {prefix}{shot}: {why}")
    click.echo(f"approved {len(made)} shot(s), skipped {len(skipped)}")
