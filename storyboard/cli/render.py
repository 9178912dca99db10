"""Series commands into library calls: ``check``, ``compile``, ``plan``, ``render``, ``status``, ``cancel``.

Each flag maps onto one argument of the public API; errors are printed by ``common.fail``.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli import complete, diagnostics
from storyboard.cli import variations as matrix
from storyboard.cli.common import (
    AMOUNT,
    EPISODE,
    JSON,
    PROVIDER_CHOICE,
    SERIES,
    compiled,
    emit,
    fail,
    guarded,
    variants_of,
)
from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.targets.gateways import DASHSCOPE_NAME
from storyboard.targets.prices import under

if TYPE_CHECKING:  # the compiler, the runner and the views are imported where they are used
    from rich.console import Console

    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variants
    from storyboard.run.plan import Plan

__all__ = ["cancel", "check", "compile_command", "plan", "render", "status"]

PROVIDER = click.option("--provider", type=PROVIDER_CHOICE,
                        help="This provider (default: the series' provider.name, else local).")


@click.command()
@click.argument("path", type=SERIES)
@PROVIDER
@matrix.VAR
@matrix.VARIATION
@click.option("--format", "fmt", type=click.Choice(diagnostics.FORMATS), default="text",
              help="text (default), json (a list of {file, line, column, severity, code, "
                   "message}) or github (workflow annotations).")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def check(path: Path, provider: str | None, var: tuple[str, ...],
          variation: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Validate a series (every variation, for a provider's limits): every problem at once,
    each at file:line:col."""
    if as_json or fmt != "text":
        return diagnostics.check(path, var, variation, provider, "json" if as_json else fmt)
    variants = variants_of(path, var, variation, provider=provider, every_warning=True)
    provider_check(variants.manifests, provider)
    if variants.matrix:
        return matrix.check(variants)
    compiled_series = variants.manifests[0]
    shots = len(compiled_series.episode_shots())
    assets = f", {len(compiled_series.cast)} cast asset(s)" if compiled_series.cast else ""
    click.echo(f"ok: {len(compiled_series.episodes)} episode(s), {shots} shot(s){assets}")


def provider_check(manifests: list[Manifest], provider: str | None) -> None:
    """What the provider finds wrong with no server (ComfyUI: every workflow a shot would use),
    for each variation: located errors end the command, as the language's do."""
    from storyboard.providers.offline import offline_problems
    found: list[Diagnostic] = []
    for manifest in manifests:
        found += guarded(functools.partial(offline_problems, manifest, provider))
    if found:
        fail(ProblemsFound(found))


@click.command("compile")
@click.argument("path", type=SERIES)
@PROVIDER
@click.option("--episode", help="Only this episode.", shell_complete=complete.episodes)
@click.option("--shot", help="Only this shot.", shell_complete=complete.shots)
@click.option("--format", "form", type=click.Choice(["json", "prompt"]), default="json",
              show_default=True, help="prompt: each shot's prompt and media list as text.")
@matrix.VAR
@matrix.VARIATION
def compile_command(path: Path, provider: str | None, episode: str | None, shot: str | None,
                    form: str, var: tuple[str, ...], variation: tuple[str, ...]) -> None:
    """Print the compiled manifest (that provider's bodies; one per variation) as stable,
    sorted JSON, or each shot's prompt and media (--format prompt)."""
    from storyboard.dialects import DIALECTS
    from storyboard.dialects import manifest as manifest_json
    variants = as_picked(variants_of(path, var, variation, provider=provider), provider)
    for manifest in variants.manifests:
        guarded(partial(selected, manifest, episode, shot))
    if form == "prompt":
        from storyboard.cli.prompt_form import manifest_form
        return click.echo("\n".join(manifest_form(m, episode=episode, shot=shot)
                                     for m in variants.manifests), nl=False)
    first = variants.manifests[0]
    name = provider or str(first.provider.get("name") or DASHSCOPE_NAME)
    dialect = DIALECTS.get(name, DIALECTS[DASHSCOPE_NAME])
    if variants.matrix:
        return matrix.compile_json(variants, episode, shot, dialect)
    click.echo(manifest_json.to_json(first, episode=episode, shot=shot, dialect=dialect,
                                     media_base_url=first.settings_for(name).get("media_base_url")),
               nl=False)


