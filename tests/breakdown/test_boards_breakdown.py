"""A breakdown writes a ``boards:`` block (issue 56 item 7): the cheap look comes first.

The story's series checks clean with boards on; on a paid provider its plan prices the boards
and holds every video until its board is approved; ``render SERIES boards`` on ``local`` makes every
board and stitches the board animatic of each episode, no video.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.emulator.server import EmulatorServer
from storyboard.language.variations import compile_variations
from tests.fixtures.breakdown import KEY_ENV, chat_base, story
from tests.fixtures.cli import invoke


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def test_a_breakdown_turns_boards_on_and_the_videos_wait_for_them(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    series = tmp_path / "series"
    breakdown(story(tmp_path), series, Options(base_url=chat_base(chat_emulator),
                                               key_env=KEY_ENV, yes=True))
    written = (series / "storyboard.yaml").read_text("utf-8")
    assert 'boards: {model: "wan2.7-image"}' in written
    assert "`storyboard render . boards`" in written
    assert [d.format() for d in compile_variations(series).diagnostics()
            if d.severity == "error"] == []
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-never-sent")
    result = invoke("plan", series, "--provider", "dashscope", "--json", "--offline")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    videos = [s for s in plan["shots"] if s["key"].split("/")[1] not in (
        "boards", "cast", "voices", "lines")]
    assert videos and {s["status"] for s in videos} == {"waits"}
    assert plan["boards_cost"] > 0 and plan["videos_cost"] == 0
    result = invoke("render", series, "boards", "--provider", "local", "--yes", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [e["id"] for e in report["episodes"]] == ["boards/ep01", "boards/ep02",
                                                      "boards/ep03"]
    assert all((series / "out" / "boards" / f"ep0{n}.mp4").is_file() for n in (1, 2, 3))
    assert not list((series / "out").glob("ep0*.mp4"))  # no video episode
