"""A season's plan into one admission: every problem of every episode found before anything is paid.

``plan --season`` and ``season render`` take every episode at once (or the ``--episodes``
range): the series is compiled, planned and held to everything a render would stop at before its
first submit (the language's errors, the plan's refusals, the provider's own checks of the paid
shots, approved shots whose YAML changed, an API key missing, a budget under the season, an
episode over ``--episode-budget``). Any problem anywhere refuses the whole season: nothing is
submitted, and every problem is listed with its episode and ``file:line:col``. A shot waiting on
its board is no problem (it waits, unpaid) but is counted.

Admitted, the season is rendered with one consent for its total. With ``--episode-budget`` each
episode is its own run with the runner's budget set to that amount (the budget the runner already
enforces on each submit: ``trip.money.Money.reserve``), after the cast in a run of its own; every
run is also held to what the runs before it left of ``--budget``, counted as the runner counts
(``RunResult.budget_spent``: each task at no less than its list price).
"""

from __future__ import annotations

import glob
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storyboard.errors import BudgetExceeded, Diagnostic, ProblemsFound, Span, StoryboardError
from storyboard.language.read.series import load_source
from storyboard.language.request import BOARDS, Manifest
from storyboard.language.variations import Variants
from storyboard.run.budgetcut import CAST_FIRST, OF_A_SHOT
from storyboard.run.pipeline import matrix_plan
from storyboard.run.pipeline import render as render_all
from storyboard.run.plans import Plan, ShotPlan, check_consent
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup, open_run
from storyboard.run.state.lock.lockfile import lock_path, read_lock
from storyboard.run.state.takes import approved_changes, state_key
from storyboard.run.trip.approvals import refusal, standing_on
from storyboard.run.trip.model import RunResult, ShotResult
from storyboard.run.variations import MatrixReport, VariationResult
from storyboard.targets.prices import under

SEASON = ""  # the episode of a problem no episode holds (the cast, the key, the budget)


@dataclass(frozen=True)
class Problem:
    """One reason the season is refused, and the episode it is in (``SEASON``: none)."""

    episode: str
    diagnostic: Diagnostic
    number: int = 0  # the episode's number in the series (1 on; 0: the season's own)

    def to_dict(self) -> dict[str, Any]:
        span = self.diagnostic.span
        return {"episode": self.episode or None, "number": self.number or None,
                "file": span.file if span else None,
                "line": span.line if span else None, "column": span.col if span else None,
                "message": self.diagnostic.message}


@dataclass
class EpisodeRow:
    """An episode of the season as admitted: its shots, what it costs now, what waits."""

    number: int
    id: str
    shots: int = 0
    price: float = 0.0
    waiting: int = 0  # video shots waiting on their board: unpaid, not a problem
    waiting_price: float = 0.0  # what they cost once their boards are approved (not in price)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self, priced: bool = True) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "shots": self.shots,
                "price": round(self.price, 4) if priced else None,
                "waiting_on_boards": self.waiting,
                "waiting_price": round(self.waiting_price, 4) if priced else None,
                "problems": [p.to_dict() for p in self.problems]}


@dataclass
class Admission:
    """The season's episodes, its problems and its total: admitted when it has no problem."""

    rows: list[EpisodeRow]
    problems: list[Problem]
    currency: str = ""
    cast: float = 0.0  # the cast, made once for every episode (no episode's)
    plan: Plan | None = None
    paid: bool = True  # a paid provider (a free one needs no consent)

    @property
    def admitted(self) -> bool:
        return not self.problems

    @property
    def total(self) -> float:
        return round(self.cast + sum(r.price for r in self.rows), 4)

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.rows)

    @property
    def waiting_price(self) -> float:
        """What the videos waiting on their boards cost once approved: not in ``total`` (the
        consent is for what is paid now)."""
        return round(sum(r.waiting_price for r in self.rows), 4)

    @property
    def once_approved(self) -> float:
        """The season's price in all once its boards are approved: now and waiting."""
        return round(self.total + self.waiting_price, 4)

    def to_dict(self) -> dict[str, Any]:
        return {"admitted": self.admitted, "currency": self.currency,
                "episodes": [r.to_dict(self.plan is not None) for r in self.rows],
                "problems": [p.to_dict() for p in self.problems],
                "totals": {"episodes": len(self.rows), "shots": sum(r.shots for r in self.rows),
                           "cast": round(self.cast, 4),
                           "price": self.total if self.plan is not None else None,
                           "waiting_on_boards": self.waiting,
                           **self._waiting_prices(), "problems": len(self.problems)}}

    def _waiting_prices(self) -> dict[str, float | None]:
        priced = self.plan is not None
        return {"waiting_price": self.waiting_price if priced else None,
                "price_once_approved": self.once_approved if priced else None}