def as_picked(variants: Variants, provider: str | None) -> Variants:
    """Each variation as the lock's picks and retakes make it: a shot's hash covers the picked
    take of every asset and shot that reaches it, so a pick shows in ``compile``'s output."""
    from storyboard.language.picks import as_picked as picked
    from storyboard.targets.kinds import is_paid, named
    states = lock_takes(variants.root)
    for variant in variants.variants:
        if variant.manifest is not None:
            name = named(variant.manifest.provider, provider)
            variant.manifest = picked(variant.manifest, states, free=not is_paid(name))
    return variants


def lock_takes(root: Path) -> dict[str, Any]:
    """The take states of the series' lock (``storyboard.lock``), read without the runner (which
    ``compile`` never imports); none when there is no lock or it is not one (``render`` says so)."""
    try:
        data = json.loads((root / "storyboard.lock").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    takes = data.get("takes") if isinstance(data, dict) else None
    return {k: v for k, v in takes.items() if isinstance(v, dict)} if isinstance(takes, dict) \
        else {}


def selected(manifest: Manifest, episode: str | None, shot: str | None) -> None:
    """Raise when ``--episode`` or ``--shot`` names nothing in ``manifest``."""
    from storyboard.language.validate import did_you_mean
    episodes = [ep.id for ep in manifest.episodes]
    if episode is not None and episode not in episodes:
        raise StoryboardError(f"--episode {episode!r} names no episode of this series"
                              f"{did_you_mean(episode, episodes)}; expected one of: "
                              f"{', '.join(episodes[:8])}")
    names = [f"{a.episode}/{a.name}" for a in manifest.cast if episode is None]
    names += [n for s in manifest.episode_shots() if episode in (None, s.episode)
              for n in (s.shot_id, s.id)]
    if shot is not None and shot not in names:
        raise StoryboardError(f"--shot {shot!r} names no shot or cast asset of this series"
                              f"{did_you_mean(shot, names)}; expected EPISODE/SHOT, SHOT or "
                              f"cast/NAME, e.g. {next(iter(names), 'ep01/shot01')}")


NO_LISTENER = ("it is the public address of that listener, and without one no callback is "
               "taken (polling alone follows the tasks)")
DRAFT = click.option("--draft", is_flag=True,
                     help="Low resolution and frame rate proxies (local provider only).")
OFFLINE = click.option("--offline", is_flag=True,
                       help="Do not use the shared store (store: / STORYBOARD_STORE).")


@click.command()
@click.argument("path", type=SERIES)
@PROVIDER
@EPISODE
@DRAFT
@OFFLINE
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--max-cost", type=AMOUNT, metavar="AMOUNT",
              help="Exit 1 if the plan costs more than this (in the plan's currency): a cost "
                   "gate for CI and pre-commit.")
@click.option("--compare", metavar="MODEL,MODEL", is_flag=False, flag_value="",
              help="Price the series (or --episode) on each of these models side by side (alone: "
                   "its own model and its fallbacks:), with what each cannot render and why; "
                   "nothing is spent.")
@matrix.VAR
@matrix.VARIATION
def plan(path: Path, provider: str | None, episode: str | None, draft: bool, offline: bool,
         as_json: bool, max_cost: float | None, compare: str | None, var: tuple[str, ...],
         variation: tuple[str, ...]) -> None:
    """What a render would do and cost (per variation and in all): free (it only lists the
    shared store, if any)."""
    if compare is not None:
        _compare(path, compare, provider, episode, as_json)
        return
    variants = variants_of(path, var, variation, provider=provider)
    provider_check(variants.manifests, provider)
    if variants.matrix:
        plans = matrix.plan(variants, provider, draft, episode, as_json, guarded, offline)
    else:
        plans = [_plan_one(variants.manifests[0], provider, episode, draft, offline, as_json)]
    _breakdown_notes(path)
    refused = [d for each in plans for d in each.refused]
    if refused:  # what render will refuse, at its lines (``Provider.refused``, shared)
        if as_json:  # the plan's own JSON (printed) lists them: one document on stdout
            click.echo(ProblemsFound(refused).format(), err=True)
            raise SystemExit(1)
        fail(ProblemsFound(refused))
    if max_cost is not None:
        _cost_gate(plans, max_cost)


