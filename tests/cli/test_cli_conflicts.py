"""Flags of the render commands (``plan``, ``render``, ``season render``, ``version render``,
``queue render``) that do not go together are a usage error (exit 2) before the
series is read: a series that does not even compile still gets the usage error, never its own
errors first (a season's compile takes a minute on a loaded machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.cli.flags.conflicts import RULES, Conflict, Needs, Rule, spelled
from tests.fixtures.cli import command_at, invoke

# A value for each option that takes one (flags take none).
VALUES = {"--episode": "ep01", "--shot": "ep01/a", "--episodes": "1-2", "--episode-budget": "0",
          "--var": "x=1", "--variation": "v", "--language": "es", "--compare": "wan2.7-r2v",
          "--max-cost": "1", "--webhook-url": "http://127.0.0.1:9/hook",
          "--webhook-listen": "127.0.0.1:0", "--concurrency": "2", "--out": "out", "--budget": "1",
          "--set": "concurrency=2"}


def args(option: str) -> list[str]:
    return [option, VALUES[option]] if option in VALUES else [option]


def pairs(path: str, rules: tuple[Rule, ...]) -> list[tuple[str, list[str], str]]:
    """Every pair a rule refuses, as arguments, and the words its error starts with."""
    found = []
    command = command_at(path)
    for rule in rules:
        if not isinstance(rule, Conflict | Needs):
            continue  # OneOf: version render's LANG or --all (test_cli_render_modes.py)
        flag = spelled(command, rule.flag)
        if isinstance(rule, Needs):
            lead = ["es"] if path == "version render" else []
            found.append((path, [*lead, *args(flag)],
                          f"{flag} goes with {spelled(command, rule.needed)}"))
            continue
        lead = ["es"] if path == "version render" and flag != "LANG" else []  # LANG or --all
        for other in rule.others:
            both = spelled(command, other)
            found.append((path, [*lead, *args(flag), *args(both)], f"{flag} cannot go with {both}"))
    return found


CASES = [case for path, rules in RULES.items() for case in pairs(path, rules)]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A series whose storyboard.yaml does not parse: any command that reads it exits 1."""
    root = tmp_path_factory.mktemp("conflicts") / "broken"
    root.mkdir()
    (root / "storyboard.yaml").write_text("storyboard: 1\nepisodes: [\n", encoding="utf-8")
    return root


def test_a_broken_series_is_an_error_of_its_own(broken: Path) -> None:
    result = invoke("season", "render", broken)
    assert result.exit_code == 1 and "storyboard.yaml:" in result.stderr


@pytest.mark.parametrize(("command", "given", "said"), CASES,
                         ids=[f"{c}{' '.join(a)}" for c, a, _ in CASES])
def test_a_conflict_is_refused_before_the_series_is_read(broken: Path, command: str,
                                                         given: list[str], said: str) -> None:
    result = invoke(*command.split(), broken, *given)
    assert result.exit_code == 2, result.output
    assert said in result.stderr, result.stderr
    assert "storyboard.yaml" not in result.stderr, result.stderr


