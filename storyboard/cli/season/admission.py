"""``plan --season`` and ``season render`` into the season's admission, shown and exited on.

The library call is ``run.admission.admit`` (every episode planned and checked at once); this
module says its table (per episode: shots, price, waiting on boards, problems; the cast; the one
total) or its JSON, lists every problem by episode at its ``file:line:col``, and exits 1 when
there is any (nothing was submitted). ``season render`` renders an admitted season through
``cli.runs.running.run_render`` with ``run.admission.render_season``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli.common import AMOUNT, emit, guarded, variants_of
from storyboard.cli.flags.renderflags import episode_numbers, with_episodes
from storyboard.cli.runs.running import run_render

if TYPE_CHECKING:
    from storyboard.language.variations import Variants
    from storyboard.run.admission import Admission
    from storyboard.run.setup import Callbacks, RenderFlags
    from storyboard.run.variations import MatrixReport

SEASON = click.option(
    "--season", "whole_season", is_flag=True,
    help="Every episode at once (or --episodes), admitted all or nothing: any problem anywhere "
         "submits nothing and lists every problem by episode; else one consent for the season.")
EPISODE_BUDGET = click.option(
    "--episode-budget", type=AMOUNT, metavar="AMOUNT",
    help="With --season: refuse the season if an episode costs more than this; a render holds "
         "each episode to it.")


def chosen_episodes(path: Path, text: str | None) -> list[str]:
    """The ids of the episodes ``--episodes`` names (every episode without it)."""
    from storyboard.language.expansion.ids import names
    ids = list(names(path).episodes)
    return ids if text is None else [ids[n - 1] for n in episode_numbers(text, len(ids))]


def admitted(path: Path, flags: RenderFlags, episode_range: str | None,
             episode_budget: float | None, var: tuple[str, ...], variation: tuple[str, ...]
             ) -> Admission:
    """The season's admission (``--episodes``: of that range)."""
    from storyboard.run.admission import admit
    variants = variants_of(path, var, variation, provider=flags.provider, keep_going=True)
    flags = with_episodes(path, flags, episode_range)
    chosen = chosen_episodes(path, episode_range)
    return guarded(lambda: admit(variants, flags, chosen, episode_budget))


def show(admission: Admission, as_json: bool, *, err: bool = False) -> None:
    """The admission as JSON (stdout) or as its table; then its problems on stderr."""
    if as_json:
        emit(admission.to_dict())
    else:
        for line in table(admission):
            click.echo(line, err=err)
    for line in problems(admission):
        click.echo(line, err=True)


def table(admission: Admission) -> list[str]:
    """Per episode: number, id, shots, price, waiting on boards and what they cost then,
    problems; the cast; the total, the waiting shots' price in it marked as waiting."""
    money = admission.currency
    width = max([len("episode"), *(len(r.id) for r in admission.rows)])
    lines = [f"{'#':>3}  {'episode':<{width}}  shots  {'price':>10}  waiting  "
             f"{'(then)':>10}  problems"]
    priced = admission.plan is not None  # a season that did not compile is not priced
    lines += [f"{r.number:>3}  {r.id:<{width}}  {r.shots:>5}  "
              f"{_amount(r.price, money) if priced else '-':>10}  {r.waiting:>7}  "
              f"{_amount(r.waiting_price, money) if priced and r.waiting else '-':>10}  "
              f"{len(r.problems):>8}" for r in admission.rows]
    if admission.cast:
        lines.append(f"cast (every episode's): {_amount(admission.cast, money)}")
    shots = sum(r.shots for r in admission.rows)
    lines.append(f"season: {len(admission.rows)} episode(s), {shots} shot(s), "
                 f"{_total(admission, money) if priced else 'not priced (errors)'}")
    return lines


def _total(admission: Admission, money: str) -> str:
    """The season's one total: what is paid now, and with the shots waiting on their boards
    what it costs in all once they are approved, the waiting part priced apart."""
    if not admission.waiting:
        return f"{_amount(admission.total, money)} in all"
    return (f"{_amount(admission.total, money)} now; {admission.waiting} shot(s) wait on their "
            f"boards, unpaid until approved (waiting: {_amount(admission.waiting_price, money)})"
            f"; {_amount(admission.once_approved, money)} in all once they are approved")


def _amount(value: float, currency: str) -> str:
    return f"{value:.2f} {currency}".strip()


def problems(admission: Admission) -> list[str]:
    """Every problem, by episode (the season's own last), each at its line."""
    if admission.admitted:
        return []
    lines = [f"error: the season is refused: {len(admission.problems)} problem(s); nothing "
             "was submitted (a season is admitted whole or not at all)"]
    said = None
    for problem in admission.problems:  # by episode already, the season's own last
        where = (f"episode {problem.number} ({problem.episode}):" if problem.episode
                 else "the season:")
        if where != said:
            lines.append(where)
            said = where
        lines.append("  " + problem.diagnostic.format().replace("\n", "\n  "))
    return lines


def plan_season(path: Path, flags: RenderFlags, episode_range: str | None,
                episode_budget: float | None, as_json: bool, var: tuple[str, ...],
                variation: tuple[str, ...]) -> Admission:
    """``plan --season``: the admission shown; exit 1 when it is refused."""
    admission = admitted(path, flags, episode_range, episode_budget, var, variation)
    show(admission, as_json)
    if not admission.admitted:
        raise SystemExit(1)
    return admission


def render_season(path: Path, flags: RenderFlags, episode_range: str | None,
                  episode_budget: float | None, *, var: tuple[str, ...],
                  variation: tuple[str, ...], quiet: bool, as_json: bool) -> None:
    """``season render``: refused (every problem listed, exit 1, nothing submitted), or
    rendered with one consent for the season, shown as ``render`` shows a render."""
    from storyboard.run.admission import render_season as render_admitted
    admission = admitted(path, flags, episode_range, episode_budget, var, variation)
    if not admission.admitted and as_json:
        show(admission, True)  # the refused season as one JSON document on stdout
    elif not admission.admitted or not (quiet or as_json):
        show(admission, False, err=True)
    if not admission.admitted:
        raise SystemExit(1)

    def through(variants: Variants, run_flags: RenderFlags, calls: Callbacks) -> MatrixReport:
        return render_admitted(variants, run_flags, calls, admission, episode_budget)

    run_render(path, with_episodes(path, flags, episode_range), var=var,
               variation=variation, quiet=quiet, as_json=as_json, through=through)
