"""A plan's or a render's report into what the terminal shows: tables, summaries, JSON.

One view for both shapes of a series (``pipeline.plan`` and ``pipeline.render`` of a plain series
or of a matrix): a plain series is shown as itself (its plan table, its shots and episodes), a
matrix by variation. ``render`` builds one ``RenderFlags`` and one ``Callbacks`` and hands this
view's ``plan`` to them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli import variations as matrix_view
from storyboard.cli.common import guarded

if TYPE_CHECKING:  # the runner and the views are imported where they are used
    from rich.console import Console

    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variants
    from storyboard.review.progress import LiveProgress
    from storyboard.run.variations import MatrixPlan, MatrixReport


def show_plans(variants: Variants, plans: list[MatrixPlan], as_json: bool) -> None:
    """``plan``'s output: a matrix's table per provider group; a plain series' table, with what
    it spent so far and its takes' findings."""
    from storyboard.review import progress
    if not variants.matrix:
        return show_series_plan(variants.manifests[0], plans[0], as_json)
    from storyboard.run.versions.stale import stale_of
    stale = guarded(lambda: stale_of(variants))  # a language variation made from another cut
    if as_json:
        from storyboard.run.variations import plans_dict
        click.echo(json.dumps({**plans_dict(plans), "stale": [
            s.to_dict(variants.root) for s in stale]}, indent=2, sort_keys=True))
        return
    for the_plan in plans:
        progress.console().print(matrix_view.plan_table(the_plan))
        for line in matrix_view.version_lines(the_plan):
            click.echo(line)
    for each in stale:
        click.echo(f"stale: {each.message(variants.root)}")


def show_series_plan(series: Manifest, matrix_plan: MatrixPlan, as_json: bool) -> None:
    from storyboard.review import progress
    the_plan = matrix_plan.plan
    spent, found = guarded(lambda: _so_far(series))
    if as_json:
        from storyboard.run.state.takes import spent as totals
        click.echo(json.dumps({**the_plan.to_dict(), "spent_so_far": totals(spent), "findings": {
            shot: {"take": take, "findings": [f.to_dict() for f in each]}
            for shot, (take, each) in found.items()}}, indent=2, sort_keys=True))
        return
    progress.console().print(progress.plan_table(the_plan))
    for shot, (take, each) in found.items():
        click.echo(f"{shot} (take {take}): " + "; ".join(f.line() for f in each))
        _every_take(series, shot)
    if spent:
        click.echo(progress.spent_line(spent))
    for note in (the_plan.store_note, the_plan.price_note, the_plan.risk_note):
        if note:
            click.echo(f"warning: {note}", err=True)


def _so_far(series: Manifest) -> tuple[list[tuple[float | None, str | None]], dict[str, Any]]:
    """What the journal's tasks cost so far (billed failures included) and each shot's used take
    with findings: what ``plan`` sums up under its table."""
    from storyboard.run import status as journal_status
    from storyboard.run.choices.checks import used_findings
    costs = [(r.cost, r.currency) for r in journal_status(series.root)]
    return costs, used_findings(series)


def _every_take(series: Manifest, shot: str) -> None:
    """A note under a shot's findings when every take has them: ``retake`` cannot fix them."""
    from storyboard.run.choices.checks import every_take_note, on_every_take
    kinds = guarded(lambda: on_every_take(series, shot))
    if kinds:
        click.echo(f"  {every_take_note(kinds)}")


