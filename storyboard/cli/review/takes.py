"""Take commands into library calls: ``takes``, ``pick``, ``approve`` and ``retake``.

``pick`` and ``approve`` write one shot's take state into ``storyboard.lock`` and nothing else;
``retake`` records the extra takes there, then renders exactly as ``render SERIES EP/SHOT`` does (plan,
price, consent).
"""

from __future__ import annotations

import datetime
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli import complete
from storyboard.cli.common import (
    AMOUNT,
    JSON,
    SERIES,
    compiled,
    emit,
    guarded,
    served_region,
    shot_series,
)
from storyboard.cli.review.boards import (
    approve_boards,
    drawer_for,
    hosted_files,
    is_batch_name,
    no_board,
    pick_boards,
    say_hosted,
)
from storyboard.cli.review.episodes import approve_episodes, is_episode_name

if TYPE_CHECKING:
    from storyboard.language.request import CompiledShot, Manifest
    from storyboard.run.boards.approving import Approved


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot", shell_complete=complete.shot_paths)
@click.option("--provider", help="Only the takes this provider drew (default: every provider's).")
@click.option("--json", "as_json", is_flag=True, help="Print the takes as JSON.")
def takes(path: Path, shot: str, provider: str | None, as_json: bool) -> None:
    """Every take ever rendered of SHOT (EPISODE/SHOT), earlier versions too: take, by, seed,
    task id, cost, when, picked/approved (approved: the very picture approved)."""
    from rich.console import Console
    from rich.table import Table

    from storyboard.run.state.takes import take_rows
    series, name, _ = shot_series(path, shot)
    no_board(series, name)
    drawer = drawer_for(series, provider)
    rows = [row for row in guarded(lambda: take_rows(series, name))
            if drawer is None or row.provider.partition(" (")[0] == drawer.name]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, sort_keys=True))
        return
    from rich import box

    from storyboard.review import progress
    from storyboard.review.progress import money, safe_id, spent_line
    table = Table(title=f"takes of {shot}", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, collapse_padding=True)  # a row in 120 columns
    for column in ("take", "by", "seed", "task id", "cost", "when", "state", "marks",
                   "findings"):  # ids stay whole, for grep; only words may fold
        table.add_column(column, no_wrap=column not in ("marks", "findings"))
    for row in rows:
        cost = "" if row.cost is None else money(row.cost, row.currency or "USD")
        table.add_row(str(row.take), row.provider, _text(row.seed), safe_id(row.task_id), cost,
                      _when(row.when), row.state, _marks(row.marks, row.current, row.derived),
                      _findings(row.findings))
    out: Console = progress.console()  # a pipe gets whole rows (or COLUMNS), as plan does
    out.print(table)
    for row in rows:  # whole paths, for an image viewer or a copy (never folded by the table)
        if row.file and row.current:  # a free draft's file is said as one, never as the take
            free = f" ({row.provider}, free)" if row.provider.endswith(" (draft)") else ""
            click.echo(f"take {row.take}{free}: {series.root / row.file}")
    click.echo(spent_line([(r.cost, r.currency) for r in rows if r.state != "in lock"]))


def _marks(marks: str, current: bool, derived: str = "") -> str:
    """A take's marks, ``earlier`` first for a take of an earlier version of the shot, and
    what a derived take was made from (``edit of take 1``)."""
    return ", ".join(m for m in ("" if current else "earlier", marks, derived) if m)


def _findings(found: list[dict[str, Any]] | None) -> str:
    """A take's findings in a table cell: ``cut 2.50 s; black 3.00-4.00 s``; ``-`` when
    measured clean; empty when never measured."""
    if found is None:
        return ""
    if not found:
        return "-"
    return "; ".join(_span(f) for f in found)


def _span(finding: dict[str, Any]) -> str:
    start, end = finding["start"], finding["end"]
    at = f"{start:.2f} s" if start == end else f"{start:.2f}-{end:.2f} s"
    return f"{finding['kind']} {at}"


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot", shell_complete=complete.shot_paths)
@click.argument("take", type=click.IntRange(1), required=False)
@click.option("--best", is_flag=True,
              help="Pick the rendered take with the fewest findings (ties: the lowest take).")
@click.option("--replace-approved", is_flag=True,
              help="Pick another take of an approved shot (its approval is lifted).")
