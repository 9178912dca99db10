"""A series' generated cast (images, designed voices) into the sheet's Cast section.

Each asset shows every take side by side: an image's still (a ``data:`` URI), a voice's clip (a
relative link to its cached file), or "not made" for a take not made yet; its marks (picked,
approved) come from the lock's take state as a shot's do. Spoken lines are not listed here: each
shows on the shot that uses it, as that shot's driving audio.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from storyboard.language.request import CompiledShot, Manifest, is_board
from storyboard.review.progress import money
from storyboard.review.sheet.model import Asset, Context, Take, plan_words
from storyboard.run.plans import ShotPlan
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import TakeState, take_key
from storyboard.run.state.takes import state_key
from storyboard.targets.kinds import CAST_MAKER

SHOWN = ("image", "voice")  # a line ("speech") is shown with the shot that speaks it


class Made:
    """Where a cast card finds a take: the paid cast maker's cache first (the sheet the paid
    shots used), then the shown provider's (a draft's local stand-in, where nothing was paid)."""

    def __init__(self, *caches: OutputCache) -> None:
        self.caches = caches

    def has(self, digest: str) -> bool:
        return any(cache.has(digest) for cache in self.caches)

    def path(self, digest: str) -> Path:
        return next((c.path(digest) for c in self.caches if c.has(digest)),
                    self.caches[-1].path(digest))


def paid_first(root: Path, cache: OutputCache) -> Made:
    """The caches a cast card looks in, the paid cast maker's first."""
    return Made(OutputCache(root, CAST_MAKER), cache)


def picked_take(asset: CompiledShot, states: dict[str, TakeState]) -> int:
    """The take an asset's users use: its picked one, else take 1."""
    return int(states.get(state_key(asset), {}).get("picked") or 1)


def made_files(manifest: Manifest, cache: OutputCache,
               states: dict[str, TakeState]) -> dict[str, tuple[int, Path]]:
    """Each made asset's picked take and its cached file, by asset id (``cast/mia``)."""
    found = {}
    for asset in manifest.cast:
        number = picked_take(asset, states)
        take = next((t for t in asset.all_takes() if t.take == number), asset)
        if cache.has(take.hash):
            found[f"{asset.episode}/{asset.name}"] = (take.take, cache.path(take.hash))
    return found


def cast_view(ctx: Context, cache: Made, states: dict[str, TakeState]) -> tuple[Asset, ...]:
    plans = {s.key: s for s in ctx.plan.shots}
    return tuple(asset_view(ctx, cache, states, asset, plans.get(take_key(asset)))
                 for asset in ctx.manifest.cast if asset.asset is not None
                 and asset.asset.kind in SHOWN and not is_board(asset.shot_id))


def board_views(ctx: Context, cache: Made, states: dict[str, TakeState]) -> dict[str, Asset]:
    """Each board's view by its id (``boards/EP/SHOT``): shown on its shot's panel, beside the
    shot's own takes, with the command that approves it until it is approved."""
    plans = {s.key: s for s in ctx.plan.shots}
    views = {}
    for board in ctx.manifest.cast:
        if is_board(board.shot_id) and board.asset is not None:
            view = asset_view(ctx, cache, states, board, plans.get(take_key(board)))
            approved = states.get(state_key(board), {}).get("approved") is not None
            views[board.shot_id] = replace(view, approve="" if approved else (
                f"storyboard approve {ctx.manifest.root.name} {board.shot_id}"))
    return views


def asset_view(ctx: Context, cache: Made, states: dict[str, TakeState],
               asset: CompiledShot, planned: ShotPlan | None) -> Asset:
    request = asset.asset
    assert request is not None
    ident = f"{asset.episode}/{asset.name}"
    state = states.get(state_key(asset), {})
    used = picked_take(asset, states)
    takes = []
    for take in asset.all_takes():
        made = cache.has(take.hash)
        path = cache.path(take.hash)
        still = ctx.thumbs.image(path, f"take {take.take}") \
            if made and request.kind == "image" else None
        audio = ctx.link(path) if made and request.kind == "voice" else ""
        full = ctx.link(path) if still is not None else ""
        marks = ", ".join(m for m in ("picked", "approved") if state.get(m) == take.take)
        takes.append(Take(take.take, still, marks, take.take == used,
                          f"storyboard pick {ctx.manifest.root.name} {ident} {take.take}",
                          audio, made, full))
    cost = sum(ctx.estimate(t) for t in asset.all_takes())
    status, reasons = plan_words(planned)
    return Asset(ident, request.kind, asset.name, ctx.anchor(*ident.split("/")),
                 request.subject, request.prompt, request.sample, money(cost, ctx.currency),
                 status, reasons, used, tuple(takes))

