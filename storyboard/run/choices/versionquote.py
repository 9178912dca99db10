"""A version's lines and the approved cut into what the version costs, and what a re-render would.

A version (docs/languages.md) pays for its lines, each spoken once in its character's designed
voice (the speech model's rate by the characters spoken, as a cast line is priced), and for one
lip-sync pass over each shot with a line on a speaking face (``versions.needs_pass``; the pass as
the ``lipsync`` route's is priced: ``videoretalk``'s rate by the take's seconds). What rendering
the same shots again would cost is each shot's own estimate (``trip.costs.estimate``) at the
run's prices, cached or not: the variations matrix's way to another language. A line with no
words yet is priced by its source words (said: ``estimated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storyboard.language.request import CompiledEpisode
from storyboard.language.versions.versionfile import Version, is_untranslated, needs_pass
from storyboard.run.trip.budget.costs import estimate
from storyboard.targets import PriceTable
from storyboard.targets.cast.assets import EACH, price_tables, units
from storyboard.targets.kinds import LIPSYNC_MODEL


@dataclass(frozen=True)
class VersionQuote:
    """One language's version of some episodes, priced in the run's currency."""

    language: str
    currency: str
    lines: int = 0
    characters: int = 0
    lines_cost: float = 0.0
    estimated: int = 0  # lines with no words yet, priced by their source words
    passes: int = 0
    pass_seconds: float = 0.0
    passes_cost: float = 0.0
    shots: int = 0  # the versioned episodes' shots, rendered again
    rerender_seconds: float = 0.0
    rerender_cost: float = 0.0

    @property
    def total(self) -> float:
        """The version's lines and passes (its translation is priced by the breakdown's model,
        in USD, apart)."""
        return round(self.lines_cost + self.passes_cost, 6)

    @property
    def saving(self) -> float:
        return round(self.rerender_cost - self.total, 6)


def speech_table(prices: PriceTable, model: str) -> PriceTable:
    """The speech model's table on this provider, else its international list price (as a
    cast line is priced: nothing on a free provider)."""
    own = prices.by_model.get(model)
    if own is not None:
        return own
    if not any(rate > 0 for rate in prices.per_second.values()):
        return PriceTable({EACH: 0.0}, prices.currency)
    return price_tables("intl", "USD")[model]


def quote(language: str, versions: Sequence[tuple[CompiledEpisode, Version]],
          prices: PriceTable, speech_model: str) -> VersionQuote:
    """What the version of these episodes costs, and what their shots cost rendered again."""
    speech, passes = speech_table(prices, speech_model), prices.for_model(LIPSYNC_MODEL)
    lines = characters = estimated = passed = shots = 0
    lines_cost = passes_cost = pass_seconds = seconds = rerender = 0.0
    for episode, version in versions:
        for line in version.lines:
            words = line.source if is_untranslated(line) else line.text
            estimated += is_untranslated(line)
            lines += 1
            characters += int(units("speech", words))
            lines_cost += speech.cost(EACH, units("speech", words))
        dubbed = {line.shot for line in version.lines if needs_pass(line)}
        for shot in episode.shots:
            billed, cost = estimate(shot, prices)
            shots, seconds, rerender = shots + 1, seconds + billed, rerender + cost
            if shot.id in dubbed:
                take = float(shot.request.duration)
                passed, pass_seconds = passed + 1, pass_seconds + take
                passes_cost += passes.cost(shot.request.resolution, take)
    return VersionQuote(language, prices.currency, lines, characters, round(lines_cost, 6),
                        estimated, passed, pass_seconds, round(passes_cost, 6), shots,
                        round(seconds, 3), round(rerender, 6))
