"""A plan and a budget under it into what the budget buys: the cast first, then whole episodes.

A budget far under a plan used to buy whatever reached the submit first: the cast and shots
scattered over every episode, so no episode could be stitched, and that was said only afterwards.
Now the order is decided before the first submit: the cast (its images and voices) first, then
episode by episode, each episode's spoken lines and shots in the plan's order. The budget covers
that order up to the first item that does not fit; that item and everything after it are skipped
(never a later, cheaper shot out of order), so the episodes it covers are whole. What it covers,
what it skips and which episodes will not be complete is said before anything is paid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from storyboard.language.request import BOARDS
from storyboard.run.plans import Plan, ShotPlan
from storyboard.targets.prices import under

CAST_FIRST = ("cast", "voices")  # made before any episode: every episode may use them
OF_A_SHOT = ("lines", BOARDS)  # assets of one shot (``lines/EP/SHOT``): spent with its episode
SHOWN = 12  # skipped shots named at most; past them, a count


@dataclass(frozen=True)
class BudgetCut:
    """The plan's paid shots split by a budget, in the order it is spent."""

    budget: float
    currency: str
    covered: list[ShotPlan]
    skipped: list[ShotPlan]
    complete: list[str]  # episodes this run touches that it makes whole
    incomplete: list[str]  # episodes this run touches that miss a skipped shot

    @property
    def cost(self) -> float:
        return round(sum(s.cost for s in self.covered), 4)

    def skips(self) -> dict[str, str]:
        """Each skipped shot's hash and what the runner says of it."""
        first = _label(self.skipped[0])
        whole = math.ceil(round((self.cost + sum(s.cost for s in self.skipped)) * 100, 6)) / 100
        return {s.hash: (f"skipped (budget): the budget of {self.budget:.2f} {self.currency} "
                         f"buys the cast, then episode by episode, and ends before {first} "
                         f"(--budget {whole:.2f} covers this plan)")
                for s in self.skipped}

    def text(self) -> str:
        """What the budget covers and skips, said before the first submit."""
        total = self.cost + sum(s.cost for s in self.skipped)
        said = [f"the budget of {self.budget:.2f} {self.currency} is under this plan's "
                f"{total:.2f}: it covers {len(self.covered)} of "
                f"{len(self.covered) + len(self.skipped)} paid shot(s), about {self.cost:.2f} "
                f"{self.currency}, spent in this order: the cast first, then the shots episode "
                "by episode, stopping at the first that does not fit"]
        said.append(f"skipped ({len(self.skipped)}): {_named(self.skipped)}")
        if self.complete:
            said.append(f"complete after this run: {', '.join(self.complete)}")
        if self.incomplete and not self.complete:
            said.append(f"no episode will be complete: {', '.join(self.incomplete)} (each "
                        "misses skipped shots, so none can be stitched whole)")
        elif self.incomplete:
            said.append(f"not complete: {', '.join(self.incomplete)}")
        return "; ".join(said)


def budget_cut(the_plan: Plan, budget: float) -> BudgetCut | None:
    """How ``budget`` splits the plan's paid shots (None when it covers them all)."""
    ordered = spending_order([s for s in the_plan.to_render if not s.made_by])
    covered: list[ShotPlan] = []
    spent = 0.0
    for index, shot in enumerate(ordered):
        if not under(spent + shot.cost, budget):
            skipped = ordered[index:]
            short = {_episode(s) for s in skipped}
            touched = list(dict.fromkeys(_episode(s) for s in ordered if _episode(s)))
            return BudgetCut(budget, the_plan.currency, covered, skipped,
                             [e for e in touched if e not in short],
                             [e for e in touched if e in short])
        covered.append(shot)
        spent += shot.cost
    return None


def spending_order(shots: list[ShotPlan]) -> list[ShotPlan]:
    """The cast first, then each episode (in its first appearance) with its lines and shots."""
    cast = [s for s in shots if s.episode in CAST_FIRST]
    episodes = list(dict.fromkeys(_episode(s) for s in shots if s.episode not in CAST_FIRST))
    rank = {episode: n for n, episode in enumerate(episodes)}
    rest = sorted((s for s in shots if s.episode not in CAST_FIRST),
                  key=lambda s: rank[_episode(s)])  # stable: the plan's order inside each
    return cast + rest


def _episode(shot: ShotPlan) -> str:
    """The episode a paid shot belongs to, as a person names it (``ep01``, ``VARIATION/ep01``);
    a spoken line's and a board's is its shot's; "" for the cast."""
    if shot.episode in CAST_FIRST:
        return ""
    episode = shot.shot.split("/")[0] if shot.episode in OF_A_SHOT else shot.episode
    _, _, variation = shot.series.partition("/")
    return f"{variation}/{episode}" if variation else episode


def _label(shot: ShotPlan) -> str:
    return shot.key.split("/", 1)[-1]


def _named(shots: list[ShotPlan]) -> str:
    names = ", ".join(_label(s) for s in shots[:SHOWN])
    return names + (f" and {len(shots) - SHOWN} more" if len(shots) > SHOWN else "")
