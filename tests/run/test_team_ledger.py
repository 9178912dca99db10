"""Two machines, one render: two clones of the example render at once through the real command
line, against one DashScope emulator (latency, faults), sharing one folder store and one real
PostgreSQL ledger (a throwaway cluster). Each clone has its own ``.storyboard/`` and its own user
state folder, as two machines would. The emulator's counters say what was paid for."""

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

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.run import read_status
from tests.fixtures.example import copy_example

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
KEY = "sk-team-secret-456"
PASSWORD = "pg-pass-789"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=1.5, plain_results=True, retry_after=0.1, seed=7).start()
    server.add_rate("submit:429:0.15", "query:500:0.1", "download:503:0.1")
    try:
        yield server
    finally:
        server.stop()


def clone(tmp_path: Path, name: str) -> Path:
    series = tmp_path / name / "coffee-shop"
    copy_example(series, shortest=True,  # its shots cut short: the time they take is not tested
                 ignore=shutil.ignore_patterns(".storyboard", "out", "storyboard.lock"))
    yaml = series / "storyboard.yaml"  # no loudness pass (two ffmpeg runs an episode): not tested here
    text = yaml.read_text(encoding="utf-8")
    assert "loudness: -14" in text
    yaml.write_text(text.replace("loudness: -14", "loudness: null"), encoding="utf-8")
    with yaml.open("a", encoding="utf-8") as f:
        f.write("provider: {name: dashscope, poll: [0.3], concurrency: 3}\n")
    return series