class RenderView:
    """What ``render`` prints: each group's plan before consent, the summary (or JSON, or only
    the failures with ``--quiet``) at the end, and the exit code."""

    def __init__(self, console: Console, live: LiveProgress, matrix: bool) -> None:
        self.console, self.live, self.matrix = console, live, matrix

    def plan(self, the_plan: MatrixPlan) -> None:
        """A group's plan, when it costs something (a plain series: its notes first), and the
        versions made beside it."""
        from rich.text import Text

        from storyboard.review import progress
        plan = the_plan.plan
        self.live.currency = plan.currency
        for note in () if self.matrix else (plan.store_note, plan.price_note,
                                                plan.risk_note):
            if note:
                self.console.print(Text(f"warning: {note}", "yellow"))
        if plan.to_render and plan.total_cost > 0:
            self.console.print(matrix_view.plan_table(the_plan) if self.matrix
                               else progress.plan_table(plan))
        for line in matrix_view.version_lines(the_plan):  # asked for in the same question
            self.console.print(Text(line))

    def finish(self, report: MatrixReport, as_json: bool, quiet: bool, retaking: bool) -> None:
        """Print the report as asked and exit: 0 when every shot and episode came out."""
        if self.matrix:
            self._show(report, as_json, quiet, matrix_dict, matrix_summary, matrix_failures)
            sys.exit(0 if report.ok else 1)
        from storyboard.run.pipeline import as_series
        series = as_series(report)
        self._show(series, as_json, quiet, series_dict, series_summary, series_failures)
        if retaking:  # a retake succeeded when its takes were made; the stitch is said apart
            for built in series.episodes:
                if built.state == "skipped":
                    click.echo(f"note: episode {built.id} was not stitched: {built.message}",
                               err=True)
            sys.exit(0 if series.run is None or series.run.ok else 1)
        sys.exit(0 if series.ok else 1)

    def _show(self, report: Any, as_json: bool, quiet: bool,
              as_dict: Callable[[Any], dict[str, Any]],
              summary: Callable[[Console, Any], None],
              failures: Callable[[Any], list[str]]) -> None:
        if as_json:
            click.echo(json.dumps(as_dict(report), indent=2, sort_keys=True))
        elif not quiet:
            summary(self.console, report)
        else:
            for line in failures(report):
                click.echo(line, err=True)


# --- a plain series ------------------------------------------------------------------------------


def series_failures(report: Any) -> list[str]:
    """What --quiet still says: each shot that did not finish and each episode not stitched."""
    shots = [f"{s.key}: {s.state} {s.code or ''} {s.message}".rstrip()
             for s in (report.run.shots if report.run else []) if not s.ok]
    return [*shots, *(f"episode {e.id}: {e.state} - {e.message}" for e in report.episodes
                      if e.state == "skipped")]


def ask_replace() -> Callable[[str], bool]:
    def ask(named: str) -> bool:
        return click.confirm(f"approved shot(s) changed: {named}. Render them anyway (their "
                             "approval is lifted)?", default=False, err=True)
    return ask


def warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


def confirm() -> Callable[[Any], bool]:
    def ask(the_plan: Any) -> bool:  # the plan (and a budget's cut) is on screen already
        cost = the_plan.total_cost if the_plan.budget_cost is None else the_plan.budget_cost
        return click.confirm(f"Spend about {cost:.2f} {the_plan.currency}?",
                             default=False, err=True)
    return ask


def series_dict(report: Any) -> dict[str, Any]:
    run = report.run
    return {
        "ok": report.ok,
        "spent": run.spent if run else 0.0,
        "currency": run.currency if run else report.plan.currency,
        "resumed_cost": run.resumed_cost if run else 0.0,
        "resumed": [s.key for s in run.resumed] if run else [],
        "store": report.plan.store, "notes": run.notes if run else [],
        "findings": _findings(run),
        "shots": [{"key": s.key, "state": s.state, "output": str(s.output) if s.output else None,
                   "task_id": s.task_id, "cost": s.cost, "code": s.code, "message": s.message,
                   "resumed": s.resumed}
                  for s in (run.shots if run else [])],
        "episodes": [{"id": e.id, "path": str(e.path), "state": e.state,
                      "duration": e.duration, "path_taken": e.path_taken,
                      "subtitles": [str(p) for p in e.subtitles], "message": e.message}
                     for e in report.episodes],
    }


def _findings(run: Any) -> dict[str, Any]:
    """What measuring the run's takes found, by take (``measured``: the takes measured now;
    ``notes``: what was not measured, and how to)."""
    found = run.measured if run is not None else None
    if found is None:
        return {}
    return {"measured": found.measured, "remeasured": found.remeasured,
            "takes": {k: [f.to_dict() for f in v] for k, v in sorted(found.findings.items())},
            "notes": list(found.notes)}


def series_summary(console: Console, report: Any) -> None:
    from rich.text import Text
    run = report.run
    if run is not None:
        counts: dict[str, int] = {}
        for shot in run.shots:
            counts[shot.state] = counts.get(shot.state, 0) + 1
        done = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        console.print(f"shots: {done}; {_spending(run)}")
        for shot in run.shots:
            if not shot.ok:
                console.print(Text(f"{shot.key}: {shot.state}", "red"),
                              Text(f"{shot.code} {shot.message}"))
        for note in run.notes:
            console.print(Text(f"store: {note}", "yellow"))
        if run.measured is not None:
            for index, line in enumerate(run.measured.lines()):
                console.print(Text(line, "yellow" if index else ""))


