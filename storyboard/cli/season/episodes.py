"""A season's state into ``status --season``: per episode its shots, minutes, boards, videos,
spent and to go (``review/seasonstatus.py``), each character's appearances, and the stale versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import emit, guarded, variants_of

if TYPE_CHECKING:
    from storyboard.language.variations import Variants


def show_status(path: Path, provider: str | None, as_json: bool) -> None:
    """``status --season``: per episode its shots, minutes, boards, videos, spent and to go."""
    from storyboard.review import progress
    from storyboard.review.seasonstatus import counted_provider, season_rows, season_table
    from storyboard.run import status as journal
    variants = variants_of(path, provider=provider)
    counted = counted_provider(variants.manifests[0], provider,
                               guarded(lambda: journal(variants.root)))
    if counted != provider:
        variants = variants_of(path, provider=counted)
    rows = guarded(lambda: season_rows(variants, counted))
    stale = stale_of(variants)
    cast = cast_of(variants)
    if as_json:
        emit({"episodes": [row.to_dict() for row in rows], "provider": counted,
              "versions_stale": [s.to_dict(variants.root) for s in stale], "cast": cast})
        return
    progress.console().print(season_table(rows))
    for name, tally in cast.items():
        said = ", ".join(f"{n} {kind}" for kind, n in tally.items()
                         if kind != "appearances" and n)
        click.echo(f"@{name}: {tally['appearances']} appearance(s): {said}")
    if counted != provider:
        click.echo(f"counted on {counted}, the provider of the journal's last render "
                   "(--provider to count another's)")
    said_stale(variants.root, stale)


def elsewhere_of(path: Path, variants: Variants, provider: str | None, journal: list[Any],
                 shown: set[str], pending: bool) -> tuple[list[Any], str]:
    """``status``'s shots made or being made elsewhere (``seasonstatus.looked_elsewhere``) and
    the provider they are counted on. Why the shared store or the team's ledger could not be
    read goes to stderr, as a warning."""
    from storyboard.review.seasonstatus import looked_elsewhere
    found, notes, name = guarded(lambda: looked_elsewhere(
        variants, lambda counted: variants_of(path, provider=counted), provider, journal, shown,
        pending))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    return found, name


def cast_of(variants: Variants) -> dict[str, dict[str, int]]:
    """Per character of a plain series: its appearances across the season, and how many of them
    each finding is (``review.seasoncast``)."""
    from storyboard.review.seasoncast import appearances, counts
    if variants.matrix:
        return {}
    return guarded(lambda: counts(appearances(variants.manifests[0])))


def stale_of(variants: Variants) -> list[Any]:
    """The language versions (a matrix's language variations made as versions too) whose cut
    changed since they were made."""
    from storyboard.run.versions.stale import stale_of as of_variants
    return guarded(lambda: of_variants(variants))


def said_stale(root: Path, stale: list[Any]) -> None:
    """Each stale version in a line (what changed, the command that brings it back)."""
    for each in stale:
        click.echo(f"stale: {each.message(root)}")
