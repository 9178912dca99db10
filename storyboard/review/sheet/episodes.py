"""A cut episode into its view on the review sheet: its shot and card panels, its poster, its
versions in other languages, its totals; and the episodes into the sheet's header.

``model`` holds the plain data and the shot panels; this is the episode around them, on the
stitcher's own timeline (``storyboard.stitch.series.cut``), with no HTML and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError, StoryboardError
from storyboard.language.request import CompiledEpisode
from storyboard.review.progress import money
from storyboard.review.sheet.model import (
    Asset,
    Context,
    Episode,
    Panel,
    Sheet,
    shot_panel,
    transition,
)
from storyboard.review.sheet.thumbs import Still
from storyboard.review.sheet.versions import VersionPlace, episode_versions, series_places
from storyboard.run.plans import ShotPlan
from storyboard.run.state.lock.lockfile import spent, spent_under, take_key
from storyboard.stitch.series.cut import Cut, timecode
from storyboard.stitch.series.episodes import series_output


def card_panel(ctx: Context, cut: Cut, index: int) -> Panel:
    item = cut.items[index]
    spec: dict[str, Any] = dict(item.card or {})
    start, end = cut.span(index)
    stills: tuple[Still, ...] = ()
    if item.path is not None:
        stills = (ctx.thumbs.frames(item.path, item.length, cut.fps)[1],)
    return Panel(item.kind, 0, item.name, ctx.anchor(cut.episode.id, item.kind),
                 timecode(start, cut.fps), timecode(end, cut.fps), item.length, stills,
                 "render" if stills else "", transition=transition(cut, index),
                 card_text=str(spec.get("text", "")), card_color=str(spec.get("color", "black")),
                 card_text_color=str(spec.get("text_color", "white")),
                 start=round(float(start / cut.fps), 3))


def episode_view(ctx: Context, cut: Cut, plans: dict[str, ShotPlan], video: Path) -> Episode:
    stitched = video.is_file()
    with ThreadPoolExecutor(max_workers=1) as pool:  # the poster is taken while panels are made
        taking = pool.submit(poster, ctx, cut, video) if stitched else None
        panels = episode_panels(ctx, cut, plans)
        shown = taking.result() if taking is not None else None
    ep = cut.episode
    estimated = sum(ctx.estimate(s) for s in ep.shots)
    paid = sum(spent(ctx.lock.get(take_key(s), {})) for s in ep.shots)
    waiting = sum(1 for p in panels if p.board is not None and p.board.approve
                  and any(t.made and t.still is not None for t in p.board.takes))
    command = f"storyboard approve {ctx.manifest.root.name} boards/{ep.id}" if waiting else ""
    return Episode(ep.id, ep.title, ctx.anchor(ep.id), timecode(cut.timeline.total, cut.fps),
                   cut.duration, money(estimated, ctx.currency), money(paid, ctx.currency),
                   ctx.link(video) if stitched else "", panels,
                   ctx.problems.for_episode(ep.id), shown, waiting, command,
                   episode_versions(ctx.manifest.root, ep.id, version_places(ctx, video), ctx.link))


def version_places(ctx: Context, video: Path) -> tuple[VersionPlace, ...]:
    """Where the episode's versions are: the context's (a matrix base's), else the series' own
    (its episodes in ``<lang>/`` beside the original's)."""
    if ctx.versions is not None:
        return ctx.versions
    try:
        made: Path | None = series_output(ctx.manifest)
    except StoryboardError:
        made = None
    return series_places(ctx.manifest.root, video.parent, made)


def episode_panels(ctx: Context, cut: Cut, plans: dict[str, ShotPlan]) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    number = 0
    for index, item in enumerate(cut.items):
        if item.shot is None:
            panels.append(card_panel(ctx, cut, index))
            continue
        number += 1
        panels.append(shot_panel(ctx, cut, index, number, plans.get(take_key(item.shot))))
    return tuple(panels)


def poster(ctx: Context, cut: Cut, video: Path) -> Still | None:
    """The stitched episode's frame in the middle of its first shot (past the title card): what
    the player shows before it plays."""
    timeline = cut.timeline
    index = next((i for i, item in enumerate(cut.items) if item.shot is not None), 0)
    frame = min(timeline.total - 1, timeline.starts[index] + timeline.frames[index] // 2)
    try:
        return ctx.thumbs.frame(video, frame, cut.fps, f"{cut.episode.id} poster")
    except MediaError:  # a file that is not the episode this series stitches: no poster
        return None


def empty_episode(ctx: Context, episode: CompiledEpisode) -> Episode:
    """An episode with no shot to show (they all failed to compile): its problems still show."""
    zero = money(0.0, ctx.currency)
    return Episode(episode.id, episode.title, ctx.anchor(episode.id), timecode(0, Fraction(30)), 0.0,
                   zero, zero, "", (), ctx.problems.for_episode(episode.id))


def sheet_view(ctx: Context, episodes: Sequence[Episode],
               cast: tuple[Asset, ...] = ()) -> Sheet:
    seconds = sum(e.seconds for e in episodes)
    estimated = sum(ctx.estimate(s) for s in ctx.manifest.shots())
    paid = spent_under(ctx.lock, f"{ctx.manifest.name}/")
    return Sheet(ctx.manifest.title, ctx.manifest.name, ctx.shown_by or ctx.plan.provider,
                 f"{seconds:.2f} s", money(estimated, ctx.currency), money(paid, ctx.currency),
                 tuple(episodes), ctx.problems.for_series(), ctx.plan.counts(), cast=cast)

