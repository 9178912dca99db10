"""What ``render SERIES [WHAT]...`` renders, and its ``--set NAME=VALUE`` (issue 99, item 3).

A WHAT is named as ``approve`` names it: an episode by id (the run's ``episode``), a shot or a glob
(``EP/SHOT``), episodes by number (``2-3``: their shots), the boards (``boards``, ``boards/EP``);
an episode whose id reads as a number is that episode. ``--set`` reads each setting before the
series is read, and a bad name or value is a usage error that says what was expected; a limit
fails closed (0, negative, NaN, inf, past 100).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from storyboard.cli.flags.runsettings import run_settings
from storyboard.cli.flags.selection import Selection, selection
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Any
THREE = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
- id: ep02
  shots:
    - {id: b, prompt: "@mia sings"}
- id: "7"
  shots:
    - {id: c, prompt: "@mia bows"}
"""


@pytest.fixture
def three(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "three", make_media, THREE, head=MIA_HEAD)


@pytest.mark.parametrize(("what", "chosen"), [
    ((), Selection()),
    (("ep02",), Selection(episode="ep02")),
    (("7",), Selection(episode="7")),  # an id that reads as a number is that episode
    (("2-3",), Selection(shots=("ep02/*", "7/*"))),
    (("1,3",), Selection(shots=("ep01/*", "7/*"))),
    (("ep01/a",), Selection(shots=("ep01/a",))),
    (("ep0*",), Selection(shots=("ep0*/*",))),
    (("ep01", "ep02/b"), Selection(shots=("ep01/*", "ep02/b"))),
    (("boards",), Selection(boards=True)),
    (("boards/ep01",), Selection(episode="ep01", boards=True)),
    (("boards", "ep01/a"), Selection(shots=("ep01/a",), boards=True)),
    (("boards/ep01/a", "1"), Selection(shots=("ep01/a", "ep01/*"), boards=True)),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_what_names_the_runs_choice(three: Path, what: tuple[str, ...], chosen: Selection) -> None:
    assert selection(three, what) == chosen


def test_a_range_past_the_series_is_a_usage_error(three: Path) -> None:
    with pytest.raises(click.BadParameter, match="this series has episodes 1 to 3"):
        selection(three, ("2-9",))


def test_render_renders_what_it_names(three: Path) -> None:
    """``render SERIES 2-3`` renders and stitches the shots of episodes 2 and 3 alone."""
    done = invoke("render", three, "2-3", "--draft", "--json", "-q")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert sorted(s["key"].rpartition("/")[2] for s in report["shots"]
                  if "/ep" in s["key"] or "/7/" in s["key"]) == ["b", "c"]
    assert sorted(e["id"] for e in report["episodes"]) == ["7", "ep02"]


def test_boards_of_a_series_with_none_says_so_as_render_is_typed(three: Path) -> None:
    """``render SERIES boards`` where no ``boards:`` block is: what to do, in render's own
    words (not the ``--boards`` flag it no longer takes)."""
    done = invoke("render", three, "boards", "--draft")
    assert done.exit_code == 1 and "no board to render" in done.output, done.output
    assert "--boards" not in done.output and "render SERIES" in done.output


@pytest.mark.parametrize(("given", "fields", "variables"), [
    (("concurrency=3",), {"concurrency": 3}, ()),
    (("offline=true", "offline=no"), {"offline": False}, ()),  # the last one given
    (("webhook-listen=127.0.0.1:0", "webhook_url=https://hooks.example/"),
     {"webhook_listen": "127.0.0.1:0", "webhook_url": "https://hooks.example/"}, ()),
    (("vars.mood=calm", "vars.n=4"), {}, ("mood=calm", "n=4")),
])
def test_set_gives_the_runs_settings(given: tuple[str, ...], fields: dict[str, Any],
                                     variables: tuple[str, ...]) -> None:
    assert run_settings(given) == (fields, variables)


@pytest.mark.parametrize(("given", "said"), [
    ("concurrency=0", "concurrency is a whole number of tasks from 1 to 100"),
    ("concurrency=-2", "from 1 to 100"),
    ("concurrency=101", "from 1 to 100"),
    ("concurrency=nan", "from 1 to 100"),
    ("concurrency=inf", "from 1 to 100"),
    ("concurrency=2.5", "from 1 to 100"),
    ("offline=maybe", "offline is true or false"),
    ("webhook_listen=", "webhook_listen is HOST:PORT"),
    ("concurency=2", "did you mean 'concurrency'?"),
    ("concurrency", "expected NAME=VALUE"),
    ("webhook_url=https://hooks.example/", "--set webhook_url goes with --set webhook_listen"),
])
def test_a_bad_setting_is_a_usage_error_before_the_series_is_read(tmp_path: Path, given: str,
                                                                  said: str) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "storyboard.yaml").write_text("storyboard: 1\nepisodes: [\n", encoding="utf-8")
    result = invoke("render", root, "--set", given)
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "storyboard.yaml" not in result.stderr, result.stderr
    assert "Traceback" not in result.output