@JSON
def pick(path: Path, shot: str, take: int | None, best: bool, replace_approved: bool,
         as_json: bool) -> None:
    """Use TAKE of SHOT (EPISODE/SHOT) in the stitch, the sheet and the exports (--best: the
    take whose measuring found least). An approved shot keeps its approved take unless
    --replace-approved, which lifts the approval (approve the new take again). boards/EP (or
    boards/EP/*, or boards for every board) picks TAKE (or the best) of each of those boards."""
    from storyboard.run.state.takes import followers, users
    from storyboard.run.state.takes import pick as pick_take
    if (take is None) == (not best):
        raise click.UsageError("give either TAKE or --best")
    if is_batch_name(shot):
        return pick_boards(path, shot, take, as_json)
    series, name, _ = shot_series(path, shot)
    no_board(series, name)
    if best:
        take = _best(series, name, as_json)
    assert take is not None
    chosen = take
    guarded(lambda: pick_take(series, name, chosen, replace_approved=replace_approved))
    using = guarded(lambda: users(series, name))
    synced = _lipsync_after(series, name, as_json)
    hosted = hosted_files(series, name, take)
    if as_json:
        follow = [] if using or is_asset(name) else guarded(lambda: followers(series, name))
        emit({"shot": shot, "picked": take, "used_by": [s.shot_id for s in using],
              "follow": [s.shot_id for s in follow], **synced, **hosted})
        return
    if using or is_asset(name):
        click.echo(f"picked take {take} of {shot}")
        click.echo(_using(series, using, shot, name) if using else "no shot uses it yet")
        say_hosted(hosted)
        return
    click.echo(f"picked take {take} of {shot}; render again to re-stitch its episode")
    follow = guarded(lambda: followers(series, name))
    if follow:
        click.echo(_following(series, follow))


def _lipsync_after(series: Manifest, name: str, quiet: bool) -> dict[str, str]:
    """A shot whose line routes ``lipsync``: its lip-sync pass over the take just picked or
    approved, recorded in the lock for the next render to plan, price and ask consent for."""
    from storyboard.run.choices.passes import lipsync_after
    from storyboard.run.setup import make_provider
    from storyboard.run.state.lock.lockfile import lock_path, write_take_changes
    def url() -> str:
        return str(getattr(make_provider(series, None), "base_url", "") or "")

    def region() -> str | None:
        return served_region(make_provider(series, None))
    asked = guarded(lambda: lipsync_after(series, name, base_url=url, region=region))
    if asked is None:
        return {}
    write_take_changes(lock_path(series.root), asked.changes)
    if not quiet:
        click.echo(f"{asked.shot_id}: {asked.message}: its line routes lipsync; "
                   "`storyboard render` makes it (the plan prices it), then pick it")
    return {"lipsync": asked.takes[0]}


def _best(series: Manifest, name: str, quiet: bool = False) -> int:
    from storyboard.run.choices.checks import best_take
    take, found = guarded(lambda: best_take(series, name))
    counted = [f for f in found or () if f.severity != "n/a"]
    unmeasured = len(found or ()) - len(counted)
    said = "not measured" if found is None else f"{len(counted)} finding(s)" + (
        f", {unmeasured} not measurable" if unmeasured else "")
    if not quiet:
        click.echo(f"the best take is {take} ({said})")
    return take


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot", required=False, shell_complete=complete.shot_paths)
@click.option("--force", is_flag=True,
              help="Approve a take whose measuring found something (cuts, black, silence...).")
@click.option("--all-boards", is_flag=True,
              help="Every board of the series (each variation's in a matrix), as boards/EP does "
                   "an episode's.")
@click.option("--provider", help="Approve the picture this provider drew of the take (default: "
                                "the one the lock records, whoever drew it last).")
