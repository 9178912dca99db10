"""storyboard: YAML storyboards into rendered AI video episodes on many models (Wan, Seedance, Kling).

The public API is small; the CLI is a thin layer over it::

    import storyboard
    problems = storyboard.check("examples/coffee-shop")       # [] when clean
    manifest = storyboard.compile("examples/coffee-shop")     # raises ProblemsFound
    the_plan = storyboard.plan("examples/coffee-shop")        # free: cached / new / changed, cost
    report = storyboard.render("examples/coffee-shop")        # shots, then one file per episode
    storyboard.pull("examples/coffee-shop")                   # shots from the shared store, if set

A series with a ``variations`` matrix is compiled, planned and rendered as a whole with
``compile_variations``, ``plan_variations`` and ``render_variations`` (``storyboard.run.variations``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError

if TYPE_CHECKING:
    from storyboard.language.read.series import Source
    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variants, compile_variations
    from storyboard.run import Plan, ShotEvent
    from storyboard.run.pipeline import RenderReport
    from storyboard.run.setup import Callbacks, RenderFlags
    from storyboard.run.state.lock.lockfile import TakeChange
    from storyboard.run.sync import SyncReport
    from storyboard.run.variations import MatrixPlan, MatrixReport
    from storyboard.stitch.series.episodes import EpisodeOutput

__all__ = ["Diagnostic", "Manifest", "ProblemsFound", "StoryboardError", "Variants", "check",
           "compile", "compile_variations", "load", "plan", "plan_variations", "pull", "push",
           "render", "render_variations"]
__version__ = "0.2.0"
# Imported on first use, so ``import storyboard`` (and ``storyboard --help``) loads neither the
# compiler nor the runner: the name, then the module it lives in.
_LAZY = {"Manifest": "storyboard.language.request", "Variants": "storyboard.language.variations",
         "compile_variations": "storyboard.language.variations"}


def __getattr__(name: str) -> Any:
    """The lazily imported names of ``__all__`` (``_LAZY``), from their modules on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'storyboard' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def load(path: str | Path) -> Source:
    """Read a series (its folder, its storyboard.yaml, or a single file) and its episode files."""
    from storyboard.language.read.series import load_source
    return load_source(Path(path))


def check(path: str | Path, *, provider: str | None = None) -> list[Diagnostic]:
    """Every problem in the series, errors and warnings, sorted by place. Empty when clean.

    ``provider`` (a gateway's name, else the series' ``provider.name``) adds its limits.
    Warnings alone do not stop a compile or a render. A series with a matrix is checked in every
    variation; a problem found in some variations only names them."""
    from storyboard.language.variations import compile_variations
    try:
        return compile_variations(path, provider=provider).diagnostics()
    except ProblemsFound as found:
        return found.diagnostics


def compile(path: str | Path, *, provider: str | None = None) -> Manifest:
    """Load, validate, expand and compile a series into its manifest; raise ProblemsFound if any.

    ``provider`` (a gateway's name) adds its limits. A series with a ``variations`` matrix has
    one manifest per variation: use ``compile_variations``."""
    from storyboard.language.compile import compile_source
    return compile_source(load(path), provider=provider)


def plan(path: str | Path, *, provider: str | None = None, episode: str | None = None,
         draft: bool = False, offline: bool = False) -> Plan:
    """What a render would do and cost, shot by shot: free (it lists the shared store, if one is
    set, unless ``offline``)."""
    from storyboard.run.pipeline import plan_series
    from storyboard.run.setup import make_provider
    manifest = compile(path, provider=provider)
    return plan_series(manifest, make_provider(manifest, provider, draft=draft), episode,
                       offline=offline)


def render(path: str | Path, *, provider: str | None = None, episode: str | None = None,
           draft: bool = False, out: str | Path | None = None, yes: bool = False,
           budget: float | None = None, concurrency: int | None = None, offline: bool = False,
           shots: Sequence[str] = (), replace_approved: bool = False, boards: bool = False,
           webhook_listen: str | None = None, webhook_url: str | None = None,
           take_changes: Sequence[TakeChange] = (),
           confirm: Callable[[Plan], bool] | None = None,
           on_plan: Callable[[Plan], None] | None = None,
           on_event: Callable[[ShotEvent], None] | None = None,
           on_episode: Callable[[EpisodeOutput], None] | None = None,
           on_notice: Callable[[str], None] | None = None,
           ask_replace: Callable[[str], bool] | None = None) -> RenderReport:
    """Render the series and stitch its episodes: the flags of ``storyboard render`` by their
    names (``out``: ``--out``; ``shots``: each ``--shot``), the take states a retake asks for
    (``take_changes``: written to the lock once the run has consent) and who hears the run.

    Without ``yes=True`` or a ``budget``, a render that would cost money is refused unless
    ``confirm`` (a person's yes to the plan) says yes. ``on_plan`` hears the plan before
    anything is spent, ``on_event`` each shot's progress, ``on_episode`` each stitched episode,
    ``on_notice`` each warning, ``ask_replace`` is asked before spending on approved shots.
    """
    flags = _flags(locals())  # first: the keywords alone, by name
    from storyboard.run.pipeline import render_series
    calls = _callbacks(confirm, on_event, on_episode, on_notice, ask_replace)
    if on_plan is not None:
        heard = on_plan
        calls.on_plan = lambda matrix: heard(matrix.plan)
    return render_series(compile(path, provider=provider), flags, calls)


