"""A season's flags and views into library calls: ``render --episodes``, the season ``render``
delivers, and ``status --season``.

``--episodes 3-10`` names episodes by their number in the series (1 on, as their title cards and
the season's manifest number them), in the one grammar of episode ranges (``language/read/ranges.py``:
``4``, ``3-10``, ``3-``, ``1,4-6``); it becomes the ``--shot`` patterns of those episodes' shots,
so the run, its plan and its stitching are the ones ``--shot`` has. The season (``out/season/``)
is written after a render of a series that declares ``delivery:`` (``review/season.py``);
``status --season`` shows ``review/seasonstatus.py``.
"""

from __future__ import annotations

import glob
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import emit, guarded, variants_of

if TYPE_CHECKING:
    from storyboard.language.variations import Variants
    from storyboard.run.setup import RenderFlags
    from storyboard.run.variations import MatrixReport

EPISODES = click.option(
    "--episodes", "episode_range", metavar="RANGE",
    help="Only these episodes, by their number in the series (1 on): 4, 3-10, 3- (3 and every "
         "later one) or a list of them (1,4-6).")


def episode_numbers(text: str, count: int) -> list[int]:
    """The episode numbers ``text`` names, read by the one grammar of episode ranges
    (``language/read/ranges.py``: ``4``, ``3-10``, ``3-``, ``1,4-6``), each within 1..``count``; a
    click usage error (exit 2) names what was expected."""
    from storyboard.language.read import ranges
    has = f"this series has episodes 1 to {count}" if count > 1 else "this series has episode 1"
    parsed = ranges.parse(text)
    if isinstance(parsed, str):
        raise click.BadParameter(f"{parsed}; {has}", param_hint="--episodes")
    outside = parsed.outside(count)
    if outside is not None:
        raise click.BadParameter(f"episodes {text!r}: {outside!r} is outside the series; "
                                 f"{ranges.EXPECTED}; {has}", param_hint="--episodes")
    return parsed.numbers(count)


def with_episodes(path: Path, flags: RenderFlags, text: str | None) -> RenderFlags:
    """``flags`` with ``--episodes TEXT`` as the ``--shot`` patterns of those episodes' shots."""
    if text is None:
        return flags
    if flags.shots or flags.episode:
        raise click.UsageError("--episodes cannot go with --episode or --shot: name the "
                               "episodes by one of them")
    from storyboard.language.expansion.names import names
    ids = list(names(path).episodes)
    if not ids:
        variants_of(path)  # a series that cannot be read says why, at its lines
        raise click.UsageError(f"--episodes: {path} has no episode to choose from")
    chosen = [ids[n - 1] for n in episode_numbers(text, len(ids))]
    return replace(flags, shots=tuple(f"{glob.escape(e)}/*" for e in chosen))


def deliver(variants: Variants, flags: RenderFlags, report: MatrixReport) -> None:
    """After a render of a delivered series: ``out/season/``, said in a line on stderr (not for
    drafts, ``--boards``, a matrix or a render that stopped before its plan)."""
    from storyboard.review.season import delivered
    if variants.matrix or flags.draft or flags.boards or not report.plans:
        return
    manifest = variants.manifests[0]
    if delivered(manifest) is None:
        return
    season = guarded(lambda: _write(variants, flags, report))
    if season is None:
        return
    said_season(variants, season)


def said_season(variants: Variants, season: Any) -> None:
    """The season written, in a line on stderr: its episodes, versions and covers, and each
    episode or version left out (why, and the files that went with it)."""
    covers = len({row.cover for row in season.rows if row.cover})
    versions = f"{season.versions} version(s), " if season.versions else ""
    click.echo(f"season: {season.folder / 'manifest.json'} ({len(season.rows) - season.versions}"
               f" episode(s), {versions}{covers} cover(s))", err=True)
    for episode, why in season.left_out:
        own, _, language = episode.partition(" (")
        gone = [name for name in season.removed if name.rpartition("/")[2].startswith(
            f"{own}.") and (name.partition("/")[0] == language.rstrip(")")
                            if language else "/" not in name)]
        click.echo(f"season: {episode} left out ({why})" + (
            f"; its earlier files removed from {_inside(variants.root, season.folder)}/ ({', '.join(gone)}): "
            "they are not of its cut as it is now" if gone else ""), err=True)


