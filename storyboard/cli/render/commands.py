"""Series commands into library calls: ``check``, ``compile``, ``plan``, ``render``, ``status``, ``cancel``.

Each flag maps onto one argument of the public API; errors are printed by ``common.fail``.
"""

from __future__ import annotations

import functools
import json
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli import complete, diagnostics
from storyboard.cli import variations as matrix
from storyboard.cli.answering import answering
from storyboard.cli.common import (
    AMOUNT,
    EPISODE,
    PROVIDER_CHOICE,
    SERIES,
    fail,
    guarded,
    variants_of,
)
from storyboard.cli.flags import conflicts, options, runsettings
from storyboard.cli.flags.selection import METAVAR, render_command_flags
from storyboard.cli.runs.running import run_render
from storyboard.cli.season import admission
from storyboard.cli.season import episodes as season
from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.targets.prices import under
from storyboard.targets.wire.gateways import DASHSCOPE_NAME

if TYPE_CHECKING:  # the compiler, the runner and the views are imported where they are used
    from collections.abc import Callable

    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variants
    from storyboard.run.plans import Plan
    from storyboard.run.state.lock.lockfile import LockFile

__all__ = ["check", "compile_command", "plan", "render", "status"]

PROVIDER, DRAFT, OFFLINE = options.PROVIDER, options.DRAFT, options.OFFLINE


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
    variants = matrix.load_variants(path, var, variation, fail=failing(path),
                                    provider=provider, every_warning=True)
    provider_check(variants.manifests, provider)
    season = diagnostics.season_file(path, variants.manifests)
    for warned in (d for d in season if d.severity != "error"):
        click.echo(warned.format(), err=True)
    if any(d.severity == "error" for d in season):
        fail(ProblemsFound([d for d in season if d.severity == "error"]))
    for warned in [*diagnostics.stale_versions(variants),
                   *diagnostics.approvals_changed(variants, provider)]:
        click.echo(warned.format(), err=True)
    matrix.check(variants)


def failing(path: Path) -> Callable[[StoryboardError], None]:
    """``fail``, saying the season file's problems beside the series' own errors."""
    def said(error: StoryboardError) -> None:
        if isinstance(error, ProblemsFound):
            fail(ProblemsFound([*error.diagnostics, *diagnostics.season_file(path)]))
        fail(error)
    return said


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
    variants = as_picked(variants_of(path, var, variation, provider=provider), provider)
    for manifest in variants.manifests:
        guarded(partial(selected, manifest, episode, shot))
    if form == "prompt":
        from storyboard.cli.render.prompt_form import manifest_form
        return click.echo("\n".join(manifest_form(m, episode=episode, shot=shot)
                                     for m in variants.manifests), nl=False)
    name = provider or str(variants.manifests[0].provider.get("name") or DASHSCOPE_NAME)
    matrix.compile_json(variants, episode, shot, DIALECTS.get(name, DIALECTS[DASHSCOPE_NAME]), name)


def as_picked(variants: Variants, provider: str | None) -> Variants:
    """Each variation as the lock's picks and retakes make it: a shot's hash covers the picked
    take of every asset and shot that reaches it, so a pick shows in ``compile``'s output."""
    from storyboard.language.picks import as_picked as picked
    from storyboard.targets.kinds import is_paid, named
    states = diagnostics.lock_takes(variants.root)
    for variant in variants.variants:
        if variant.manifest is not None:
            name = named(variant.manifest.provider, provider)
            variant.manifest = picked(variant.manifest, states, free=not is_paid(name))
    return variants


def selected(manifest: Manifest, episode: str | None, shot: str | None) -> None:
    """Raise when ``--episode`` or ``--shot`` names nothing in ``manifest``."""
    from storyboard.language.read.schemacheck import did_you_mean, shot_meant
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
                              f"{shot_meant(shot, names)}; expected EPISODE/SHOT, SHOT or "
                              f"cast/NAME, e.g. {next(iter(names), 'ep01/shot01')}")


