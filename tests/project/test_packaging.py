"""Packaging: the licence, the changelog, py.typed, the dependency floors and the one-line
descriptions a user reads first (pyproject, the docs site, the package and `--help`)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import storyboard

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def requirements(group: str | None = None) -> dict[str, Requirement]:
    listed = PROJECT["dependencies"] if group is None else PROJECT["optional-dependencies"][group]
    return {(r := Requirement(line)).name.lower(): r for line in listed}


def test_the_licence_is_mit_as_pyproject_says() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert PROJECT["license"] == "MIT"
    assert text.startswith("MIT License\n") and "the storyboard authors" in text


def test_the_changelog_has_an_unreleased_section_and_the_first_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert "## Unreleased" in text and f"## {PROJECT['version']} - " in text
    assert text.index("## Unreleased") < text.index(f"## {PROJECT['version']}")


def test_py_typed_ships_in_the_package() -> None:
    marker = ROOT / "storyboard" / "py.typed"
    assert marker.is_file()
    ignored = subprocess.run(["git", "check-ignore", "-q", str(marker)], cwd=ROOT, check=False)
    assert ignored.returncode == 1  # not ignored: hatch packs every file of the package


@pytest.mark.parametrize(("group", "name", "floor"), [
    ("emulator", "starlette", ">=1.3.1"), ("studio", "starlette", ">=1.3.1"),
    ("emulator", "python-multipart", ">=0.0.31"), (None, "filelock", ">=3.20.3"),
    ("dev", "dashscope", ">=1.25.16"), (None, "referencing", ">=0.31.0"),
    ("jianying", "pyjianyingdraft", "<0.4,>=0.3.1"), ("ledger-pg", "psycopg", ">=3.2.5"),
    ("docs", "mkdocstrings", ">=0.27")])
def test_raised_floors_are_declared_and_installed(group: str | None, name: str, floor: str) -> None:
    """Floors above every release with a published advisory (psycopg: its bundled libpq,
    CVE-2025-1094); floors that install and work (referencing, mkdocstrings: CI's lowest step);
    pyJianYingDraft below its next minor (its API changed within 0.3.x)."""
    requirement = requirements(group)[name]
    assert str(requirement.specifier) == floor
    assert requirement.specifier.contains(version(name))


def test_the_package_metadata_has_classifiers_and_no_download_host() -> None:
    from importlib.metadata import metadata
    installed = metadata(PROJECT["name"])
    classifiers = installed.get_all("Classifier") or []
    assert "Topic :: Multimedia :: Video" in classifiers and "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert classifiers == PROJECT["classifiers"]
    assert "urls" not in PROJECT  # no repository or docs address exists yet: none is made up


def test_every_installed_dependency_meets_its_floor() -> None:
    for group in (None, "emulator", "studio", "export", "jianying", "mcp"):
        for name, requirement in requirements(group).items():
            if name == PROJECT["name"]:
                continue
            try:
                installed = version(name)
            except PackageNotFoundError:
                pytest.fail(f"{name} ({group or 'core'}) is not installed")
            assert requirement.specifier.contains(installed), (name, installed)
    dev_extras = {e for line in PROJECT["optional-dependencies"]["dev"]
                  if (r := Requirement(line)).name == PROJECT["name"] for e in r.extras}
    assert {"jianying", "studio", "mcp", "export", "emulator"} <= dev_extras


def test_descriptions_name_the_model_families_not_wan_alone() -> None:
    mkdocs = (ROOT / "mkdocs.yml").read_text("utf-8")
    site = next(line for line in mkdocs.splitlines() if line.startswith("site_description:"))
    help_text = subprocess.run([sys.executable, "-m", "storyboard", "--help"], capture_output=True,
                               text=True, check=True).stdout
    firsts = [PROJECT["description"], site, (storyboard.__doc__ or "").splitlines()[0],
              help_text.split("\n\n")[1], (ROOT / "docs" / "index.md").read_text("utf-8")[:800]]
    for text in firsts:
        assert "Wan 2.7 reference-to-video" not in text and "model (" not in text, text
    for text in firsts[:4]:  # the summary, the site's, the package's and --help's first lines
        assert all(family in text for family in ("Wan", "Seedance", "Kling")), text


def test_the_distribution_has_a_name_of_its_own_and_every_hint_uses_it() -> None:
    """``storyboard`` on the package index is an unrelated project with a command of the same name:
    the distribution is ``storyboard-compiler``, the extras name themselves by it, and the
    missing-extra hint installs it with the running interpreter's own pip."""
    from storyboard.errors import DISTRIBUTION, MissingExtra
    assert PROJECT["name"] == DISTRIBUTION == "storyboard-compiler"
    assert PROJECT["scripts"] == {"storyboard": "storyboard.cli:main"}
    for group, lines in PROJECT["optional-dependencies"].items():
        for line in lines:
            assert Requirement(line).name != "storyboard", (group, line)
    message = str(MissingExtra("storyboard studio", "studio", "starlette"))
    assert "'storyboard[" not in message and " storyboard[" not in message
    for text in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        # the other project by name; a clone's folder (/home/me/storyboard[studio]) is no name
        assert not re.search(r"(?<![/\w-])storyboard\[", text.read_text("utf-8")), text.name


def test_the_install_lines_install_from_a_clone_until_the_name_is_published() -> None:
    """``storyboard-compiler`` is not on the package index yet: no page tells a user to install
    it by name, and the release steps are written down for when it is."""
    for text in (ROOT / "README.md", ROOT / "docs" / "getting-started.md"):
        said = text.read_text("utf-8")
        assert "pipx install ." in said and "uv tool install ." in said, text.name
        assert "not on the package index yet" in said, text.name
    for text in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        if text.name != "releasing.md":
            said = text.read_text("utf-8")
            assert not re.search(r"(pipx|uv tool|pip) install [-\w ]*'?storyboard-compiler", said), text.name
    assert "Releasing" in (ROOT / "mkdocs.yml").read_text("utf-8")


def test_the_dev_extra_bounds_the_s3_stack_so_pip_resolves_it_at_once() -> None:
    """moto takes any boto3 and s3fs's aiobotocore pins botocore to a few releases: both bounded
    from above, together, and the suite's own environment is inside the bounds."""
    dev = requirements("dev")
    for name in ("boto3", "aiobotocore"):
        assert any(spec.operator == "<" for spec in dev[name].specifier), name
        assert dev[name].specifier.contains(version(name)), (name, version(name))
    from importlib.metadata import requires
    botocore = next(Requirement(line) for line in requires("aiobotocore") or []
                    if Requirement(line).name == "botocore")
    assert botocore.specifier.contains(version("botocore"))
    assert version("botocore").rsplit(".", 1)[0] == version("boto3").rsplit(".", 1)[0]


def test_getting_started_shows_the_missing_extra_message_as_it_is_said(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The page's example, for a clone installed editable into its .venv, is what is said."""
    from importlib.metadata import PathDistribution

    from storyboard import installed
    from storyboard.errors import MissingExtra
    info = tmp_path / "storyboard_compiler-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.3\nName: storyboard-compiler\nVersion: 0.1.0\n"
                                   "Requires-Dist: starlette>=1.3.1; extra == 'studio'\n", "utf-8")
    (info / "direct_url.json").write_text(
        '{"url": "file:///home/me/storyboard", "dir_info": {"editable": true}}', "utf-8")
    monkeypatch.setattr(installed, "own_distribution", lambda: PathDistribution(info))
    monkeypatch.setattr(sys, "prefix", "/home/me/storyboard/.venv")
    monkeypatch.setattr(sys, "executable", "/home/me/storyboard/.venv/bin/python")
    said = f"error: {MissingExtra('storyboard studio', 'studio', 'starlette')}\n"
    assert said in (ROOT / "docs" / "getting-started.md").read_text("utf-8")
