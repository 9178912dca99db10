"""A series' plan, priced and consented, into queued shots on the team ledger (``queue render``).

The person who queues agrees to the price once, here, exactly as ``render`` asks it (a terminal's
question, ``--yes`` or ``--budget``); what they agreed to (the budget, else the plan's cost) is
recorded with every queued shot, and workers spend within it. Only what the plan would pay for
is queued (cached shots, shots in the store, shots another run holds are not); the cast a shot
uses is made by the worker that renders the first shot needing it (the ledger's claims make it
once); a shot that starts from another queued shot's last frame is taken once that one ended.
A shot's tags are its provider block's ``tags:`` (``provider: {name: comfyui, tags: [gpu-a]}``):
only a worker serving all of them takes it.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.language.request import ASSET_EPISODES, BOARDS, Manifest
from storyboard.language.variations import Variants
from storyboard.run.pipeline import matrix_plan
from storyboard.run.rendering import consent, protect_approved
from storyboard.run.setup import Callbacks, RenderFlags, open_run
from storyboard.run.team.ledger_pg import PgLedger
from storyboard.run.team.queue_pg import NewShot, PgQueue


@dataclass(frozen=True)
class Queued:
    """What ``queue render`` left on the ledger."""

    render_id: str
    series: str  # as recorded: relative to the folder it was queued from, else absolute
    provider: str
    shots: int
    budget: float
    currency: str
    where: str  # the ledger, shown without credentials
    waiting: tuple[str, ...] = ()  # the videos waiting on their boards' approval (not queued)
    boards: tuple[str, ...] = ()  # the boards to draw first (a worker draws no board)


def recorded_path(root: Path, base: Path) -> str:
    """The series folder as workers find it: relative to ``base`` (the folder the render was
    queued from, a clone's top) when inside it, else absolute."""
    root, base = root.resolve(), base.resolve()
    return root.relative_to(base).as_posix() if root.is_relative_to(base) else str(root)


def provider_tags(manifest: Manifest, provider: str) -> tuple[str, ...]:
    """The ``tags:`` of the provider's block: the workers that may render its shots."""
    tags: Any = manifest.settings_for(provider).get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise StoryboardError(f"{manifest.setting_where(provider, 'tags')}: expected a list of "
                              f"tag names such as [gpu-a, big-vram], got {tags!r}")
    return tuple(sorted({t.strip() for t in tags}))


def who() -> str:
    """The person and machine that queued a render (for ``status``)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "someone"
    return f"{user}@{socket.gethostname()}"


def queue_render(variants: Variants, flags: RenderFlags, calls: Callbacks | None = None, *,
                 base: Path) -> Queued:
    """Plan and consent as ``render`` does, then queue what it would pay for, on the team
    ledger, instead of rendering it."""
    if variants.matrix:
        raise StoryboardError("queue render: a variations matrix is not queued (yet): render "
                              "it, or queue a plain series")
    calls = calls or Callbacks()
    with open_run(variants, flags, calls) as setup:
        ledger, team, _ = setup.ledger()
        if not team:
            raise StoryboardError("queue render needs a team ledger: set `ledger: "
                                  "postgresql://HOST/DB` in storyboard.yaml or STORYBOARD_LEDGER")
        if not isinstance(ledger, PgLedger):
            raise setup.ledger_refused()
        the_plan = matrix_plan(setup)
        if calls.on_plan is not None:
            calls.on_plan(the_plan)
        plan = the_plan.plan
        protect_approved(setup, plan, replace_approved=flags.replace_approved,
                         ask=calls.ask_replace)
        consent(setup, plan)
        tags = provider_tags(setup.manifest, setup.provider.name)
        picked = [s for s in plan.to_render
                  if s.episode not in ASSET_EPISODES and s.hash not in setup.skips]
        names = {f"{s.episode}/{s.shot}" for s in picked}
        shots = [NewShot(f"{s.episode}/{s.shot}", s.hash, tags, _after(s.episode, s.waits_on,
                                                                      names)) for s in picked]
        agreed = flags.budget if flags.budget is not None else plan.total_cost
        series = recorded_path(setup.manifest.root, base)
        render_id = PgQueue(ledger).enqueue(series, setup.provider.name, shots, budget=agreed,
                                            queued_by=who()) if shots else ""
        return Queued(render_id, series, setup.provider.name, len(shots), agreed, plan.currency,
                      ledger.where, tuple(f"{s.episode}/{s.shot}" for s in plan.shots
                                          if s.status == "waits" and s.episode != BOARDS),
                      tuple(f"{s.episode}/{s.shot}" for s in plan.to_render
                            if s.episode == BOARDS))


def _after(episode: str, waits_on: str | None, queued: set[str]) -> str:
    """The queued shot whose last frame a shot starts from ("": none queued)."""
    name = f"{episode}/{waits_on}" if waits_on else ""
    return name if name in queued else ""
