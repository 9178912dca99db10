"""The cast's loop through the emulator (issue 48): ``takes``, ``retake``, ``approve`` and
``render SERIES EP/SHOT`` on ``cast/NAME`` and ``voices/NAME``, each paying exactly what it says, and a
render killed at random instants in the middle of its calls paying for nothing twice."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cast import (
    CAST,
    IMAGE_TAKES,
    MID_CALL,
    SHOTS,
    cast_stats,
    kill_mid_call,
    lock_of,
    plan_of,
)
from tests.fixtures.dashscope_cli import KEY, Emulator, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# The voice's sample is long enough to pass its take's measurement (at least 1 s of sound: the
# emulator speaks a tone per character), so the voice can be approved.


def write(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(CAST, encoding="utf-8")
    return root


def takes_of(series: Path, asset: str) -> list[dict[str, Any]]:
    shown = invoke("takes", series, asset, "--json")
    assert shown.exit_code == 0, shown.output
    listed: list[dict[str, Any]] = json.loads(shown.stdout)
    return listed


def test_takes_retake_approve_and_render_shot_on_the_cast(tmp_path: Path,
                                                          emulator: Emulator) -> None:
    emu = emulator()
    series = write(tmp_path / "cast")
    code, _, err = render(series, "--yes")
    assert code == 0, err
    made = cast_stats(emu)

    sam = takes_of(series, "cast/sam")  # two takes asked for, both made and paid once
    assert [(t["take"], t["state"], t["cost"]) for t in sam] == [(1, "done", 0.03), (2, "done", 0.03)]
    assert [t["take"] for t in takes_of(series, "voices/mia-voice")] == [1]

    retaken = invoke("retake", series, "cast/sam", "--yes", "--json")
    assert retaken.exit_code == 0, retaken.output
    [new] = json.loads(retaken.stdout)["shots"]
    assert new["key"].endswith("cast/sam#3") and new["state"] == "done" and new["cost"] == 0.03
    assert cast_stats(emu)["images"] == made["images"] + 1 and submissions(emu) == SHOTS
    assert [t["take"] for t in takes_of(series, "cast/sam")] == [1, 2, 3]

    voiced = invoke("retake", series, "voices/mia-voice", "--yes", "--json")
    assert voiced.exit_code == 0, voiced.output
    assert cast_stats(emu)["voices"] == made["voices"] + 1  # a second voice, designed once
    assert [t["take"] for t in takes_of(series, "voices/mia-voice")] == [1, 2]

    for asset in ("voices/mia-voice", "cast/cafe"):
        approved = invoke("approve", series, asset)
        assert approved.exit_code == 0 and "approved take 1" in approved.stdout, approved.output
        assert "approved" in takes_of(series, asset)[0]["marks"]
    assert lock_of(series)["takes"]["cast/voices/mia-voice"]["approved"] == 1

    before = cast_stats(emu)
    code, report, err = render(series, "--yes", "cast/cafe", "voices/*")
    assert code == 0, err
    assert {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]} == {
        "cast/cafe": "cached", "voices/mia-voice": "cached", "voices/mia-voice#2": "cached"}
    assert cast_stats(emu) == before and report["spent"] == 0

    changed = tmp_path / "cast" / "storyboard.yaml"
    changed.write_text(CAST.replace("warm, calm woman", "warm, bright woman"), encoding="utf-8")
    assert plan_of(series)["voices/mia-voice"][0] == "changed"
    code, _, err = render(series, "--yes", "voices/mia-voice")
    assert code != 0 and "approved shot(s) changed" in err and "voices/mia-voice" in err
    assert cast_stats(emu) == before  # the approved voice is never designed again unasked
    code, report, err = render(series, "--yes", "voices/mia-voice",
                               "--replace-approved")
    assert code == 0, err
    # its take 1 anew: the take a retake added to the voice before the edit stays history
    assert cast_stats(emu)["voices"] == before["voices"] + 1


KILLS = 4  # bounded: each kill waits for a call to be open, then lands in it
SEED = 48


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_at_random_instants_mid_call_pays_for_nothing_twice(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator(latency=0.6)
    emu.add_rate(*MID_CALL)  # every paid call's answer comes late: a kill lands in it
    series = write(tmp_path / "cast")
    environment = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": emu.base_url}
    args = [sys.executable, "-m", "storyboard", "render", str(series), "--provider",
            "dashscope", "--yes", "--quiet"]
    chance = random.Random(SEED)
    killed_in = [kill_mid_call(emu, args, environment, chance.uniform(0.0, 1.5))
                 for _ in range(KILLS)]
    assert all(killed_in), killed_in  # every kill landed while a call was open
    emu.clear_faults()
    final = subprocess.run(args, env=environment, capture_output=True, text=True, timeout=240,
                           check=False)
    assert final.returncode == 0, final.stderr
    stats = cast_stats(emu)
    assert stats["images"] == IMAGE_TAKES and stats["voices"] == 1, (stats, killed_in)
    assert submissions(emu) == SHOTS and emu.stats()["submissions"]["duplicates"] == 0
