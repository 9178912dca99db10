"""`storyboard docs`: the documentation's pages where a wheel's user has them, and the files
storyboard writes pointing there rather than at docs/ (which only a clone has)."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from tests.fixtures.paths import ROOT


def test_docs_lists_the_pages_with_their_titles() -> None:
    result = CliRunner().invoke(cli, ["docs"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(list((ROOT / "docs").glob("*.md")))
    assert any(line.split(None, 1) == ["starting", "Starting a series"] for line in lines), lines


def test_docs_prints_a_page_by_its_name_with_or_without_md() -> None:
    page = (ROOT / "docs" / "starting.md").read_text("utf-8")
    for name in ("starting", "starting.md"):
        result = CliRunner().invoke(cli, ["docs", name])
        assert result.exit_code == 0 and result.output == page


def test_an_unknown_page_is_a_usage_error_naming_the_pages() -> None:
    result = CliRunner().invoke(cli, ["docs", "../README"])
    assert result.exit_code == 2
    assert "no documentation page '../README'; expected one of: " in result.output
    assert "starting" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("asked", "meant"), [("seasons", "season"), ("Boards", "boards"),
                                             ("breakdwon", "breakdown")])
def test_a_near_miss_is_answered_with_the_page_meant(asked: str, meant: str) -> None:
    result = CliRunner().invoke(cli, ["docs", asked])
    assert result.exit_code == 2
    assert (f"no documentation page {asked!r} (did you mean {meant!r}? `storyboard docs {meant}`)"
            "; expected one of: ") in result.output


def test_the_wheel_carries_the_pages_the_written_files_name() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["hatch"]["build"]
    assert build["targets"]["wheel"]["force-include"]["docs"] == "storyboard/docs"


def test_written_files_name_pages_that_exist() -> None:
    from storyboard.breakdown.stages.writer import BOARDS_SAID, SERIES_HEAD
    from storyboard.scaffold.init import AD_YAML, SERIES_YAML
    for text in (SERIES_YAML, AD_YAML, BOARDS_SAID, SERIES_HEAD):
        assert "docs/" not in text
        for page in text.split("`storyboard docs ")[1:]:
            assert (ROOT / "docs" / f"{page.split('`')[0]}.md").is_file(), page
