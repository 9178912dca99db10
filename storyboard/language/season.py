"""A resolved series into its season lints: the ``continuity:`` facts and each scene's density.

Both read the resolved shots with each one's episode number (its place in the series, from 1)
and add located problems: the facts' own errors, a contradiction of a fact (``lint-continuity``,
``facts.py``) and a scene that carries too much for its seconds (``lint-density``,
``density.py``), each warning switched off by the series' ``lint:`` block.
"""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.errors import Diagnostic
from storyboard.language import continuity, density, facts
from storyboard.language.resolve import ResolvedEpisode, Resolver


def lints(resolver: Resolver, episodes: Sequence[ResolvedEpisode]) -> list[Diagnostic]:
    """The season's problems: the facts' errors, then each lint switched on."""
    on = continuity.settings(resolver.series)
    declared, problems = facts.declared(resolver.source.series, resolver.characters)
    if "continuity" in on and declared:
        problems += facts.lint(declared, [(e.number, s) for e in episodes for s in e.shots])
    if "density" in on:
        cast = density.cast_of(resolver.characters, resolver.generated)
        problems += density.lint([s for e in episodes for s in e.shots], cast)
    return problems
