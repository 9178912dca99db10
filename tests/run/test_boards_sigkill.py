"""``render SERIES boards`` killed with SIGKILL at random instants mid-call, then run again, and run by two
machines at once (one store, one PostgreSQL ledger), through the emulator: each board (and each
cast picture it uses) is paid exactly once, and no video is sent."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.boards import BOARD_IMAGES, CAST_IMAGES, write
from tests.fixtures.cast import MID_CALL, cast_stats, kill_mid_call
from tests.fixtures.dashscope_cli import KEY, Emulator, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

KILLS = 4
SEED = 56


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_boards_killed_at_random_instants_are_each_paid_once(tmp_path: Path, emulator: Emulator,
                                                             make_media: Any) -> None:
    emu = emulator(latency=0.6)
    emu.add_rate(*MID_CALL)  # every paid call's answer comes late: a kill lands in it
    series = write(tmp_path / "boards", make_media)
    environment = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": emu.base_url}
    args = [sys.executable, "-m", "storyboard", "render", str(series), "--provider", "dashscope",
            "boards", "--yes", "--quiet"]
    chance = random.Random(SEED)
    killed_in = [kill_mid_call(emu, args, environment, chance.uniform(0.0, 1.5))
                 for _ in range(KILLS)]
    assert all(killed_in), killed_in  # every kill landed while a call was open
    emu.clear_faults()
    final = subprocess.run(args, env=environment, capture_output=True, text=True, timeout=240,
                           check=False)
    assert final.returncode == 0, final.stderr
    assert cast_stats(emu)["images"] == CAST_IMAGES + BOARD_IMAGES, (cast_stats(emu), killed_in)
    assert submissions(emu) == 0  # --boards: no video was ever sent


def machine(series: Path, emu: Any, store: Path, ledger: str) -> subprocess.Popen[str]:
    """``render SERIES boards`` of ``series`` as a machine of its own would run it (its own state
    folder), sharing the store and the ledger."""
    environment = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": emu.base_url,
                   "STORYBOARD_STORE": str(store), "STORYBOARD_LEDGER": ledger, "CI": "1",
                   "STORYBOARD_STATE_DIR": str(series.parent / "state")}
    args = [sys.executable, "-m", "storyboard", "render", str(series), "--provider", "dashscope",
            "boards", "--yes", "--quiet"]
    return subprocess.Popen(args, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_machines_render_the_boards_at_once_and_pay_each_once(
        tmp_path: Path, emulator: Emulator, make_media: Any, pg_url: str) -> None:
    emu = emulator(latency=1.0)
    alice = write(tmp_path / "alice" / "boards", make_media)
    bob = tmp_path / "bob" / "boards"
    shutil.copytree(alice, bob)
    runs = [machine(series, emu, tmp_path / "store", pg_url) for series in (alice, bob)]
    for run in runs:
        _, err = run.communicate(timeout=240)
        assert run.returncode == 0, err[-3000:]
        assert KEY not in err
    assert cast_stats(emu)["images"] == CAST_IMAGES + BOARD_IMAGES
    assert submissions(emu) == 0
