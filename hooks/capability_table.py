"""Declarations into the docs: MkDocs hook that writes the capability tables into a page.

``mkdocs.yml`` names this file under ``hooks:``. A page holding ``<!-- capability-table:models -->``,
``<!-- capability-table:targets -->``, ``<!-- capability-table:sources -->`` or
``<!-- capability-table:assets -->`` gets that table,
built from ``storyboard.targets`` when the site is built, so the docs never drift from the
declarations the compiler checks against. A table a reader of the repository should see too sits
written out between the marker and its end (``<!-- /capability-table:assets -->``): the hook
writes it again, and ``tests/project/test_docs_drift.py`` holds the written one to the declarations.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's storyboard, not another installed one
    sys.path.insert(0, str(ROOT))

from storyboard.targets.cast.assets import assets_markdown  # noqa: E402
from storyboard.targets.table import (  # noqa: E402
    models_markdown,
    sources_markdown,
    targets_markdown,
)

MARKERS: dict[str, Callable[[], str]] = {
    "<!-- capability-table:models -->": models_markdown,
    "<!-- capability-table:targets -->": targets_markdown,
    "<!-- capability-table:sources -->": sources_markdown,
    "<!-- capability-table:assets -->": assets_markdown,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Each marker on the page replaced by its table (with the table written after it, if any,
    up to its end marker)."""
    for marker, table in MARKERS.items():
        end = marker.replace("<!-- ", "<!-- /")
        while marker in markdown:
            start = markdown.index(marker)
            stop = markdown.find(end, start)
            after = stop + len(end) if stop >= 0 else start + len(marker)
            markdown = markdown[:start] + table() + markdown[after:]
    return markdown
