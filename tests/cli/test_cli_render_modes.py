"""A render mode is a command of its own (issue 87, item 3): ``season render``, ``version render``
and ``queue render``; ``render --season``, ``--language``/``--languages`` and ``--queue`` are their
old spellings for a release: one notice line on stderr, then the new command's own output and exit
code (the series here render on ``local``, for free; the version and the queue end at the series'
own refusals, which are the new command's too)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.fixtures.cli import invoke
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Any
TWO_EPISODES = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
- id: ep02
  shots:
    - {id: b, prompt: "@mia sings"}
"""
NOTICE = "notice: 'render {flag}' is now 'storyboard {now}'; the old spelling goes in the next release"


@pytest.fixture
def twins(tmp_path: Path, make_media: MakeMedia) -> tuple[Path, Path]:
    """The same two-episode series twice: one for each spelling, so neither finds the other's
    takes in its cache."""
    first = write_series(tmp_path / "old" / "night", make_media, TWO_EPISODES, head=MIA_HEAD)
    second = tmp_path / "new" / "night"
    shutil.copytree(first, second)
    return first, second


def without_notice(result: Result, flag: str, now: str) -> str:
    """The old spelling's stderr less its one notice line, which comes first."""
    lines = result.stderr.splitlines(keepends=True)
    assert lines and lines[0].rstrip("\n") == NOTICE.format(flag=flag, now=now), result.stderr
    assert sum("notice:" in line for line in lines) == 1, result.stderr
    return "".join(lines[1:])