@click.command()
@click.argument("path", type=SERIES)
@click.argument("what", nargs=-1, metavar=METAVAR, shell_complete=complete.render_what)
@PROVIDER
@EPISODE
@DRAFT
@OFFLINE
@runsettings.PLAN_SET
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--max-cost", type=AMOUNT, metavar="AMOUNT",
              help="Exit 1 if the plan costs more than this (in the plan's currency): a cost "
                   "gate for CI and pre-commit.")
@click.option("--compare", metavar="MODEL,MODEL", is_flag=False, flag_value="",
              help="Price the series (or --episode) on each of these models side by side (alone: "
                   "its own model and its fallbacks:), with what each cannot render and why; "
                   "nothing is spent.")
@admission.SEASON
@options.EPISODES
@admission.EPISODE_BUDGET
@matrix.VAR
@matrix.VARIATION
@click.option("--language", "version", metavar="LANG",
              help="Price the series' LANG version (its lines, lip-sync passes and translation) "
                   "beside rendering the same shots again.")
def plan(path: Path, what: tuple[str, ...], provider: str | None, episode: str | None,
         draft: bool, offline: bool, settings: tuple[str, ...], as_json: bool,
         max_cost: float | None, compare: str | None, whole_season: bool,
         episode_range: str | None, episode_budget: float | None, var: tuple[str, ...],
         variation: tuple[str, ...], version: str | None) -> None:
    """What a render would do and cost (per variation and in all): free (it only lists the
    shared store, if any). `plan SERIES WHAT... --set NAME=VALUE` plans what `render` with the
    same arguments renders. With --season: the season's admission, per episode; exit 1 if it
    is refused."""
    ctx = click.get_current_context()
    conflicts.refuse(ctx, conflicts.PLAN)  # before the series is read
    if compare is not None:
        from storyboard.cli.render.comparing import show_comparison
        show_comparison(path, compare, provider, episode, as_json)
        return
    flags, var = render_command_flags(path, ctx.params)
    if version is not None:
        from storyboard.cli.versions.plan import version_plan
        return version_plan(path, version, flags, as_json, max_cost)
    if whole_season:
        season_plan = admission.plan_season(path, flags, episode_range, episode_budget, as_json,
                                            var, variation)
        if max_cost is not None and season_plan.plan is not None:
            _cost_gate([season_plan.plan], max_cost)
        return None
    from storyboard.cli.runs.renderview import show_plans
    from storyboard.run.versions.matrix import plan as plan_all  # language variations as versions
    variants = variants_of(path, var, variation, provider=provider)
    provider_check(variants.manifests, provider)
    plans = guarded(lambda: plan_all(variants, flags))
    show_plans(variants, plans, as_json)
    _breakdown_notes(path)
    refused = [d for each in plans for d in each.plan.refused]
    if refused:  # what render will refuse, at its lines (``Provider.refused``, shared)
        if as_json:  # the plan's own JSON (printed) lists them: one document on stdout
            click.echo(ProblemsFound(refused).format(), err=True)
            raise SystemExit(1)
        fail(ProblemsFound(refused))
    if max_cost is not None:
        _cost_gate([p.plan for p in plans], max_cost)


def _breakdown_notes(path: Path) -> None:
    """The series' breakdown, if it has one: proposals waiting, and what catching up costs."""
    if not (path / ".storyboard" / "breakdown" / "last.json").is_file():
        return
    from storyboard.breakdown.status import notes
    for note in notes(path):
        click.echo(note, err=True)


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


