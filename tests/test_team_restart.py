"""A team render survives its PostgreSQL ledger restarting mid-run.

Two machines (two processes, two clones of a series) render through the emulator over one ledger
on a throwaway cluster of their own; the server is stopped mid-run and started 3 s later. Each
machine reconnects (with backoff) and goes on; every shot ends done or failed within a bound, and
the emulator's own count says each was paid once.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg_server
import pytest
from test_team_pacing import KEY, clone, start

from storyboard.emulator import EmulatorServer

BOUND = 40.0  # seconds: a machine that neither reconnects nor gives up is a hang


@pytest.fixture
def cluster() -> Iterator[pg_server.PgServer]:
    server = pg_server.start()  # its own: restarting it must not touch other tests' server
    try:
        yield server
    finally:
        server.stop()


def machines_submitting(url: str) -> int:
    import psycopg
    with psycopg.connect(url, autocommit=True) as db:
        exists = db.execute("SELECT to_regclass('storyboard_ledger')").fetchone()
        if exists is None or exists[0] is None:
            return 0
        row = db.execute("SELECT count(DISTINCT holder) FROM storyboard_ledger").fetchone()
        return int(row[0]) if row else 0


def ended(child: subprocess.Popen[str], deadline: float) -> tuple[int, dict[str, Any], str]:
    try:
        out, err = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        import signal
        child.send_signal(signal.SIGABRT)
        out, err = child.communicate()
        Path("/tmp/lim/hang.txt").write_text(err)
        pytest.fail(f"a machine still ran {BOUND:.0f} s after the restart: {err[-2000:]}")
    assert "Traceback" not in err and KEY not in out + err
    return child.returncode, json.loads(out) if out.strip() else {}, err


def test_two_machines_outlive_a_ledger_restart_and_pay_each_shot_once(
        tmp_path: Path, cluster: pg_server.PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    emu = EmulatorServer(latency=2.0, plain_results=True, retry_after=0.1).start()
    try:
        clones = [clone(tmp_path, name) for name in ("alice", "bob")]
        children = [start(series, emu, tmp_path / "store", cluster.url) for series in clones]
        waited = time.monotonic() + 60
        while machines_submitting(cluster.url) < 2:  # both mid-run, each with a claim
            assert time.monotonic() < waited, "the machines never submitted"
            time.sleep(0.05)
        cluster.halt()  # mid-run: tasks in flight, claims and leases held
        time.sleep(3)
        cluster.resume()
        deadline = time.monotonic() + BOUND
        results = [ended(child, deadline) for child in children]
        stats = emu.stats()
    finally:
        emu.stop()
    for code, report, err in results:
        states = {shot["state"] for shot in report.get("shots", [])}
        assert report and states <= {"done", "cached", "failed"}, (code, states, err[-2000:])
    paid = stats["submissions"]
    assert paid["duplicates"] == 0, paid
    print(results[0][1].get("shots"), results[1][1].get("shots"), paid)
