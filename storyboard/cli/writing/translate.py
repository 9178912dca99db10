"""``storyboard translate`` into a library call: a series' lines into a version's words, file by file.

Each flag maps onto ``breakdown.versionwords.Ask`` or the breakdown's ``Options`` (the endpoint and
its settings come from the series' ``breakdown:`` block, as ``storyboard breakdown`` reads them).
The estimate is printed before any call; consent as for the breakdown (``--yes``, ``--budget``, or
a yes at a terminal). ``--no-model`` writes the files with no words, for a person to fill in.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import AMOUNT, JSON, emit, fail
from storyboard.cli.writing.breakdown import price_flag
from storyboard.errors import StoryboardError

if TYPE_CHECKING:  # the breakdown is imported when the command runs
    from storyboard.breakdown.versionwords import Report


def _episodes(_ctx: click.Context, _param: click.Parameter, value: str | None
              ) -> tuple[str, ...] | None:
    if value is None:
        return None
    found = tuple(part.strip() for part in value.split(",") if part.strip())
    if not found:
        raise click.BadParameter("expected episode ids or numbers separated by commas "
                                 "(ep01,ep02 or 1-3,5)")
    return found


def _show(report: Report) -> None:
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    outcome = report.outcome
    for name in outcome.proposed:
        click.echo(f"{name}: lines whose source changed since they were translated are left "
                   f"as they are; their new translation is proposed in {name}.proposed "
                   f"(git diff --no-index {name} {name}.proposed)", err=True)
    for line in outcome.stale:
        click.echo(f"{line}: its source line changed since it was translated (stale)", err=True)
    for line in outcome.dropped:
        click.echo(f"{line}: no longer a line of the series: left out", err=True)
    spend = report.spend
    spent = f", {spend.spent:.4f} USD by the usage reported" if spend else ""
    if report.estimate is not None:
        click.echo(f"{report.sent} request(s) sent, {report.cached} answer(s) from the "
                   f"cache{spent}")
    click.echo(f"{len(outcome.written)} file(s) written, {len(outcome.unchanged)} unchanged, "
               f"{len(outcome.proposed)} proposal(s); {outcome.filled} line(s) translated, "
               f"{outcome.kept} kept ({outcome.hand} fixed by hand)")


def _as_data(report: Report, dry_run: bool) -> dict[str, Any]:
    from dataclasses import asdict
    estimate, outcome, spend = report.estimate, report.outcome, report.spend
    return {"dry_run": dry_run, "language": report.language,
            "calls": [asdict(p) for p in estimate.pending] if estimate else [],
            "answered_already": estimate.cached if estimate else 0,
            "worst": estimate.worst if estimate else 0.0, "currency": "USD",
            "sent": report.sent, "cached": report.cached, "spent": spend.spent if spend else 0.0,
            **asdict(outcome), "problems": list(report.problems)}


@click.command()
@click.argument("series", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--language", required=True,
              help="The version's language: one of the series' languages: after the first.")
@click.option("--episodes", callback=_episodes, default=None,
              help="Only these episodes, by id or number as season render --episodes takes them "
                   "(ep01,ep02 or 1-3,5; default: every episode versioned into the language).")
@click.option("--shorter", multiple=True, metavar="EPISODE/SHOT/N",
              help="Ask this line again for fewer words (made longer than its window); "
                   "its answer is written over the words it has. Repeatable.")
@click.option("--no-model", is_flag=True,
              help="Ask no model: write each line's entry with no words, for you to fill in.")
@click.option("--model", default=None, help="The language model's id (else the series' "
                                             "breakdown: block, else the breakdown's default).")
@click.option("--base-url", default=None, help="An OpenAI-compatible endpoint (…/v1); else the "
                                                "series' breakdown: block.")
@click.option("--api-key-env", default=None,
              help="The environment variable that holds the endpoint's key.")
@click.option("--switch-endpoint", is_flag=True,
              help="Ask another endpoint than the one the series' breakdown: block records.")
@click.option("--price-in", type=float, callback=price_flag, help="USD per 1M input tokens.")
@click.option("--price-out", type=float, callback=price_flag, help="USD per 1M output tokens.")
@click.option("--yes", is_flag=True, help="Accept the estimated cost without asking.")
@click.option("--budget", type=AMOUNT, default=None, help="Spend at most this many USD.")
@click.option("--dry-run", is_flag=True, help="Print what it would ask and cost; ask nothing.")
@JSON
def translate(series: Path, language: str, episodes: tuple[str, ...] | None,
              shorter: tuple[str, ...], no_model: bool,
              model: str | None, base_url: str | None, api_key_env: str | None,
              switch_endpoint: bool, price_in: float | None, price_out: float | None, yes: bool,
              budget: float | None, dry_run: bool, as_json: bool) -> None:
    """Translate the spoken lines of SERIES into a version's language, one file an episode
    (languages/LANG/EPISODE.yaml): by the breakdown's model, cached, priced, asked with consent;
    a line you fixed by hand is never written over."""
    from storyboard.breakdown.pipeline import Options, usd
    from storyboard.breakdown.settings import merged
    from storyboard.breakdown.versionwords import Ask
    from storyboard.breakdown.versionwords import translate as run
    from storyboard.run.rendering import interactive
    try:
        options = Options(**merged(series, {
            "model": model, "base_url": base_url, "key_env": api_key_env, "yes": yes,
            "budget": budget, "dry_run": dry_run, "switch_endpoint": switch_endpoint,
            "price_in": price_in, "price_out": price_out}))
        report = run(series, Ask(language, episodes, no_model, shorter), options,
                     confirm=(lambda e: click.confirm(f"Spend up to {usd(e.worst)}?",
                                                      default=False, err=True))
                     if interactive() else None,
                     say=lambda text: click.echo(text, err=as_json))
    except StoryboardError as error:
        fail(error)
        return
    if as_json:
        emit(_as_data(report, dry_run))
    elif dry_run:
        click.echo("dry run: nothing was asked")
        return
    else:
        _show(report)
    if report.problems:
        raise SystemExit(1)
