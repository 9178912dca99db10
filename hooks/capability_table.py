"""Declarations into the docs: MkDocs hook that writes the capability tables into a page.

``mkdocs.yml`` names this file under ``hooks:``. A page holding ``<!-- capability-table:models -->``,
``<!-- capability-table:targets -->``, ``<!-- capability-table:sources -->`` or
``<!-- capability-table:assets -->`` gets that table,
built from ``storyboard.targets`` when the site is built, so the docs never drift from the
declarations the compiler checks against.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's storyboard, not another installed one
    sys.path.insert(0, str(ROOT))

from storyboard.targets.assets import assets_markdown  # noqa: E402
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
    """Each marker on the page replaced by its table."""
    for marker, table in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, table())
    return markdown
