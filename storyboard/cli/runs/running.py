"""A render's flags into the run and its view: ``run_render``, which ``render``, ``season
render`` and ``retake`` share (each builds its own flags; this shows the run as ``render`` does)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.cli import variations as matrix
from storyboard.cli.common import fail, guarded, variants_of
from storyboard.cli.runs.delivery import deliver
from storyboard.errors import ProblemsFound, StoryboardError

if TYPE_CHECKING:  # the runner and the views are imported where they are used
    from collections.abc import Callable

    from storyboard.language.variations import Variants
    from storyboard.run.setup import Callbacks, RenderFlags
    from storyboard.run.variations import MatrixReport

    Through = Callable[[Variants, RenderFlags, Callbacks], MatrixReport]

__all__ = ["run_render"]


def run_render(path: Path, flags: RenderFlags, *, var: tuple[str, ...] = (),
               variation: tuple[str, ...] = (), quiet: bool = False, as_json: bool = False,
               retaking: bool = False, through: Through | None = None) -> None:
    """A render with these flags, shown as ``render`` shows it (``retake`` too, with its own
    flags; ``retaking``: the exit code says the takes made alone, stitching apart; ``through``:
    the library call that renders, ``pipeline.render`` unless a season's admission is given)."""
    from storyboard.cli.runs.renderview import RenderView, ask_replace, confirm, warn
    from storyboard.review import progress
    from storyboard.run.rendering import interactive
    from storyboard.run.setup import Callbacks
    from storyboard.run.versions.matrix import render as render_all  # language variations: versions
    variants = variants_of(path, var, variation, provider=flags.provider, keep_going=True)
    if not variants.matrix and not variants.ok:
        variants = guarded(lambda: matrix.cast_alone(
            variants, path, var, variation, flags.shots)) or variants
    if not variants.matrix and not variants.ok:
        fail(ProblemsFound(variants.diagnostics()))
    console = progress.console(stderr=True, quiet=quiet or as_json)
    live = progress.LiveProgress(console, "")
    view = RenderView(console, live, variants.matrix)
    ask = confirm() if interactive() and not as_json else None
    calls = Callbacks(confirm=ask, on_plan=view.plan, on_event=live.event,
                      on_episode=live.episode, on_notice=warn,
                      ask_replace=ask_replace() if ask else None)
    try:
        with live:
            report = (through or render_all)(variants, flags, calls)
    except StoryboardError as error:
        fail(error)  # after the live view has closed, so the error is the last word
        return
    deliver(variants, flags, report)  # a delivered series: out/season/
    view.finish(report, as_json, quiet, retaking)
