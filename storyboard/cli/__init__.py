"""Command lines into library calls: each flag maps onto one argument of the public API.

Errors are printed as ``file:line:col: error: message`` lines (or one clear sentence) with a non-zero
exit code, never a traceback: 1 when problems were found or a run failed, 2 for a usage error.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from storyboard.cli import complete, diagnostics, review, takes
from storyboard.cli import variations as matrix
from storyboard.cli.agents import mcp
from storyboard.cli.cache import cache
from storyboard.cli.common import EPISODE, SERIES, compiled, fail, guarded, variants_of
from storyboard.cli.config import config
from storyboard.cli.doctor import doctor
from storyboard.cli.init import init
from storyboard.cli.models import models
from storyboard.cli.store import pull, push
from storyboard.cli.studio import studio
from storyboard.cli.task import task
from storyboard.dialects import DIALECTS
from storyboard.dialects import manifest as manifest_json
from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.language.request import Manifest
from storyboard.review import progress
from storyboard.run.plan import Plan


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storyboard")
def cli() -> None:
    """storyboard: compile YAML storyboards into Wan 2.7 reference-to-video renders."""


PROVIDER = click.option("--provider", type=click.Choice(["local", *DIALECTS]),
                        help="This provider (default: the series' provider.name, else local).")


@cli.command()
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
    variants = variants_of(path, var, variation, provider=provider)
    if variants.matrix:
        return matrix.check(variants)
    compiled_series = variants.manifests[0]
    shots = len(compiled_series.shots())
    click.echo(f"ok: {len(compiled_series.episodes)} episode(s), {shots} shot(s)")


@cli.command("compile")
@click.argument("path", type=SERIES)
@PROVIDER
@click.option("--episode", help="Only this episode.", shell_complete=complete.episodes)
@click.option("--shot", help="Only this shot.", shell_complete=complete.shots)
@matrix.VAR
@matrix.VARIATION
def compile_command(path: Path, provider: str | None, episode: str | None, shot: str | None,
                    var: tuple[str, ...], variation: tuple[str, ...]) -> None:
    """Print the compiled manifest (that provider's bodies; one per variation) as stable,
    sorted JSON."""
    variants = variants_of(path, var, variation, provider=provider)
    first = variants.manifests[0]
    name = provider or str(first.provider.get("name") or "dashscope")
    dialect = DIALECTS.get(name, DIALECTS["dashscope"])
    if variants.matrix:
        return matrix.compile_json(variants, episode, shot, dialect)
    click.echo(manifest_json.to_json(first, episode=episode, shot=shot, dialect=dialect,
                                     media_base_url=first.provider.get("media_base_url")),
               nl=False)

DRAFT = click.option("--draft", is_flag=True,
                     help="Low resolution and frame rate proxies (local provider only).")
OFFLINE = click.option("--offline", is_flag=True,
                       help="Do not use the shared store (store: / STORYBOARD_STORE).")


@cli.command()
@click.argument("path", type=SERIES)
@PROVIDER
@EPISODE
@DRAFT
@OFFLINE
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="AMOUNT",
              help="Exit 1 if the plan costs more than this (in the plan's currency): a cost "
                   "gate for CI and pre-commit.")
@matrix.VAR
@matrix.VARIATION
def plan(path: Path, provider: str | None, episode: str | None, draft: bool, offline: bool,
         as_json: bool, max_cost: float | None, var: tuple[str, ...],
         variation: tuple[str, ...]) -> None:
    """What a render would do and cost (per variation and in all): free (it only lists the
    shared store, if any)."""
    variants = variants_of(path, var, variation, provider=provider)
    if variants.matrix:
        plans = matrix.plan(variants, provider, draft, episode, as_json, guarded)
    else:
        plans = [_plan_one(variants.manifests[0], provider, episode, draft, offline, as_json)]
    if max_cost is not None:
        _cost_gate(plans, max_cost)


def _plan_one(series: Manifest, provider: str | None, episode: str | None, draft: bool,
              offline: bool, as_json: bool) -> Plan:
    """Print the plan of a series without variations; return it."""
    from storyboard.run.rendering import plan_series
    from storyboard.run.setup import make_provider
    chosen = guarded(lambda: make_provider(series, provider, draft=draft))
    the_plan = guarded(lambda: plan_series(series, chosen, episode, offline=offline))
    if as_json:
        click.echo(json.dumps(the_plan.to_dict(), indent=2, sort_keys=True))
    else:
        progress.console().print(progress.plan_table(the_plan))
        if the_plan.store_note:
            click.echo(f"warning: {the_plan.store_note}", err=True)
    return the_plan


def _cost_gate(plans: list[Plan], max_cost: float) -> None:
    """Exit 1, saying what they cost, when the plans cost more than ``max_cost`` (the total of
    each currency is held to it)."""
    totals: dict[str, float] = {}
    for the_plan in plans:
        totals[the_plan.currency] = totals.get(the_plan.currency, 0.0) + the_plan.total_cost
    for currency, total in sorted(totals.items()):
        limit = progress.money(max_cost, currency)
        if total > max_cost + 1e-9:
            click.echo(f"error: the plan costs {progress.money(total, currency)}, more than "
                       f"--max-cost {limit}: render fewer or cheaper shots, or raise the limit",
                       err=True)
            sys.exit(1)
        click.echo(f"ok: the plan costs {progress.money(total, currency)}, within --max-cost "
                   f"{limit}", err=True)


@cli.command()
@click.argument("path", type=SERIES)
@PROVIDER
@EPISODE
@DRAFT
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder for the episode files (default: the series' output.dir, else out/, inside "
                   "the series folder).")
@click.option("--yes", is_flag=True, help="Accept the planned cost without asking.")
@click.option("--budget", type=click.FloatRange(min=0),
              help="Refuse to start, or submit more, past this amount.")
@click.option("--concurrency", type=click.IntRange(1, 100), help="Tasks in flight at once.")
@OFFLINE
@click.option("--quiet", is_flag=True,
              help="No progress display and no summary: only what failed is printed.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report at the end.")
@click.option("--webhook-listen", metavar="HOST:PORT",
              help="Take the gateway's status callbacks here (they only hasten polls).")
@click.option("--webhook-url", help="The public URL that reaches --webhook-listen.")
@click.option("--shot", "shots", multiple=True, metavar="EPISODE/SHOT",
              help="Only this shot's takes (repeatable, globs allowed); re-stitches its episode.")
@click.option("--replace-approved", is_flag=True,
              help="Spend on approved shots whose YAML changed (their approval is lifted).")
@matrix.VAR
@matrix.VARIATION
def render(path: Path, provider: str | None, episode: str | None, draft: bool, out: Path | None,
           yes: bool, budget: float | None, concurrency: int | None, offline: bool, quiet: bool,
           as_json: bool, webhook_listen: str | None, webhook_url: str | None,
           shots: tuple[str, ...], replace_approved: bool,
           var: tuple[str, ...], variation: tuple[str, ...]) -> None:
    """Render every changed shot and take (of every variation), then stitch each episode."""
    from storyboard.run.rendering import interactive, render_series
    variants = variants_of(path, var, variation, provider=provider, keep_going=True)
    console = progress.console(stderr=True, quiet=quiet or as_json)
    ask = _confirm(console) if interactive() and not as_json else None
    if variants.matrix:
        options = {"provider": provider, "episode": episode, "draft": draft, "out": out,
                   "yes": yes, "budget": budget, "concurrency": concurrency, "offline": offline,
                   "confirm": ask}
        return matrix.render(variants, options, console, as_json, quiet, fail)
    if not variants.ok:
        fail(ProblemsFound(variants.diagnostics()))
    series = variants.manifests[0]
    live = progress.LiveProgress(console, "")

    def show_plan(the_plan: Any) -> None:
        live.currency = the_plan.currency
        if the_plan.store_note:
            console.print(Text(f"warning: {the_plan.store_note}", "yellow"))
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
                replace_approved=replace_approved, ask_replace=_ask_replace() if ask else None)
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
    def ask(the_plan: Any) -> bool:  # the plan is on screen already (show_plan)
        return click.confirm(f"Spend about {the_plan.total_cost:.2f} {the_plan.currency}?",
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
        "shots": [{"key": s.key, "state": s.state, "output": str(s.output) if s.output else None,
                   "task_id": s.task_id, "cost": s.cost, "code": s.code, "message": s.message,
                   "resumed": s.resumed}
                  for s in (run.shots if run else [])],
        "episodes": [{"id": e.id, "path": str(e.path), "state": e.state,
                      "duration": e.duration, "path_taken": e.path_taken,
                      "subtitles": [str(p) for p in e.subtitles], "message": e.message}
                     for e in report.episodes],
    }


def _summary(console: Console, report: Any) -> None:
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


def _spending(run: Any) -> str:
    """What this run spent on new tasks, apart from the resumed ones an earlier run paid for."""
    new = len([s for s in run.shots if s.state == "done" and not s.resumed])
    spent = f"spent {progress.money(run.spent, run.currency)} on {new} new task(s)"
    if not run.resumed:
        return spent
    return (f"{spent}; resumed {len(run.resumed)} task(s) an earlier run submitted and paid "
            f"for ({progress.money(run.resumed_cost, run.currency)})")


@cli.command()
@click.argument("path", type=SERIES)
@click.option("--all", "show_all", is_flag=True,
              help="Every attempt, older versions of the shots too (marked as such).")
@click.option("--pending", is_flag=True, help="Only tasks not finished yet.")
@click.option("--json", "as_json", is_flag=True, help="Print the journal rows as JSON.")
def status(path: Path, show_all: bool, pending: bool, as_json: bool) -> None:
    """Show the task journal for the series as it is now: each shot's latest attempt at its
    current version, its task, its state, its cost."""
    from storyboard.run import status as journal_status
    from storyboard.run.cancel import current_status, current_versions
    variants = variants_of(path)
    shots = [shot for manifest in variants.manifests for shot in manifest.shots()]
    rows = guarded(lambda: journal_status(variants.manifests[0].root, unfinished_only=pending))
    unrendered: list[str] = []
    empty = "nothing in flight" if pending else (
        "the journal is empty" if not rows else "no attempt at the current version")
    if not show_all:
        view = current_status(rows, shots)
        rows, unrendered = view.rows, [] if pending else view.unrendered
    now = current_versions(shots)
    older = {r.id for r in rows if (r.key, r.shot_hash) not in now}
    if as_json:
        click.echo(json.dumps([{**progress.attempt_dict(r), "current": r.id not in older}
                               for r in rows], indent=2, sort_keys=True, default=str))
        return
    if not rows:
        click.echo(empty)
    else:
        progress.console().print(progress.status_table(rows, older))
    for key in unrendered:
        click.echo(f"{key.split('/', 1)[-1]}: changed since its last attempt, not rendered "
                   "yet (older attempts: status --all)")


@cli.command()
@click.argument("path", type=SERIES)
@PROVIDER
def cancel(path: Path, provider: str | None) -> None:
    """Cancel the tasks still pending at the provider (only PENDING tasks can be canceled);
    each is settled in the series' ledger (the team one when it has one)."""
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
    if not outcomes:
        click.echo("nothing to cancel")
    for outcome in outcomes:
        row = outcome.attempt
        verdict = "canceled" if outcome.canceled else "not canceled"
        click.echo(f"{row.episode}/{row.shot} {row.task_id or '-'}: {verdict} {outcome.message}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--latency", type=float, default=2.0, show_default=True,
              help="Seconds from submit to SUCCEEDED.")
@click.option("--api-key", help="Accept only this key (default: any non-empty key).")
@click.option("--plain-results", is_flag=True, help="Results without text (faster).")
@click.option("--fault", "faults", multiple=True,
              help="ENDPOINT:KIND[=ARG]:PROBABILITY, e.g. submit:429:0.2 (repeatable).")
@click.option("--fault-script", "scripts", multiple=True,
              help="Comma-separated faults for the next requests, e.g. query:500,query:drop.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for fault rates.")
@click.option("--dialect", type=click.Choice(list(DIALECTS)), default="dashscope",
              show_default=True, help="The API to announce (every dialect is served).")
def emulate(host: str, port: int, latency: float, api_key: str | None, plain_results: bool,
            faults: tuple[str, ...], scripts: tuple[str, ...], seed: int, dialect: str) -> None:
    """Run a local DashScope (or gateway) emulator (for tests and dry runs; needs the emulator
    extra)."""
    try:
        from storyboard.emulator import EmulatorConfig, parse_fault_options, serve
    except ImportError as exc:
        raise click.UsageError("the emulator needs: pip install 'storyboard[emulator]'") from exc
    try:
        plan = parse_fault_options(faults, scripts, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault/--fault-script") from exc
    config = EmulatorConfig(latency=latency, api_key=api_key, plain_results=plain_results,
                            faults=plan, seed=seed)
    try:
        serve(host, port, config, dialect=dialect,
              announce=lambda url: click.echo(f"emulating {DIALECTS[dialect].title} at {url}"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


cli.add_command(push)
cli.add_command(pull)

for command in (doctor, init, config, complete.completion, push, pull, review.sheet,
                review.export, studio, mcp, takes.takes, takes.pick, takes.approve, takes.retake,
                cache, task, models):
    cli.add_command(command)


_TERMINATED: list[int] = []  # the SIGTERM that ended this process, if one did


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (``docker stop``, systemd, CI) ends the command as Ctrl-C does: the SIGINT handler
    in place (asyncio's cancels the run, so the journal is flushed) or a KeyboardInterrupt."""
    _TERMINATED.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _terminate:
        handler(signal.SIGINT, frame)
    else:  # SIGINT ignored (started in the background): interrupt all the same
        raise KeyboardInterrupt


def main() -> None:
    """The ``storyboard`` command: click's parsing, our exit codes (130 for Ctrl-C, 143 for
    SIGTERM, each after ``interrupted: run the same command again to resume``)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(standalone_mode=False, complete_var=complete.COMPLETE_VAR)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("interrupted: run the same command again to resume", err=True)
        sys.exit(128 + signal.SIGTERM if _TERMINATED else 130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)

