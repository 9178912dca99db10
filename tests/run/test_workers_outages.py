"""Workers on the engine outlive SIGKILLs and their PostgreSQL restarting: three ``storyboard
worker`` processes over a cluster of their own, killed eight times between them (each restarted in
its clone, as a service manager would) while the server is stopped for 3 s and started again;
every shot ends done, and the emulators' own counts say each prompt was sent once."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.errors import StoryboardError
from tests.fixtures import pg_server
from tests.fixtures.comfyui import prompts
from tests.fixtures.patience import LOADED
from tests.run.test_workers import queued, storyboard
from tests.run.test_workers_engine import t2v_series

SHOTS = 24
KILLS = 8
# Each kill strikes the shots its worker held, and a worker starved of the CPU for a lease is
# swept as if killed: the shots get retries enough that no fall of the kills fails one (a shot
# that kills every worker failing after its retries has its own test in test_workers_leases).
RETRIES = 3 * KILLS


def start(clone: Path, url: str) -> subprocess.Popen[str]:
    return storyboard(clone, "worker", "--ledger", url, "--slots", "2", "--lease", "2")


def states(url: str) -> set[str] | None:
    """The shots' states (None: the server is away)."""
    try:
        return {s.state for s in queued(url)}
    except StoryboardError:
        return None


def test_workers_outlive_kills_and_a_database_restart_and_send_each_prompt_once(
        tmp_path: Path, own_pg_cluster: pg_server.PgServer) -> None:
    url = own_pg_cluster.url
    with ComfyUIServer(ComfyConfig(job_time=0.6, plain=True)) as a, \
            ComfyUIServer(ComfyConfig(job_time=0.6, plain=True)) as b:
        base = tmp_path / "base"
        t2v_series(base / "reel", SHOTS, url, [a.url, b.url])
        child = storyboard(base, "queue", "render", "reel", "--json")
        out, err = child.communicate(timeout=LOADED)
        assert child.returncode == 0 and json.loads(out)["shots"] == SHOTS, out + err
        with psycopg.connect(url) as db:
            db.execute("UPDATE storyboard_queue_shots SET retries = %s", (RETRIES,))
        clones = []
        for n in range(3):
            shutil.copytree(base, tmp_path / f"w{n}", ignore=shutil.ignore_patterns(".storyboard"))
            clones.append(tmp_path / f"w{n}")
        workers = [start(c, url) for c in clones]
        rng, kills, halted = random.Random(7), 0, False
        deadline = time.monotonic() + 150.0
        try:
            while (states(url) or {"away"}) - {"done", "failed"}:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.8)
                if kills < KILLS:
                    victim = rng.randrange(len(workers))
                    workers[victim].send_signal(signal.SIGKILL)
                    workers[victim].communicate(timeout=LOADED)
                    workers[victim] = start(clones[victim], url)
                    kills += 1
                if kills == KILLS // 2 and not halted:
                    own_pg_cluster.halt()
                    time.sleep(3.0)
                    own_pg_cluster.resume()
                    halted = True
        finally:
            said = []
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
                out, err = worker.communicate(timeout=LOADED)
                said.append(out + err)
        sent = prompts(a, b)
    shots = queued(url)
    assert {s.state for s in shots} == {"done"}, ([(s.shot, s.state, s.message) for s in shots
                                                   if s.state != "done"], said)
    assert kills == KILLS and halted
    assert not [s for s in said if "Traceback" in s], said
    assert len(sent) == SHOTS and set(sent.values()) == {1}, sent  # none paid twice
