"""The pages of figures are a manual: each table cell a sentence or two (issue 87 item 4).

A row of ``docs/benchmarks.md`` or ``docs/internals.md`` holds its current figure with its date,
commit and load; the earlier rounds live in git only (no log page on the site). Every Markdown
table of those pages is read here, and a cell over ``CEILING`` characters
fails, named by its page, line and row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("docs/benchmarks.md", "docs/internals.md")
CEILING = 400  # characters of a table cell: a sentence or two
_PIPE = re.compile(r"(?<!\\)\|")


def table_cells(text: str) -> Iterator[tuple[int, str, str]]:
    """Each cell of each Markdown table in ``text`` (fenced code left out) as (its line, its
    row's first cell, the cell), split at the pipes a table splits at (not an escaped ``\\|``)."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced or not line.lstrip().startswith("|"):
            continue
        cells = [cell.strip() for cell in _PIPE.split(line.strip().strip("|"))]
        for cell in cells:
            yield number, cells[0], cell


def too_long(text: str, ceiling: int = CEILING) -> list[str]:
    """Each cell of ``text``'s tables over ``ceiling`` characters, said with its line and row."""
    return [f"line {number}: the row {row[:60]!r} has a cell of {len(cell):,} characters "
            f"(at most {ceiling:,}: keep the current figure, leave the rest to "
            "git)"
            for number, row, cell in table_cells(text) if len(cell) > ceiling]


@pytest.mark.parametrize("page", PAGES)
def test_every_table_cell_is_a_sentence_or_two(page: str) -> None:
    assert too_long((ROOT / page).read_text("utf-8")) == [], page


def test_a_long_cell_is_found_with_its_row_and_a_code_block_is_not_a_table() -> None:
    text = ("| what | measured |\n|---|---|\n"
            f"| the suite | {'x' * (CEILING + 1)} |\n"
            f"| a pipe \\| escaped | {'y' * CEILING} |\n"
            f"```\n| code | {'z' * (CEILING + 1)} |\n```\n")
    assert too_long(text) == [f"line 3: the row 'the suite' has a cell of {CEILING + 1:,} "
                              f"characters (at most {CEILING:,}: keep the current figure, "
                              "leave the rest to git)"]


def test_no_page_keeps_a_log_of_earlier_rounds() -> None:
    """The history of the figures lives in git: no log page, none in the site's config, no link."""
    assert not (ROOT / "docs" / "benchmarks-log.md").exists()
    assert "benchmarks-log" not in (ROOT / "mkdocs.yml").read_text("utf-8")
    linking = [page.name for page in sorted((ROOT / "docs").glob("*.md"))
               if "benchmarks-log" in page.read_text("utf-8")]
    assert linking == []