def _breakdown_notes(path: Path) -> None:
    """The series' breakdown, if it has one: proposals waiting, and what catching up costs."""
    if not (path / ".storyboard" / "breakdown" / "last.json").is_file():
        return
    from storyboard.breakdown.status import notes
    for note in notes(path):
        click.echo(note, err=True)


def _plan_one(series: Manifest, provider: str | None, episode: str | None, draft: bool,
              offline: bool, as_json: bool) -> Plan:
    """Print the plan of a series without variations; return it."""
    from storyboard.review import progress
    from storyboard.run.pipeline import plan_series
    from storyboard.run.setup import make_provider
    chosen = guarded(lambda: make_provider(series, provider, draft=draft))
    the_plan = guarded(lambda: plan_series(series, chosen, episode, offline=offline))
    spent, found = guarded(lambda: _so_far(series))
    if as_json:
        from storyboard.run.takes import spent as totals
        click.echo(json.dumps({**the_plan.to_dict(), "spent_so_far": totals(spent), "findings": {
            shot: {"take": take, "findings": [f.to_dict() for f in each]}
            for shot, (take, each) in found.items()}}, indent=2, sort_keys=True))
    else:
        progress.console().print(progress.plan_table(the_plan))
        for shot, (take, each) in found.items():
            click.echo(f"{shot} (take {take}): " + "; ".join(f.line() for f in each))
            _every_take(series, shot)
        if spent:
            click.echo(progress.spent_line(spent))
        for note in (the_plan.store_note, the_plan.price_note):
            if note:
                click.echo(f"warning: {note}", err=True)
    return the_plan


def _every_take(series: Manifest, shot: str) -> None:
    """A note under a shot's findings when every take has them: ``retake`` cannot fix them."""
    from storyboard.run.takechecks import every_take_note, on_every_take
    kinds = guarded(lambda: on_every_take(series, shot))
    if kinds:
        click.echo(f"  {every_take_note(kinds)}")


def _compare(path: Path, models: str, provider: str | None, episode: str | None,
             as_json: bool) -> None:
    """``plan --compare``: each model's price and what it refuses, as a table or JSON."""
    from storyboard.review import progress
    from storyboard.run.compare import compare_series
    columns = guarded(lambda: compare_series(path, models, provider, episode))
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in columns], indent=2, sort_keys=True))
        return
    width = max(len(c.model) for c in columns)
    by = max(len("provider"), *(len(c.provider) for c in columns))
    key = max(len("key"), *(len(c.key) for c in columns))
    click.echo(f"{'model':<{width}}  {'provider':<{by}}  {'key':<{key}}  shots  renders  "
               "billed s  cost")
    for c in columns:
        click.echo(f"{c.model:<{width}}  {c.provider:<{by}}  {c.key:<{key}}  {c.shots:>5}  "
                   f"{c.renders:>7}  {c.seconds:>8g}  {progress.money(c.cost, c.currency)}"
                   + (f"  (renders none: {c.why_none})" if c.why_none else ""))
    for c in columns:
        if c.refused:
            click.echo(f"\n{c.model} cannot render {', '.join(c.refused_shots)}:")
        for r in c.refused:
            click.echo(f"  {r.shot}: {r.message} ({r.where})")


def _so_far(series: Manifest) -> tuple[list[tuple[float | None, str | None]], dict[str, Any]]:
    """What the journal's tasks cost so far (billed failures included) and each shot's used take
    with findings: what ``plan`` sums up under its table."""
    from storyboard.run import status as journal_status
    from storyboard.run.takechecks import used_findings
    costs = [(r.cost, r.currency) for r in journal_status(series.root)]
    return costs, used_findings(series)


