"""A breakdown writes a ``boards:`` block (issue 56 item 7): the cheap look comes first.

The story's series checks clean with boards on; on a paid provider its plan prices the boards
and holds every video until its board is approved; ``render --boards`` on ``local`` makes every
board and stitches the board animatic of each episode, no video.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_breakdown import KEY_ENV, errors, run, story

from storyboard.cli.main import cli
from storyboard.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def test_a_breakdown_turns_boards_on_and_the_videos_wait_for_them(
        emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    series = tmp_path / "series"
    run(emulator, story(tmp_path), series)
    written = (series / "storyboard.yaml").read_text("utf-8")
    assert 'boards: {model: "wan2.7-image"}' in written
    assert "`storyboard render . --boards`" in written
    assert errors(series) == []
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-never-sent")
    result = CliRunner().invoke(cli, ["plan", str(series), "--provider", "dashscope", "--json",
                                      "--offline"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    videos = [s for s in plan["shots"] if "/boards/" not in s["key"]
              and "/cast/" not in s["key"] and "/voices/" not in s["key"]
              and "/lines/" not in s["key"]]
    assert videos and {s["status"] for s in videos} == {"waits"}
    assert plan["boards_cost"] > 0 and plan["videos_cost"] == 0
    result = CliRunner().invoke(cli, ["render", str(series), "--boards", "--provider", "local",
                                      "--yes", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [e["id"] for e in report["episodes"]] == ["boards/ep01", "boards/ep02",
                                                      "boards/ep03"]
    assert all((series / "out" / "boards" / f"ep0{n}.mp4").is_file() for n in (1, 2, 3))
    assert not list((series / "out").glob("ep0*.mp4"))  # no video episode
