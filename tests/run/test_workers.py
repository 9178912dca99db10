"""Workers over one PostgreSQL ledger: a render queued on it (``queue render``), taken by
``storyboard worker`` processes in their own clones, against emulated ComfyUI instances. A worker
killed mid-task (SIGKILL) loses its claims after its lease; another takes its shots over and polls
the dead worker's prompts instead of sending them again: every prompt is sent once."""

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
from typing import Any

import filelock
import pytest
import yaml

from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.run import read_status
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import NewShot, PgQueue
from tests.fixtures.comfyui import prompts, series_on, wait_until
from tests.fixtures.patience import LOADED

PHANTOM = "wan-phantom-references.json"
SHOTS = 4  # the example's shots: ballad, reply, order, serve


@pytest.fixture
def gpus() -> Iterator[tuple[ComfyUIServer, ComfyUIServer]]:
    with ComfyUIServer(ComfyConfig(job_time=2.0, plain=True)) as a, \
            ComfyUIServer(ComfyConfig(job_time=2.0, plain=True)) as b:
        yield a, b


def clones(tmp_path: Path, gpus: tuple[ComfyUIServer, ...], url: str, *,
           tags: list[str] | None = None) -> tuple[Path, Path]:
    """Two clones of one series (alice's, bob's), each with the team's ledger and store."""
    first = series_on(tmp_path / "alice", gpus, PHANTOM)
    doc = yaml.safe_load((first / "storyboard.yaml").read_text())
    doc["ledger"] = url
    doc["store"] = str(tmp_path / "store")
    if tags:
        doc["provider"]["tags"] = tags
    (first / "storyboard.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    second = tmp_path / "bob" / first.name
    shutil.copytree(first, second)
    return first, second


def storyboard(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CI": "1", "STORYBOARD_STATE_DIR": str(cwd / "state")}
    env.pop("STORYBOARD_LEDGER", None)
    return subprocess.Popen([sys.executable, "-m", "storyboard", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def said_by(child: subprocess.Popen[str]) -> str:
    """The rest of what a child that did not start says: it is let finish its traceback first
    (killed only when it will not end)."""
    try:
        out, err = child.communicate(timeout=LOADED)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate(timeout=LOADED)
    return f"{err[-6000:]}{out[-1000:]}"


def ended(child: subprocess.Popen[str]) -> str:
    out, err = child.communicate(timeout=LOADED * 4)
    assert child.returncode == 0, out + err
    assert "Traceback" not in err
    return out + err


def queue(clone: Path) -> dict[str, Any]:
    child = storyboard(clone.parent, "queue", "render", clone.name, "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0, out + err
    report: dict[str, Any] = json.loads(out)
    return report


def worker(clone: Path, url: str, *flags: str) -> subprocess.Popen[str]:
    return storyboard(clone.parent, "worker", "--ledger", url, "--drain", *flags)


def queued(url: str) -> list[Any]:
    session = PgLedger(LedgerSettings(url, "test"))
    try:
        return PgQueue(session).shots()
    finally:
        session.close()


def test_a_killed_workers_shots_are_taken_over_and_nothing_is_sent_twice(
        tmp_path: Path, gpus: tuple[ComfyUIServer, ComfyUIServer], pg_url: str) -> None:
    alice, bob = clones(tmp_path, gpus, pg_url)
    report = queue(alice)
    assert report["shots"] == SHOTS and report["provider"] == "comfyui"
    assert prompts(*gpus) == {}  # queued, not rendered
    first = worker(alice, pg_url, "--slots", "2", "--lease", "3")
    wait_until(lambda: len(prompts(*gpus)) >= 2)  # its two slots' prompts sent, running
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=LOADED)
    claimed = [s for s in queued(pg_url) if s.state == "claimed"]
    assert len(claimed) == 2  # the dead worker's, until their lease passes
    second = worker(bob, pg_url, "--slots", "2", "--lease", "3")
    said = ended(second)
    assert "4 done" in said, said
    shots = queued(pg_url)
    assert {s.state for s in shots} == {"done"}
    sent = prompts(*gpus)
    assert len(sent) == SHOTS and set(sent.values()) == {1}, sent  # each prompt sent once
    journaled = {r.task_id for clone in (alice, bob) for r in read_status(clone)}
    assert set(sent) <= journaled  # every task is in a journal (bob's holds the taken-over ones)
    status = ended(storyboard(alice.parent, "status", alice.name, "--queue"))
    assert status.startswith("0 queued, 0 claimed, 4 done, 0 failed"), status


def test_a_worker_takes_a_third_shot_while_its_second_still_runs(
        tmp_path: Path, pg_url: str) -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.5, plain=True)) as quick, \
            ComfyUIServer(ComfyConfig(job_time=12.0, plain=True)) as slow:
        gpus = (quick, slow)
        alice, _ = clones(tmp_path, gpus, pg_url)
        queue(alice)
        child = worker(alice, pg_url, "--slots", "2", "--lease", "30")
        wait_until(lambda: len(prompts(*gpus)) >= 2)  # one on each instance
        wait_until(lambda: len(prompts(*gpus)) >= 3 or child.poll() is not None)
        executed = {**quick.stats()["executed"], **slow.stats()["executed"]}
        claimed = [s for s in queued(pg_url) if s.state == "claimed"]
        assert len(prompts(*gpus)) == 3 and len(executed) == 1, executed  # not after a batch
        assert slow.stats()["running"] is not None  # the second shot still runs
        assert len(claimed) == 2  # never more than its slots
        said = ended(child)
        assert "4 done" in said, said
        assert set(prompts(*gpus).values()) == {1}


def test_two_workers_share_the_queue_within_their_slots(
        tmp_path: Path, gpus: tuple[ComfyUIServer, ComfyUIServer], pg_url: str) -> None:
    alice, bob = clones(tmp_path, gpus, pg_url)
    one = storyboard(alice.parent, "worker", "--ledger", pg_url, "--slots", "1")
    two = storyboard(bob.parent, "worker", "--ledger", pg_url, "--slots", "1")
    for child in (one, two):  # both waiting on the queue before anything is queued
        assert child.stderr is not None
        first = child.stderr.readline()
        if "1 slot(s) on" not in first:
            pytest.fail(f"a worker did not start: {first}{said_by(child)}")
    queue(alice)
    most = 0
    deadline = time.monotonic() + LOADED * 4
    while {s.state for s in queued(pg_url)} != {"done"}:
        held: dict[str, int] = {}
        for shot in queued(pg_url):
            if shot.state == "claimed" and shot.holder:
                held[shot.holder] = held.get(shot.holder, 0) + 1
        most = max([most, *held.values()])
        assert time.monotonic() < deadline and one.poll() is None and two.poll() is None
        time.sleep(0.05)
    for child in (one, two):
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=LOADED)
        assert child.returncode == 143 and "Traceback" not in err, out + err
    assert most == 1  # a worker asks for at most its free slots
    assert len({s.holder for s in queued(pg_url)}) == 2  # both took shots
    assert set(prompts(*gpus).values()) == {1}


def test_a_worker_takes_only_its_providers_and_tags(
        tmp_path: Path, gpus: tuple[ComfyUIServer, ComfyUIServer], pg_url: str) -> None:
    alice, _ = clones(tmp_path, gpus, pg_url, tags=["gpu-a"])
    queue(alice)
    assert {s.tags for s in queued(pg_url)} == {("gpu-a",)}
    elsewhere = ended(worker(alice, pg_url, "--providers", "dashscope", "--tags", "gpu-a"))
    untagged = ended(worker(alice, pg_url, "--providers", "comfyui"))
    assert "0 done" in elsewhere and "0 done" in untagged
    assert prompts(*gpus) == {} and {s.state for s in queued(pg_url)} == {"queued"}
    tagged = ended(worker(alice, pg_url, "--providers", "comfyui", "--tags", "gpu-a,gpu-b",
                          "--slots", "4"))
    assert "4 done" in tagged and {s.state for s in queued(pg_url)} == {"done"}


def test_a_clone_that_compiles_a_shot_otherwise_refuses_it(
        tmp_path: Path, gpus: tuple[ComfyUIServer, ComfyUIServer], pg_url: str) -> None:
    alice, bob = clones(tmp_path, gpus, pg_url)
    session = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        PgQueue(session).enqueue(alice.name, "comfyui", [NewShot("ep01/ballad", "f" * 64)],
                                 budget=0.0, queued_by="test")
    finally:
        session.close()
    said = ended(worker(bob, pg_url))
    assert "refused" in said and "another commit" in said, said
    assert prompts(*gpus) == {} and [s.state for s in queued(pg_url)] == ["queued"]
    elsewhere = ended(worker(bob, pg_url, "--root", str(tmp_path)))  # no coffee-shop/ there
    assert "this clone cannot compile" in elsewhere and "left to another worker" in elsewhere
    assert [s.state for s in queued(pg_url)] == ["queued"]  # never failed by a lost clone


def lock_free(clone: Path) -> bool:
    """Whether the clone's run lock can be taken now (a render of your own would start)."""
    lock = filelock.FileLock(str(clone / ".storyboard" / "run.lock"), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        return False
    lock.release()
    return True


def test_an_idle_worker_lets_go_of_its_clones_run_lock(
        tmp_path: Path, gpus: tuple[ComfyUIServer, ComfyUIServer], pg_url: str) -> None:
    """Its shots done and nothing queued, a worker's run ends after --linger seconds, so a
    render of your own in its clone may run; it held the lock for as long as it waited."""
    alice, _ = clones(tmp_path, gpus, pg_url)
    queue(alice)
    child = storyboard(alice.parent, "worker", "--ledger", pg_url, "--linger", "0.5", "--slots",
                       "2")  # a slot an instance: its shots done sooner, the lock held as long
    try:
        wait_until(lambda: not lock_free(alice) or child.poll() is not None)  # its run
        wait_until(lambda: {s.state for s in queued(pg_url)} == {"done"} or
                   child.poll() is not None)
        wait_until(lambda: lock_free(alice) or child.poll() is not None)
        assert child.poll() is None, said_by(child)  # still serving the queue, no --drain
    finally:
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=LOADED)
    assert err.count(" done: ") == 4 and "Traceback" not in err, out + err


@pytest.mark.parametrize(("flag", "value"), [
    ("--lease", "nan"), ("--lease", "inf"), ("--lease", "0.5"), ("--linger", "nan"),
    ("--linger", "-1"), ("--linger", "inf")])
def test_a_worker_refuses_a_length_of_time_no_clock_reaches(flag: str, value: str) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli
    done = CliRunner().invoke(cli, ["worker", "--ledger", "postgresql://127.0.0.1:1/none",
                                    flag, value])
    assert done.exit_code == 2 and f"{value!r} is not a number of seconds" in done.output, \
        done.output


def test_render_queue_without_a_team_ledger_is_refused(tmp_path: Path,
                                                       gpus: tuple[ComfyUIServer, ...]) -> None:
    series = series_on(tmp_path, gpus, PHANTOM)
    child = storyboard(tmp_path, "queue", "render", series.name)
    _, err = child.communicate(timeout=LOADED)
    assert child.returncode == 1 and "needs a team ledger" in err and "Traceback" not in err


def test_sigterm_gives_the_claims_back_and_keeps_the_paid_tasks(
        tmp_path: Path, gpus: tuple[ComfyUIServer, ComfyUIServer], pg_url: str) -> None:
    alice, bob = clones(tmp_path, gpus, pg_url)
    queue(alice)
    first = worker(alice, pg_url, "--slots", "2", "--lease", "60")
    wait_until(lambda: len(prompts(*gpus)) >= 2)
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=LOADED)
    assert first.returncode == 143 and "Traceback" not in err, out + err
    assert "claim(s) given back" in err, err
    assert not [s for s in queued(pg_url) if s.state == "claimed"]  # at once, not after 60 s
    sent = set(prompts(*gpus))
    rows = read_status(alice)  # what it sent stays journaled: a task id, or a submit whose
    assert len(rows) >= len(sent)  # answer the stop cut off (found again by its prompt id)
    assert {r.task_id for r in rows if r.task_id} <= sent
    said = ended(worker(bob, pg_url, "--slots", "2"))
    assert "4 done" in said or {s.state for s in queued(pg_url)} == {"done"}, said
    assert set(prompts(*gpus).values()) == {1}  # resumed by bob, never sent again