# What ``render`` no longer takes, and what to type instead: typed, each is a usage error (exit 2)
MOVED = {
    "--season": "a season is rendered by `storyboard season render SERIES`",
    "--episode-budget": "each episode of a season is held to a budget by `storyboard season "
                        "render SERIES --episode-budget AMOUNT`",
    "--language": "a version is rendered by `storyboard version render SERIES LANG`",
    "--languages": "every version is rendered by `storyboard version render SERIES --all`",
    "--queue": "shots are queued for the team's workers by `storyboard queue render SERIES`",
    "--episode": "name the episode after the series: `storyboard render SERIES EP`",
    "--shot": "name the shot after the series: `storyboard render SERIES EP/SHOT`",
    "--episodes": "name the episodes by number after the series: `storyboard render SERIES 3-10`",
    "--boards": "`storyboard render SERIES boards` draws the boards (one episode's: "
                "`storyboard render SERIES boards/EP`)",
    "--concurrency": "`storyboard render SERIES --set concurrency=N`",
    "--offline": "`storyboard render SERIES --set offline=true`",
    "--webhook-listen": "`storyboard render SERIES --set webhook_listen=HOST:PORT`",
    "--webhook-url": "`storyboard render SERIES --set webhook_url=URL`",
    "--var": "`storyboard render SERIES --set vars.KEY=VALUE`",
}


@click.command(cls=answering(MOVED))
@click.argument("path", type=SERIES)
@click.argument("what", nargs=-1, metavar=METAVAR, shell_complete=complete.render_what)
@PROVIDER
@DRAFT
@options.OUT
@options.YES
@options.BUDGET
@options.REPLACE_APPROVED
@options.QUIET
@options.REPORT_JSON
@matrix.VARIATION
@runsettings.SET
def render(path: Path, what: tuple[str, ...], provider: str | None, draft: bool,
           out: Path | None, yes: bool, budget: float | None, replace_approved: bool,
           quiet: bool, as_json: bool, variation: tuple[str, ...],
           settings: tuple[str, ...]) -> None:
    """Render every changed shot and take (of every variation), then stitch each episode; or
    only WHAT: an episode (EP), a shot (EP/SHOT, globs allowed), episodes by number (3-10, 1,4-6)
    or the boards (boards, boards/EP: a still per shot and the cast they use, no video). A
    season, a version in another language and the team's queue have commands of their own:
    season render, version render, queue render.

    \b
    Exit codes:
      0  every shot came out and every episode was stitched, or waits only for its boards'
         approval (the gate holds those shots, unpaid: `storyboard approve SERIES boards/EP`)
      1  a shot failed or was left out (a budget), an episode could not be stitched, or the
         series has errors
      2  a bad flag, argument or series path, or an extra not installed"""
    flags, var = render_command_flags(path, click.get_current_context().params)
    run_render(path, flags, var=var, variation=variation, quiet=quiet, as_json=as_json)


@click.command()
@click.argument("path", type=SERIES)
@click.option("--all", "show_all", is_flag=True,
              help="Every attempt of every take and draft, older versions of the shots too "
                   "(marked as such).")
@click.option("--pending", is_flag=True, help="Only tasks not finished yet.")
@click.option("--json", "as_json", is_flag=True, help="Print the journal rows as JSON.")
@click.option("--season", "by_episode", is_flag=True,
              help="Per episode: shots, minutes, boards approved, videos done, spent, to go, "
                   "waiting on boards.")
@click.option("--queue", is_flag=True,
              help="The series' shots queued on the team ledger: queued, claimed by whom, done.")
@click.option("--provider", type=PROVIDER_CHOICE,
              help="The provider whose renders are counted and looked for in the shared store "
                   "and the team's ledger (default: the series' provider.name, else the "
                   "provider of the journal's last render).")
