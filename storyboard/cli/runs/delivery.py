"""A finished render into the delivered season: ``out/season/`` written anew after ``render``,
``season render`` and ``version render`` of a series that declares ``delivery:``
(``review/season.py``), said in a line on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import guarded

if TYPE_CHECKING:
    from storyboard.language.variations import Variants
    from storyboard.run.setup import RenderFlags
    from storyboard.run.variations import MatrixReport

__all__ = ["deliver", "deliver_versions", "said_season", "write_delivery"]


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
    from storyboard.run.state.cache import OutputCache
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    from storyboard.run.state.takes import with_retakes
    from storyboard.run.versions.stale import stale_versions
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
