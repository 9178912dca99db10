"""``--var`` and ``--variation`` into library calls: check, compile, plan and render of a matrix.

The commands in ``cli`` load every series through ``load_variants``; a series without a matrix
goes on exactly as before, one with a matrix comes here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli import complete
from storyboard.errors import StoryboardError

if TYPE_CHECKING:  # the compiler, the runner and the views are imported where they are used
    from rich.console import Console
    from rich.table import Table

    from storyboard.dialects.base import Dialect
    from storyboard.language.variations import Variants
    from storyboard.run.plan import Plan
    from storyboard.run.variations import MatrixPlan, MatrixReport

VAR = click.option("--var", "var", multiple=True, metavar="KEY=VALUE",
                   help="Set a template variable (over the series' vars; repeatable).")
VARIATION = click.option("--variation", "variation", multiple=True, metavar="NAME|GLOB",
                         help="Only the variations with this name or matching this glob "
                              "(repeatable).", shell_complete=complete.variations)


def parse_vars(values: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; a value is read as a YAML scalar (``4`` is a number, ``en`` text)."""
    import yaml
    found: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE with KEY a name",
                                     param_hint="--var")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        found[key.strip()] = value if isinstance(value, str | int | float | bool) else text
    return found


def load_variants(path: Path, var: tuple[str, ...], variation: tuple[str, ...], *,
                  fail: Callable[[StoryboardError], None], provider: str | None = None,
                  keep_going: bool = False, every_warning: bool = False) -> Variants:
    """Every selected variation compiled (for ``provider``'s limits); errors end the command
    unless ``keep_going``. The words ``init --from`` could not settle are listed by ``check``
    (``every_warning``); any other command says how many in one line."""
    from storyboard.language.variations import compile_variations, strict
    try:
        variants = compile_variations(path, vars=parse_vars(var), select=list(variation) or None,
                                      provider=provider)
        if not keep_going:
            strict(variants)
    except StoryboardError as error:
        fail(error)
        raise AssertionError("unreachable") from error
    unsettled = 0
    for problem in variants.diagnostics():
        if problem.code == "init-unsettled" and not every_warning:
            unsettled += 1
        elif problem.severity == "warning" or not keep_going:
            click.echo(problem.format(), err=True)
    if unsettled:
        click.echo(f"warning: {unsettled} cast word(s) `init --from` could not settle; "
                   f"`storyboard check {path}` lists each", err=True)
    return variants


def check(variants: Variants) -> None:
    shots = variants.shots()
    click.echo(f"ok: {len(variants.variants)} variation(s), "
               f"{sum(len(m.episodes) for m in variants.manifests)} episode(s), {len(shots)} "
               f"shot(s), {len({s.hash for s in shots})} distinct after sharing")


def compile_json(variants: Variants, episode: str | None, shot: str | None,
                 dialect: Dialect) -> None:
    from storyboard.dialects import manifest as manifest_json
    data = {"storyboard": 1, "series": {"name": variants.name},
            "variations": [{"name": v.name, "vars": _plain(v.vars),
                            **manifest_json.to_dict(
                                v.manifest, episode=episode, shot=shot, dialect=dialect,
                                media_base_url=v.manifest.settings_for(dialect.name).get(
                                    "media_base_url"))}
                           for v in variants.variants if v.manifest is not None]}
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def plan(variants: Variants, provider: str | None, draft: bool, episode: str | None,
         as_json: bool, guarded: Callable[[Callable[[], Any]], Any], offline: bool = False
         ) -> list[Plan]:
    """Print the plan of every variation (a group per provider); return each group's plan."""
    from storyboard.review import progress
    from storyboard.run.pipeline import plan as plan_all
    from storyboard.run.setup import RenderFlags
    flags = RenderFlags(provider, episode, draft, offline=offline)
    plans: list[MatrixPlan] = guarded(lambda: plan_all(variants, flags))
    if as_json:
        data = plans[0].to_dict() if len(plans) == 1 else {
            "groups": [{"provider": p.plan.provider, **p.to_dict()} for p in plans]}
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        for the_plan in plans:
            progress.console().print(plan_table(the_plan))
    return [p.plan for p in plans]


