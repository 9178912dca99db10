"""The studio's paid line (each shot's "the exact command that renders it") is a command
``render`` takes as typed: its words parse on the command line as it is now (an episode named
as WHAT, no flag it no longer takes), choose that shot's episode, and say its provider and a
budget that covers the shot."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from storyboard.cli.flags.selection import Selection, selection
from storyboard.cli.main import cli
from storyboard.language.compile import compile_path
from storyboard.review.studio.state import paid_lines, paid_plan
from tests.fixtures.compiler import MIA_HEAD, write_series

EPISODES = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
- id: "7"
  shots:
    - {id: b, prompt: "@mia bows"}
"""


def test_each_paid_line_is_a_render_command_that_parses_and_names_its_episode(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test")
    series = write_series(tmp_path / "my series", make_media, EPISODES,
                          head=MIA_HEAD + "provider: {name: dashscope}\n")
    manifest = compile_path(series)
    lines = paid_lines(manifest, paid_plan(manifest))
    assert set(lines) == {"ep01/a", "7/b"}, lines
    for key, line in lines.items():
        words = shlex.split(line["command"])
        assert words[:2] == ["storyboard", "render"], words
        render = cli.commands["render"]
        context = render.make_context("render", words[2:])  # click refuses a removed flag
        path, what = Path(context.params["path"]), tuple(context.params["what"])
        assert path == series
        assert selection(path, what) == Selection(episode=key.partition("/")[0])
        assert context.params["provider"] == "dashscope"
        assert float(context.params["budget"]) >= line["cost"] > 0
