"""Every command's ``--help`` ends with examples, and each example is a command line the
command itself parses: its options exist, its choices are among the allowed, its arguments are
all there (a renamed option breaks this test, not the user)."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.cli.examples import EXAMPLES


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
    return found


def resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The command an example line runs (``cache SERIES`` is ``cache show``) and its own words."""
    command: click.Command = cli
    while isinstance(command, click.Group):
        if command.invoke_without_command and (not words or words[0] not in command.commands):
            return command, words  # ``models`` lists them; ``models check`` is its command
        word = words[0]
        if word not in command.commands:
            assert command.name == "cache", words  # the one group with a default command
            word, words = "show", ["show", *words]
        command, words = command.commands[word], words[1:]
    return command, words


def parses(line: str) -> None:
    words = shlex.split(line.split("  #")[0].split(" >> ")[0])
    assert words[0] == "storyboard", line
    command, rest = resolve(words[1:])
    ctx = click.Context(command, info_name=command.name)
    values, extra, _ = command.make_parser(ctx).parse_args(rest)
    assert not extra, (line, extra)
    for param in command.params:
        value = values.get(param.name)
        if isinstance(param, click.Argument) and param.required:
            assert value is not None, (line, param.name)
        if isinstance(param, click.Option) and param.hidden:
            assert value in (None, False, param.default), (line, f"{param.name} is internal")
        if value is not None and isinstance(param.type, click.Choice):
            for each in value if isinstance(value, (list, tuple)) else [value]:
                param.type.convert(each, param, ctx)  # click.BadParameter when not a choice


@pytest.mark.parametrize("path", commands(cli), ids=" ".join)
def test_every_commands_help_shows_examples_it_parses(path: tuple[str, ...]) -> None:
    shown = CliRunner().invoke(cli, [*path, "--help"])
    assert shown.exit_code == 0, shown.output
    lines = EXAMPLES[" ".join(path)]
    assert "Examples:" in shown.output
    for line in lines:
        assert f"$ {line}" in shown.output  # unwrapped, as written
        assert line.split()[:2] == ["storyboard", path[0]], line
        parses(line)


def test_an_example_with_an_option_the_command_lacks_is_caught() -> None:
    with pytest.raises(click.NoSuchOption):
        parses("storyboard render examples/coffee-shop --no-such-flag")
    with pytest.raises(click.BadParameter):
        parses("storyboard export examples/coffee-shop --format premiere")
    with pytest.raises(click.NoSuchOption):  # issue 66: retake no longer goes through render
        parses("storyboard render examples/coffee-shop --retake")


def test_the_examples_run_on_a_series_init_makes_not_on_a_checkout(tmp_path: Path) -> None:
    """A wheel has no ``examples/`` folder: every line names ``my-series``, and each shot id it
    names is one ``storyboard init my-series`` writes."""
    from storyboard.cli.examples import SERIES
    from storyboard.language.expansion.ids import names
    from storyboard.scaffold.init import create
    assert SERIES == "my-series"
    create(tmp_path / SERIES)
    made = names(tmp_path / SERIES)
    ids = {f"{episode}/{shot}" for episode in made.episodes for shot in made.shots(episode)}
    for lines in EXAMPLES.values():
        for line in lines:
            assert "examples/" not in line and "coffee-shop" not in line, line
            for word in shlex.split(line.split("  #")[0].split(" >> ")[0]):
                if word.startswith("ep0") and "/" in word and "*" not in word:
                    assert word in ids, (line, sorted(ids))
