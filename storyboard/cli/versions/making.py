"""``version render SERIES LANG`` and ``version render SERIES --all`` into the versions' runs and
what they say.

Each version is rendered by ``run.versions.render_version`` (one plan and one consent per language;
the lines, the passes, the episodes in ``out/<lang>/``); this module only shows it: the plan's
cost, each line over its window with the seconds over, each episode, and ``--json``'s report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli.common import fail, served_region, variants_of
from storyboard.cli.runs.delivery import deliver_versions
from storyboard.cli.runs.versionview import failures, show, version_dict
from storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from collections.abc import Callable

    from storyboard.language.request import Manifest
    from storyboard.run.plans import Plan
    from storyboard.run.setup import RenderFlags

def series_languages(manifest: Manifest) -> list[str]:
    """The series' ``languages:`` but the first (the original's)."""
    from storyboard.language.read.series import load_source
    from storyboard.language.versions.languages import series_languages as declared
    found = declared(load_source(manifest.source).series.data)
    if len(found) < 2:
        raise StoryboardError(f"{manifest.source.name}: --all renders the versions of "
                              "the series' languages (languages: [en, es, ...], the first the "
                              "original), and this series names none but the original")
    return list(found[1:])


def render_versions(path: Path, flags: RenderFlags, language: str | None, every: bool, *,
                    quiet: bool, as_json: bool) -> None:
    """Render the version(s) asked for and show each; exit 1 when one did not come out."""
    from storyboard.cli.runs.renderview import confirm
    from storyboard.review import progress
    from storyboard.review.progress import EpisodeLines
    from storyboard.run.rendering import interactive
    from storyboard.run.setup import Callbacks, make_provider
    from storyboard.run.versions import render_version
    variants = variants_of(path, provider=flags.provider)
    if variants.matrix:
        raise click.UsageError("version render makes a version of a plain series' "
                               "approved cut; a matrix's language variations of an approved "
                               "base are made as versions by render itself (docs/variations.md, "
                               "A language axis)")
    manifest = variants.manifests[0]
    ask = shown_first(confirm()) if interactive() and not as_json else None
    reports = []
    told = None if quiet or as_json else EpisodeLines(progress.console(stderr=True)).tell
    try:
        languages = series_languages(manifest) if every else [str(language)]
        region = served_region(make_provider(manifest, flags.provider))
        for lang in languages:
            calls = Callbacks(confirm=ask, on_notice=None, on_episode=told)
            reports.append(render_version(manifest, lang, flags, calls, region=region))
    except StoryboardError as error:
        fail(error)
        return
    if as_json:
        click.echo(json.dumps({"versions": [version_dict(r) for r in reports],
                               "ok": all(r.ok for r in reports)}, indent=2, sort_keys=True))
    elif not quiet:
        for report in reports:
            show(report)
    for report in reports:  # what did not fit, and what failed, is said even under --quiet
        for warning in report.fits:
            click.echo(f"warning: {warning}", err=True)
        for problem in failures(report):
            click.echo(f"error: {problem}", err=True)
    if any(r.episodes for r in reports):
        deliver_versions(variants, flags)
    if not all(r.ok for r in reports):
        raise SystemExit(1)


def shown_first(ask: Callable[[Plan], bool]) -> Callable[[Plan], bool]:
    """A person's yes to a version's plan, asked once the plan is on screen: what it makes and
    what each costs."""
    def asking(plan: Plan) -> bool:
        for shot in plan.to_render:
            click.echo(f"  {shot.key}: {shot.status}, {shot.cost:.4f} {plan.currency}", err=True)
        click.echo(f"the version: {len(plan.to_render)} line(s) and pass(es) to make, about "
                   f"{plan.total_cost:.4f} {plan.currency}; no video rendered again", err=True)
        return ask(plan)
    return asking
