"""A matrix's language variations into versions of their approved base: which are made so, what
each costs, and each made (its lines and passes; no video rendered again).

A variation on the ``language`` axis that differs from its base only by its language
(``language.variations.language_versions``: each is paired with the base whose values on every
other axis are its own, so a products x languages matrix has a base per product) is made as that
base's version in that language when every shot of the base's versioned episodes is approved
(``cut.approved_cut``), each base on its own: the version's
lines in each speaker's designed voice and a lip-sync pass over each on-screen speaker's approved
take, stitched into the variation's own folder, its passes kept under the variation's name, its
words read from its base's version files (``LanguageVersion.home``). Otherwise (its base not
approved, or no base) it is rendered as any variation. docs/variations.md, "A language axis".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from storyboard.language.read.series import load_source
from storyboard.language.resolving.cast import speech_model
from storyboard.language.variations import Variants
from storyboard.language.versions.versioncheck import versions_in
from storyboard.run import pipeline
from storyboard.run.choices.versionquote import VersionQuote, quote
from storyboard.run.plans import Plan
from storyboard.run.setup import Callbacks, RenderFlags, make_provider, run_prices
from storyboard.run.variations import MatrixPlan, MatrixReport, RouteQuote, by_provider
from storyboard.run.versions.joining import Joining
from storyboard.run.versions.question import Question, refused
from storyboard.run.versions.version import VersionReport, plan_version, render_version
from storyboard.run.versions.versionroutes import (
    Route,
    region,
    routes_for,
    version_routes,
    without,
)
from storyboard.targets import PriceTable

__all__ = ["Route", "plan", "plan_route", "quotes", "render", "render_routes", "routes_for",
           "version_routes", "without"]


def render_routes(routes: list[Route], flags: RenderFlags, calls: Callbacks, spent: float,
                  question: Question | None = None) -> list[VersionReport]:
    """Each route's version made, under what is left of ``flags.budget`` after ``spent`` and
    the versions before it (as the budget counts them: ``RunResult.budget_spent``), with the
    render's consent where its question covered it (``question.Question``), else asked once for
    it and the versions after it."""
    question = question or Question(calls.confirm, {})
    reports: list[VersionReport] = []
    for route in routes:
        used = spent + sum(r.budget_spent for r in reports)
        left = None if flags.budget is None else max(0.0, flags.budget - used)
        agreed = question.claim(route.variation)
        mine = replace(flags, budget=left, yes=flags.yes or agreed)
        asks = replace(calls, confirm=None if agreed else question.asking())
        reports.append(render_version(route.base, route.language, mine, asks,
                                      region(route.base, flags), route.made_as, route.home))
    return reports


def plan_route(route: Route, flags: RenderFlags) -> Plan:
    """The route's version as its render plans it (what is made already costs nothing), before
    anything of the render is paid: a version its provider cannot make stops the render here."""
    return plan_version(route.base, route.language, flags, region(route.base, flags),
                        route.made_as, route.home)[0]


def quote_route(route: Route, prices: PriceTable) -> VersionQuote:
    """What the route's version costs, beside what rendering its shots again would."""
    source = load_source(route.base.source)
    series = source.series.data if isinstance(source.series.data, dict) else {}
    return quote(route.language, versions_in(source, route.base, route.language, route.home),
                 prices, speech_model(series))


def quotes(variants: Variants, flags: RenderFlags, routes: list[Route]) -> list[RouteQuote]:
    """Each route's version priced beside a re-render of its shots, by the prices of the run of
    the matrix's first provider group (as that run prices it)."""
    group = by_provider(variants, flags.provider)[0].combined()
    prices = run_prices(group, make_provider(group, flags.provider, draft=flags.draft))
    return [RouteQuote(r.variation, _base(r), quote_route(r, prices)) for r in routes]


def plan(variants: Variants, flags: RenderFlags) -> list[MatrixPlan]:
    """``pipeline.plan`` of the variations rendered, with each one made as a version priced
    beside it (the version's lines and passes, and what rendering its shots again costs)."""
    routes = routes_for(variants, flags)
    if not routes:
        return pipeline.plan(variants, flags)
    plans = pipeline.plan(without(variants, routes), flags)  # the base, at least, is left
    plans[0].versions = quotes(variants, flags, routes)
    return plans


def render(variants: Variants, flags: RenderFlags, calls: Callbacks | None = None
           ) -> MatrixReport:
    """``pipeline.render`` of the variations rendered, each one made as a version (no video
    rendered again) in the run of its base's group once its takes end (``joining``; in a run of
    its own when no group renders its base): one plan shown (the versions beside the first
    group's table), one question (``question``), one budget."""
    calls = calls or Callbacks()
    routes = routes_for(variants, flags)
    if not routes:
        return pipeline.render(variants, flags, calls)
    planned = {route.variation: plan_route(route, flags) for route in routes}
    refused(list(planned.values()))
    question = Question(calls.confirm, planned, flags.budget)
    shown = _showing(calls.on_plan, quotes(variants, flags, routes))
    joining = Joining(routes, flags, calls, question)
    try:
        report = pipeline.render(without(variants, routes), flags,
                                 replace(calls, confirm=question.asking(), on_plan=shown),
                                 joining)
    finally:
        joining.close()
    report.versions = joining.reports(report.runs)
    made = {j.route.variation for j in joining.joined}
    report.versions += render_routes([r for r in routes if r.variation not in made], flags,
                                     calls, report.budget_spent, question)
    return report


def _showing(on_plan: Callable[[MatrixPlan], None] | None, versions: list[RouteQuote]
             ) -> Callable[[MatrixPlan], None]:
    """``on_plan``, the versions shown beside the first group's plan (as ``plan`` shows them)."""
    left = list(versions)

    def shown(the_plan: MatrixPlan) -> None:
        the_plan.versions, left[:] = [*the_plan.versions, *left], []
        if on_plan is not None:
            on_plan(the_plan)
    return shown


def _base(route: Route) -> str:
    return route.base.name.partition("/")[2]
