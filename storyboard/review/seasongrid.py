"""A compiled series, its lock and its journal into the season's grid: a tile per episode.

What the studio's episode grid (``/season``) shows of each episode: its boards approved of its
boards, its videos done of its shots, what the journal says it spent and what its shots and
boards are planned at (every take of each, made or not, by the price table of the provider the
season is counted on, as ``status --season`` counts it: the series' provider, else the one the
journal's last render used). Cheap for a season of 80 episodes: the manifest is the one the
studio's check already compiled, the lock and the journal are each read once for all episodes
(one pass over the journal's rows), and the tiles are kept while the manifest, the lock and the
journal are the same (their files' stamps): no episode is compiled or planned for the grid.

A video is done when a provider's render of one of its takes is kept where the lock says it was
rendered (``rendered.Rendered``: the studio's free drafts are not videos done), at the take's
current hash (a board picked anew makes its video's hash, and so the video, new).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.animatic import cache_key as local_cache_key
from storyboard.errors import StoryboardError
from storyboard.language.picks import state_key
from storyboard.language.request import BOARDS, CompiledEpisode, CompiledShot, Manifest
from storyboard.review.seasonstatus import counted_provider
from storyboard.review.seasonversions import is_version
from storyboard.run.plans import apply_price_overrides
from storyboard.run.setup import make_provider
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.rendered import Rendered
from storyboard.run.state.takes import with_retakes
from storyboard.run.state.tasks.attempts import Attempt, journal_path
from storyboard.run.state.tasks.journal import read_status
from storyboard.run.trip.budget.costs import estimate
from storyboard.targets import PriceTable


@dataclass(frozen=True)
class Tile:
    """One episode's tile of the grid."""

    number: int
    id: str
    title: str
    shots: int
    boards_approved: int
    boards: int
    videos_done: int
    spent: float
    planned: float | None  # None: not priced (the series' provider cannot be made now)
    currency: str


def tiles(manifest: Manifest) -> list[Tile]:
    """Each episode's tile (see the module), the lock and the journal read once."""
    lock = read_lock(lock_path(manifest.root))
    used = with_retakes(manifest, lock)
    journal = read_status(manifest.root)
    prices, currency = _prices(manifest, counted_provider(manifest, None, journal))
    spent = spent_by_episode(journal, currency)
    files = Rendered(manifest.root, lock, local_cache_key(True))
    boards = {f"{asset.episode}/{asset.name}": asset for asset in used.cast
              if asset.episode == BOARDS}
    return [_tile(number, episode, boards, lock, files, prices, spent, currency)
            for number, episode in enumerate(used.episodes, 1)]


def _tile(number: int, episode: CompiledEpisode, boards: Mapping[str, CompiledShot],
          lock: LockFile, files: Rendered, prices: PriceTable | None,
          spent: Mapping[str, float], currency: str) -> Tile:
    its = [boards[ref.asset] for s in episode.shots
           if (ref := s.board) is not None and ref.asset is not None and ref.asset in boards]
    done = sum(1 for s in episode.shots
               if any(files.rendered(take.hash) is not None for take in s.all_takes()))
    approved = sum(1 for b in its if lock.takes.get(state_key(b), {}).get("approved") is not None)
    planned = None if prices is None else round(sum(
        estimate(take, prices)[1] for s in (*episode.shots, *its) for take in s.all_takes()), 4)
    return Tile(number, episode.id, episode.title, len(episode.shots), approved, len(its), done,
                spent.get(episode.id, 0.0), planned, currency)


def _prices(manifest: Manifest, name: str | None) -> tuple[PriceTable | None, str]:
    """The price table (with the series' overrides) and currency of the provider the season is
    counted on (``name``: as ``status --season`` counts it; None: the series' own); None when
    the provider cannot be made now (its settings are wrong: the page says so elsewhere)."""
    try:
        provider = make_provider(manifest, name)
    except StoryboardError:
        return None, "USD"
    table = apply_price_overrides(provider.prices,
                                  manifest.settings_for(provider.name).get("prices"))
    return table, table.currency


def spent_by_episode(journal: Sequence[Attempt], currency: str) -> dict[str, float]:
    """What the journal says each episode's shots and boards cost, in ``currency``, in one pass
    (``review.season.episode_cost``'s rule for every episode at once: a version's work is not
    its episode's)."""
    found: dict[str, float] = {}
    for row in journal:
        if not row.cost or (row.currency or currency) != currency or is_version(row):
            continue
        episode = row.shot.split("/")[0] if row.episode == BOARDS else row.episode
        found[episode] = found.get(episode, 0.0) + row.cost
    return {episode: round(cost, 4) for episode, cost in found.items()}


Stamp = tuple[tuple[int, int], ...]


def stamp(manifest: Manifest) -> Stamp:
    """The lock's and the journal's files as they are now (size, time; 0s for none)."""
    journal = journal_path(manifest.root)
    paths = (lock_path(manifest.root), journal, journal.with_name(journal.name + "-wal"))
    return tuple(_stat(path) for path in paths)


def _stat(path: Path) -> tuple[int, int]:
    try:
        found = path.stat()
    except OSError:
        return 0, 0
    return found.st_size, found.st_mtime_ns


class Grid:
    """The tiles of the last manifest asked for, kept while it and the files' stamps hold."""

    def __init__(self) -> None:
        self.kept: tuple[Manifest, Stamp, list[Tile]] | None = None
        self.lock = threading.Lock()

    def tiles(self, manifest: Manifest) -> list[Tile]:
        now = stamp(manifest)
        with self.lock:
            if self.kept is not None and self.kept[0] is manifest and self.kept[1] == now:
                return self.kept[2]
            made = tiles(manifest)
            self.kept = (manifest, now, made)
            return made
