"""A manifest and the lock's take states into the takes each shot uses: retakes, picks, chains.

A shot's hash covers everything that reaches it: the take of each cast asset it needs (the picked
one, else take 1; an asset in a picked voice too) and the take of the shot whose last frame it
starts from, down any chain of ``from:``. ``as_picked`` applies the lock's states (read by the
caller: ``run.takes`` for a render, the CLI for ``compile``) so that a pick changes the hash of
every shot it reaches, and ``compile`` shows it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storyboard.language.hashing import SEED_MAX, digest, take_of
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.language.resolving.cast import rehashed

TakeState = dict[str, Any]  # per shot: picked, approved, approved_hash, extra, extra_free, extra_for


def state_key(shot: CompiledShot) -> str:
    """The key of a shot's take state in the lock: ``series/episode/shot``."""
    return f"{shot.series}/{shot.episode}/{shot.name}"


def as_picked(manifest: Manifest, states: dict[str, TakeState], seed_max: int = SEED_MAX, *,
              free: bool = True) -> Manifest:
    """``manifest`` with each shot's extra takes (``retake``) from ``states`` added after its
    own, each shot using the picked take of every cast asset it needs, and each shot that starts
    from another's last frame starting from that shot's take as it is now (picked, rehashed),
    through any chain of ``from:`` (once: a manifest that has them already is returned as it
    is). ``free``: for a free provider, whose own retakes (``extra_free``) a paid plan never
    buys."""
    if manifest.retakes:
        return manifest
    cast, picked = _picked_cast([_extended(s, states.get(state_key(s), {}), seed_max, free)
                                 for s in manifest.cast], states, seed_max)
    episodes = [_follow_picks(replace(ep, shots=[
        rehashed(_extended(s, states.get(state_key(s), {}), seed_max, free),
                 picked.get(s.series, {}), seed_max)
        for s in ep.shots]), states, seed_max) for ep in manifest.episodes]
    return replace(manifest, episodes=episodes, cast=cast, retakes=True)


def _picked_cast(cast: list[CompiledShot], states: dict[str, TakeState], seed_max: int
                 ) -> tuple[list[CompiledShot], dict[str, dict[str, str]]]:
    """The cast with each asset using the picked takes of the assets it needs (a line in a
    picked voice), and the hash of the take each asset uses, by series: rehashed until nothing
    changes, so a pick reaches through any chain of assets."""
    picked = picked_assets(cast, states)
    for _ in range(len(cast) + 1):
        cast = [rehashed(a, picked.get(a.series, {}), seed_max) for a in cast]
        now = picked_assets(cast, states)
        if now == picked:
            break
        picked = now
    return cast, picked


def picked_assets(cast: list[CompiledShot], states: dict[str, TakeState]
                  ) -> dict[str, dict[str, str]]:
    """The hash of the take each cast asset uses, by series and asset id (``cast/mia``): the
    picked take, else take 1. A shot's hash covers it, so picking another sheet changes the
    shots using it. By series: each variation of a matrix has its own boards (and cast), picked
    and approved one by one, and a shot uses its own variation's."""
    found: dict[str, dict[str, str]] = {}
    for asset in cast:
        found.setdefault(asset.series, {})[f"{asset.episode}/{asset.name}"] = \
            _take_used(asset, states).hash
    return found


def _take_used(shot: CompiledShot, states: dict[str, TakeState]) -> CompiledShot:
    """The take others build on: the picked one, else take 1."""
    take = int(states.get(state_key(shot), {}).get("picked") or 1)
    return next((t for t in shot.all_takes() if t.take == take), shot)


def extra_takes(state: TakeState, free: bool) -> int:
    """How many takes ``retake`` asked for beyond the shot's own: those of paid retakes, and
    for a free provider its own free ones after them."""
    return int(state.get("extra") or 0) + (int(state.get("extra_free") or 0) if free else 0)


def extras_hold(state: TakeState, shot: CompiledShot) -> bool:
    """Whether the takes ``retake`` asked for are takes of ``shot`` as it compiles now (take 1,
    as the YAML makes it): they were asked for its request of then (``extra_for``, its hash).
    After an edit they are history: an edit renders the takes the series declares, never every
    take a retake added; reverting the edit brings them back (a lock from before ``extra_for``
    keeps them)."""
    return state.get("extra_for") in (None, shot.hash)


def _extended(shot: CompiledShot, state: TakeState, seed_max: int,
              free: bool = True) -> CompiledShot:
    extra = extra_takes(state, free) if extras_hold(state, shot) else 0
    if extra <= 0:
        return shot
    first = len(shot.all_takes()) + 1
    more = [take_of(shot, k, seed_max) for k in range(first, first + extra)]
    return replace(shot, others=[*shot.others, *more])


def _follow_picks(episode: CompiledEpisode, states: dict[str, TakeState],
                  seed_max: int) -> CompiledEpisode:
    """Each shot that starts from another's last frame (``first_frame: {from: ...}``) starts
    from that shot's take as it is now: its picked take, and its hash after any pick that
    reached it (an asset it uses, a shot it starts from), so a change reaches every shot down a
    chain of ``from:`` (their hashes and their takes')."""
    used: dict[str, CompiledShot] = {}
    shots = []
    for shot in episode.shots:
        source = used.get(shot.depends_on or "")
        if source is not None and _from_hash(shot) != source.hash:
            shot = _from_take(shot, source, seed_max)
        shots.append(shot)
        used[shot.id] = _take_used(shot, states)
    return replace(episode, shots=shots)


def _from_hash(shot: CompiledShot) -> str | None:
    """The hash of the shot ``shot`` starts from, as its hash covers it."""
    for item in shot.canonical.get("media", []):
        file = item.get("file") if isinstance(item, dict) else None
        if isinstance(file, dict) and "from_shot" in file:
            return str(file["from_shot"])
    return None


def _from_take(shot: CompiledShot, source: CompiledShot, seed_max: int) -> CompiledShot:
    """``shot`` starting from ``source``'s last frame (a take as it is now)."""
    media = [{**item, "file": {"from_shot": source.hash}} if "from_shot" in
             (item.get("file") or {}) else item for item in shot.canonical.get("media", [])]
    form = {**shot.canonical, "media": media}
    first = replace(shot, hash=digest(form), canonical=form, depends_on=source.id, others=[])
    more = [take_of(first, t.take, seed_max) for t in shot.others]
    return replace(first, others=more)
