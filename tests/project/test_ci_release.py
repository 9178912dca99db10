"""CI's release step (.ci/release.sh) checks what docs/releasing.md says CI checks for a release.

The script builds from a clone and runs ``twine check --strict``, which need the package registry,
so CI runs it (``.ci/run``) and these tests read it: it runs each check the page names, requires
every folder ``pyproject.toml`` puts into the wheel, and asks the CHANGELOG for the section form
that tests/project/test_packaging_changelog.py holds.
"""

from __future__ import annotations

import re
import tomllib

from tests.fixtures.paths import ROOT

SCRIPT = (ROOT / ".ci" / "release.sh").read_text("utf-8")


def test_ci_runs_the_release_step_and_the_page_says_so() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "\n.ci/release.sh\n" in ci + "\n"
    page = (ROOT / "docs" / "releasing.md").read_text("utf-8")
    assert "`.ci/release.sh`" in page and "twine check --strict" in page


def test_the_step_builds_from_a_clone_and_checks_with_twine() -> None:
    assert re.search(r"^git clone -q \. ", SCRIPT, re.MULTILINE)
    assert '-m build -o "$WORK/dist"' in SCRIPT
    assert 'twine" check --strict "$WORK/dist"/*' in SCRIPT
    assert "-py3-none-any.whl" in SCRIPT and "](docs/" in SCRIPT


def test_the_step_requires_every_folder_the_wheel_is_given() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["hatch"]["build"]
    given = {target.removeprefix("storyboard/") + "/"
             for target in build["targets"]["wheel"]["force-include"].values()}
    given |= {f"{p.name}/" for p in (ROOT / "storyboard").iterdir()
              if p.is_dir() and not (p / "__init__.py").exists() and p.name != "__pycache__"}
    required = set(re.findall(r'"(\w+/)"', SCRIPT.split("missing = [", 1)[1].split("]", 1)[0]))
    assert given == required


def test_the_step_asks_for_the_dated_section_of_the_version() -> None:
    assert 'grep -qE "^## $VERSION - [0-9]{4}-[0-9]{2}-[0-9]{2}$" CHANGELOG.md' in SCRIPT