def _spending(run: Any) -> str:
    """What this run spent on new tasks (a billed failure is one), apart from the resumed ones
    an earlier run paid for."""
    from storyboard.review import progress
    new = len([s for s in run.shots if not s.resumed and (s.state == "done" or s.cost > 0)])
    spent = f"spent {progress.money(run.spent, run.currency)} on {new} new task(s)"
    if not run.resumed:
        return spent
    return (f"{spent}; resumed {len(run.resumed)} task(s) an earlier run submitted and paid "
            f"for ({progress.money(run.resumed_cost, run.currency)})")


# --- a matrix ------------------------------------------------------------------------------------


def matrix_failures(report: MatrixReport) -> list[str]:
    """What --quiet still says: each variation that failed, and why."""
    from storyboard.cli.runs.versionview import failures
    lines = [f"{v.language} version: {line}" for v in report.versions for line in failures(v)]
    for v in report.variations:
        if v.ok:
            continue
        shots = ", ".join(f"{n} {state}" for state, n in sorted(v.shots.items()))
        lines.append(f"{v.name}: {v.state} ({shots})")
        lines += [f"  {e.id}: {e.state} - {e.message}" for e in v.episodes if e.state == "skipped"]
        lines += [f"  {d.format()}" for d in v.problems if d.severity == "error"]
    return lines


def matrix_dict(report: MatrixReport) -> dict[str, Any]:
    """A matrix's render as ``--json`` gives it: ``shots`` are what its runs made or found, each
    once (the variations' takes, and the versions' lines and passes, in a variation's run or
    one of their own: their costs add up to ``spent``); each version's are under its own entry
    of ``versions`` too."""
    from storyboard.cli.runs.versionview import version_dict
    runs = [*report.runs, *(run for v in report.versions for run in v.runs)]
    return {
        "versions": [version_dict(v) for v in report.versions],
        "ok": report.ok,
        "spent": report.spent,
        "currency": report.runs[0].currency if report.runs else None,
        "submits": report.submits,
        "distinct_shots": report.distinct,
        "providers": [p.plan.provider for p in report.plans],
        "shots": [{"key": s.key, "state": s.state, "task_id": s.task_id, "cost": s.cost,
                   "code": s.code, "message": s.message, "resumed": s.resumed}
                  for run in runs for s in run.shots],
        "variations": [{
            "name": v.name, "state": v.state, "shots": v.shots,
            "episodes": [{"id": e.id, "path": str(e.path), "state": e.state,
                          "message": e.message} for e in v.episodes],
            "problems": [d.format() for d in v.problems if d.severity == "error"],
        } for v in report.variations],
    }


def matrix_summary(console: Console, report: MatrixReport) -> None:
    from storyboard.review import progress
    if report.runs:
        currency = report.runs[0].currency
        resumed = [s for run in report.runs for s in run.resumed]
        earlier = sum(run.resumed_cost for run in report.runs)
        console.print(f"{len(report.variations)} variation(s); {report.submits} task(s) "
                      f"submitted; spent {progress.money(report.spent, currency)}"
                      + (f"; resumed {len(resumed)} task(s) an earlier run submitted and paid "
                         f"for ({progress.money(earlier, currency)})" if resumed else ""))
    for v in report.variations:
        shots = ", ".join(f"{n} {state}" for state, n in sorted(v.shots.items())) or "no shots"
        style = "green" if v.ok else "red"
        console.print(f"[{style}]{v.name}: {v.state}[/{style}] ({shots})")
        for episode in v.episodes:
            console.print(f"  {episode.id}: {episode.state} {episode.path}"
                          + (f" - {episode.message}" if episode.message else ""))
        for problem in v.problems:
            if problem.severity == "error":
                console.print(f"  {problem.format()}", markup=False, highlight=False)
    from storyboard.cli.runs.versionview import show
    for version in report.versions:  # language variations made as versions: no video rendered
        show(version)
        for warning in version.fits:
            click.echo(f"warning: {warning}", err=True)
