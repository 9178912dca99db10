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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError

if TYPE_CHECKING:
    from storyboard.language.request import Manifest
    from storyboard.language.series import Source
    from storyboard.language.variations import Variants, compile_variations
    from storyboard.run import Plan
    from storyboard.run.pipeline import RenderReport
    from storyboard.run.sync import SyncReport
    from storyboard.run.variations import MatrixPlan, MatrixReport

__all__ = ["Diagnostic", "Manifest", "ProblemsFound", "StoryboardError", "Variants", "check",
           "compile", "compile_variations", "load", "plan", "plan_variations", "pull", "push",
           "render", "render_variations"]
__version__ = "0.1.0"
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
    from storyboard.language.series import load_source
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


def render(path: str | Path, **options: Any) -> RenderReport:
    """Render the series and stitch its episodes; ``options`` are ``render_series``'s
    (provider, episode, draft, out, yes, budget, concurrency, confirm, on_event, ...).

    Without ``yes=True`` or a ``budget``, a render that would cost money is refused.
    """
    from storyboard.run.pipeline import render_series
    from storyboard.run.setup import split_options
    heard = options.pop("on_plan", None)
    flags, calls = split_options(options)
    if heard is not None:
        calls.on_plan = lambda matrix: heard(matrix.plan)
    return render_series(compile(path, provider=flags.provider), flags, calls)


def plan_variations(variants: Variants, provider: str | None = None,
                    episode: str | None = None, *, draft: bool = False,
                    offline: bool = False) -> list[MatrixPlan]:
    """One plan per provider group of a compiled matrix (``compile_variations``): free."""
    from storyboard.run.pipeline import plan as plan_all
    from storyboard.run.setup import RenderFlags
    return plan_all(variants, RenderFlags(provider, episode, draft, offline=offline))


def render_variations(variants: Variants, **options: Any) -> MatrixReport:
    """Render a compiled matrix: ``options`` are ``RenderFlags``' fields (provider, episode,
    draft, out, yes, budget, shots, replace_approved, ...) and ``Callbacks``' (confirm,
    on_plan, on_event, on_episode, on_notice, ask_replace)."""
    from storyboard.run.pipeline import render as render_all
    from storyboard.run.setup import split_options
    return render_all(variants, *split_options(options))


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
