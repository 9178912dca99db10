"""A run's prices and budget into its money: each task's estimate held, charged, or refused.

One ``Money`` per run, handed to the parts of a shot's way that spend (the ``Submitter``
reserves before a submit, the ``Downloader`` charges what a finished task billed): what this
run spent, what the budget counts (never less than the provider's list price), what resumed
tasks cost apart (paid when an earlier run submitted them), and what the budget refused.
"""

from __future__ import annotations

from storyboard.language.request import CompiledShot
from storyboard.providers.base import Provider
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.trip.budget.costs import ReferenceSeconds, estimate
from storyboard.targets import PriceTable
from storyboard.targets.prices import under


class Money:
    def __init__(self, prices: PriceTable, budget: float | None,
                 ref_seconds: ReferenceSeconds | None, floor: PriceTable | None) -> None:
        self.prices, self.budget, self.ref_seconds = prices, budget, ref_seconds
        self.floor = floor  # what the budget counts a task at, at least (``list_floor``)
        self.spent = 0.0  # on tasks this run submitted, as billed
        self.counted = 0.0  # what the budget counts of it
        self.counted_by: dict[str, float] = {}  # a shot key -> what the budget counts of it
        self.resumed: set[str] = set()  # shot keys whose task an earlier run submitted (paid)
        self.resumed_cost = 0.0  # what those tasks cost: settled now, outside the budget
        self.reserved: dict[str, float] = {}
        self.refused: dict[str, float] = {}  # a shot key -> what the budget refused to hold

    def estimate(self, shot: CompiledShot) -> tuple[float, float]:
        return estimate(shot, self.prices, self.ref_seconds)

    def counted_cost(self, shot: CompiledShot, cost: float) -> float:
        """What the budget counts for a task of ``shot`` costing ``cost``: never less than the
        provider's list price for it."""
        if self.floor is None:
            return cost
        return max(cost, estimate(shot, self.floor, self.ref_seconds)[1])

    def over(self, shot: CompiledShot, cost: float) -> str:
        """Why ``shot`` is skipped for the budget: what the budget counts it at (its list price
        when the series prices it lower, said so) and the budget."""
        counted = self.counted_cost(shot, cost)
        currency = self.prices.currency
        at = "" if counted <= cost else \
            f" (its list price: the series prices it at {cost:.2f} {currency})"
        return (f"skipped (budget): about {counted:.2f} {currency} more{at} would pass the "
                f"budget of {self.budget:.2f}")

    def charge(self, shot: CompiledShot, cost: float) -> None:
        """Count a finished task's cost: this run's spending, or apart when the task was resumed
        (paid when an earlier run submitted it, so no budget of this run covers it)."""
        if shot_key(shot) in self.resumed:
            self.resumed_cost = round(self.resumed_cost + cost, 4)
        else:
            counted = self.counted_cost(shot, cost)
            self.spent = round(self.spent + cost, 4)
            self.counted = round(self.counted + counted, 4)
            key = shot_key(shot)
            self.counted_by[key] = round(self.counted_by.get(key, 0.0) + counted, 4)

    def reserve(self, shot: CompiledShot, *, force: bool = False) -> bool:
        """Hold this shot's estimate as committed spend; refuse when it would pass the budget
        (fail closed: a budget no comparison holds for refuses). Only new submits reserve: a
        resumed task was paid for by the run that submitted it."""
        cost = self.counted_cost(shot, self.estimate(shot)[1])
        committed = self.counted + sum(self.reserved.values()) + cost
        if not force and self.budget is not None and not under(committed, self.budget):
            self.refused[shot_key(shot)] = cost
            return False
        self.reserved[shot_key(shot)] = cost
        return True


def list_floor(provider: Provider, prices: PriceTable) -> PriceTable | None:
    """What the budget counts each task at, at least: the provider's list price (a series' own
    prices of 0 must not switch the budget off), in the list's currency only; None for a free
    provider."""
    floor = provider.list_prices if provider.traits.paid else None
    return floor if floor is not None and floor.currency == prices.currency else None