@JSON
def approve(path: Path, shot: str | None, force: bool, all_boards: bool, provider: str | None,
            as_json: bool) -> None:
    """Approve SHOT's picked take (else its lowest-numbered rendered take): a later change to
    the shot's YAML is not rendered without --replace-approved. A take with findings (see
    `storyboard takes`) needs --force. EP (an episode's id, or a glob: 'ep0*') approves each of
    its shots so, listing each and what it skipped and why (exit 1 where it skipped one).
    boards/EP (or boards/EP/*, or --all-boards) approves each of those boards' picked take (or
    only take), listing what it skipped and why. An approval is of a picture: --provider
    approves the one that provider drew."""
    from storyboard.run.choices.checks import approve_checked
    if (shot is None) == (not all_boards):
        raise click.UsageError("give either SHOT (boards/EP for an episode's boards) or "
                               "--all-boards")
    if all_boards or is_batch_name(shot):
        return approve_boards(path, shot, force, as_json, provider)
    assert shot is not None
    series, name, prefix = shot_series(path, shot)
    if is_episode_name(name):
        return approve_episodes(path, series, name, prefix, force, drawer_for(series, provider),
                                as_json, lambda s, n: _lipsync_after(s, n, True))
    no_board(series, name)
    drawer = drawer_for(series, provider)
    take = guarded(lambda: approve_checked(series, name, force=force, drawer=drawer))
    synced = _lipsync_after(series, name, as_json)
    hosted = hosted_files(series, name, take)
    gate = _gate(series, name, take)
    if as_json:
        emit({"shot": shot, "approved": take, **synced, **hosted, **_gate_facts(gate)})
        return
    drawn = f" (drawn on {gate.drawn_on})" if gate is not None and gate.drawn_on else ""
    click.echo(f"approved take {take} of {shot}{drawn}")
    if gate is not None:  # the gate lets the shots that start from it go, or says where not
        click.echo(_may_render(series, name, path, shot, gate))
        say_hosted(hosted)


def _gate(series: Manifest, name: str, take: int) -> Approved | None:
    """For a board, where its shots may render now (``boards.approving.after_approval``); else None."""
    from storyboard.language.request import is_board
    if not is_board(name):
        return None
    from storyboard.run.boards.approving import after_approval
    return guarded(lambda: after_approval(series, name, take))


def _gate_facts(gate: Approved | None) -> dict[str, Any]:
    return {} if gate is None else {"drawn_on": gate.drawn_on or None, "waits": gate.held}


def _may_render(series: Manifest, name: str, path: Path, shot: str, gate: Approved) -> str:
    """What ``approve`` says of the shots using the board: they may render (on which provider),
    or where a plan still holds them and what ends it; never "may render" where they may not."""
    from storyboard.run.state.takes import users
    if gate.may_render:
        using = ", ".join(s.shot_id for s in guarded(lambda: users(series, name)))
        on = f" --provider {gate.render_on}" if gate.render_on else ""
        return f"{using or 'no shot'} may render from it now: storyboard render {path}{on}"
    return "\n".join(gate.still_held(str(path), shot))


@click.command()
@click.argument("path", type=SERIES)
@click.argument("shot", required=False, shell_complete=complete.shot_paths)
@click.option("--failed-checks", is_flag=True,
              help="Every shot whose used take has findings (instead of SHOT).")
@click.option("-n", "count", type=int, default=1, show_default=True,
              help="How many more takes to render (1..10).")
@click.option("--provider", help="This provider (default: the series' provider.name).")
@click.option("--yes", is_flag=True, help="Accept the planned cost without asking.")
@click.option("--budget", type=AMOUNT,
              help="Refuse to start, or submit more, past this amount.")
@click.option("--replace-approved", is_flag=True,
              help="Spend on approved shots whose YAML changed (their approval is lifted).")
@click.option("--quiet", is_flag=True, help="Only what failed is printed.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report at the end.")
@click.option("--edit", "words",
              help="Fix the take in use by these words (wan2.7-videoedit on DashScope, Seedance "
                   "2.5's edit on Ark/ModelArk, Kling 4.0's on kling): a derived take.")
@click.option("--extend", "extend",
              help="Continue the take in use by these words (Kling 4.0's extend): a derived "
                   "take, billed on the take's seconds and its own.")
@click.option("--seconds", type=int, default=5, show_default=True,
              help="With --extend: how long the extension is.")
@click.option("--lipsync", is_flag=True,
              help="Lip-sync the take in use to its line (videoretalk): a derived take.")
@click.option("--audio", type=click.Path(dir_okay=False, path_type=Path),
              help="With --lipsync: this audio file instead of the shot's made line.")
@click.option("--at", "at", type=float,
              help="With --audio: where it starts, in seconds (default: the first line's start).")