def outcome(report: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What a season's JSON report says came out: each episode's state and each shot's."""
    return (sorted((e["id"], e["state"]) for e in report["episodes"]),
            sorted((s["key"].split("/", 1)[1], s["state"]) for s in report["shots"]))


def test_render_season_is_season_render_after_a_notice(twins: tuple[Path, Path]) -> None:
    old_root, new_root = twins
    old = invoke("render", old_root, "--season", "--episodes", "1-2", "--draft", "--json")
    new = invoke("season", "render", new_root, "--episodes", "1-2", "--draft", "--json")
    assert (old.exit_code, new.exit_code) == (0, 0), old.stderr + new.stderr
    assert "notice:" not in new.stderr
    without_notice(old, "--season", "season render SERIES")
    assert outcome(json.loads(old.stdout)) == outcome(json.loads(new.stdout)) == (
        [("ep01", "stitched"), ("ep02", "stitched")], [("ep01/a", "done"), ("ep02/b", "done")])


def test_a_refused_season_exits_the_same_either_way(twins: tuple[Path, Path]) -> None:
    """A series that does not compile: exit 1 and the same error, said at its line."""
    old_root, new_root = twins
    for root in twins:
        (root / "storyboard.yaml").write_text("storyboard: 1\nepisodes: [\n", encoding="utf-8")
    old = invoke("render", old_root, "--season", "--yes")
    new = invoke("season", "render", new_root, "--yes")
    assert (old.exit_code, new.exit_code) == (1, 1)
    said = without_notice(old, "--season", "season render SERIES")
    assert "storyboard.yaml:" in new.stderr
    assert said.replace(str(old_root), "ROOT") == new.stderr.replace(str(new_root), "ROOT")


@pytest.mark.parametrize(("old", "new", "flag", "now"), [
    (("--language", "es"), ("es",), "--language", "version render SERIES LANG"),
    (("--languages",), ("--all",), "--languages", "version render SERIES --all"),
], ids=["language", "languages"])
def test_render_language_is_version_render_after_a_notice(
        twins: tuple[Path, Path], old: tuple[str, ...], new: tuple[str, ...], flag: str,
        now: str) -> None:
    """The series declares no languages: both spellings refuse it alike (exit 1), nothing made."""
    old_root, new_root = twins
    before = invoke("render", old_root, *old, "--yes")
    after = invoke("version", "render", new_root, *new, "--yes")
    assert (before.exit_code, after.exit_code) == (1, 1), before.stderr + after.stderr
    said = without_notice(before, flag, now)
    assert "languages" in after.stderr and "notice:" not in after.stderr
    assert said.replace(str(old_root), "ROOT") == after.stderr.replace(str(new_root), "ROOT")
    assert not (old_root / "out").exists() and not (new_root / "out").exists()


def test_render_queue_is_queue_render_after_a_notice(twins: tuple[Path, Path]) -> None:
    old_root, new_root = twins
    old = invoke("render", old_root, "--queue", "--yes", "--json")
    new = invoke("queue", "render", new_root, "--yes", "--json")
    assert (old.exit_code, new.exit_code) == (1, 1)
    assert "needs a team ledger" in new.stderr
    assert without_notice(old, "--queue", "queue render SERIES") == new.stderr
    assert json.loads(old.stdout) == json.loads(new.stdout)  # the error as JSON on stdout


@pytest.mark.parametrize(("old", "refused", "new"), [
    (("--queue", "--draft"), "--queue cannot go with --draft: `storyboard queue render`",
     ("queue", "render", "--draft")),
    (("--queue", "--var", "x=1"), "--queue cannot go with --var: `storyboard queue render`",
     ("queue", "render", "--var", "x=1")),
    (("--season", "--queue"), "--season cannot go with --queue: `storyboard season render`",
     ("season", "render", "--queue")),
], ids=["queue-draft", "queue-var", "season-queue"])
def test_an_old_spelling_takes_only_what_its_command_takes(
        twins: tuple[Path, Path], old: tuple[str, ...], refused: str,
        new: tuple[str, ...]) -> None:
    """A flag the new command does not take is refused by the old spelling as a usage error
    (exit 2) before the series is read, after the notice: the new command has no such option."""
    root = twins[0]
    result = invoke("render", root, *old)
    assert result.exit_code == 2 and refused in result.stderr, result.stderr
    assert result.stderr.startswith("notice: 'render ")
    assert "storyboard.yaml" not in result.stderr
    again = invoke(*new[:2], root, *new[2:])
    assert again.exit_code == 2 and "No such option" in again.stderr, again.stderr


def test_a_flag_the_old_spelling_ignored_is_still_ignored_and_named(
        twins: tuple[Path, Path]) -> None:
    """``render --queue -q -o DIR`` worked (the workers print and write their own): it still
    does, as ``queue render``, and the notice names what it drops."""
    old_root, new_root = twins
    old = invoke("render", old_root, "--queue", "-q", "-o", old_root / "elsewhere", "--yes",
                 "--json")
    new = invoke("queue", "render", new_root, "--yes", "--json")
    assert (old.exit_code, new.exit_code) == (1, 1), old.stderr
    first = old.stderr.splitlines()[0]
    assert first.endswith("(--quiet, --out: ignored, as always)"), first
    assert json.loads(old.stdout) == json.loads(new.stdout)


@pytest.mark.parametrize(("args", "said"), [
    ((), "expected LANG or --all"),
    (("es", "--all"), "LANG cannot go with --all"),
    (("es", "--webhook-url", "https://hooks.example/"), "--webhook-url goes with --webhook-listen"),
], ids=["neither", "both", "webhook"])
def test_version_render_names_one_version_or_all(twins: tuple[Path, Path],
                                                 args: tuple[str, ...], said: str) -> None:
    result = invoke("version", "render", twins[0], *args)
    assert result.exit_code == 2 and said in result.stderr, result.stderr


@pytest.mark.parametrize("words", [("season", "render"), ("version", "render", "es"),
                                   ("queue", "render")], ids=["season", "version", "queue"])
@pytest.mark.parametrize("option", ["--season", "--queue", "--languages", "--boards"])
def test_a_mode_command_takes_no_other_modes_flag(twins: tuple[Path, Path], words: tuple[str, ...],
                                                  option: str) -> None:
    result = invoke(*words[:2], twins[0], *words[2:], option)
    said = (f"storyboard season render has no {option} option: it draws a series' boards itself"
            if (words[0], option) == ("season", "--boards") else f"No such option '{option}'")
    assert result.exit_code == 2 and said in result.stderr, result.stderr


def test_renders_help_names_each_modes_command() -> None:
    said = " ".join(invoke("render", "--help").stdout.split())
    for now in ("season render SERIES", "version render SERIES LANG", "version render SERIES --all",
                "queue render SERIES"):
        assert f"Deprecated: `storyboard {now}`" in said, said