def _inside(root: Path, folder: Path) -> str:
    """``folder`` as the series names it (``out/season``), else as it is."""
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(folder)


def _write(variants: Variants, flags: RenderFlags, report: MatrixReport) -> Any:
    plan = report.plans[0].plan
    not_ready = {e.id: f"not stitched: {e.message}" for v in report.variations
                 for e in v.episodes if e.state in ("skipped", "waits")}
    return write_delivery(variants, flags, (plan.cache_key, plan.currency), not_ready)


def write_delivery(variants: Variants, flags: RenderFlags, provider: tuple[str, str],
                   not_ready: dict[str, str]) -> Any:
    """``out/season/`` written anew (``provider``: the cache key and currency the episodes'
    covers and costs are read in; ``not_ready``: the episodes this run could not stitch)."""
    from storyboard.review.season import write_season
    from storyboard.run import status as journal
    from storyboard.run.dub.stale import stale_versions
    from storyboard.run.state.cache import OutputCache
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    from storyboard.run.state.lock.takes import with_retakes
    from storyboard.stitch.series.episodes import output_dir
    lock = read_lock(lock_path(variants.root))
    manifest = with_retakes(variants.manifests[0], lock)
    stale = {(s.language, s.episode): s.message(manifest.root)
             for s in stale_versions(variants.manifests[0], lock)}
    return write_season(manifest, output_dir(manifest, flags.out),
                        OutputCache(manifest.root, provider[0]), lock.takes,
                        (journal(manifest.root), provider[1]), not_ready, stale)


def deliver_versions(variants: Variants, flags: RenderFlags) -> None:
    """After ``version render`` of a delivered series: ``out/season/`` with the versions made,
    said as ``render`` says it."""
    from storyboard.review.season import delivered
    from storyboard.run.setup import make_provider
    if variants.matrix or delivered(variants.manifests[0]) is None:
        return
    provider = guarded(lambda: make_provider(variants.manifests[0], flags.provider))
    season = guarded(lambda: write_delivery(variants, flags, (
        provider.cache_key, provider.prices.currency), {}))
    if season is not None:
        said_season(variants, season)


def show_status(path: Path, provider: str | None, as_json: bool) -> None:
    """``status --season``: per episode its shots, minutes, boards, videos, spent and to go."""
    from storyboard.review import progress
    from storyboard.review.seasonstatus import counted_provider, season_rows, season_table
    from storyboard.run import status as journal
    variants = variants_of(path, provider=provider)
    counted = counted_provider(variants.manifests[0], provider,
                               guarded(lambda: journal(variants.root)))
    if counted != provider:
        variants = variants_of(path, provider=counted)
    rows = guarded(lambda: season_rows(variants, counted))
    stale = stale_of(variants)
    cast = cast_of(variants)
    if as_json:
        emit({"episodes": [row.to_dict() for row in rows], "provider": counted,
              "versions_stale": [s.to_dict(variants.root) for s in stale], "cast": cast})
        return
    progress.console().print(season_table(rows))
    for name, tally in cast.items():
        said = ", ".join(f"{n} {kind}" for kind, n in tally.items()
                         if kind != "appearances" and n)
        click.echo(f"@{name}: {tally['appearances']} appearance(s): {said}")
    if counted != provider:
        click.echo(f"counted on {counted}, the provider of the journal's last render "
                   "(--provider to count another's)")
    said_stale(variants.root, stale)


def cast_of(variants: Variants) -> dict[str, dict[str, int]]:
    """Per character of a plain series: its appearances across the season, and how many of them
    each finding is (``review.seasoncast``)."""
    from storyboard.review.seasoncast import appearances, counts
    if variants.matrix:
        return {}
    return guarded(lambda: counts(appearances(variants.manifests[0])))


def stale_of(variants: Variants) -> list[Any]:
    """The language versions of a plain series whose cut changed since they were made."""
    from storyboard.run.dub.stale import stale_versions
    if variants.matrix:
        return []
    return guarded(lambda: stale_versions(variants.manifests[0]))


def said_stale(root: Path, stale: list[Any]) -> None:
    """Each stale version in a line (what changed, the command that brings it back)."""
    for each in stale:
        click.echo(f"stale: {each.message(root)}")