def retake(path: Path, shot: str | None, failed_checks: bool, count: int,
           provider: str | None, yes: bool, budget: float | None, replace_approved: bool,
           quiet: bool, as_json: bool, words: str | None, extend: str | None, seconds: int,
           lipsync: bool, audio: Path | None, at: float | None) -> None:
    """Render COUNT more takes of SHOT (plan, price and consent as for render); with
    --failed-checks, of every shot whose used take has findings. A retake that was stopped is
    finished by running it again (or render), never paid twice. --edit "WORDS" and --lipsync
    make a derived take of SHOT's take in use instead (its parent is kept): pick or approve it
    as any take."""
    from storyboard.cli.runs.running import run_render
    from storyboard.run.setup import RenderFlags, make_provider
    if (shot is None) == (not failed_checks):
        raise click.UsageError("give either SHOT or --failed-checks")
    if extend is not None and (words is not None or lipsync):
        raise click.UsageError("give one of --edit, --extend and --lipsync")
    _one_pass(words if extend is None else extend, lipsync, audio, at, failed_checks, count)
    series, names, variation = _retaken(path, shot)
    chosen = guarded(lambda: make_provider(series, provider))
    ask = _extender(chosen, extend, seconds) if extend is not None else \
        _asker(chosen, count, words, lipsync, audio, at)
    takes: list[str] = []
    changes: list[Any] = []  # the lock's, written by the render once it has consent
    for name in names:
        asked = guarded(functools.partial(ask, series, name))
        if not (as_json or quiet):
            click.echo(f"{asked.shot_id}: {asked.message}", err=True)
        _say_free_board(series, name, chosen.name)
        takes += asked.takes
        changes += asked.changes
    flags = RenderFlags(provider=provider, yes=yes, budget=budget,
                        replace_approved=replace_approved,
                        shots=tuple(variation + take for take in takes),
                        take_changes=tuple(changes))
    run_render(path, flags, quiet=quiet, as_json=as_json, retaking=True)


def _say_free_board(series: Manifest, name: str, provider: str) -> None:
    """A board retaken on a free provider while paid ones drew it: said even with --quiet (a
    paid render will not use the take)."""
    from storyboard.language.request import is_board
    if not is_board(name):
        return
    from storyboard.run.boards.approving import free_retake_note
    note = free_retake_note(series, name, provider)
    if note is not None:
        click.echo(f"{name}: {note}", err=True)


def _one_pass(words: str | None, lipsync: bool, audio: Path | None, at: float | None,
              failed_checks: bool, count: int) -> None:
    """The flags of a derived take, refused where they do not go together."""
    if words is not None and lipsync:
        raise click.UsageError("give --edit or --lipsync, not both")
    if (audio is not None or at is not None) and not lipsync:
        raise click.UsageError("--audio and --at go with --lipsync")
    if at is not None and audio is None:
        raise click.UsageError("--at says where --audio starts: give --audio FILE")
    if (words is not None or lipsync) and (failed_checks or count != 1):
        raise click.UsageError("--edit and --lipsync make one derived take of SHOT: no -n, "
                               "no --failed-checks")


def _extender(chosen: Any, words: str, seconds: int) -> Callable[[Manifest, str], Any]:
    """What asks for an extension of one shot's take in use: its model's own extend task."""
    from storyboard.run.choices.passes import ask_extend
    from storyboard.targets.kinds import OWN_EDIT, passes
    if passes(chosen.name).edits != OWN_EDIT:
        raise click.UsageError(f"--extend is made by a model's own extend task (Kling 4.0 on "
                               f"kling), not on {chosen.name}: --provider kling")
    url = str(getattr(chosen, "base_url", "") or "")
    return lambda series, name: ask_extend(series, name, words, seconds, base_url=url,
                                           provider=chosen.name)


def _asker(chosen: Any, count: int, words: str | None, lipsync: bool, audio: Path | None,
           at: float | None) -> Callable[[Manifest, str], Any]:
    """What asks for the takes of one shot: more takes, an edit, or a lip-sync pass."""
    from storyboard.run.choices.passes import ask_edit, ask_lipsync
    from storyboard.run.state.takes import ask_retakes
    from storyboard.targets.kinds import passes
    kind = passes(chosen.name)
    if (words is not None and not kind.edits) or (lipsync and not kind.lipsyncs):
        raise click.UsageError(f"--edit is made on DashScope (wan2.7-videoedit), on Ark and "
                               f"ModelArk (Seedance 2.5) or on kling (Kling 4.0), --lipsync on "
                               f"DashScope (videoretalk), not {chosen.name}: --provider "
                               "dashscope")
    url, region = str(getattr(chosen, "base_url", "") or ""), served_region(chosen)
    if words is not None:
        return lambda series, name: ask_edit(series, name, words, base_url=url,
                                             provider=chosen.name, region=region)
    if lipsync:
        return lambda series, name: ask_lipsync(series, name, audio, at=at, base_url=url,
                                                region=region)
    return lambda series, name: ask_retakes(series, name, count, provider=chosen.name,
                                            free=not chosen.traits.paid)


