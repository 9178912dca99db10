"""A series' last breakdown into what ``storyboard plan`` says of it: proposals waiting beside
edited files, and what bringing the series up to date with its story would cost.

It reads ``.storyboard/breakdown/last.json``, which every run leaves (``pipeline.remember``), and
plans from the cache alone: nothing is sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from storyboard.breakdown.cache import FOLDER
from storyboard.breakdown.guard import PROPOSED
from storyboard.breakdown.pipeline import Options, plan
from storyboard.breakdown.source import read_story
from storyboard.errors import StoryboardError


def notes(series: Path) -> list[str]:
    """What ``plan`` prints about the series' breakdown (nothing when it has none)."""
    try:
        record = json.loads((series / FOLDER / "last.json").read_text(encoding="utf-8"))
        options = Options(**record["options"])
        source = Path(os.path.normpath(series / str(record["source"])))
    except (OSError, ValueError, KeyError, TypeError):
        return []
    waiting = [n for n in record.get("proposed", []) if (series / (n + PROPOSED)).is_file()]
    out = [f"breakdown: a proposal waits beside your edit of {name}: {name}{PROPOSED}"
           for name in waiting]
    return [*out, _pending(source, series, options)]


def _pending(source: Path, series: Path, options: Options) -> str:
    try:
        estimate = plan(read_story(source), series, options)
    except StoryboardError as error:
        return f"breakdown: cannot plan from {source}: {error}"
    if not estimate.pending:
        return f"breakdown: up to date with {source.name} (every answer is cached)"
    return (f"breakdown: {source.name} changed since: {len(estimate.pending)} call(s) to ask, "
            f"up to ${estimate.ceiling:.4f} (storyboard breakdown {source} {series})")