def _cost_gate(plans: list[Plan], max_cost: float) -> None:
    """Exit 1, saying what they cost, when the plans cost more than ``max_cost`` (the total of
    each currency is held to it)."""
    from storyboard.review import progress
    totals: dict[str, float] = {}
    for the_plan in plans:
        totals[the_plan.currency] = totals.get(the_plan.currency, 0.0) + the_plan.total_cost
    for currency, total in sorted(totals.items()):
        limit = progress.money(max_cost, currency)
        if not under(total, max_cost):  # fails closed
            click.echo(f"error: the plan costs {progress.money(total, currency)}, more than "
                       f"--max-cost {limit}: render fewer or cheaper shots, or raise the limit",
                       err=True)
            sys.exit(1)
        click.echo(f"ok: the plan costs {progress.money(total, currency)}, within --max-cost "
                   f"{limit}", err=True)


@click.command()
@click.argument("path", type=SERIES)
@PROVIDER
@EPISODE
@DRAFT
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder for the episode files (default: the series' output.dir, else out/, inside "
                   "the series folder).")
@click.option("--yes", is_flag=True, help="Accept the planned cost without asking.")
@click.option("--budget", type=AMOUNT,
              help="Refuse to start, or submit more, past this amount.")
@click.option("--concurrency", type=click.IntRange(1, 100), help="Tasks in flight at once.")
@OFFLINE
@click.option("-q", "--quiet", is_flag=True,
              help="No progress display and no summary: only what failed is printed.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report at the end.")
@click.option("--webhook-listen", metavar="HOST:PORT",
              help="Take the gateway's status callbacks here (they only hasten polls).")
@click.option("--webhook-url", help="The public URL that reaches --webhook-listen.")
@click.option("--shot", "shots", multiple=True, metavar="EPISODE/SHOT",
              help="Only this shot's takes (repeatable, globs allowed); re-stitches its episode.",
              shell_complete=complete.shot_paths)
@click.option("--retake", "retaking", is_flag=True, hidden=True,
              help="Exit by the takes made alone (retake): stitching is reported apart.")
@click.option("--replace-approved", is_flag=True,
              help="Spend on approved shots whose YAML changed (their approval is lifted).")
