"""A real process killed with SIGKILL mid-run, then run again: every shot is paid exactly once.

The child is ``tests/fixtures/run_fakes.py`` rendering 8 shots plus one first-frame dependent against a fake
provider that keeps its tasks in files, so the second process sees what the first one created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.run import OutputCache, read_status
from tests.fixtures import run_fakes
from tests.fixtures.run_fakes import FakeProvider

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

CHILD = Path(run_fakes.__file__)
SHOTS = 8
ALL_SHOTS = [f"s{i:02d}" for i in range(SHOTS)] + ["tail"]


@pytest.fixture
def sample(make_media: Callable[..., Path], tmp_path: Path) -> Path:
    return make_media("video", tmp_path / "2s.mp4", seconds=2, width=64, height=48)


def start(tmp_path: Path, sample: Path, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, str(CHILD), str(tmp_path / "series"), str(tmp_path / "provider"),
            str(sample), str(SHOTS), *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(tmp_path: Path, sample: Path) -> dict[str, object]:
    child = start(tmp_path, sample)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    summary: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return summary


def paid_once_and_cached(tmp_path: Path, sample: Path) -> None:
    provider = FakeProvider(tmp_path / "provider", {2: sample})
    assert provider.created() == {shot: 1 for shot in ALL_SHOTS}
    cache = OutputCache(tmp_path / "series", "fake")
    assert len(cache.hashes()) == len(ALL_SHOTS)
    assert all(a.state == "done" for a in read_status(tmp_path / "series")
               if a.state not in ("lost",))


def wait_for_tasks(tmp_path: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(list((tmp_path / "provider").glob("*.json"))) < count:
        assert time.monotonic() < deadline, "the child never created enough tasks"
        time.sleep(0.005)


@pytest.mark.parametrize("kill_at_tasks", [1, 4, 9])
def test_killed_while_tasks_are_in_flight(tmp_path: Path, sample: Path,
                                          kill_at_tasks: int) -> None:
    child = start(tmp_path, sample)
    wait_for_tasks(tmp_path, kill_at_tasks)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    summary = finish(tmp_path, sample)
    states = summary["states"]
    assert isinstance(states, dict) and set(states) <= {"done", "cached"}
    assert sum(states.values()) == len(ALL_SHOTS)
    paid_once_and_cached(tmp_path, sample)


def test_killed_between_the_submit_and_its_answer(tmp_path: Path, sample: Path) -> None:
    child = start(tmp_path, sample, "--kill-after-submit", "2")
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    finish(tmp_path, sample)
    paid_once_and_cached(tmp_path, sample)
    notes = [a.note or "" for a in read_status(tmp_path / "series")]
    assert any("reconcile" in note for note in notes)


def test_killed_during_a_download(tmp_path: Path, sample: Path) -> None:
    child = start(tmp_path, sample, "--kill-in-download", "2")
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert any(a.state == "downloading" for a in read_status(tmp_path / "series"))
    finish(tmp_path, sample)
    paid_once_and_cached(tmp_path, sample)
    leftovers = list(OutputCache(tmp_path / "series", "fake").dir.glob(".*"))
    assert leftovers == []

