"""The CHANGELOG is Keep a Changelog's, and its newest release is the version being built.

Its headings are ``## Unreleased`` (first) and releases ``## X.Y.Z - YYYY-MM-DD``, newest first;
a release's sections are only Added, Changed, Fixed, Removed and Security; every entry under
Unreleased and the newest release is one line a user would notice (no continuation lines, no
paragraphs); and the newest release's version is pyproject's, and the package's ``__version__``.
Each rule is shown to catch a made-up offender.
"""

from __future__ import annotations

import re
import tomllib

import storyboard
from tests.fixtures.paths import ROOT

SECTIONS = ("Added", "Changed", "Fixed", "Removed", "Security")
_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+) - (\d{4}-\d{2}-\d{2})$")


def releases(text: str) -> list[tuple[str, list[str]]]:
    """Each ``## `` part of ``text`` as (its heading's text, its lines), in order."""
    parts: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            parts.append((line[3:].strip(), []))
        elif parts:
            parts[-1][1].append(line)
    return parts


def heading_problems(text: str) -> list[str]:
    """What is wrong with the headings of ``text``: the title, the parts and their sections."""
    said = [f"a heading {line!r}: only `# Changelog`, `## ` parts and `### ` sections"
            for line in text.splitlines() if line.startswith("#")
            and not line.startswith(("## ", "### ")) and line != "# Changelog"]
    parts = releases(text)
    if not parts or parts[0][0] != "Unreleased":
        said.append("the first part is not `## Unreleased`")
    dated = [(name, _RELEASE.match(name)) for name, _ in parts[1:]]
    said += [f"`## {name}` is not `## X.Y.Z - YYYY-MM-DD`" for name, match in dated if not match]
    order = [(tuple(int(n) for n in m.group(1, 2, 3)), m.group(4)) for _, m in dated if m]
    if order != sorted(order, reverse=True):
        said.append("the releases are not newest first")
    for name, lines in parts:
        said += [f"`## {name}` has a section {line!r}: only " + ", ".join(SECTIONS)
                 for line in lines if line.startswith("### ") and line[4:].strip() not in SECTIONS]
    return said


def entry_problems(text: str) -> list[str]:
    """Each line under Unreleased and the newest release that is not a heading, a blank line or a
    one-line entry (``- ...``)."""
    return [f"`## {name}`: {line.strip()[:60]!r} is not a one-line entry"
            for name, lines in releases(text)[:2] for line in lines
            if line.strip() and not line.startswith(("### ", "- "))]


def newest(text: str) -> str | None:
    """The newest release's version, if there is one."""
    dated = [m.group(1, 2, 3) for name, _ in releases(text) if (m := _RELEASE.match(name))]
    return ".".join(dated[0]) if dated else None


def test_the_changelog_keeps_its_form() -> None:
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert heading_problems(text) == []
    assert entry_problems(text) == []


def test_the_newest_release_is_the_version_built() -> None:
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert newest(text) == version == storyboard.__version__


GOOD = """# Changelog

Intro.

## Unreleased

## 1.2.0 - 2026-12-01

### Added
- A thing.

### Security
- A guard.

## 1.1.0 - 2026-11-01

The first one, said
over two lines.

### Added
- An older entry
  that runs on.
"""


def test_a_good_changelog_passes_and_names_its_newest_release() -> None:
    assert heading_problems(GOOD) == [] and entry_problems(GOOD) == []
    assert newest(GOOD) == "1.2.0"


def test_a_wrong_heading_a_section_and_the_order_are_caught() -> None:
    text = (GOOD.replace("## 1.2.0 - 2026-12-01", "## 1.2.0 (December)")
            .replace("### Security", "### Notes").replace("# Changelog", "# Changes"))
    assert heading_problems(text) == [
        "a heading '# Changes': only `# Changelog`, `## ` parts and `### ` sections",
        "`## 1.2.0 (December)` is not `## X.Y.Z - YYYY-MM-DD`",
        "`## 1.2.0 (December)` has a section '### Notes': only Added, Changed, Fixed, Removed, "
        "Security"]
    swapped = GOOD.replace("1.2.0 - 2026-12-01", "1.0.0 - 2026-12-01")
    assert heading_problems(swapped) == ["the releases are not newest first"]
    assert heading_problems(GOOD.replace("## Unreleased\n", "")) == [
        "the first part is not `## Unreleased`"]


def test_a_continuation_line_under_the_newest_release_or_unreleased_is_caught() -> None:
    text = GOOD.replace("- A thing.", "- A thing\n  that runs on.").replace(
        "## Unreleased\n", "## Unreleased\n\nA paragraph.\n")
    assert entry_problems(text) == [
        "`## Unreleased`: 'A paragraph.' is not a one-line entry",
        "`## 1.2.0 - 2026-12-01`: 'that runs on.' is not a one-line entry"]
