"""``plan SERIES --language LANG`` into a version's price beside a re-render's, as text or JSON.

The version's lines (spoken in each character's designed voice) and lip-sync passes are priced
by ``run.choices.versionquote`` at the run's prices; its translation, where the version files still lack
words, by the breakdown's model (``breakdown.versionwords.plan``: the cache alone, at its
ceiling, in USD); beside them what rendering the same shots again would cost. ``--max-cost``
holds the version's own cost (lines and passes) as it holds a plan's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import fail, guarded, variants_of
from storyboard.errors import ProblemsFound, StoryboardError

if TYPE_CHECKING:
    from storyboard.run.choices.versionquote import VersionQuote
    from storyboard.run.setup import RenderFlags


def translation(path: Path, language: str, episodes: list[str]) -> dict[str, Any]:
    """What translating the lines still without words would cost (USD, at its ceiling): the
    calls, and a note when it cannot be priced (no list price for the model)."""
    from storyboard.breakdown.pipeline import Options
    from storyboard.breakdown.settings import merged
    from storyboard.breakdown.versionwords import Ask, jobs, plan
    try:
        options = Options(**merged(path, {}))
        _, original, work = jobs(path, Ask(language, tuple(episodes)))
        estimate = plan(path, options, work, original, language)
    except StoryboardError as error:
        return {"calls": 0, "cost": None, "currency": "USD", "note": str(error)}
    return {"calls": len(estimate.pending), "answered_already": estimate.cached,
            "cost": round(estimate.worst, 6), "currency": "USD", "note": ""}


def version_plan(path: Path, language: str, flags: RenderFlags, as_json: bool,
                 max_cost: float | None) -> None:
    """Print the version's price beside a re-render's; exit 1 over ``max_cost``."""
    from storyboard.language.read.series import load_source
    from storyboard.language.resolving.cast import speech_model
    from storyboard.language.versions import languages
    from storyboard.language.versions.versioncheck import versions_in
    from storyboard.run.choices.versionquote import quote
    from storyboard.run.setup import make_provider, run_prices
    from storyboard.run.versions.stale import stale_versions
    variants = variants_of(path, provider=flags.provider)
    if variants.matrix:
        fail(StoryboardError("plan --language prices a plain series' version; a matrix's "
                             "language variations of an approved base are priced as versions "
                             "by plan itself (docs/variations.md, A language axis)"))
    source = load_source(path)
    unknown = languages.unknown_language(source, language)
    if unknown is not None:
        fail(ProblemsFound([unknown]))
    manifest = variants.manifests[0]
    pairs = [(e, v) for e, v in guarded(lambda: versions_in(source, manifest, language))
             if flags.episode is None or e.id == flags.episode]
    prices = run_prices(manifest, make_provider(manifest, flags.provider, draft=flags.draft))
    series = source.series.data if isinstance(source.series.data, dict) else {}
    priced = quote(language, pairs, prices, speech_model(series))
    said = translation(path, language, [e.id for e, _ in pairs])
    folder = f"{Path('languages') / language}{os.sep}"
    over = [d for d in manifest.warnings if d.code == "version-fit" and d.span is not None
            and folder in d.span.file]
    stale = [s for s in guarded(lambda: stale_versions(manifest)) if s.language == language
             and s.episode in {e.id for e, _ in pairs}]
    if as_json:
        data = as_data(priced, said, [e.id for e, _ in pairs])
        data["over_window"] = [{"where": str(d.span), "message": d.message} for d in over]
        data["stale"] = [s.to_dict(manifest.root) for s in stale]
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        show(priced, said, [e.id for e, _ in pairs], [each.episode for each in stale])
        for each in stale:
            click.echo(f"  stale:       {each.message(manifest.root)}")
        for warning in over:
            click.echo(warning.format(), err=True)
    if max_cost is not None and priced.total > max_cost + 1e-9:
        click.echo(f"the {language} version costs {priced.total:.4f} {priced.currency}, over "
                   f"--max-cost {max_cost:g}", err=True)
        raise SystemExit(1)


def as_data(priced: VersionQuote, said: dict[str, Any], episodes: list[str]) -> dict[str, Any]:
    return {"language": priced.language, "episodes": episodes, "currency": priced.currency,
            "translation": said,
            "lines": {"count": priced.lines, "characters": priced.characters,
                      "cost": priced.lines_cost, "estimated": priced.estimated},
            "passes": {"count": priced.passes, "seconds": priced.pass_seconds,
                       "cost": priced.passes_cost},
            "version": priced.total,
            "rerender": {"shots": priced.shots, "seconds": priced.rerender_seconds,
                         "cost": priced.rerender_cost},
            "saving": priced.saving, "videos_rendered": 0}


def show(priced: VersionQuote, said: dict[str, Any], episodes: list[str],
         stale: Sequence[str] = ()) -> None:
    money = priced.currency
    cut = (f"stale for {', '.join(stale)} (the approved cut changed since it was made, below)"
           if stale else "the approved cut")
    click.echo(f"the {priced.language} version of {', '.join(episodes) or 'no episode'}: "
               f"{cut}, no video rendered again")
    if said["cost"] is None:
        click.echo(f"  translation: not priced ({said['note']})")
    else:
        click.echo(f"  translation: {said['calls']} call(s), up to {said['cost']:.4f} USD "
                   "(the breakdown's model; 0 when the version files have every line's words)")
    estimated = f", {priced.estimated} priced by their source words" if priced.estimated else ""
    click.echo(f"  lines:       {priced.lines} spoken ({priced.characters} characters"
               f"{estimated}): {priced.lines_cost:.4f} {money}")
    click.echo(f"  lip-sync:    {priced.passes} pass(es) over approved takes "
               f"({priced.pass_seconds:g} s): {priced.passes_cost:.4f} {money}")
    click.echo(f"  version:     {priced.total:.4f} {money}")
    click.echo(f"  re-render:   {priced.shots} shot(s) rendered again ({priced.rerender_seconds:g} "
               f"billed s): {priced.rerender_cost:.4f} {money}; the version saves "
               f"{priced.saving:.4f} {money}")
