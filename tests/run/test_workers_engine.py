"""What the engine (Procrastinate) gives the queue, end to end on a real PostgreSQL with ``storyboard
worker`` processes: a shot that fails ends ``failed`` after its retries, with its last error; a
cancelled render's queued shots never start and its running shot settles, paid once; a small
render queued behind a large one starts at the next free slot (shot k of every render at priority
-k); a team's rows in the hand-written queue table are carried over into the engine's jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storyboard.emulator import EmulatorServer
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.errors import StoryboardError
from storyboard.run import read_status
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue
from tests.fixtures.comfyui import WORKFLOWS, prompts, wait_until
from tests.fixtures.dashscope_cli import Emulator, submissions
from tests.fixtures.patience import LOADED
from tests.run.test_workers import clones, queue, queued, storyboard
from tests.run.test_workers_budget import SERIES, series


def events(out: str) -> list[dict[str, Any]]:
    """``worker --json``'s lines."""
    return [json.loads(text) for text in out.splitlines() if text.strip()]


def status_json(clone: Path) -> dict[str, Any]:
    child = storyboard(clone.parent, "status", clone.name, "--queue", "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0, out + err
    answer: dict[str, Any] = json.loads(out)
    return answer


@pytest.mark.usefixtures("env")
def test_a_shot_that_fails_every_try_ends_failed_after_its_retries(
        tmp_path: Path, emulator: Emulator, pg_url: str) -> None:
    emu: EmulatorServer = emulator()
    emu.script("task:failed*3")  # every try of the shot fails at the provider
    clone = series(tmp_path, pg_url, SERIES)
    child = storyboard(clone.parent, "queue", "render", clone.name, "--provider", "dashscope",
                       "--shot", "ep01/a", "--budget", "1", "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0, out + err
    worker = storyboard(clone.parent, "worker", "--ledger", pg_url, "--drain", "--json")
    out, err = worker.communicate(timeout=LOADED * 4)
    assert worker.returncode == 1 and "Traceback" not in err, out + err  # a shot failed
    said = events(out)
    kinds = [e["event"] for e in said]
    assert kinds == ["start", "retried", "retried", "failed", "stop"], said
    assert [e["tries"] for e in said if "tries" in e] == [1, 2, 3]
    assert submissions(emu) == 3  # tried three times, then never handed out again
    [shot] = queued(pg_url)
    assert shot.state == "failed" and shot.tries == 3 and "InternalError" in shot.message
    status = status_json(clone)
    assert status["shots"][0]["state"] == "failed" and status["shots"][0]["tries"] == 3
    [render] = status["renders"]
    assert render["shots"] == {"failed": 1} and render["counted"] == 0.0  # nothing paid


def test_a_cancelled_render_never_starts_its_queued_shots_and_settles_the_running_one(
        tmp_path: Path, pg_url: str) -> None:
    with ComfyUIServer(ComfyConfig(job_time=4.0, plain=True)) as gpu:
        alice, _ = clones(tmp_path, (gpu,), pg_url)
        render = queue(alice)["render"]
        worker = storyboard(alice.parent, "worker", "--ledger", pg_url, "--drain", "--json")
        wait_until(lambda: bool(prompts(gpu)) or worker.poll() is not None)  # the first runs
        cancel = storyboard(alice.parent, "cancel", "--queue", render, "--ledger", pg_url,
                            "--json")
        out, err = cancel.communicate(timeout=LOADED)
        assert cancel.returncode == 0, out + err
        assert json.loads(out) == {"render": render, "cancelled": 3, "settling": 1}
        out, err = worker.communicate(timeout=LOADED * 2)
        assert worker.returncode == 0 and "Traceback" not in err, out + err
        sent = prompts(gpu)
        assert len(sent) == 1 and set(sent.values()) == {1}, sent  # the queued ones never ran
        assert list(gpu.stats()["executed"].values()) == [1]  # the running one ended, once
    said = events(out)
    assert [e["event"] for e in said] == ["start", "cancelled", "stop"], said
    shots = queued(pg_url)
    assert {s.state for s in shots} == {"cancelled"}
    [settled] = [s for s in shots if s.holder]
    assert settled.message == "cancelled with its render (done)"
    done = [r for r in read_status(alice) if r.task_id in sent]
    assert done and {r.state for r in done} == {"done"}  # its paid task kept in the journal
    again = storyboard(alice.parent, "worker", "--ledger", pg_url, "--drain")
    out, err = again.communicate(timeout=LOADED)
    assert again.returncode == 0 and "0 done" in err, out + err  # nothing left to take


T2V_HEAD = """\
storyboard: 1
title: {title}
defaults: {{model: wan2.7-t2v, resolution: 720P, ratio: '16:9', duration: 2, seed: 7}}
provider: {{name: comfyui, instances: {instances}, workflow: workflows/t2v.json, poll: [0.05]}}
ledger: {ledger}
episodes:
  - id: ep01
    shots:
"""


def t2v_series(folder: Path, shots: int, url: str, gpus: list[str]) -> Path:
    """A series of ``shots`` prompt-only shots on a text-to-video graph."""
    (folder / "workflows").mkdir(parents=True)
    graph = json.loads((WORKFLOWS / "wan-i2v.json").read_text())
    del graph["10"]
    del graph["11"]["inputs"]["start_image"]
    (folder / "workflows" / "t2v.json").write_text(json.dumps(graph))
    lines = [f"      - {{id: s{n:02d}, prompt: \"{folder.name}, a street, shot {n}\"}}"
             for n in range(shots)]
    text = T2V_HEAD.format(title=folder.name, instances=json.dumps(gpus), ledger=url)
    (folder / "storyboard.yaml").write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    return folder


def started(url: str) -> list[str]:
    """The series of each job in the order the engine started them (its own events)."""
    with psycopg.connect(url) as db:
        rows = db.execute("SELECT s.series FROM procrastinate_events e JOIN "
                          "storyboard_queue_shots s ON s.job_id = e.job_id WHERE e.type = "
                          "'started' ORDER BY e.at, e.id").fetchall()
    return [r[0] for r in rows]


def test_a_small_render_queued_behind_a_large_one_starts_at_the_next_free_slot(
        tmp_path: Path, pg_url: str) -> None:
    """12 shots of ``big`` queued, then 3 of ``small``: a worker of 2 slots starts small's first
    shot in its first round and has done small before big's seventh shot starts (first in,
    first out, small would wait for all of big)."""
    with ComfyUIServer(ComfyConfig(job_time=0.3, plain=True)) as a, \
            ComfyUIServer(ComfyConfig(job_time=0.3, plain=True)) as b:
        clone = tmp_path / "clone"
        for name, count in (("big", 12), ("small", 3)):
            t2v_series(clone / name, count, pg_url, [a.url, b.url])
            child = storyboard(clone, "queue", "render", name, "--json")
            out, err = child.communicate(timeout=LOADED)
            assert child.returncode == 0 and json.loads(out)["shots"] == count, out + err
        worker = storyboard(clone, "worker", "--ledger", pg_url, "--drain", "--slots", "2")
        out, err = worker.communicate(timeout=LOADED * 4)
        assert worker.returncode == 0 and "15 done" in err, out + err
    order = started(pg_url)
    assert len(order) == 15 and order.count("small") == 3, order
    assert "small" in order[:2], order  # its first shot in the first round of free slots
    assert order.index("small") < 2 and max(i for i, s in enumerate(order) if s == "small") < 6


OLD_TABLE = """
CREATE TABLE storyboard_queue (
    id TEXT PRIMARY KEY, render_id TEXT NOT NULL, series TEXT NOT NULL, provider TEXT NOT NULL,
    shot TEXT NOT NULL, shot_hash TEXT NOT NULL, tags TEXT[] NOT NULL DEFAULT '{}',
    budget DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, holder TEXT,
    lease_until DOUBLE PRECISION, tries INTEGER NOT NULL DEFAULT 0,
    cost DOUBLE PRECISION NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
    queued_by TEXT NOT NULL, queued_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL, after TEXT NOT NULL DEFAULT '',
    counted DOUBLE PRECISION NOT NULL DEFAULT 0, UNIQUE (render_id, shot));
"""
OLD_ROW = ("INSERT INTO storyboard_queue (id, render_id, series, provider, shot, shot_hash, tags, "
           "budget, state, holder, lease_until, tries, cost, counted, message, queued_by, "
           "queued_at, updated_at) VALUES (%s, 'r1', 'night', 'comfyui', %s, %s, '{gpu-a}', 1.5, "
           "%s, %s, extract(epoch from clock_timestamp()) + %s, %s, %s, %s, %s, 'ann@box', %s, 0)")


def old_queue(url: str, claimed_for: float) -> None:
    """The hand-written queue's table with a done, a failed, a queued and a claimed row (its
    lease ``claimed_for`` seconds from now: negative, passed)."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(OLD_TABLE)
        for n, (state, holder, tries, cost, message) in enumerate((
                ("done", "w1", 1, 0.2, "task-1"), ("failed", "w1", 1, 0.0, "InternalError"),
                ("queued", None, 0, 0.0, ""), ("claimed", "w2", 1, 0.0, ""))):
            db.execute(OLD_ROW, (f"id{n}", f"ep01/s{n}", f"{n}" * 64, state, holder,
                                 claimed_for, tries, cost, cost, message, float(n)))


def test_a_teams_old_queue_rows_are_carried_over_into_the_engines_jobs(pg_url: str) -> None:
    old_queue(pg_url, claimed_for=-5.0)  # the claimed row's worker is long gone
    session = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        shots = {s.shot: s for s in PgQueue(session).shots()}
    finally:
        session.close()
    assert {k: s.state for k, s in shots.items()} == {
        "ep01/s0": "done", "ep01/s1": "failed", "ep01/s2": "queued", "ep01/s3": "queued"}
    assert shots["ep01/s0"].cost == 0.2 and shots["ep01/s0"].counted == 0.2
    assert shots["ep01/s1"].message == "InternalError"
    assert {(s.render_id, s.budget, s.tags, s.series) for s in shots.values()} == {
        ("r1", 1.5, ("gpu-a",), "night")}
    with psycopg.connect(pg_url) as db:
        assert db.execute("SELECT to_regclass('storyboard_queue')").fetchone() == (None,)
        names = {r[0] for r in db.execute("SELECT queue_name FROM procrastinate_jobs")}
    assert names == {"storyboard:comfyui+gpu-a"}  # where a worker with the tag listens


def test_old_rows_a_live_worker_still_holds_are_not_carried_over(pg_url: str) -> None:
    old_queue(pg_url, claimed_for=600.0)
    session = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        with pytest.raises(StoryboardError) as refused:
            PgQueue(session)
    finally:
        session.close()
    assert "1 shot(s) claimed in the old queue table (storyboard_queue) by w2" in str(refused.value)
    assert "stop those workers" in str(refused.value)
    with psycopg.connect(pg_url) as db:  # nothing moved: the old table as it was
        assert db.execute("SELECT count(*) FROM storyboard_queue").fetchone() == (4,)


def test_worker_refuses_to_start_beside_a_live_old_worker(tmp_path: Path, pg_url: str) -> None:
    old_queue(pg_url, claimed_for=600.0)
    child = storyboard(tmp_path, "worker", "--ledger", pg_url, "--drain")
    try:
        out, err = child.communicate(timeout=LOADED)
    except subprocess.TimeoutExpired:
        child.kill()
        raise
    assert child.returncode == 1 and "Traceback" not in err, out + err
    assert "stop those workers" in err


def test_cancel_names_a_render_the_queue_does_not_have(tmp_path: Path, pg_url: str) -> None:
    child = storyboard(tmp_path, "cancel", "--queue", "nope", "--ledger", pg_url)
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 1 and "no queued render 'nope'" in err, out + err


def test_a_worker_without_the_engine_installed_names_the_extra(tmp_path: Path) -> None:
    hidden = ("import sys; sys.modules['procrastinate'] = None; "  # as if not installed
              "sys.argv = ['storyboard', 'worker', '--ledger', 'postgresql://127.0.0.1:1/x']; "
              "from storyboard.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", hidden], cwd=tmp_path, capture_output=True,
                          text=True, timeout=LOADED, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "the team queue (queue render, storyboard worker) needs the ledger-pg extra" \
        in done.stderr and "(procrastinate is not installed)" in done.stderr, done.stderr