def _retaken(path: Path, shot: str | None) -> tuple[Manifest, list[str], str]:
    """The series, the shots to retake (SHOT, or each whose used take has findings) and the
    variation prefix."""
    if shot is not None:
        series, name, variation = shot_series(path, shot)
        return series, [name], variation
    from storyboard.run.choices.checks import failed_checks
    series = compiled(path)
    names = guarded(lambda: failed_checks(series))
    if not names:
        click.echo("no shot's take has findings: nothing to retake")
        sys.exit(0)
    return series, names, ""


def is_asset(name: str) -> bool:
    """Whether a take command names an asset others use (a cast sheet, a voice, a board)."""
    from storyboard.language.request import is_picked_asset
    return is_picked_asset(name)


def _cost(series: Manifest, shots: list[CompiledShot]) -> str:
    """What rendering ``shots`` (every take) costs with the series' provider, in words."""
    from storyboard.review.progress import money
    from storyboard.run.setup import prepare
    from storyboard.run.trip.budget.costs import estimate
    setup = prepare(series, offline=True)
    cost = sum(estimate(t, setup.prices, setup.seconds)[1] for s in shots for t in s.all_takes())
    price = f"about {money(cost, setup.prices.currency)}" if cost > 0 else "nothing"
    return f"{price} with {setup.provider.name}"


def _using(series: Manifest, using: list[CompiledShot], shot: str, name: str) -> str:
    """Which shots use the picked asset (``shot`` as given, ``name`` its id in ``series``), and
    what rendering them again costs (a board's: once it is approved, where the gate holds them)."""
    from storyboard.language.request import is_board
    from storyboard.run.state.castinputs import shown_folder
    if is_board(name):
        names = ", ".join(s.shot_id for s in using)
        return (f"{names} use(s) it: with a paid provider they render from this take once it is "
                f"approved (storyboard approve {shown_folder(series.root)} {shot}; "
                f"{_cost(series, using)}); "
                "`storyboard plan` shows them")
    return _again(series, using)


def _again(series: Manifest, using: list[CompiledShot]) -> str:
    """The shots that render again with a picked cast take, and what they cost; each shot whose
    video waits for its board apart, unpriced, as ``plan`` says it."""
    held = _held(series)
    going = [s for s in using if s.shot_id not in held]
    said = [f"{', '.join(s.shot_id for s in going)} use(s) it: they render again with this take "
            f"({_cost(series, going)}); `storyboard plan` shows them as changed"] if going else []
    return "\n".join([*said, *(f"{s.shot_id} also uses it and {held[s.shot_id]}"
                                for s in using if s.shot_id in held)])


def _held(series: Manifest) -> dict[str, str]:
    """Each shot whose video waits for its board with the takes as the lock now has them (the
    gate, as ``plan`` holds it: a pick that changes an approved board lifts its approval), and
    what the plan says of it."""
    from storyboard.run.boards.gate import waiting, waits_key
    from storyboard.run.setup import prepare
    from storyboard.run.state.lock.boardbytes import BoardBytes
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    setup = prepare(series, offline=True)
    lock = setup.lock if setup.lock is not None else read_lock(lock_path(series.root))
    waits = waiting(setup.manifest, BoardBytes(setup.cache, lock, setup.provider.name),
                    paid=setup.provider.traits.paid)
    return {s.shot_id: waits[key][1] for s in setup.manifest.episode_shots()
            if (key := waits_key(s.series, s.episode, s.id)) in waits}


def _following(series: Manifest, follow: list[CompiledShot]) -> str:
    """Which shots start from the picked take's last frame, and what rendering them costs."""
    names = ", ".join(s.shot_id for s in follow)
    take = (follow[0].depends_on or "").partition("#")[2] or "1"
    return (f"{names} start(s) from its last frame: they render again from take {take} "
            f"({_cost(series, follow)}); `storyboard plan` shows them as changed")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M")
