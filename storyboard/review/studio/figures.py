"""The paid plan and the journal into the studio page's money: one "spent" and one "planned".

``plan`` says what the journal's tasks cost in all ("spent in all") and what the next render costs
on the paid provider (its total); the studio's page says the same two figures in its header, and
per episode its own share of each (the journal's cost of its shots and boards, the plan's cost of
its shots and boards still to make): never the lock's spent beside an estimate at the page's own
(free) provider. The paid plan is ``state.paid_plan``'s (the provider ``status --season`` counts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from storyboard.language.request import BOARDS
from storyboard.review.progress import money
from storyboard.review.seasongrid import spent_by_episode
from storyboard.review.sheet.model import Sheet
from storyboard.run.plans import Plan
from storyboard.run.state.takes import spent as totals
from storyboard.run.state.tasks.attempts import Attempt


@dataclass(frozen=True)
class Figures:
    """What was spent and what is planned, in all and by episode, on one provider."""

    provider: str
    currency: str
    spent: float
    planned: float
    by_episode: dict[str, tuple[float, float]]  # episode: (spent, planned)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "currency": self.currency, "spent": self.spent,
                "planned": self.planned}


def figures(paid: Plan, journal: list[Attempt]) -> Figures:
    """``plan``'s two figures on the paid plan's provider (``spent in all`` of the journal in the
    plan's currency, the plan's total), and each episode's share."""
    currency = paid.currency
    spent = totals([(row.cost, row.currency) for row in journal]).get(currency, 0.0)
    planned: dict[str, float] = {}
    for shot in paid.shots:
        episode = shot.shot.split("/")[0] if shot.episode == BOARDS else shot.episode
        planned[episode] = planned.get(episode, 0.0) + shot.cost
    by_spent = spent_by_episode(journal, currency)
    episodes = {ep: (by_spent.get(ep, 0.0), round(planned.get(ep, 0.0), 4))
                for ep in {*planned, *by_spent}}
    return Figures(paid.provider, currency, round(spent, 4), round(paid.total_cost, 4), episodes)


def with_figures(sheet: Sheet, found: Figures | None) -> Sheet:
    """The sheet saying ``found``'s figures (unchanged when there is no paid plan)."""
    if found is None:
        return sheet
    episodes = tuple(replace(ep, spent=money(found.by_episode.get(ep.id, (0.0, 0.0))[0],
                                             found.currency),
                             planned=money(found.by_episode.get(ep.id, (0.0, 0.0))[1],
                                           found.currency))
                     for ep in sheet.episodes)
    return replace(sheet, spent=money(found.spent, found.currency),
                   planned=money(found.planned, found.currency), planned_on=found.provider,
                   episodes=episodes)
