"""storyboard: a declarative storyboard compiler for AI video (Wan 2.7 reference-to-video).

The public API is small; the CLI is a thin layer over it::

    import storyboard
    problems = storyboard.check("examples/coffee-shop")       # [] when clean
    manifest = storyboard.compile("examples/coffee-shop")     # raises ProblemsFound
"""

from __future__ import annotations

from pathlib import Path

from storyboard.compile import compile_source
from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.request import Manifest
from storyboard.series import Source, load_source

__all__ = ["Diagnostic", "Manifest", "ProblemsFound", "StoryboardError", "check", "compile",
           "load"]
__version__ = "0.1.0"


def load(path: str | Path) -> Source:
    """Read a series (its folder, its storyboard.yaml, or a single file) and its episode files."""
    return load_source(Path(path))


def check(path: str | Path) -> list[Diagnostic]:
    """Every problem in the series, errors and warnings, sorted by place. Empty when clean."""
    try:
        compile_source(load(path))
    except ProblemsFound as found:
        return found.diagnostics
    return []


def compile(path: str | Path) -> Manifest:  # noqa: A001 - the verb users expect
    """Load, validate and compile a series into its manifest; raise ProblemsFound if any."""
    return compile_source(load(path))
