"""ARCHITECTURE.md is a map, not a log: short, one section per package folder, no history.

Every folder under ``storyboard/`` with an ``__init__.py`` (at any depth, the package itself
included) is named by its path, ``storyboard/run/trip/``, as a heading or at the start of a line;
a new package without its section fails here, and so does a section whose package is gone. The
page stays under ``CEILING`` characters and says nothing that ages (an issue number, a round, a
date): the history lives in git.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.paths import ROOT

CEILING = 16_500  # characters: about a third of the page it was as a log
_NAMED = re.compile(r"^(?:#+\s*|[-*]\s+)?`?(storyboard/(?:\w+/)*)(?=[`\s:,]|$)")
_HEADING = re.compile(r"^#+\s*`?(storyboard/(?:\w+/)*)`?\s*$")
_AGES = re.compile(r"\b(?:issue|issues|round|rounds)\s+#?\d+|\b\d{4}-\d{2}-\d{2}\b|\bround\b",
                   re.IGNORECASE)


def packages(root: Path) -> set[str]:
    """Each package folder under ``root/storyboard`` as ``storyboard/a/b/``, the top one too."""
    top = root / "storyboard"
    return {("storyboard/" + "".join(f"{part}/" for part in init.parent.relative_to(top).parts))
            for init in top.rglob("__init__.py")}


def named(text: str) -> set[str]:
    """The package paths ``text`` names as a heading or at the start of a line."""
    return {match.group(1) for line in text.splitlines() if (match := _NAMED.match(line.strip()))}


def headed(text: str) -> set[str]:
    """The package paths ``text`` gives a heading of their own."""
    return {match.group(1) for line in text.splitlines() if (match := _HEADING.match(line.strip()))}


def problems(root: Path, text: str) -> list[str]:
    """What is wrong with ``text`` as the map of ``root``'s package, each said plainly."""
    found = packages(root)
    said = [f"no section for {path} (a heading or a line starting with its path)"
            for path in sorted(found - named(text))]
    said += [f"a section for {path}, which is no package" for path in sorted(headed(text) - found)]
    if len(text) > CEILING:
        said.append(f"{len(text):,} characters, over {CEILING:,}: say what the folder turns into "
                    "what, its rules and where to start reading; leave the history to git")
    said += [f"line {number}: {match.group(0)!r} ages (history lives in git)"
             for number, line in enumerate(text.splitlines(), 1)
             if (match := _AGES.search(line))]
    return said


def test_the_map_names_every_package_and_stays_short() -> None:
    assert problems(ROOT, (ROOT / "ARCHITECTURE.md").read_text("utf-8")) == []


def _tree(root: Path, *folders: str) -> None:
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "__init__.py").write_text("", encoding="utf-8")
    (root / "storyboard" / "notes").mkdir()  # no __init__.py: no package, no section asked


def test_a_new_package_without_a_section_is_caught(tmp_path: Path) -> None:
    _tree(tmp_path, "storyboard", "storyboard/run", "storyboard/run/trip", "storyboard/run/new")
    text = ("# Map\n\n## `storyboard/`\n\n### storyboard/run/\n\n- `storyboard/run/trip/`: a trip\n"
            "`storyboard/run/new/x.py` is a module, not the package's section\n")
    assert packages(tmp_path) == {"storyboard/", "storyboard/run/", "storyboard/run/trip/",
                                  "storyboard/run/new/"}
    assert problems(tmp_path, text) == [
        "no section for storyboard/run/new/ (a heading or a line starting with its path)"]
    mentioned = text + "\nThe route sits over storyboard/run/new/ too.\n"
    assert problems(tmp_path, mentioned) == problems(tmp_path, text)  # a mention is no section


def test_a_section_of_a_gone_package_a_long_page_and_history_are_caught(tmp_path: Path) -> None:
    _tree(tmp_path, "storyboard")
    text = "## `storyboard/`\n\n## `storyboard/gone/`\n\nSince issue 87 and round 3, on 2026-11-27.\n"
    assert problems(tmp_path, text) == [
        "a section for storyboard/gone/, which is no package",
        "line 5: 'issue 87' ages (history lives in git)"]
    long = "## `storyboard/`\n" + "x" * CEILING
    assert len(problems(tmp_path, long)) == 1 and "over 16,500" in problems(tmp_path, long)[0]
