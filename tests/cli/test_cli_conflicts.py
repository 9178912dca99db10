"""Flags of ``plan`` and ``render`` that do not go together are a usage error (exit 2) before the
series is read: a series that does not even compile still gets the usage error, never its own
errors first (a season's compile takes a minute on a loaded machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.cli.render import commands
from storyboard.cli.render.conflicts import PLAN, RENDER, Conflict, Rule, spelled
from tests.fixtures.cli import invoke

# A value for each option that takes one (flags take none).
VALUES = {"--episode": "ep01", "--shot": "ep01/a", "--episodes": "1-2", "--episode-budget": "0",
          "--var": "x=1", "--variation": "v", "--language": "es", "--compare": "wan2.7-r2v",
          "--max-cost": "1", "--webhook-url": "http://127.0.0.1:9/hook",
          "--webhook-listen": "127.0.0.1:0"}


def args(option: str) -> list[str]:
    return [option, VALUES[option]] if option in VALUES else [option]


def pairs(command: str, rules: tuple[Rule, ...]) -> list[tuple[str, list[str], str]]:
    """Every pair a rule refuses, as arguments, and the words its error starts with."""
    found = []
    click_command = commands.plan if command == "plan" else commands.render
    for rule in rules:
        flag = spelled(click_command, rule.flag)
        if isinstance(rule, Conflict):
            for other in rule.others:
                both = spelled(click_command, other)
                found.append((command, [*args(flag), *args(both)],
                              f"{flag} cannot go with {both}"))
        else:
            found.append((command, args(flag),
                          f"{flag} goes with {spelled(click_command, rule.needed)}"))
    return found


CASES = pairs("plan", PLAN) + pairs("render", RENDER)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A series whose storyboard.yaml does not parse: any command that reads it exits 1."""
    root = tmp_path_factory.mktemp("conflicts") / "broken"
    root.mkdir()
    (root / "storyboard.yaml").write_text("storyboard: 1\nepisodes: [\n", encoding="utf-8")
    return root


def test_a_broken_series_is_an_error_of_its_own(broken: Path) -> None:
    result = invoke("render", broken, "--season")
    assert result.exit_code == 1 and "storyboard.yaml:" in result.stderr


@pytest.mark.parametrize(("command", "given", "said"), CASES,
                         ids=[f"{c}{' '.join(a)}" for c, a, _ in CASES])
def test_a_conflict_is_refused_before_the_series_is_read(broken: Path, command: str,
                                                         given: list[str], said: str) -> None:
    result = invoke(command, broken, *given)
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "storyboard.yaml" not in result.stderr, result.stderr


def test_the_season_and_its_boards_are_refused_at_once(broken: Path) -> None:
    result = invoke("render", broken, "--season", "--boards")
    assert result.exit_code == 2
    assert "--season cannot go with --boards: a season takes whole episodes" in result.stderr
