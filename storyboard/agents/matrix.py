"""A matrix series' tool calls into the render path the command line takes: its variations
planned, priced and rendered as ``storyboard plan`` and ``render`` do them (``run.versions.matrix``).

Each language variation of an approved base is made as that base's version (its lines and
lip-sync passes, no video rendered again) and priced so; the rest are rendered as any variation.
A paid call is held to the plan's price with every task at no less than its model's list price,
and each version at no less than its list price (``Priced``); a free (``local``) call renders
drafts of every variation, and makes no version (a version is made from an approved cut, by
paid passes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.language.read.series import load_source
from storyboard.language.variations import Variants, compile_variations, strict
from storyboard.run import Plan
from storyboard.run.pipeline import matrix_plan
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup, open_run
from storyboard.run.variations import MatrixPlan, MatrixReport, RouteQuote, by_provider, plans_dict
from storyboard.run.versions import matrix as routing

Cost = Callable[[RunSetup, Plan], float]  # what a plan's tasks count against a paid call's limits


@dataclass
class Priced:
    """A paid call's plan: the rendered variations' plan, what the call counts against its
    limits, and each variation made as a version, priced."""

    plan: Plan
    cost: float
    versions: list[RouteQuote] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.plan.currency

    def to_dict(self) -> dict[str, Any]:
        shown = self.plan.to_dict()
        return {**shown, "versions": [v.to_dict() for v in self.versions]} if self.versions \
            else shown


def is_matrix(folder: Path) -> bool:
    """Whether the series in ``folder`` has a ``variations`` matrix."""
    data = load_source(folder).series.data
    return isinstance(data, dict) and isinstance(data.get("variations"), dict)


def variants(folder: Path, provider: str | None) -> Variants:
    """Every variation compiled for ``provider``'s limits; ProblemsFound with every problem."""
    return strict(compile_variations(folder, provider=provider))


def plan(folder: Path, flags: RenderFlags) -> dict[str, Any]:
    """``storyboard plan --json`` of the matrix: its plan per provider group, each variation made
    as a version priced beside what rendering it again costs."""
    return plans_dict(routing.plan(variants(folder, flags.provider), flags))


def priced(folder: Path, flags: RenderFlags, cost: Cost) -> Priced:
    """The matrix's plan as a paid call is held to it: the variations rendered (``cost``: what
    their tasks count) and each version at no less than its list price."""
    found = variants(folder, flags.provider)
    routes = routing.version_routes(found)
    groups = by_provider(routing.without(found, routes), flags.provider)
    if len(groups) != 1:
        raise StoryboardError(f"{found.name}: its variations render with {len(groups)} "
                              "providers' settings; a tool call renders one: use `storyboard "
                              "render`")
    with open_run(groups[0], flags) as setup:
        planned: MatrixPlan = matrix_plan(setup)
        total = cost(setup, planned.plan)
        quotes = []
        for route in routes:
            quote = routing.quote_route(route, setup.prices)
            listed = routing.quote_route(route, setup.provider.list_prices).total
            total += max(quote.total if quote.currency == setup.provider.list_prices.currency
                         else 0.0, listed)
            quotes.append(RouteQuote(route.variation, route.base.name.partition("/")[2], quote))
    return Priced(planned.plan, round(total, 6), quotes)


def render(folder: Path, flags: RenderFlags, calls: Callbacks) -> MatrixReport:
    """The matrix rendered as ``storyboard render`` renders it (``run.versions.matrix.render``): its
    language variations of approved bases made as versions, the rest rendered."""
    return routing.render(variants(folder, flags.provider), flags, calls)


def drafts(folder: Path, flags: RenderFlags, calls: Callbacks) -> MatrixReport:
    """Every variation's drafts (free): no version is made from proxies."""
    return routing.render(variants(folder, None), replace(flags, draft=True, yes=True), calls)


def submitted(report: MatrixReport) -> int:
    """The tasks a render submitted: its shots' and its versions' lines and passes."""
    return report.submits


def report_dict(report: MatrixReport) -> dict[str, Any]:
    """A matrix's render as the tool answers it: its shots, its variations' episodes, and each
    variation made as a version (its passes and episodes)."""
    currency = report.plans[0].plan.currency if report.plans else ""
    planned = sum(p.plan.total_cost for p in report.plans) + sum(
        v.plan.total_cost for v in report.versions)
    return {
        "ok": report.ok, "planned_cost": round(planned, 6), "currency": currency,
        "spent": report.spent, "submits": submitted(report),
        "shots": [{"episode": r.episode, "shot": r.shot, "state": r.state,
                   "message": r.message} for run in report.runs for r in run.shots],
        "episodes": [{"id": e.id, "state": e.state, "path": str(e.path), "message": e.message,
                      "variation": v.name} for v in report.variations for e in v.episodes],
        "variations": [{"name": v.name, "state": v.state} for v in report.variations],
        "versions": [{"variation": v.made_as, "language": v.language, "ok": v.ok,
                      "spent": v.spent, "passes": v.passes,
                      "shots": [{"key": s.key, "state": s.state, "message": s.message}
                                for s in v.shots],
                      "episodes": [{"id": e.id, "state": e.state, "path": str(e.path)}
                                   for e in v.episodes]} for v in report.versions]}