def plan_variations(variants: Variants, provider: str | None = None,
                    episode: str | None = None, *, draft: bool = False,
                    offline: bool = False) -> list[MatrixPlan]:
    """One plan per provider group of a compiled matrix (``compile_variations``): free."""
    from storyboard.run.pipeline import plan as plan_all
    from storyboard.run.setup import RenderFlags
    return plan_all(variants, RenderFlags(provider, episode, draft, offline=offline))


def render_variations(variants: Variants, *, provider: str | None = None,
                      episode: str | None = None, draft: bool = False,
                      out: str | Path | None = None, yes: bool = False,
                      budget: float | None = None, concurrency: int | None = None,
                      offline: bool = False, shots: Sequence[str] = (),
                      replace_approved: bool = False, boards: bool = False,
                      webhook_listen: str | None = None, webhook_url: str | None = None,
                      take_changes: Sequence[TakeChange] = (),
                      confirm: Callable[[Plan], bool] | None = None,
                      on_plan: Callable[[MatrixPlan], None] | None = None,
                      on_event: Callable[[ShotEvent], None] | None = None,
                      on_episode: Callable[[EpisodeOutput], None] | None = None,
                      on_notice: Callable[[str], None] | None = None,
                      ask_replace: Callable[[str], bool] | None = None) -> MatrixReport:
    """Render a compiled matrix: the same flags and listeners as ``render`` (``on_plan`` hears
    each provider group's plan, per variation)."""
    flags = _flags(locals())  # first: the keywords alone, by name
    from storyboard.run.pipeline import render as render_all
    calls = _callbacks(confirm, on_event, on_episode, on_notice, ask_replace)
    calls.on_plan = on_plan
    return render_all(variants, flags, calls)


def _flags(given: Mapping[str, Any]) -> RenderFlags:
    """The keywords of ``render`` and ``render_variations`` that name a field of the run's flags,
    as those flags, by name (as the command line's ``cli.flags.renderflags.render_flags`` does): a field
    added to ``RenderFlags`` and as a keyword reaches the run without being listed here."""
    from storyboard.run.setup import RenderFlags
    flags = {name: value for name, value in given.items()
             if name in RenderFlags.__dataclass_fields__}
    out = flags.get("out")
    flags.update(out=None if out is None else Path(out), shots=tuple(flags.get("shots", ())),
                 take_changes=tuple(flags.get("take_changes", ())))
    return RenderFlags(**flags)


def _callbacks(confirm: Callable[[Plan], bool] | None,
               on_event: Callable[[ShotEvent], None] | None,
               on_episode: Callable[[EpisodeOutput], None] | None,
               on_notice: Callable[[str], None] | None,
               ask_replace: Callable[[str], bool] | None) -> Callbacks:
    """The listeners of ``render`` and ``render_variations`` as the run's callbacks."""
    from storyboard.run.setup import Callbacks
    return Callbacks(confirm=confirm, on_event=on_event, on_episode=on_episode,
                     on_notice=on_notice, ask_replace=ask_replace)


def push(path: str | Path, *, provider: str | None = None, episode: str | None = None,
         draft: bool = False) -> SyncReport:
    """Send the series' rendered shots that the shared store lacks (``storyboard push``)."""
    from storyboard.run.sync import push_series
    return push_series(compile(path, provider=provider), provider=provider, episode=episode, draft=draft)


def pull(path: str | Path, *, provider: str | None = None, episode: str | None = None,
         draft: bool = False) -> SyncReport:
    """Fetch the series' shots from the shared store, each checked by sha256 (``storyboard
    pull``)."""
    from storyboard.run.sync import pull_series
    return pull_series(compile(path, provider=provider), provider=provider, episode=episode, draft=draft)