def plan_table(the_plan: MatrixPlan) -> Table:
    from rich.table import Table

    from storyboard.review import progress
    money = the_plan.plan.currency
    table = Table(title=f"{len(the_plan.variations)} variation(s), {the_plan.distinct} distinct "
                        f"shot(s); total {progress.money(the_plan.plan.total_cost, money)} "
                        f"with {the_plan.plan.provider}")
    for column in ("variation", "shots", "cached", "shared", "alone", "adds", "on its own"):
        table.add_column(column, justify="left" if column == "variation" else "right")
    for v in the_plan.variations:
        table.add_row(v.name, str(v.shots), str(v.cached), str(v.shared), str(v.own),
                      progress.money(v.adds_cost, money), progress.money(v.alone_cost, money))
    table.add_section()
    table.add_row("total", str(len(the_plan.plan.shots)), "", "", "",
                  progress.money(the_plan.plan.total_cost, money), "")
    table.caption = ("shared / alone: shots to render that other variations need too / that only "
                     "it needs; adds: what it adds to the variations above it (shared shots are "
                     "paid once, by the first), so the adds sum to the total; on its own: its "
                     "cost rendered alone")
    table.caption_justify = "left"
    return table


def render(variants: Variants, options: dict[str, Any], console: Console, as_json: bool,
           quiet: bool, fail: Callable[[StoryboardError], None]) -> None:
    from storyboard.review import progress
    from storyboard.run.pipeline import render as render_all
    from storyboard.run.setup import split_options
    live = progress.LiveProgress(console, "")

    def show_plan(the_plan: MatrixPlan) -> None:
        live.currency = the_plan.plan.currency
        if the_plan.plan.to_render and the_plan.plan.total_cost > 0:
            console.print(plan_table(the_plan))

    try:
        with live:
            flags, calls = split_options({**options, "on_plan": show_plan,
                                          "on_event": live.event, "on_episode": live.episode})
            report = render_all(variants, flags, calls)
    except StoryboardError as error:
        fail(error)
        return
    if as_json:
        click.echo(json.dumps(report_dict(report), indent=2, sort_keys=True))
    elif not quiet:
        summary(console, report)
    else:
        for line in failures(report):
            click.echo(line, err=True)
    sys.exit(0 if report.ok else 1)


def failures(report: MatrixReport) -> list[str]:
    """What --quiet still says: each variation that failed, and why."""
    lines = []
    for v in report.variations:
        if v.ok:
            continue
        shots = ", ".join(f"{n} {state}" for state, n in sorted(v.shots.items()))
        lines.append(f"{v.name}: {v.state} ({shots})")
        lines += [f"  {e.id}: {e.state} - {e.message}" for e in v.episodes if e.state == "skipped"]
        lines += [f"  {d.format()}" for d in v.problems if d.severity == "error"]
    return lines


def report_dict(report: MatrixReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "spent": report.spent,
        "currency": report.runs[0].currency if report.runs else None,
        "submits": report.submits,
        "distinct_shots": report.distinct,
        "providers": [p.plan.provider for p in report.plans],
        "shots": [{"key": s.key, "state": s.state, "task_id": s.task_id, "cost": s.cost,
                   "code": s.code, "message": s.message, "resumed": s.resumed}
                  for run in report.runs for s in run.shots],
        "variations": [{
            "name": v.name, "state": v.state, "shots": v.shots,
            "episodes": [{"id": e.id, "path": str(e.path), "state": e.state,
                          "message": e.message} for e in v.episodes],
            "problems": [d.format() for d in v.problems if d.severity == "error"],
        } for v in report.variations],
    }


def summary(console: Console, report: MatrixReport) -> None:
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