@matrix.VAR
@matrix.VARIATION
def render(path: Path, provider: str | None, episode: str | None, draft: bool, out: Path | None,
           yes: bool, budget: float | None, concurrency: int | None, offline: bool, quiet: bool,
           as_json: bool, webhook_listen: str | None, webhook_url: str | None,
           shots: tuple[str, ...], replace_approved: bool, retaking: bool,
           var: tuple[str, ...], variation: tuple[str, ...],
           take_changes: tuple[Any, ...] = ()) -> None:
    """Render every changed shot and take (of every variation), then stitch each episode."""
    # take_changes: not a flag; `retake` passes the lock change asking for its takes
    if webhook_url and not webhook_listen:
        raise click.UsageError(f"--webhook-url needs --webhook-listen HOST:PORT: {NO_LISTENER}")
    from rich.text import Text

    from storyboard.review import progress
    from storyboard.run.pipeline import render_series
    from storyboard.run.rendering import interactive
    variants = variants_of(path, var, variation, provider=provider, keep_going=True)
    console = progress.console(stderr=True, quiet=quiet or as_json)
    ask = _confirm(console) if interactive() and not as_json else None
    if variants.matrix:
        options = {"provider": provider, "episode": episode, "draft": draft, "out": out,
                   "yes": yes, "budget": budget, "concurrency": concurrency, "offline": offline,
                   "confirm": ask, "shots": shots, "replace_approved": replace_approved,
                   "webhook_listen": webhook_listen, "webhook_url": webhook_url,
                   "ask_replace": _ask_replace() if ask else None, "take_changes": take_changes,
                   "on_notice": lambda text: click.echo(f"warning: {text}", err=True)}
        return matrix.render(variants, options, console, as_json, quiet, fail)
    if not variants.ok:
        fail(ProblemsFound(variants.diagnostics()))
    series = variants.manifests[0]
    live = progress.LiveProgress(console, "")

    def show_plan(the_plan: Any) -> None:
        live.currency = the_plan.currency
        for note in (the_plan.store_note, the_plan.price_note):
            if note:
                console.print(Text(f"warning: {note}", "yellow"))
        if the_plan.to_render and the_plan.total_cost > 0:
            console.print(progress.plan_table(the_plan))

    try:
        with live:
            report = render_series(
                series, provider=provider, episode=episode, draft=draft, out=out, yes=yes,
                budget=budget, concurrency=concurrency, offline=offline, confirm=ask,
                on_plan=show_plan, on_event=live.event, on_episode=live.episode,
                on_notice=lambda text: click.echo(f"warning: {text}", err=True),
                webhook_listen=webhook_listen, webhook_url=webhook_url, shots=shots,
                replace_approved=replace_approved, ask_replace=_ask_replace() if ask else None,
                take_changes=take_changes)
    except StoryboardError as error:
        fail(error)  # after the live view has closed, so the error is the last word
        return
    if as_json:
        click.echo(json.dumps(_report_dict(report), indent=2, sort_keys=True))
    elif not quiet:
        _summary(console, report)
    else:
        for line in _failures(report):
            click.echo(line, err=True)
    if retaking:  # a retake succeeded when its takes were made; the stitch is said apart
        for built in report.episodes:
            if built.state == "skipped":
                click.echo(f"note: episode {built.id} was not stitched: {built.message}",
                           err=True)
        sys.exit(0 if report.run is None or report.run.ok else 1)
    sys.exit(0 if report.ok else 1)


def _failures(report: Any) -> list[str]:
    """What --quiet still says: each shot that did not finish and each episode not stitched."""
    shots = [f"{s.key}: {s.state} {s.code or ''} {s.message}".rstrip()
             for s in (report.run.shots if report.run else []) if not s.ok]
    return [*shots, *(f"episode {e.id}: {e.state} - {e.message}" for e in report.episodes
                      if e.state == "skipped")]


def _ask_replace() -> Callable[[str], bool]:
    def ask(named: str) -> bool:
        return click.confirm(f"approved shot(s) changed: {named}. Render them anyway (their "
                             "approval is lifted)?", default=False, err=True)
    return ask


def _confirm(console: Console) -> Callable[[Any], bool]:
    def ask(the_plan: Any) -> bool:  # the plan (and a budget's cut) is on screen already
        cost = the_plan.total_cost if the_plan.budget_cost is None else the_plan.budget_cost
        return click.confirm(f"Spend about {cost:.2f} {the_plan.currency}?",
                             default=False, err=True)
    return ask


def _report_dict(report: Any) -> dict[str, Any]:
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
    """What measuring the run's takes found, by take (``measured``: the takes measured now)."""
    found = run.measured if run is not None else None
    if found is None:
        return {}
    return {"measured": found.measured, "remeasured": found.remeasured,
            "takes": {k: [f.to_dict() for f in v] for k, v in sorted(found.findings.items())}}


def _summary(console: Console, report: Any) -> None:
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


@click.command()
@click.argument("path", type=SERIES)
@click.option("--all", "show_all", is_flag=True,
              help="Every attempt, older versions of the shots too (marked as such).")
