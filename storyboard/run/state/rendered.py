"""The lock and the output caches into the file of each take wherever it was rendered.

The studio's default view shows what the episodes use, whoever made it: a take a provider
rendered is read from the cache the lock names for it (its ``cache_key``), a free local draft
only where no provider's file exists. ``Rendered`` is an ``OutputCache`` of the drafts that looks
in the lock's caches first; ``episode_as_rendered`` is an episode with each shot as the take it
uses there: the approved, else the picked take (``takes.used_take``), else the lowest-numbered
take a provider rendered, else the lowest-numbered draft.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockFile, TakeState
from storyboard.run.state.takes import episode_as_used, rendered_by, state_key, used_take

DRAFTS = "local draft"  # who made a shown draft, as the page says it


class Rendered(OutputCache):
    """The drafts' cache (``cache_key``), each hash found first where the lock says a provider
    rendered it. Read only: nothing is put here."""

    def __init__(self, series_dir: Path, lock: LockFile, cache_key: str) -> None:
        super().__init__(series_dir, cache_key)
        caches: dict[str, OutputCache] = {}
        self.made: dict[str, tuple[OutputCache, str]] = {}  # hash -> its cache, who made it
        for entry in lock.shots.values():
            digest, key = entry.get("hash"), entry.get("cache_key")
            if isinstance(digest, str) and isinstance(key, str) and key != cache_key:
                cache = caches.setdefault(key, OutputCache(series_dir, key))
                self.made[digest] = (cache, rendered_by(str(entry.get("provider") or key), key))

    def rendered(self, shot_hash: str) -> Path | None:
        """The file a provider made of ``shot_hash`` (the lock names its cache), if it is kept."""
        found = self.made.get(shot_hash)
        return found[0].path(shot_hash) if found is not None and found[0].has(shot_hash) else None

    def drafted(self, shot_hash: str) -> bool:
        return super().path(shot_hash).is_file()

    def path(self, shot_hash: str) -> Path:
        return self.rendered(shot_hash) or super().path(shot_hash)

    def by(self, shot_hash: str) -> str:
        """Who made the file shown for ``shot_hash``: a provider, ``local draft``, or ""."""
        if self.rendered(shot_hash) is not None:
            return self.made[shot_hash][1]
        return DRAFTS if self.drafted(shot_hash) else ""

    def kept(self) -> bool:
        """Whether a file a provider made of some take the lock names is kept here."""
        return any(self.rendered(digest) is not None for digest in self.made)

    def any_in(self, shots: list[CompiledShot]) -> bool:
        """Whether a provider rendered some take of ``shots``."""
        return any(self.rendered(take.hash) is not None for s in shots for take in s.all_takes())


def shot_as_rendered(shot: CompiledShot, state: TakeState, files: Rendered) -> CompiledShot:
    """The take ``shot`` uses in the view of what was rendered (see the module)."""
    takes = shot.all_takes()
    made = {t.id for t in takes if files.rendered(t.hash) is not None} or \
        {t.id for t in takes if files.drafted(t.hash)}
    return used_take(shot, state, made)


def episode_as_rendered(episode: CompiledEpisode, states: dict[str, TakeState],
                        files: Rendered) -> tuple[CompiledEpisode, dict[str, Path]]:
    """The episode with each shot as the take it uses, and those takes' files by shot id."""
    outputs = {}
    for shot in episode.shots:
        take = shot_as_rendered(shot, states.get(state_key(shot), {}), files)
        if files.has(take.hash):
            outputs[take.id] = files.path(take.hash)
    return episode_as_used(episode, states, outputs)


def manifest_as_rendered(manifest: Manifest, states: dict[str, TakeState],
                         files: Rendered) -> Manifest:
    """The manifest each shot of which is the take it uses (``episode_as_rendered``)."""
    return replace(manifest, episodes=[episode_as_rendered(ep, states, files)[0]
                                       for ep in manifest.episodes])


def shown_by(manifest: Manifest, files: Rendered) -> str:
    """Who made the takes shown, for the page's header: ``dashscope`` when one provider made them
    all, else each with its count of shots (``dashscope (2 shots), local draft (1 shot)``)."""
    counts: dict[str, int] = {}
    for shot in manifest.episode_shots():
        who = files.by(shot.hash) or "not rendered"
        counts[who] = counts.get(who, 0) + 1
    if len(counts) == 1 and "not rendered" not in counts and DRAFTS not in counts:
        return next(iter(counts))
    return ", ".join(f"{who} ({n} shot{'s' if n > 1 else ''})" for who, n in
                     sorted(counts.items(), key=lambda item: (-item[1], item[0])))
