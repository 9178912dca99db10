"""An episode's inputs into its view, kept: a page rebuilt on every save redoes only what changed.

The studio rebuilds its page after every save; at 2,000 shots, laying out and describing every
panel takes seconds, while a save changes one episode. So each episode's view is kept with
everything it was made from, compared by value:

- the episode as used (its shots: requests, hashes, takes, transitions, spans; its settings),
- each shot's plan line, lock entry, notes, problems and estimate, and the take states of the
  shots with several takes,
- the files it shows, by size and modification time: each shot's rendered clip (and each take's),
  its cards, the stitched episode;
- the page's own settings (provider, currency, anchors' prefix, where links and stills go), the
  made cast files, the episode's problems.

An episode whose inputs are all equal, and whose stills are all still in the thumbs cache, gives
the kept view (the same object, so the page's HTML of it is found at once too); any difference
makes it again, as a cold build would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from storyboard.files import version
from storyboard.language.request import CompiledEpisode, CompiledShot
from storyboard.language.versions.versioncheck import measured_path
from storyboard.language.versions.versionfile import version_path
from storyboard.review.sheet import episodes, model
from storyboard.review.sheet.pictures import stills
from storyboard.review.steps import step
from storyboard.run.plans import ShotPlan
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import TakeState, take_key
from storyboard.run.state.takes import state_key
from storyboard.stitch.series.cut import episode_cut
from storyboard.stitch.series.episodes import EpisodeBuilder

MAX_KEPT = 1024  # episodes kept in a process
_KEPT: dict[tuple[Path, str, str], tuple[tuple[Any, ...], model.Episode, tuple[str, ...]]] = {}


Firsts = dict[str, CompiledShot]  # each shot's take 1 (with its other takes), by ``ep/shot``


def episode_view(ctx: model.Context, builder: EpisodeBuilder, episode: CompiledEpisode,
                 cache: OutputCache, plans: dict[str, ShotPlan], video: Path,
                 takes: tuple[Firsts, dict[str, TakeState]]) -> model.Episode:
    """The view of ``episode`` as used (``episodes.episode_view``), the kept one when nothing it
    shows changed; ``takes``: each shot's take 1 and the lock's take states."""
    step(f"{ctx.prefix + '/' if ctx.prefix else ''}{episode.id}: stills of {len(episode.shots)} "
         "shot(s)")
    key = (ctx.manifest.root, ctx.prefix, episode.id)
    inputs = _inputs(ctx, builder, episode, cache, plans, video, takes)
    kept = _KEPT.get(key)
    if kept is not None and kept[0] == inputs and all(map(os.path.isfile, kept[2])):
        return kept[1]
    view = episodes.episode_view(ctx, episode_cut(builder, episode, cache), plans, video)
    if len(_KEPT) >= MAX_KEPT:
        _KEPT.clear()
    _KEPT[key] = (inputs, view, tuple(sorted({str(p) for p in
                                              stills.episode_stills(view).values()})))
    return view


def _inputs(ctx: model.Context, builder: EpisodeBuilder, episode: CompiledEpisode,
            cache: OutputCache, plans: dict[str, ShotPlan], video: Path,
            takes: tuple[Firsts, dict[str, TakeState]]) -> tuple[Any, ...]:
    shots, (firsts, states) = episode.shots, takes
    keys = [take_key(shot) for shot in shots]
    several = [first for shot in shots if (first := firsts.get(shot.shot_id, shot)).others]
    files = tuple(version(cache.path(shot.hash)) for shot in shots)
    cards = tuple(_card(builder, episode, kind) for kind in ("title_card", "end_card"))
    page = (ctx.plan.provider, ctx.currency, ctx.prefix, ctx.variation, ctx.sheet_dir, ctx.links,
            ctx.thumbs.link, ctx.thumbs.dir, tuple(sorted(ctx.assets.items())))
    return (page, episode, files, cards, version(video), _versions(ctx, episode, video),
            tuple(plans.get(key) for key in keys),
            tuple(ctx.lock.get(key) for key in keys),
            tuple(tuple(ctx.notes.get(f"{shot.episode}/{shot.id}", ())) for shot in shots),
            tuple(ctx.problems.for_shot(shot) for shot in shots),
            ctx.problems.for_episode(episode.id),
            tuple(ctx.estimate(shot) for shot in shots),
            tuple(ctx.shared(shot) for shot in shots),
            tuple(model.board_of(ctx, shot) for shot in shots),
            tuple((states.get(state_key(first)), tuple(version(cache.path(take.hash))
                                                       for take in first.all_takes()))
                  for first in several))


def _versions(ctx: model.Context, episode: CompiledEpisode, video: Path) -> tuple[Any, ...]:
    """What the episode's versions show comes from: each one's file, measurements and video."""
    root = ctx.manifest.root
    return tuple((place, version(version_path(root, place.language, episode.id, place.home)),
                  version(measured_path(root, place.language, episode.id, place.home)),
                  version(place.folder / f"{episode.id}.mp4"))
                 for place in episodes.version_places(ctx, video))


def _card(builder: EpisodeBuilder, episode: CompiledEpisode, kind: str) -> object:
    """A card's file (named by what it shows), as the cut finds it."""
    try:
        card = builder.card(episode, kind, render=False)
    except OSError:  # its image is missing: the cut shows the card with nothing to show yet
        return "missing"
    return None if card is None else (card, version(card))