class Episodes:
    """Where each episode sits in the series' files, so a located problem names its episode."""

    def __init__(self, path: Path) -> None:
        source = load_source(path)
        self.ids: list[str] = []
        self.spans: dict[str, Span] = {}
        starts: dict[str, list[tuple[int, str]]] = {}
        for episode in source.episodes:
            data = episode.doc.get(episode.path, {})
            name = str(data.get("id") if isinstance(data, dict) and data.get("id")
                       else episode.default_id)
            span = episode.doc.span(episode.path)
            self.ids.append(name)
            self.spans[name] = span
            starts.setdefault(span.file, []).append((span.line, name))
        self.starts = {file: sorted(lines) for file, lines in starts.items()}

    def problem(self, diagnostic: Diagnostic) -> Problem:
        """``diagnostic`` in its episode."""
        episode = self.of(diagnostic)
        return Problem(episode, diagnostic, self.ids.index(episode) + 1 if episode else 0)

    def of(self, diagnostic: Diagnostic) -> str:
        """The episode whose lines hold ``diagnostic`` (``SEASON``: none of them)."""
        span = diagnostic.span
        lines = self.starts.get(span.file, []) if span else []
        at = bisect_right(lines, (span.line, "\uffff")) if span else 0
        return lines[at - 1][1] if at else SEASON


def located(episodes: Episodes, found: list[Diagnostic]) -> list[Problem]:
    """Each error with its episode, by episode (the season's own last), then by line."""
    return in_order(episodes, [episodes.problem(d) for d in found if d.severity == "error"])


def in_order(episodes: Episodes, problems: list[Problem]) -> list[Problem]:
    """By episode (the season's own last), then by line."""
    return sorted(problems, key=lambda p: (p.number or len(episodes.ids) + 1,
                                           p.diagnostic.sort_key()))


def refused(variants: Variants, chosen: list[str]) -> Admission:
    """A season that did not compile: every error by episode (those outside ``chosen`` too:
    no episode of a series that does not compile can be rendered)."""
    from storyboard.language.expansion.ids import names
    episodes = Episodes(variants.root)
    problems = located(episodes, variants.diagnostics())
    rows = _rows(episodes, chosen, problems)
    shots = names(variants.root).episodes
    for row in rows:
        row.shots = len(shots.get(row.id, []))
    return Admission(rows, problems)


def admit(variants: Variants, flags: RenderFlags, chosen: list[str],
          episode_budget: float | None = None) -> Admission:
    """The season of ``chosen`` episodes planned and held to everything a render would stop at
    before its first submit; free (nothing is sent: the key is only looked for)."""
    if variants.matrix:
        raise StoryboardError("a season (plan --season, season render) takes a plain series, "
                              "not a variations matrix: plan and render the matrix with `plan` "
                              "and `render`")
    if not variants.ok:
        return refused(variants, chosen)
    episodes = Episodes(variants.root)
    with open_run(variants, flags) as setup:
        the_plan = matrix_plan(setup).plan
        found = [*the_plan.refused, *_checks(setup, the_plan), *_approved(setup, the_plan, flags)]
    problems = located(episodes, found)
    admission = Admission(_rows(episodes, chosen, problems), problems, the_plan.currency,
                          plan=the_plan, paid=setup.provider.traits.paid)
    _price(admission, the_plan, setup.manifest)
    admission.problems = in_order(episodes, [*admission.problems,
                                             *_over(admission, episodes, flags, episode_budget)])
    for row in admission.rows:
        row.problems = [p for p in admission.problems if p.episode == row.id]
    return admission