@click.option("--pending", is_flag=True, help="Only tasks not finished yet.")
@click.option("--json", "as_json", is_flag=True, help="Print the journal rows as JSON.")
def status(path: Path, show_all: bool, pending: bool, as_json: bool) -> None:
    """Show the task journal for the series as it is now: each shot's latest attempt at its
    current version, its task, its state, its cost."""
    from storyboard.review import progress
    from storyboard.run import status as journal_status
    from storyboard.run.cancel import current_status, current_versions
    from storyboard.run.takes import with_retakes
    variants = variants_of(path)
    shots = [take for manifest in variants.manifests  # every take: a picked take 2 is current
             for shot in with_retakes(manifest).shots() for take in shot.all_takes()]
    rows = guarded(lambda: journal_status(variants.manifests[0].root, unfinished_only=pending))
    every = list(rows)
    unrendered: list[str] = []
    empty = "nothing in flight" if pending else (
        "the journal is empty" if not rows else "no attempt at the current version")
    if not show_all:
        view = current_status(rows, shots)
        rows, unrendered = view.rows, [] if pending else view.unrendered
    now = current_versions(shots)
    older = {r.id for r in rows if (r.key, r.shot_hash) not in now}
    found = guarded(lambda: _found(variants.manifests[0], shots))
    if as_json:
        click.echo(json.dumps([{**progress.attempt_dict(r), "current": r.id not in older,
                                "findings": found.get(r.key)}
                               for r in rows], indent=2, sort_keys=True, default=str))
        return
    if not rows:
        click.echo(empty)
    else:
        marks = _marks(variants.root, shots)
        for key, each in found.items():
            said = "; ".join(f"{f['kind']} {f['start']:.2f} s" for f in each) or "measured clean"
            marks[key] = ", ".join(m for m in (marks.get(key), said) if m)
        progress.console().print(progress.status_table(rows, older, marks))
    for key in unrendered:
        click.echo(f"{key.split('/', 1)[-1]}: changed since its last attempt, not rendered "
                   "yet (older attempts: status --all)")
    if every and not pending:
        click.echo(progress.spent_line([(r.cost, r.currency) for r in every]))


def _found(manifest: Any, takes: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Each measured take's findings by its journal key (``takes`` shows the same)."""
    from storyboard.run.lockfile import lock_path, read_lock, shot_key
    from storyboard.run.measured import findings_of, thresholds
    from storyboard.run.takechecks import output_sha256
    lock, limits = read_lock(lock_path(manifest.root)), thresholds(manifest.checks)
    found = {shot_key(t): findings_of(manifest.root, output_sha256(t, lock), t, limits)
             for t in takes}
    return {k: [f.to_dict() for f in v] for k, v in found.items() if v is not None}


def _marks(root: Path, takes: list[Any]) -> dict[str, str]:
    """Each take's "picked" / "approved" marks by its journal key (as ``takes`` shows them)."""
    from storyboard.run.lockfile import lock_path, read_lock, shot_key
    from storyboard.run.takes import state_key
    states = read_lock(lock_path(root)).takes
    return {shot_key(t): ", ".join(m for m in ("picked", "approved")
                                   if states.get(state_key(t), {}).get(m) == t.take)
            for t in takes}


@click.command()
@click.argument("path", type=SERIES)
@PROVIDER
@JSON
def cancel(path: Path, provider: str | None, as_json: bool) -> None:
    """Cancel the tasks still pending at the provider (only PENDING tasks can be canceled);
    each is settled in the series' ledger (the team one when it has one)."""
    import asyncio

    from storyboard.run import cancel_pending
    from storyboard.run.setup import make_provider, open_ledger
    series = compiled(path)
    chosen = guarded(lambda: make_provider(series, provider))
    team = guarded(lambda: open_ledger(series))

    async def go() -> list[Any]:
        try:
            return await cancel_pending(series.root, chosen, ledger=team)
        finally:
            await chosen.aclose()
            if team is not None:
                team.close()

    outcomes = guarded(lambda: asyncio.run(go()))
    if as_json:
        emit([{"shot": f"{o.attempt.episode}/{o.attempt.shot}", "task_id": o.attempt.task_id,
               "canceled": o.canceled, "message": o.message} for o in outcomes])
        return
    if not outcomes:
        click.echo("nothing to cancel")
    for outcome in outcomes:
        row = outcome.attempt
        verdict = "canceled" if outcome.canceled else "not canceled"
        click.echo(f"{row.episode}/{row.shot} {row.task_id or '-'}: {verdict} {outcome.message}")
