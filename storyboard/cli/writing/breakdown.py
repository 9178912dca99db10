"""``storyboard breakdown`` into a library call: a story into a series by a language model.

Each flag maps onto one ``breakdown.pipeline.Options`` field. The estimate is printed before any
call; consent as for a paid render (``--yes``, ``--budget``, or a yes at a terminal). Problems left
in the answers are printed at their lines (exit 1); a hand-edited file's proposal is named.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import AMOUNT, JSON, emit, fail
from storyboard.errors import StoryboardError
from storyboard.targets.llm import DEFAULT_CHAT_MODEL, DEFAULT_KEY_ENV

if TYPE_CHECKING:  # the breakdown is imported when the command runs
    from storyboard.breakdown.pipeline import Report


def _episodes(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 500:
        raise click.BadParameter(f"expected a number of episodes from 1 to 500, found {value}")
    return value


def _minutes(_ctx: click.Context, _param: click.Parameter, value: float | None
             ) -> float | None:
    if value is not None and not (math.isfinite(value) and 0.5 <= value <= 600):
        raise click.BadParameter(f"expected a number of minutes from 0.5 to 600, found {value}")
    return value


def _seconds(_ctx: click.Context, _param: click.Parameter, value: float | None
             ) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 < value <= 3600):
        raise click.BadParameter(f"expected a number of seconds above 0 and at most 3600, "
                                 f"found {value}")
    return value


def _deadline(_ctx: click.Context, _param: click.Parameter, value: float | None
              ) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 < value <= 86400):
        raise click.BadParameter(f"expected a number of seconds above 0 and at most 86400, "
                                 f"found {value}")
    return value


def _ratio(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from storyboard.breakdown.settings import RATIOS
    if value is not None and value not in RATIOS:
        raise click.BadParameter(f"expected one of {', '.join(RATIOS)}, found {value!r}")
    return value


def price_flag(_ctx: click.Context, _param: click.Parameter, value: float | None
               ) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise click.BadParameter(f"expected a finite price >= 0 (USD per 1M tokens), "
                                 f"found {value}")
    return value


def _progress() -> Callable[[str], None]:
    """A call's tokens so far, on one line of a terminal's stderr (nothing elsewhere)."""
    stream = sys.stderr
    if not stream.isatty():
        return lambda _text: None

    def show(text: str) -> None:
        stream.write("\r" + text[:200] + "\x1b[K")
        stream.flush()
    return show


def _show(report: Report, folder: Path) -> None:
    for note in report.notes:
        click.echo(f"read as meant: {note}", err=True)
    for fired in report.repairs:
        click.echo(f"repair {fired['name']}: {fired['count']} ({fired['mode']})", err=True)
    for problem in [*report.warnings, *report.problems]:
        click.echo(problem.format(), err=True)
    outcome = report.outcome
    for name in outcome.proposed:
        click.echo(f"{name} was edited since the breakdown wrote it: left as it is; the new "
                   f"proposal is {name}.proposed (git diff --no-index {name} {name}.proposed; "
                   "an empty proposal proposes removing the file)", err=True)
    for name in outcome.kept:
        click.echo(f"{name}: your edit stands (its chapter's answers did not change)", err=True)
    for name in outcome.removed:
        click.echo(f"{name}: removed (the breakdown wrote it and no longer makes it)", err=True)
    spend = report.spend
    spent = f", {spend.spent:.4f} USD by the usage reported ({spend.input_tokens:,} + " \
            f"{spend.output_tokens:,} tokens)" if spend else ""
    if spend and spend.at_ceiling:
        spent += f"; {spend.at_ceiling} call(s) counted at their ceiling (their usage was " \
                 "missing or not a count)"
    click.echo(f"{report.sent} request(s) sent, {report.cached} answer(s) from the cache{spent}")
    click.echo(f"{len(outcome.written)} file(s) written, {len(outcome.unchanged)} unchanged, "
               f"{len(outcome.proposed)} proposal(s); {report.shots} shot(s)")
    if report.left:  # never silent: one line, as every other command says them
        from storyboard.cli.variations import warnings_line
        click.echo(warnings_line(report.left, folder), err=True)


def _as_data(report: Report, dry_run: bool) -> dict[str, Any]:
    """``--json``: the estimate (each call it would make), and what a run asked and wrote."""
    from storyboard.cli.diagnostics import record
    estimate, outcome, spend = report.estimate, report.outcome, report.spend
    price = estimate.price
    return {"dry_run": dry_run, "model": price.model, "currency": "USD",
            "price_per_million": {"input": price.tiers[0].input, "output": price.tiers[0].output,
                                  "source": price.source},
            "calls": [asdict(p) for p in estimate.pending], "answered_already": estimate.cached,
            "ceiling": estimate.ceiling, "worst": estimate.worst,
            "sent": report.sent, "cached": report.cached, "spent": spend.spent if spend else 0.0,
            "written": list(outcome.written), "unchanged": list(outcome.unchanged),
            "proposed": list(outcome.proposed), "shots": report.shots,
            "read_as_meant": list(report.notes), "repairs": list(report.repairs),
            "problems": [record(p) for p in report.problems],
            "warnings": [record(w) for w in report.warnings],
            "warnings_left": [record(w) for w in report.left]}


@click.command()
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("series", type=click.Path(path_type=Path, file_okay=False), required=False)
@click.option("--episodes", type=int, default=None, callback=_episodes,
              help="The season's target: how many episodes (the story cut into that many runs "
                   "of its units, each one call: season.yaml); default: one a chapter.")
@click.option("--episode-minutes", type=float, default=None, callback=_minutes,
              help="Or: episodes of about this many minutes of shots (chapters grouped in order).")
@click.option("--episode-seconds", type=float, default=None, callback=_seconds,
              help="The season's length of an episode in seconds (e.g. 90; default 60): K "
                   "shots of d seconds the video model takes, within 20%.")
@click.option("--ratio", default=None, callback=_ratio,
              help="The season's aspect ratio (9:16 for vertical), in the series' defaults.")
@click.option("--video-model", default=None,
              help="The video model a season is cut for (its shot lengths; written as the "
                   "series' defaults: model); else the series' own, else wan2.7-r2v.")
@click.option("--model", default=None,
              help=f"The language model's id at the endpoint (else the series' breakdown: "
                   f"block, else {DEFAULT_CHAT_MODEL}).")
@click.option("--base-url", default=None,
              help="An OpenAI-compatible endpoint (…/v1); else the series' breakdown: block, "
                   "else DashScope's compatible mode.")
@click.option("--api-key-env", default=None,
              help=f"The environment variable that holds the endpoint's key (else the series' "
                   f"breakdown: block, else {DEFAULT_KEY_ENV}).")
@click.option("--switch-endpoint", is_flag=True,
              help="Ask another endpoint (--base-url, --api-key-env) than the one the series' "
                   "breakdown: block records, and record it instead.")
@click.option("--price-in", type=float, callback=price_flag, help="USD per 1M input tokens.")
@click.option("--price-out", type=float, callback=price_flag, help="USD per 1M output tokens.")
@click.option("--deadline", type=float, default=None, callback=_deadline,
              help="Seconds one call may take (else the series' breakdown: deadline:, else "
                   "600 or longer where the endpoint was measured slower).")
@click.option("--yes", is_flag=True, help="Accept the estimated cost without asking.")
@click.option("--budget", type=AMOUNT, default=None, help="Spend at most this many USD.")
@click.option("--dry-run", is_flag=True, help="Print what it would ask and cost; ask nothing.")
@JSON
def breakdown(source: Path, series: Path | None, episodes: int | None,
              episode_minutes: float | None, episode_seconds: float | None, ratio: str | None,
              video_model: str | None, model: str | None, base_url: str | None,
              api_key_env: str | None, switch_endpoint: bool,
              price_in: float | None, price_out: float | None, deadline: float | None,
              yes: bool, budget: float | None, dry_run: bool, as_json: bool) -> None:
    """Break the story SOURCE (text, Markdown or Fountain) down into a series in SERIES (default:
    a folder named after the story), by a language model: cached, priced, asked with consent."""
    if episodes is not None and episode_minutes is not None:
        raise click.UsageError("choose --episodes or --episode-minutes, not both")
    from storyboard.breakdown.pipeline import Options
    from storyboard.breakdown.pipeline import breakdown as run
    from storyboard.breakdown.settings import merged
    from storyboard.run.rendering import interactive
    folder = series if series is not None else source.with_suffix("")
    try:  # the flags given, else the series' breakdown: block, else the defaults
        options = Options(**merged(folder, {
            "model": model, "base_url": base_url, "key_env": api_key_env, "episodes": episodes,
            "yes": yes, "budget": budget, "dry_run": dry_run, "price_in": price_in,
            "price_out": price_out, "episode_minutes": episode_minutes,
            "episode_seconds": episode_seconds, "ratio": ratio, "switch_endpoint": switch_endpoint,
            "video_model": video_model, "deadline": deadline}))
    except StoryboardError as error:
        fail(error)
        return

    def ask(estimate: Any) -> bool:
        from storyboard.breakdown.pipeline import usd
        return click.confirm(f"Spend up to {usd(estimate.worst)}?", default=False, err=True)

    try:
        report = run(source, folder, options, confirm=ask if interactive() else None,
                     say=lambda text: click.echo(text, err=as_json), progress=_progress())
    except StoryboardError as error:
        fail(error)
        return
    if as_json:
        emit(_as_data(report, dry_run))
    elif dry_run:
        click.echo("dry run: nothing was asked")
        return
    else:
        _show(report, folder)
    if any(problem.severity == "error" for problem in report.problems):
        raise SystemExit(1)