def start(series: Path, emu: EmulatorServer, store: Path, ledger: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": emu.base_url,
           "STORYBOARD_STORE": str(store), "STORYBOARD_LEDGER": ledger, "CI": "1",
           "PGPASSWORD": PASSWORD,  # libpq's usual place (the trust cluster ignores it)
           "STORYBOARD_STATE_DIR": str(series.parent / "state")}  # each machine its own
    args = [sys.executable, "-m", "storyboard", "render", str(series), "--yes", "--json",
            "-o", str(series.parent / "out")]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(child: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = child.communicate(timeout=240)
    assert child.returncode == 0, err[-3000:]
    assert "Traceback" not in err and KEY not in out + err and PASSWORD not in out + err
    report: dict[str, Any] = json.loads(out)
    return report


def every_shot_paid_once(emu: EmulatorServer, *series: Path) -> None:
    locks = [json.loads((s / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
             for s in series]
    assert all(lock == locks[0] for lock in locks), "the clones' lock files differ"
    stats = emu.stats()["submissions"]
    assert stats["duplicates"] == 0, stats
    assert stats["total"] == len({e["hash"] for e in locks[0].values()}), stats
    assert sorted(stats["by_prompt"].values()) == [1] * stats["total"]


def every_episode(series: Path, report: dict[str, Any] | None = None) -> None:
    if report is not None:
        assert report["ok"] is True
        assert {e["state"] for e in report["episodes"]} <= {"stitched", "up to date"}
    for name in ("ep01", "ep02"):
        assert (series.parent / "out" / f"{name}.mp4").is_file()


def no_secret_written(*series: Path) -> None:
    for folder in series:
        for path in folder.parent.rglob("*"):
            if path.is_file() and path.suffix != ".mp4":
                data = path.read_bytes()
                assert KEY.encode() not in data and PASSWORD.encode() not in data, path


def test_two_clones_render_at_once_and_pay_each_shot_once(
        tmp_path: Path, emulator: EmulatorServer, pg_url: str) -> None:
    one, two = clone(tmp_path, "alice"), clone(tmp_path, "bob")
    store = tmp_path / "store"
    first, second = (start(s, emulator, store, pg_url) for s in (one, two))
    reports = [finish(first), finish(second)]
    for series, report in zip((one, two), reports, strict=True):
        every_episode(series, report)
    every_shot_paid_once(emulator, one, two)
    states = [s["state"] for r in reports for s in r["shots"]]
    assert states.count("done") == emulator.stats()["submissions"]["total"]
    assert any("store" in (s["message"] or "") for r in reports for s in r["shots"]), \
        "no shot was taken from the other machine's work"
    no_secret_written(one, two)


def test_a_machine_killed_mid_run_loses_nothing_and_pays_nothing_twice(
        tmp_path: Path, emulator: EmulatorServer, pg_url: str) -> None:
    one, two = clone(tmp_path, "alice"), clone(tmp_path, "bob")
    store = tmp_path / "store"
    doomed = start(one, emulator, store, pg_url)
    deadline = time.monotonic() + 60
    while emulator.stats()["submissions"]["total"] < 2:  # the doomed one holds live claims
        assert time.monotonic() < deadline and doomed.poll() is None
        time.sleep(0.05)
    survivor = start(two, emulator, store, pg_url)
    time.sleep(0.5)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    assert doomed.returncode == -signal.SIGKILL
    report = finish(survivor)  # finishes the dead machine's tasks: polls them, never resubmits
    every_episode(two, report)
    taken = [a for a in read_status(two) if "restored from the ledger" in (a.note or "")]
    assert taken, "the survivor took over none of the dead machine's claims"
    again = finish(start(one, emulator, store, pg_url))  # the dead machine, restarted
    every_episode(one, again)
    every_shot_paid_once(emulator, one, two)
    no_secret_written(one, two)


def test_a_shot_another_machine_made_is_planned_as_restored_from_the_ledger(
        tmp_path: Path, pg_url: str) -> None:
    """Alice renders; Bob, whose store lacks her videos, plans the same series: the team ledger
    holds her paid, finished tasks, so each shot is ``ledger`` (restored, free), never ``in
    flight``, in the table and in ``--json``'s counts, and his render pays nothing."""
    emu = EmulatorServer(plain_results=True, seed=7).start()
    try:
        one, two = clone(tmp_path, "alice"), clone(tmp_path, "bob")
        finish(start(one, emu, tmp_path / "store-a", pg_url))
        paid = emu.stats()["submissions"]["total"]
        own = tmp_path / "store-b"  # Bob's own store, empty: only the ledger knows her work
        planned = json.loads(command(two, emu, own, pg_url, "plan", "--json"))
        shown = {s["status"] for s in planned["shots"]}
        assert shown == {"ledger"}, planned["shots"]
        assert all(s["cost"] == 0.0 and "restored" in s["note"] for s in planned["shots"])
        counts = planned["counts"]
        assert counts["ledger"] == len(planned["shots"]) and counts["in flight"] == 0, counts
        assert planned["total_cost"] == 0.0
        table = command(two, emu, own, pg_url, "plan")
        assert "in flight" not in table and "ledger" in table, table
        made_by_alice_as_bob_sees_it(two, emu, own, pg_url, planned)
        report = finish(start(two, emu, own, pg_url))
        assert report["spent"] == 0.0 and emu.stats()["submissions"]["total"] == paid
        every_episode(two, report)
    finally:
        emu.stop()


def made_by_alice_as_bob_sees_it(two: Path, emu: EmulatorServer, own: Path, pg_url: str,
                                 planned: dict[str, Any]) -> None:
    """Bob's ``status`` (his journal empty) says each of Alice's shots is made on another
    machine, in its text and ``--json``, never "not rendered"; ``status --season`` counts her
    videos done, nothing to go."""
    keys = sorted(s["key"] for s in planned["shots"])
    text = command(two, emu, own, pg_url, "status")
    assert "the journal is empty" in text and "not rendered" not in text, text
    said = [line.split(": ", 1) for line in text.splitlines() if ": " in line]
    assert sorted(shot for shot, words in said if words.startswith(
        "made on another machine (the team's ledger)")) == [k.split("/", 1)[1] for k in keys], text
    rows = json.loads(command(two, emu, own, pg_url, "status", "--json"))
    assert sorted(r["key"] for r in rows) == keys, rows
    assert all(r["made_elsewhere"] and r["state"] == "ledger" and r["task_id"] and
               r["cost"] == 0.0 and r["provider"] == "dashscope" for r in rows), rows
    season = json.loads(command(two, emu, own, pg_url, "status", "--season", "--json"))
    assert [(e["videos_done"], e["to_go"]) for e in season["episodes"]] == [
        (e["shots"], 0.0) for e in season["episodes"]], season


def command(series: Path, emu: EmulatorServer, store: Path, ledger: str, *args: str) -> str:
    """``storyboard ARGS SERIES`` as ``start`` runs a render, to its end: its output."""
    env = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": emu.base_url,
           "STORYBOARD_STORE": str(store), "STORYBOARD_LEDGER": ledger, "CI": "1",
           "STORYBOARD_STATE_DIR": str(series.parent / "state")}
    done = subprocess.run([sys.executable, "-m", "storyboard", args[0], str(series), *args[1:]],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stdout


# --- the setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("ledger", "fragment"), [
    ("postgresql://team:hunter22@db.internal/renders", "a password in the URL"),
    ("postgresql://db.internal/renders?password=hunter22", "a password in the URL"),
    ("mysql://db.internal/renders", "expected form (a postgresql:// (or postgres://) URL)"),
])
def test_the_series_file_never_holds_a_ledger_password(tmp_path: Path, ledger: str,
                                                      fragment: str) -> None:
    from click.testing import CliRunner

    from storyboard.cli import cli
    series = clone(tmp_path, "bad")
    text = (series / "storyboard.yaml").read_text(encoding="utf-8")
    (series / "storyboard.yaml").write_text(text + f"ledger: {ledger}\n", encoding="utf-8")
    line = len(text.splitlines()) + 1
    result = CliRunner().invoke(cli, ["check", str(series)])
    assert result.exit_code == 1, result.output
    assert f"storyboard.yaml:{line}:" in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_ledger_stops_the_render_before_any_submit(
        tmp_path: Path, emulator: EmulatorServer) -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    series = clone(tmp_path, "alice")
    child = start(series, emulator, tmp_path / "store",
                  f"postgresql://team:{PASSWORD}@127.0.0.1:{port}/renders")
    out, err = child.communicate(timeout=120)
    assert child.returncode != 0
    assert f"127.0.0.1:{port}/renders" in err and PASSWORD not in out + err
    assert "Traceback" not in err
    assert emulator.stats()["submissions"]["total"] == 0
