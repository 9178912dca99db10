"""A render mode is a command of its own (issue 87, item 3; issue 99, item 3): ``season render``,
``version render`` and ``queue render``, and ``render`` takes only what means something to it, in
at most 12 parameters: what it renders (``render SERIES [EP|EP/SHOT|RANGE|boards]...``), the
provider, money and output, and ``--set NAME=VALUE`` for the run's settings. Every flag it no
longer takes (the modes' ``--season``, ``--episode-budget``, ``--language``, ``--languages``,
``--queue``; ``--episode``, ``--shot``, ``--episodes``, ``--boards``, ``--concurrency``,
``--offline``, the webhooks, ``--var``) is a usage error (exit 2, no traceback) naming what to
type instead, before the series is read."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from typing import Any

import pytest

from storyboard.cli.render.commands import render
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


@pytest.fixture
def twins(tmp_path: Path, make_media: MakeMedia) -> tuple[Path, Path]:
    """The same two-episode series twice."""
    first = write_series(tmp_path / "old" / "night", make_media, TWO_EPISODES, head=MIA_HEAD)
    second = tmp_path / "new" / "night"
    shutil.copytree(first, second)
    return first, second


REMOVED = [
    (("--season",), "storyboard season render SERIES"),
    (("--season", "--episodes", "1-2", "--draft"), "storyboard season render SERIES"),
    (("--episode-budget", "1"), "storyboard season render SERIES --episode-budget AMOUNT"),
    (("--language", "es"), "storyboard version render SERIES LANG"),
    (("--language=es",), "storyboard version render SERIES LANG"),
    (("--languages",), "storyboard version render SERIES --all"),
    (("--queue", "--yes"), "storyboard queue render SERIES"),
    (("--episode", "ep01"), "storyboard render SERIES EP"),
    (("--episode=ep01",), "storyboard render SERIES EP"),
    (("--shot", "ep01/a"), "storyboard render SERIES EP/SHOT"),
    (("--episodes", "1-2"), "storyboard render SERIES 3-10"),
    (("--boards",), "storyboard render SERIES boards"),
    (("--concurrency", "2"), "storyboard render SERIES --set concurrency=N"),
    (("--offline",), "storyboard render SERIES --set offline=true"),
    (("--webhook-listen", "127.0.0.1:0"), "storyboard render SERIES --set webhook_listen=HOST:PORT"),
    (("--webhook-url", "https://hooks.example/"), "storyboard render SERIES --set webhook_url=URL"),
    (("--var", "x=1"), "storyboard render SERIES --set vars.KEY=VALUE"),
]


@pytest.mark.parametrize(("given", "now"), REMOVED, ids=[" ".join(g) for g, _ in REMOVED])
def test_a_removed_spelling_names_the_command_to_use(tmp_path: Path, given: tuple[str, ...],
                                                     now: str) -> None:
    """Refused as a usage error before the series is read (this one does not even parse), with
    no traceback and nothing written."""
    root = tmp_path / "broken"
    root.mkdir()
    (root / "storyboard.yaml").write_text("storyboard: 1\nepisodes: [\n", encoding="utf-8")
    result = invoke("render", root, *given)
    flag = given[0].partition("=")[0]
    assert result.exit_code == 2, result.output
    assert f"storyboard render has no {flag} option" in result.stderr, result.stderr
    assert f"`{now}`" in result.stderr, result.stderr
    assert "Traceback" not in result.output and "storyboard.yaml" not in result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["storyboard.yaml"]


def test_renders_help_names_no_removed_spelling() -> None:
    said = invoke("render", "--help").stdout
    assert "Deprecated" not in said
    for given, _ in REMOVED:
        flag = given[0].partition("=")[0]
        assert f"{flag} " not in said and f"{flag}\n" not in said, said


def test_render_takes_at_most_twelve_parameters() -> None:
    """Counted as click declares them and as the function takes them."""
    assert len(render.params) <= 12, [p.name for p in render.params]
    assert render.callback is not None
    assert len(inspect.signature(render.callback).parameters) == len(render.params)


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



def test_a_season_of_a_matrix_names_the_commands_that_take_it(tmp_path: Path,
                                                              make_media: MakeMedia) -> None:
    """A season is of a plain series: ``season render`` of a matrix says to use ``render``."""
    head = MIA_HEAD + "variations:\n  matrix: {mood: [calm, loud]}\n"
    root = write_series(tmp_path / "matrix", make_media, TWO_EPISODES, head=head)
    result = invoke("season", "render", root, "--yes")
    assert result.exit_code == 1, result.output
    assert "takes a plain series, not a variations matrix" in result.stderr, result.stderr
    assert "with `plan` and `render`" in result.stderr and "--season" not in result.stderr.replace(
        "plan --season", "")
