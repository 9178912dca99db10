"""A team render survives its PostgreSQL ledger restarting mid-run, and a killed machine's
account slots stay held while its tasks run.

Two machines (two processes, two clones of a series) render through the emulator over one ledger
on a throwaway cluster of their own. The server stopped mid-run and started 3 s later: each
machine reconnects (with backoff) and goes on; every shot ends within a bound, and the emulator's
own count says each was paid once. A machine SIGKILLed with tasks in flight: the other never
passes the account's limit (the emulator's own peak), and the slots come back as the tasks end.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.errors import JournalError, LedgerAway, StoryboardError
from storyboard.run.team.ledger_pg import LEDGER_ENV, LedgerSettings, PgLedger, ledger_settings
from tests.fixtures import pg_server
from tests.fixtures.team import KEY, clone, start

BOUND = 90.0  # seconds: a machine that neither reconnects nor gives up is a hang


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
        child.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack on stderr
        out, err = child.communicate()
        pytest.fail(f"a machine still ran {BOUND:.0f} s after the restart: {err[-2000:]}")
    assert "Traceback" not in err and KEY not in out + err
    return child.returncode, json.loads(out) if out.strip() else {}, err


def said(children: list[subprocess.Popen[str]]) -> str:
    """What each machine printed, for a failure: each stopped (its stacks on stderr) if it ran."""
    told = []
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack
        out, err = child.communicate(timeout=30)
        told.append(f"exit {child.returncode}: {err[-3000:]} {out[-500:]}")
    return "\n---\n".join(told)


def test_two_machines_outlive_a_ledger_restart_and_pay_each_shot_once(
        tmp_path: Path, own_pg_cluster: pg_server.PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    emu = EmulatorServer(latency=2.0, plain_results=True, retry_after=0.1).start()
    try:
        # One task each: the account's two slots are then one a machine, so both are mid-run
        # (with three each, the first to start may hold both slots to its last shot).
        clones = [clone(tmp_path, name, concurrency=1) for name in ("alice", "bob")]
        children = [start(series, emu, tmp_path / "store", own_pg_cluster.url) for series in clones]
        waited = time.monotonic() + 60
        while machines_submitting(own_pg_cluster.url) < 2:  # both mid-run, each with a claim
            if time.monotonic() > waited or any(c.poll() is not None for c in children):
                pytest.fail(f"the machines never both submitted: {said(children)}")
            time.sleep(0.05)
        own_pg_cluster.halt()  # mid-run: tasks in flight, claims and leases held
        time.sleep(3)
        own_pg_cluster.resume()
        deadline = time.monotonic() + BOUND
        results = [ended(child, deadline) for child in children]
        stats = emu.stats()
    finally:
        emu.stop()
    for code, report, err in results:
        states = {shot["state"] for shot in report.get("shots", [])}
        assert report and states <= {"done", "cached", "failed"}, (code, states, err[-2000:])
    assert_paid_once(clones[0], stats)


def assert_paid_once(series: Path, stats: dict[str, Any]) -> None:
    lock = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    paid = stats["submissions"]
    assert paid["duplicates"] == 0, paid
    assert paid["total"] == len({entry["hash"] for entry in lock.values()}), paid


def test_a_killed_machines_slots_are_held_while_its_tasks_run(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Alice is killed with two tasks in flight; Bob renders other shots (another series) on the
    same account. He starts none while hers run (they hold the account's 2 slots), and his
    renders go on once the service says her tasks have ended."""
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    emu = EmulatorServer(latency=4.0, plain_results=True, retry_after=0.1).start()
    try:
        alice, bob = (clone(tmp_path, name) for name in ("alice", "bob"))
        yaml = bob / "storyboard.yaml"  # other shots: nothing of alice's to resume
        yaml.write_text(yaml.read_text(encoding="utf-8").replace("seed: 1234", "seed: 4321"),
                        encoding="utf-8")
        first = start(alice, emu, tmp_path / "store", pg_url)
        waited = time.monotonic() + 60
        while tasks_recorded(pg_url) < 2:  # two paid tasks in flight, their leases held
            assert time.monotonic() < waited and first.poll() is None, "alice never had two"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        code, report, err = ended(start(bob, emu, tmp_path / "store", pg_url),
                                  time.monotonic() + BOUND)
        stats = emu.stats()
    finally:
        emu.stop()
    assert code == 0 and report["ok"], err[-2000:]
    assert stats["in_flight"]["max"] == 2, stats["in_flight"]  # never past the account's 2
    assert stats["submissions"]["duplicates"] == 0


