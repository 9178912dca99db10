"""A render's versions into its one question: each version planned before anything is paid, and
asked for in the render's first question instead of one of its own.

``render`` of a matrix whose language variations are made as versions (``matrix.render``) plans
each version first (``plan_version``: its lines and passes, what is cached already left out), so
that a version refused, or one its provider cannot make, stops the render before a variation is
paid for. The versions' plans then join the first question the render asks (a provider group's
consent, or its budget's cut): one "Spend about ...?" covering the variations and their
versions. A version whose plan was in a question answered yes runs with that consent
(``yes``); a version no question covered yet (every variation was cached, or free) asks once, for
itself and every version after it. A no stops the render, as it always did: nothing more is
submitted. The budget is one budget: the versions made in a group's run are held by that run's
budget (``joining``), a version made in a run of its own by what the runs before it left
(``matrix.render_routes``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from storyboard.errors import ProblemsFound
from storyboard.run.plans import Plan

Confirm = Callable[[Plan], bool]


@dataclass
class Question:
    """The render's one question and the versions' plans not yet in a question (by variation
    name); ``agreed``: the versions a yes covered."""

    confirm: Confirm | None
    waiting: dict[str, Plan]
    budget: float | None = None
    agreed: set[str] = field(default_factory=set)

    def ask(self, the_plan: Plan) -> bool:
        """``confirm`` asked with ``the_plan`` and every waiting version of its currency."""
        assert self.confirm is not None
        joining = [name for name, each in self.waiting.items()
                   if each.currency == the_plan.currency]
        asked = joined(the_plan, [self.waiting.pop(name) for name in joining], self.budget)
        yes = self.confirm(asked)
        if yes:
            self.agreed.update(joining)
        return yes

    def claim(self, name: str) -> bool:
        """Take the version ``name`` out of the waiting (it is about to run): whether a yes
        covered it already."""
        self.waiting.pop(name, None)
        return name in self.agreed

    def asking(self) -> Confirm | None:
        """The confirm a run of the render asks through (None: nobody to ask)."""
        return None if self.confirm is None else self.ask


def joined(the_plan: Plan, versions: list[Plan], budget: float | None) -> Plan:
    """``the_plan`` with the versions' shots beside its own: what one question asks to spend
    (under a budget's cut: what the cut buys, and what of the budget is left to the versions)."""
    if not versions:
        return the_plan
    shots = [*the_plan.shots, *(s for each in versions for s in each.shots)]
    both = replace(the_plan, shots=shots)
    if the_plan.budget_cost is not None and budget is not None:
        left = max(0.0, budget - the_plan.budget_cost)
        more = sum(each.total_cost for each in versions)
        both.budget_cost = round(the_plan.budget_cost + min(left, more), 4)
    return both


def refused(plans: list[Plan]) -> None:
    """Stop, before anything is paid, a render whose version would be refused."""
    found = [d for each in plans for d in each.refused]
    if found:
        raise ProblemsFound(found)