def _rows(episodes: Episodes, chosen: list[str], problems: list[Problem]) -> list[EpisodeRow]:
    return [EpisodeRow(n, e, problems=[p for p in problems if p.episode == e])
            for n, e in enumerate(episodes.ids, 1) if e in chosen]


def _checks(setup: RunSetup, the_plan: Plan) -> list[Diagnostic]:
    """What the provider finds wrong with the paid shots, and its key, before any submit (the
    checks ``rendering.consent`` makes, each caught so that every one is listed)."""
    paid = {s.hash for s in the_plan.to_render}
    if not paid or not setup.provider.traits.paid:
        return []
    found: list[Diagnostic] = []
    try:
        setup.provider.check_shots([s for s in setup.shots if s.hash in paid])
    except ProblemsFound as problems:
        found += [d for d in problems.diagnostics if d not in the_plan.refused]
    try:
        setup.provider.preflight()
    except StoryboardError as error:
        found.append(Diagnostic(None, str(error)))
    return found


def _approved(setup: RunSetup, the_plan: Plan, flags: RenderFlags) -> list[Diagnostic]:
    """Approved shots this season would render again since their request changed (their YAML,
    or what they wear: a picture, a look), unless ``--replace-approved``, at their lines, each
    with its cause and the versions standing on it (``rendering.protect_approved`` refuses
    them too)."""
    if flags.replace_approved:
        return []
    renders = {s.key.partition("#")[0] for s in the_plan.shots if s.renders}
    lock = setup.lock or read_lock(lock_path(setup.root))
    changed = approved_changes(setup.manifest, lock)
    standing = standing_on(setup.manifest)
    return [Diagnostic(s.span, refusal(s, changed[state_key(s)], lock, setup.root, standing))
            for s in setup.manifest.shots()
            if state_key(s) in changed and state_key(s) in renders]


def episode_of(shot: ShotPlan) -> str:
    """The episode a planned shot is spent with: its own, a line's or a board's shot's; the
    cast's is ``SEASON``."""
    if shot.episode in CAST_FIRST:
        return SEASON
    return shot.shot.split("/")[0] if shot.episode in OF_A_SHOT else shot.episode


def _price(admission: Admission, the_plan: Plan, manifest: Manifest) -> None:
    """Each row's shots, price and waiting videos (with what they cost once approved); the
    cast's price on the season."""
    rows = {r.id: r for r in admission.rows}
    for episode in manifest.episodes:
        if episode.id in rows:
            rows[episode.id].shots = len(episode.shots)
    for shot in the_plan.shots:
        row = rows.get(episode_of(shot))
        if shot.status == "waits" and row is not None and shot.episode != BOARDS:
            row.waiting += 1
            row.waiting_price = round(row.waiting_price + (0.0 if shot.made_by
                                                           else shot.waiting_cost), 4)
        if not shot.renders or shot.made_by:
            continue
        if row is not None:
            row.price = round(row.price + shot.cost, 4)
        elif not episode_of(shot):
            admission.cast = round(admission.cast + shot.cost, 4)


def _over(admission: Admission, episodes: Episodes, flags: RenderFlags,
          episode_budget: float | None) -> list[Problem]:
    """An episode over ``--episode-budget``, at its line; the season over ``--budget``."""
    money = admission.currency
    over = [Problem(r.id, Diagnostic(episodes.spans[r.id], (
        f"{r.id} costs about {r.price:.2f} {money}, more than --episode-budget "
        f"{episode_budget:.2f}: split it, choose cheaper shots, or raise the budget")),
        r.number) for r in admission.rows
        if episode_budget is not None and not under(r.price, episode_budget)]
    if flags.budget is not None and not under(admission.total, flags.budget):
        over.append(Problem(SEASON, Diagnostic(None, (
            f"the season costs about {admission.total:.2f} {money}, more than --budget "
            f"{flags.budget:.2f}: a season is admitted whole or not at all"))))
    return over


