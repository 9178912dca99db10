"""The manual's pages into one count held to a budget: docs/ read in an evening.

Every Markdown page under ``docs/`` (at any depth) counts, by its characters as Python reads
them. Past ``BUDGET`` the test fails naming the total and the largest pages, so a page that grows
is cut where it grew, and history (earlier rounds, "was X, now Y") is left to git.
"""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.paths import ROOT

BUDGET = 350_000  # characters, every docs/**/*.md together


def sizes(docs: Path) -> dict[str, int]:
    """Each Markdown page under ``docs`` (at any depth), by its path there, with its characters."""
    return {page.relative_to(docs).as_posix(): len(page.read_text("utf-8"))
            for page in sorted(docs.rglob("*.md"))}


def over_budget(docs: Path, budget: int = BUDGET) -> str | None:
    """What is wrong with ``docs``' size, said with the largest pages; None when within ``budget``."""
    pages = sizes(docs)
    total = sum(pages.values())
    if total <= budget:
        return None
    largest = sorted(pages.items(), key=lambda item: (-item[1], item[0]))[:5]
    return (f"docs/ holds {total:,} characters, over its {budget:,}: cut where a page grew "
            "(the largest: " + ", ".join(f"{name} {size:,}" for name, size in largest) + ")")


def test_the_manual_stays_within_its_budget() -> None:
    assert over_budget(ROOT / "docs") is None


def test_every_page_at_any_depth_counts_and_the_largest_are_named(tmp_path: Path) -> None:
    (tmp_path / "deep").mkdir()
    (tmp_path / "a.md").write_text("é" * 60, encoding="utf-8")  # characters, not bytes
    (tmp_path / "deep" / "b.md").write_text("x" * 50, encoding="utf-8")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG" * 100)  # not a page
    assert sizes(tmp_path) == {"a.md": 60, "deep/b.md": 50}
    assert over_budget(tmp_path, budget=110) is None
    assert over_budget(tmp_path, budget=109) == (
        "docs/ holds 110 characters, over its 109: cut where a page grew "
        "(the largest: a.md 60, deep/b.md 50)")
