"""Each gateway dialect, end to end: the example series rendered through that dialect's emulator,
with faults switched on, SIGKILLed mid-run and resumed: every shot is paid exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.emulator import EmulatorServer
from storyboard.language.compile import compile_path
from storyboard.run import read_status
from tests.fixtures.example import copy_example
from tests.fixtures.media_host import serve
from tests.fixtures.patience import LOADED
from tests.fixtures.resellers import KEY, RESELLERS, quick_render

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
SHOTS = 4  # ballad, reply, order, serve
FAULTS = ("submit:503:0.3", "query:500:0.2", "query:drop:0.1", "download:503:0.2")


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=1.0, render=quick_render, retry_after=0.05, api_key=KEY,
                        seed=7) as server:
        yield server


@pytest.fixture
def host(tmp_path: Path) -> Iterator[str]:
    """``tmp_path`` over loopback HTTP: the media host a render tries before paying."""
    with serve(tmp_path) as origin:
        yield origin


def series_for(tmp_path: Path, emu: EmulatorServer, name: str,
               monkeypatch: pytest.MonkeyPatch, host: str) -> Path:
    """A copy of the example (its shots cut short) whose provider block names ``name`` at the
    emulator."""
    series = copy_example(tmp_path / "coffee-shop", shortest=True,  # the shots' length: not tested
                          ignore=shutil.ignore_patterns(".storyboard", "storyboard.lock"))
    block = (f"provider: {{name: {name}, base_url: '{emu.gateway_url(name)}', "
             f"media_base_url: '{host}/coffee-shop', poll: [0.2]}}\n")
    yaml = series / "storyboard.yaml"
    text = yaml.read_text().replace("output:\n", block + "output:\n", 1)
    yaml.write_text(text.replace("loudness: -14", "loudness: null"))  # faster stitching
    monkeypatch.setenv(DIALECTS[name].key_env, KEY)
    monkeypatch.setenv("CI", "1")
    return series


def submissions(emu: EmulatorServer) -> dict[str, int]:
    stats: dict[str, int] = emu.stats()["submissions"]
    return stats


def paid_once_each(emu: EmulatorServer, series: Path) -> None:
    stats = submissions(emu)
    assert stats["total"] == SHOTS and stats["duplicates"] == 0, stats
    lock = json.loads((series / "storyboard.lock").read_text())["shots"]
    assert len(lock) == SHOTS and {e["cache_key"] for e in lock.values()} <= set(GATEWAYS)
    files = [p for p in series.rglob("*") if p.is_file()]
    assert all(KEY.encode() not in p.read_bytes() for p in files), "the key leaked into a file"


def command(series: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "storyboard", "render", str(series), "--yes", "--quiet",
            "-o", str(series / "out"), *args]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("name", RESELLERS)
def test_sigkill_mid_run_then_resume_pays_each_shot_once(
        tmp_path: Path, emulator: EmulatorServer, name: str,
        monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    series = series_for(tmp_path, emulator, name, monkeypatch, host)
    emulator.add_rate(*FAULTS)
    child = subprocess.Popen(command(series), env=dict(os.environ), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + LOADED
        # Killed once tasks are journaled and in flight: the resume must adopt, not resubmit.
        while len([a for a in _rows(series) if a.task_id]) < 2:
            assert child.poll() is None, child.communicate()[1].decode(errors="replace")
            assert time.monotonic() < deadline, "the child never had two tasks in flight"
            time.sleep(0.02)
    finally:  # Popen's own kill: a child already reaped (it ended) is never signalled by pid
        child.kill()
        _, err = child.communicate(timeout=LOADED)
    assert child.returncode == -signal.SIGKILL, err.decode(errors="replace")  # killed, not ended
    before = submissions(emulator)["total"]
    assert 2 <= before <= SHOTS
    # --json: a failure names each shot's state and cause (--quiet alone would say nothing).
    done = subprocess.run(command(series, "--json"), env=dict(os.environ), capture_output=True,
                          timeout=LOADED, check=False)
    if settle_by_hand(series, emulator, name, done.stdout):  # no task list: a person decides
        done = subprocess.run(command(series, "--json"), env=dict(os.environ),
                              capture_output=True, timeout=LOADED, check=False)
    assert done.returncode == 0, (done.stderr + done.stdout).decode(errors="replace")
    assert sum(emulator.stats()["faults"].values()) > 0, "no fault was ever applied"
    paid_once_each(emulator, series)
    assert {a.shot for a in read_status(series) if a.state == "done"} == {
        "ballad", "reply", "order", "serve"}
    for episode in ("ep01", "ep02"):
        assert (series / "out" / f"{episode}.mp4").is_file()
    again = subprocess.run(command(series), env=dict(os.environ), capture_output=True,
                           timeout=LOADED, check=False)
    assert again.returncode == 0 and submissions(emulator)["total"] == SHOTS


def settle_by_hand(series: Path, emu: EmulatorServer, name: str, report: bytes) -> bool:
    """A submit killed before its answer, on a gateway without a task list, stops as
    ``AmbiguousTask`` (21.2): settle it as a person would, from the gateway's own record
    (``task adopt`` when a task with its prompt exists, ``task forget`` when none does)."""
    stuck = [s for s in json.loads(report or b"{}").get("shots", [])
             if s.get("code") == "AmbiguousTask"]
    if not stuck:
        return False
    assert DIALECTS[name].protocol.list_path is None, stuck  # listing gateways reconcile alone
    prompts = {f"{s.episode}/{s.id}": s.request.prompt_in(DIALECTS[name].label)
               for s in compile_path(series).shots()}
    known = {a.task_id for a in read_status(series)}
    for shot in stuck:
        key = shot["key"].split("/", 1)[1]
        tasks = [t.task_id for t in emu.service.table.tasks.values()
                 if t.submission.prompt == prompts[key] and t.task_id not in known]
        args = ["adopt", str(series), key, *tasks[:1]] if tasks else [
            "forget", str(series), key, "--yes"]
        subprocess.run([sys.executable, "-m", "storyboard", "task", *args],
                       env=dict(os.environ), check=True, capture_output=True, timeout=LOADED)
    return True


def _rows(series: Path) -> list[object]:
    try:
        return list(read_status(series))
    except Exception:  # the journal does not exist yet
        return []
