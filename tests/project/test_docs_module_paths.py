"""Module paths named in the docs into imports: every ``storyboard.x.y`` a page names imports.

The pages (docs/*.md, README.md, ARCHITECTURE.md) name code by its dotted path
(``storyboard.stitch.prepare_sound``, ``storyboard.errors.MissingExtra``) and by its file, from the
root (``storyboard/media/ffbinary.py``) or from a package (``media/imagehead.py``). A module moved
or renamed leaves such a name stale; here each dotted path is imported (the longest prefix that
is a module, the rest read as its attributes) and each ``.py`` file named is looked for, so a
stale one fails, named with its page and line.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from tests.fixtures.paths import ROOT

PAGES = (*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "ARCHITECTURE.md")
# a dotted path, not part of a longer name or a path (``completions/storyboard.fish`` is a file)
_DOTTED = re.compile(r"(?<![\w./-])storyboard(?:\.[A-Za-z_]\w*)+")
_MODULE_FILE = re.compile(r"(?<![\w./~-])storyboard/(?:\w+/)*\w+\.py\b")
# a file named from one of the package's own folders: media/imagehead.py, run/trip/runner.py
_PACKAGES = sorted(init.parent.name for init in (ROOT / "storyboard").glob("*/__init__.py"))
_PACKAGE_FILE = re.compile(r"(?<![\w./~-])(?:" + "|".join(_PACKAGES) + r")/(?:\w+/)*\w+\.py\b")
# the series' own files, named like a dotted path: storyboard.yaml, storyboard.lock, storyboard.schema.json
_FILES = frozenset({"yaml", "lock", "schema"})


def resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module, or a module's attribute (at any depth)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def stale(text: str, root: Path = ROOT) -> list[str]:
    """Each dotted path of ``text`` that does not import and each module file it names that is
    not under ``root``, said with its line."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in _DOTTED.finditer(line):
            dotted = match.group(0)
            if dotted.split(".")[1] not in _FILES and not resolves(dotted):
                found.append(f"line {number}: {dotted} does not import")
        for match in _MODULE_FILE.finditer(line):
            if not (root / match.group(0)).is_file():
                found.append(f"line {number}: {match.group(0)} is no file")
        for match in _PACKAGE_FILE.finditer(line):
            if not (root / "storyboard" / match.group(0)).is_file():
                found.append(f"line {number}: storyboard/{match.group(0)} is no file")
    return found


def test_every_module_path_the_docs_name_is_there() -> None:
    problems = {page.name: said for page in PAGES if (said := stale(page.read_text("utf-8")))}
    assert problems == {}


def test_a_moved_module_an_attribute_gone_and_a_file_moved_are_each_caught() -> None:
    text = ("Call `storyboard.stitch.prepare_sound` (see storyboard/media/ffmpeg.py).\n"
            "The old `storyboard.stitch.prepare_nothing` and `storyboard.nowhere.module`;\n"
            "`storyboard/ffbinary.py`, `storyboard.yaml`, `storyboard.schema.json` and\n"
            "`~/.config/fish/completions/storyboard.fish`, `.storyboard/cache/`.\n"
            "`media/ffbinary.py` is; `media/probes/ffbinary.py`, `bench/x.py`, `tests/y.py`.\n")
    assert stale(text) == ["line 2: storyboard.stitch.prepare_nothing does not import",
                           "line 2: storyboard.nowhere.module does not import",
                           "line 3: storyboard/ffbinary.py is no file",
                           "line 5: storyboard/media/probes/ffbinary.py is no file"]
