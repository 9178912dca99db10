"""The cast a breakdown writes goes straight into the cast stage (issue 46, point 8).

A story broken down through the emulator's chat endpoint, then its cast (sheets and designed
voices) rendered through the emulator's DashScope endpoints under takes, pick and approve, as
``docs/cast.md`` says: nothing without consent, each asset paid once, a retake paid once more,
nothing again on a second render.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.emulator import EmulatorServer
from storyboard.emulator.faults import CAST_ENDPOINTS
from tests.fixtures.dashscope_cli import Emulator, invoke, render

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

STORY = """\
# The Lighthouse

Mia climbed the stairs of the old lighthouse. Sam waited below.

"Are you coming up tonight?" Mia called down to Sam.

Sam shook his head and laughed. "Not in this weather, not ever," he said.
"""
CAST = ("cast/*", "voices/*")


def cast_stats(emu: EmulatorServer) -> dict[str, Any]:
    stats: dict[str, Any] = emu.stats()["cast"]
    return stats


def broken_down(tmp_path: Path, emu: EmulatorServer) -> Path:
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(STORY, encoding="utf-8")
    chat = emu.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
    report = breakdown(source, series, Options(base_url=chat, key_env="DASHSCOPE_API_KEY",
                                               yes=True))
    assert report.problems == []
    return series


def render_cast(series: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    return render(series, *CAST, *args)


def test_a_broken_down_cast_is_made_under_takes_pick_and_approve(tmp_path: Path,
                                                                 emulator: Emulator) -> None:
    emu = emulator()
    series = broken_down(tmp_path, emu)
    text = (series / "storyboard.yaml").read_text()
    assert "image: {generate:" in text and "design:" in text and "sample:" in text
    planned = invoke("plan", series, "--provider", "dashscope", "--json")
    assert planned.exit_code == 0, planned.output
    keys = {s["key"].split("/", 1)[1]: s["status"] for s in json.loads(planned.stdout)["shots"]}
    assert {k: v for k, v in keys.items() if k.startswith(("cast/", "voices/"))} == {
        "cast/mia": "new", "cast/sam": "new", "voices/mia-voice": "new", "voices/sam-voice": "new"}

    refused = invoke("render", series, "--provider", "dashscope", "cast/*")
    assert refused.exit_code != 0 and "nothing was submitted" in refused.output
    assert cast_stats(emu)["requests"] == dict.fromkeys(CAST_ENDPOINTS, 0)

    code, report, err = render_cast(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"done"}
    made = cast_stats(emu)
    assert made["images"] == 2 and made["voices"] == 2, made  # one sheet and voice a character
    code, report, err = render_cast(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"cached"}
    assert cast_stats(emu) == made  # never paid twice

    retaken = invoke("retake", series, "cast/mia", "-n", "1", "--provider", "dashscope", "--yes")
    assert retaken.exit_code == 0, retaken.output
    assert cast_stats(emu)["images"] == 3  # the one more take, paid once
    listed = invoke("takes", series, "cast/mia")
    assert listed.exit_code == 0 and "2" in listed.output, listed.output
    assert invoke("pick", series, "cast/mia", "2").exit_code == 0
    assert invoke("approve", series, "cast/mia").exit_code == 0
    state = json.loads((series / "storyboard.lock").read_text())["takes"]["series/cast/mia"]
    assert state["picked"] == 2 and state["approved"] == 2
    code, report, err = render_cast(series, "--yes")
    assert code == 0 and {s["state"] for s in report["shots"]} == {"cached"}, err
    assert cast_stats(emu)["images"] == 3 and cast_stats(emu)["voices"] == 2
