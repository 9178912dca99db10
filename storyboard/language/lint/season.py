"""A resolved series into its season lints and its boards chained across episodes.

The lints read the resolved shots with each one's episode number (its place in the series, from
1) and add located problems: the facts' own errors, a contradiction of a fact
(``lint-continuity``, ``factcheck.py``) and a scene that carries too much for its seconds
(``lint-density``, ``density.py``), each warning switched off by the series' ``lint:`` block.
With ``continuity: {chain_boards: true}``, each episode's first made board takes the previous
episode's last board as a reference (``Board.chain``, as ``boards: {chain: true}`` does inside
an episode): set on every check, so a moved or removed episode never leaves a stale one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from storyboard.errors import Diagnostic
from storyboard.language.lint import continuity, density, factcheck
from storyboard.language.resolving.resolve import ResolvedEpisode, Resolver
from storyboard.language.versions import languages


def lints(resolver: Resolver, episodes: Sequence[ResolvedEpisode]) -> list[Diagnostic]:
    """The season's problems: the facts' errors, then each lint switched on, then the
    languages' (``languages.lint``: an episode's language, a voice that cannot speak a version)."""
    on = continuity.settings(resolver.series)
    declared, problems = factcheck.declared(resolver.source.series, resolver.characters)
    if "continuity" in on and declared:
        problems += factcheck.lint(declared, [(e.number, s) for e in episodes for s in e.shots])
    if "density" in on:
        cast = density.cast_of(resolver.characters, resolver.generated)
        problems += density.lint([s for e in episodes for s in e.shots], cast)
    return problems + languages.lint(resolver, episodes)


def chain_boards(resolver: Resolver, episodes: Sequence[ResolvedEpisode]) -> None:
    """Each episode's first made board chained to the previous episode's last board, when the
    series asks for it (``continuity: {chain_boards: true}``)."""
    block = resolver.series.get("continuity")
    if not isinstance(block, dict) or block.get("chain_boards") is not True:
        return
    last = None
    for episode in episodes:
        boarded = [shot for shot in episode.shots if shot.board is not None]
        first = boarded[0] if boarded else None
        if first is not None and first.board is not None and first.board.made:
            first.board = replace(first.board, chain=last.ref if last is not None else None)
        if boarded and boarded[-1].board is not None:
            last = boarded[-1].board