def tasks_recorded(url: str) -> int:
    import psycopg
    with psycopg.connect(url, autocommit=True) as db:
        exists = db.execute("SELECT to_regclass('storyboard_ledger')").fetchone()
        if exists is None or exists[0] is None:
            return 0
        row = db.execute("SELECT count(*) FROM storyboard_ledger WHERE task_id IS NOT NULL "
                         "AND state = 'open'").fetchone()
        return int(row[0]) if row else 0


def test_a_ledger_that_stays_away_fails_the_call_clearly_within_its_patience(
        own_pg_cluster: pg_server.PgServer) -> None:
    ledger = PgLedger(LedgerSettings(own_pg_cluster.url, LEDGER_ENV, patience=1.5))
    try:
        ledger.intend("p", "h" * 64, "k", series="s", shot="ep/a")
        own_pg_cluster.halt()
        began = time.monotonic()
        with pytest.raises(JournalError, match=r"could not be made again within 1\.5 s "
                                               r"\(STORYBOARD_LEDGER_PATIENCE\)"):
            ledger.knows_task("p", "t-1")
        assert time.monotonic() - began < 5
        own_pg_cluster.resume()
        assert ledger.knows_task("p", "t-1") is False  # made again at the next call
        assert [e.state for e in ledger.entries("p", "h" * 64)] == ["open"]
    finally:
        ledger.close()


def test_a_ledger_whose_server_is_away_is_told_apart_from_one_asked_wrongly(
        own_pg_cluster: pg_server.PgServer) -> None:
    """A worker gives a shot back (no try counted) when its run cannot reach the ledger's
    server, and fails it when the ledger itself is wrong (``jobs.Job._render``)."""
    own_pg_cluster.halt()
    try:
        with pytest.raises(LedgerAway, match="cannot open the team ledger"):
            PgLedger(LedgerSettings(own_pg_cluster.url, LEDGER_ENV))
    finally:
        own_pg_cluster.resume()
    wrong = own_pg_cluster.url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(JournalError, match="cannot open the team ledger") as refused:
        PgLedger(LedgerSettings(wrong, LEDGER_ENV))
    assert not isinstance(refused.value, LedgerAway)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "-inf", "soon"])
def test_a_patience_that_is_no_number_of_seconds_is_refused(value: str) -> None:
    with pytest.raises(StoryboardError, match="STORYBOARD_LEDGER_PATIENCE"):
        ledger_settings("postgresql://db/x", {"STORYBOARD_LEDGER_PATIENCE": value})
    assert ledger_settings("postgresql://db/x", {}).patience == 60.0
    assert ledger_settings("postgresql://db/x", {"STORYBOARD_LEDGER_PATIENCE": "5"}).patience == 5


def test_storyboard_config_shows_the_ledgers_patience(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from storyboard.cli import cli
    series = clone(tmp_path, "carol")
    monkeypatch.setenv("STORYBOARD_LEDGER", "postgresql://127.0.0.1:1/none")

    def row() -> dict[str, str]:
        result = CliRunner().invoke(cli, ["config", str(series), "--json"])
        assert result.exit_code == 0, result.output
        return next(r for r in json.loads(result.output) if r["name"] == "ledger_patience")
    assert (row()["value"], row()["source"]) == ("60.0", "default")
    monkeypatch.setenv("STORYBOARD_LEDGER_PATIENCE", "12")
    assert row() == {"name": "ledger_patience", "value": "12.0", "source": "environment",
                     "where": "STORYBOARD_LEDGER_PATIENCE"}
