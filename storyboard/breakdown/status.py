"""A series' last breakdown into what ``storyboard plan`` and the studio say of it: proposals
waiting beside edited files, and what bringing the series up to date with its story would cost.

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
from storyboard.review.studio.proposals import Waiting


def waiting(series: Path) -> Waiting | None:
    """What the series' last breakdown left (None: it has none, or its record does not read)."""
    try:
        record = json.loads((series / FOLDER / "last.json").read_text(encoding="utf-8"))
        options = Options(**record["options"])
        source = Path(os.path.normpath(series / str(record["source"])))
        named = [str(name) for name in record.get("proposed", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    proposals = tuple(n for n in named if (series / (n + PROPOSED)).is_file())
    command = f"storyboard breakdown {source} {series}"
    try:
        estimate = plan(read_story(source), series, options)
    except StoryboardError as error:
        return Waiting(proposals, source.name, command=command,
                       problem=f"cannot plan from {source}: {error}")
    pending = tuple(f"{p.stage} of chapter {p.chapter} (~{p.input_tokens:,} tokens in, up to "
                    f"${p.ceiling:.4f})" for p in estimate.pending)
    return Waiting(proposals, source.name, pending, estimate.ceiling, command)


def notes(series: Path) -> list[str]:
    """What ``plan`` prints about the series' breakdown (nothing when it has none)."""
    found = waiting(series)
    if found is None:
        return []
    out = [f"breakdown: a proposal waits beside your edit of {name}: {name}{PROPOSED}"
           for name in found.proposals]
    return [*out, _pending(found)]


def _pending(found: Waiting) -> str:
    if found.problem:
        return f"breakdown: {found.problem}"
    if not found.pending:
        return f"breakdown: up to date with {found.story} (every answer is cached)"
    return (f"breakdown: {found.story} changed since: {len(found.pending)} call(s) to ask, "
            f"up to ${found.cost:.4f} ({found.command})")