def status(path: Path, show_all: bool, pending: bool, as_json: bool, by_episode: bool,
           queue: bool, provider: str | None) -> None:
    """Show the task journal for the series as it is now: per shot the take its episode uses
    (its latest attempt at its current version), its task, its state, its cost."""
    if by_episode:
        return season.show_status(path, provider, as_json)
    if queue:
        from storyboard.cli.team.worker import show_queue
        return show_queue(path, as_json)
    from storyboard.review import progress
    from storyboard.review.seasonstatus import ELSEWHERE, elsewhere_dict
    from storyboard.run import status as journal_status
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    from storyboard.run.state.takes import every_take
    from storyboard.run.trip.cancel import current_status, current_versions
    variants = variants_of(path, provider=provider)
    lock = read_lock(lock_path(variants.root))  # read once: takes, findings and marks
    shots = every_take(variants.manifests, lock)  # a picked take 2 is current
    rows = guarded(lambda: journal_status(variants.manifests[0].root, unfinished_only=pending))
    every = list(rows)
    unrendered: list[str] = []
    others: dict[str, int] = {}
    empty = "nothing in flight" if pending else (
        "the journal is empty" if not rows else "no attempt at the current version")
    if not show_all:
        view = current_status(rows, shots, lock.takes)
        rows, unrendered, others = view.rows, [] if pending else view.unrendered, view.others
    now = current_versions(shots)
    older = {r.id for r in rows if (r.key, r.shot_hash) not in now}
    found = guarded(lambda: _found(variants.manifests[0], shots, lock))
    shown = {r.key for r in rows if r.id not in older}
    elsewhere, counted = season.elsewhere_of(path, variants, provider, every, shown, pending)
    if as_json:
        click.echo(json.dumps([{**progress.attempt_dict(r), "current": r.id not in older,
                                "findings": found.get(r.key), "other_takes": others.get(r.key, 0),
                                "made_elsewhere": False} for r in rows]
                              + [elsewhere_dict(s, counted) for s in elsewhere],
                              indent=2, sort_keys=True, default=str))
        return
    if not rows:
        click.echo(empty)
    else:
        marks = _marks(lock, shots)
        for key, each in found.items():
            said = "; ".join(f"{f['kind']} {f['start']:.2f} s" for f in each) or "measured clean"
            marks[key] = ", ".join(m for m in (marks.get(key), said) if m)
        progress.console().print(progress.status_table(rows, older, marks))
        for row in rows:
            if others.get(row.key):
                click.echo(other_takes(variants.root.name, row, others[row.key]))
    made = {s.key for s in elsewhere}
    for key in unrendered:
        if key not in made:
            click.echo(f"{key.split('/', 1)[-1]}: changed since its last attempt, not rendered "
                       "yet (older attempts: status --all)")
    for shot in elsewhere:
        note = f" ({shot.note})" if shot.note else ""
        click.echo(f"{shot.key.split('/', 1)[-1]}: {ELSEWHERE[shot.status]}{note}")
    if every and not pending:
        click.echo(progress.spent_line([(r.cost, r.currency) for r in every]))
    season.said_stale(variants.root, season.stale_of(variants))


def other_takes(series: str, row: Any, count: int) -> str:
    """How many other takes a shot has and the command that lists them all."""
    from storyboard.review.progress import shot_label
    shot = shot_label(row.series, row.episode, row.shot.partition("#")[0])
    return (f"{shot}: {count} other take{'s' if count > 1 else ''}: "
            f"`storyboard takes {series} {shot}`")


def _found(manifest: Any, takes: list[Any], lock: LockFile) -> dict[str, list[dict[str, Any]]]:
    """Each measured take's findings by its journal key (``takes`` shows the same)."""
    from storyboard.run.choices.checks import output_sha256
    from storyboard.run.state.lock.lockfile import shot_key
    from storyboard.run.state.measured import thresholds
    from storyboard.run.state.people.findings import findings_of
    limits = thresholds(manifest.checks)
    found = {shot_key(t): findings_of(manifest.root, output_sha256(t, lock), t, limits, lock)
             for t in takes}
    return {k: [f.to_dict() for f in v] for k, v in found.items() if v is not None}


def _marks(lock: LockFile, takes: list[Any]) -> dict[str, str]:
    """Each take's "picked" / "approved" marks by its journal key (as ``takes`` shows them)."""
    from storyboard.run.state.lock.lockfile import shot_key
    from storyboard.run.state.takes import state_key
    states = lock.takes
    return {shot_key(t): ", ".join(m for m in ("picked", "approved")
                                   if states.get(state_key(t), {}).get(m) == t.take)
            for t in takes}