def consent(admission: Admission, flags: RenderFlags, calls: Callbacks) -> None:
    """The season's one consent (``--yes``, ``--budget``, or a yes at a terminal), for its
    total; refused, nothing is submitted."""
    assert admission.plan is not None
    verdict = check_consent(admission.plan, yes=flags.yes, budget=flags.budget,
                            interactive=calls.confirm is not None, paid=admission.paid)
    if verdict == "ask" and calls.confirm is not None and not calls.confirm(admission.plan):
        raise BudgetExceeded("nothing was submitted: the season was not confirmed")


def render_season(variants: Variants, flags: RenderFlags, calls: Callbacks,
                  admission: Admission, episode_budget: float | None) -> MatrixReport:
    """An admitted season rendered: one run; with ``episode_budget``, the cast's run and then
    one run per episode, each under the runner's budget of that amount (and what is left of
    ``--budget``), with the season's one consent."""
    if episode_budget is None or not admission.rows:
        return render_all(variants, flags, calls)
    consent(admission, flags, calls)
    quiet = replace(calls, confirm=None, ask_replace=None)
    reports: list[MatrixReport] = []
    for patterns, budget in _runs(admission, episode_budget):
        left = None if flags.budget is None else max(0.0, flags.budget - _spent(reports))
        limit = budget if left is None else min(left, budget) if budget is not None else left
        reports.append(render_all(variants, replace(flags, shots=patterns, yes=True,
                                                    budget=limit), quiet))
    return merged(reports)


def _runs(admission: Admission, episode_budget: float
          ) -> list[tuple[tuple[str, ...], float | None]]:
    """The season's runs: the cast it pays for first (no episode's budget), then each
    episode's shots under ``episode_budget``."""
    assert admission.plan is not None
    cast = tuple(glob.escape(f"{s.episode}/{s.shot}") for s in admission.plan.to_render
                 if s.episode in CAST_FIRST and not s.made_by)
    eps: list[tuple[tuple[str, ...], float | None]] = [
        ((f"{glob.escape(r.id)}/*",), episode_budget) for r in admission.rows]
    return ([(cast, None)] if cast else []) + eps


def _spent(reports: list[MatrixReport]) -> float:
    """What the season's runs so far spent as the budget counts it (each task at no less than
    its list price): a run that cost more than planned leaves the next one less."""
    return round(sum(r.budget_spent for r in reports), 6)


def merged(reports: list[MatrixReport]) -> MatrixReport:
    """The runs of a season as one report: the first plan, every shot once, every episode."""
    runs = [run for r in reports for run in r.runs]
    first = runs[0]
    seen: dict[str, ShotResult] = {}
    for run in runs:
        for shot in run.shots:
            if shot.key not in seen or seen[shot.key].state == "cached":
                seen[shot.key] = shot
    run = RunResult(list(seen.values()), round(sum(r.spent for r in runs), 6), first.currency,
                    sum(r.submits for r in runs), runs[-1].lock_file,
                    [n for r in runs for n in r.notes],
                    round(sum(r.resumed_cost for r in runs), 6),
                    next((r.measured for r in runs if r.measured is not None), None),
                    round(sum(r.budget_spent for r in runs), 6))
    episodes = [e for r in reports for v in r.variations for e in v.episodes]
    counts: dict[str, int] = {}
    for shot in run.shots:
        counts[shot.state] = counts.get(shot.state, 0) + 1
    failed = not run.ok or any(e.state == "skipped" for e in episodes)
    return MatrixReport([reports[0].plans[0]], [run], [VariationResult(
        None, "failed" if failed else "ok", episodes, counts)])

