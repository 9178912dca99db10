"""storyboard: YAML storyboards into rendered AI video episodes (Wan 2.7 and 3.0 video models).

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

from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.language.compile import compile_source
from storyboard.language.request import Manifest
from storyboard.language.series import Source, load_source
from storyboard.language.variations import Variants, compile_variations
from storyboard.run.variations import plan_variations, render_variations

if TYPE_CHECKING:
    from storyboard.run import Plan
    from storyboard.run.rendering import RenderReport
    from storyboard.run.team.sync import SyncReport

__all__ = ["Diagnostic", "Manifest", "ProblemsFound", "StoryboardError", "Variants", "check",
           "compile", "compile_variations", "load", "plan", "plan_variations", "pull", "push",
           "render", "render_variations"]
__version__ = "0.1.0"


def load(path: str | Path) -> Source:
    """Read a series (its folder, its storyboard.yaml, or a single file) and its episode files."""
    return load_source(Path(path))


def check(path: str | Path, *, provider: str | None = None) -> list[Diagnostic]:
    """Every problem in the series, errors and warnings, sorted by place. Empty when clean.

    ``provider`` (a gateway's name, else the series' ``provider.name``) adds its limits.
    Warnings alone do not stop a compile or a render. A series with a matrix is checked in every
    variation; a problem found in some variations only names them."""
    try:
        return compile_variations(path, provider=provider).diagnostics()
    except ProblemsFound as found:
        return found.diagnostics


def compile(path: str | Path, *, provider: str | None = None) -> Manifest:
    """Load, validate, expand and compile a series into its manifest; raise ProblemsFound if any.

    ``provider`` (a gateway's name) adds its limits. A series with a ``variations`` matrix has
    one manifest per variation: use ``compile_variations``."""
    return compile_source(load(path), provider=provider)


def plan(path: str | Path, *, provider: str | None = None, episode: str | None = None,
         draft: bool = False, offline: bool = False) -> Plan:
    """What a render would do and cost, shot by shot: free (it lists the shared store, if one is
    set, unless ``offline``)."""
    from storyboard.run.rendering import plan_series
    from storyboard.run.setup import make_provider
    manifest = compile(path, provider=provider)
    return plan_series(manifest, make_provider(manifest, provider, draft=draft), episode,
                       offline=offline)


def render(path: str | Path, **options: Any) -> RenderReport:
    """Render the series and stitch its episodes; ``options`` are ``render_series``'s
    (provider, episode, draft, out, yes, budget, concurrency, confirm, on_event, ...).

    Without ``yes=True`` or a ``budget``, a render that would cost money is refused.
    """
    from storyboard.run.rendering import render_series
    return render_series(compile(path, provider=options.get("provider")), **options)


def push(path: str | Path, *, provider: str | None = None, episode: str | None = None,
         draft: bool = False) -> SyncReport:
    """Send the series' rendered shots that the shared store lacks (``storyboard push``)."""
    from storyboard.run.team.sync import push_series
    return push_series(compile(path, provider=provider), provider=provider, episode=episode, draft=draft)


def pull(path: str | Path, *, provider: str | None = None, episode: str | None = None,
         draft: bool = False) -> SyncReport:
    """Fetch the series' shots from the shared store, each checked by sha256 (``storyboard
    pull``)."""
    from storyboard.run.team.sync import pull_series
    return pull_series(compile(path, provider=provider), provider=provider, episode=episode, draft=draft)
