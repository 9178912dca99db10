"""`storyboard render --provider dashscope` end to end against the emulator over loopback.

The real command line (click's CliRunner in-process, ``python -m storyboard`` where a process must
die) drives the real DashScope client against ``EmulatorServer`` on 127.0.0.1. The emulator's
counters say what was paid for: every test checks that a shot is submitted once and only once, and
that the API key never shows up in anything the commands print or write.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.media import ffmpeg
from storyboard.run import read_status
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import (
    FOUR_SHOTS,
    HEAD,
    KEY_BYTES,
    THREE_SHOTS,
    Emulator,
    MakeMedia,
    child_env,
    command,
    invoke,
    kill,
    no_key,
    paid_once_each,
    render,
    states,
    submissions,
    tasks,
    wait_until,
)
from tests.fixtures.patience import LOADED

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# --- helpers -------------------------------------------------------------------------------------


def secrets_stay_secret(series: Path, *, locked: bool = True) -> None:
    """Neither the lock, the journal nor any other file of the series holds the key."""
    files = [p for p in series.rglob("*") if p.is_file()]
    if locked:
        assert series / "storyboard.lock" in files
    assert series / ".storyboard" / "journal.sqlite" in files
    for path in files:
        assert KEY_BYTES not in path.read_bytes(), f"the API key is in {path}"


@pytest.fixture
def three(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "wire", make_media, THREE_SHOTS, head=HEAD)


# --- 8. the happy path ---------------------------------------------------------------------------


def test_render_submits_each_shot_once_and_stitches(three: Path, emulator: Emulator,
                                                    tmp_path: Path) -> None:
    emu = emulator()
    out = tmp_path / "out"
    code, report, _ = render(three, "--yes", "-o", out)
    assert code == 0 and report["ok"] is True
    assert states(report) == {"a": "done", "b": "done", "c": "done"}
    assert {e["id"]: e["state"] for e in report["episodes"]} == {"ep01": "stitched",
                                                                  "ep02": "stitched"}
    lengths = ffmpeg.stream_lengths(out / "ep01.mp4")
    assert lengths["video"] == pytest.approx(4, abs=1 / 30)
    assert (out / "ep02.mp4").is_file()
    stats = emu.stats()
    assert stats["uploads"] > 0, "local files were not uploaded"
    paid_once_each(emu, three, 3)
    lock = json.loads((three / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    task_ids = {s["key"]: s["task_id"] for s in report["shots"]}
    for key, entry in lock.items():
        assert entry["provider"] == "dashscope"
        assert entry["task_id"] and entry["task_id"] == task_ids[key]
        assert entry["cost"] > 0
    assert report["spent"] == pytest.approx(sum(e["cost"] for e in lock.values()))
    mtime = (out / "ep01.mp4").stat().st_mtime_ns

    code, again, _ = render(three, "--yes", "-o", out)
    assert code == 0 and states(again) == {"a": "cached", "b": "cached", "c": "cached"}
    assert again["spent"] == 0
    assert submissions(emu) == 3
    assert (out / "ep01.mp4").stat().st_mtime_ns == mtime
    secrets_stay_secret(three)


# --- 9. consent ---------------------------------------------------------------------------------


def test_no_consent_in_a_non_interactive_run_submits_nothing(three: Path,
                                                             emulator: Emulator) -> None:
    emu = emulator()
    result = invoke("render", three, "--provider", "dashscope", "--quiet")
    assert result.exit_code != 0
    assert "--yes" in result.stderr and "--budget" in result.stderr
    assert "nothing was submitted" in result.stderr
    stats = emu.stats()
    assert stats["submissions"]["total"] == 0
    assert stats["requests"]["submit"] == 0 and stats["uploads"] == 0
    assert read_status(three) == []


def test_a_budget_below_one_shot_submits_nothing(three: Path, emulator: Emulator,
                                                 tmp_path: Path) -> None:
    emu = emulator()
    code, report, _ = render(three, "--budget", "0.05", "-o", tmp_path / "out")
    assert code != 0 and report["ok"] is False
    assert set(states(report).values()) == {"skipped"}
    assert all("budget" in s["message"] for s in report["shots"])
    assert {e["state"] for e in report["episodes"]} == {"skipped"}
    assert submissions(emu) == 0
    assert not (tmp_path / "out" / "ep01.mp4").exists()


# --- 10. faults ---------------------------------------------------------------------------------


def test_rate_limits_and_server_errors_are_retried(three: Path, emulator: Emulator,
                                                   tmp_path: Path) -> None:
    emu = emulator()
    emu.script("submit:429,query:500,query:503")
    code, report, _ = render(three, "--yes", "-o", tmp_path / "out")
    assert code == 0, report
    assert set(states(report).values()) == {"done"}
    faults = emu.stats()["faults"]
    assert faults.get("submit:429") == 1 and faults.get("query:500") == 1
    paid_once_each(emu, three, 3)


@pytest.mark.parametrize(("fault", "code"), [("task:failed", "InternalError"),
                                             ("task:moderation", "DataInspectionFailed")])
def test_a_failed_task_fails_its_shot_and_a_rerun_retries_only_it(
        three: Path, emulator: Emulator, tmp_path: Path, fault: str, code: str) -> None:
    emu = emulator()
    emu.script(fault)
    first = invoke("render", three, "--provider", "dashscope", "--yes", "-o", tmp_path / "out")
    assert first.exit_code == 1
    assert code in first.stderr, first.stderr
    assert "[dashscope]" in first.stderr  # provider text is shown as written, never as markup
    rows = read_status(three)
    failed = [a for a in rows if a.state == "failed"]
    assert len(failed) == 1 and failed[0].error_code == code
    assert sorted(a.shot for a in rows if a.state == "done") == sorted(
        {"a", "b", "c"} - {failed[0].shot})
    assert submissions(emu) == 3

    exit_code, report, _ = render(three, "--yes", "-o", tmp_path / "out")
    assert exit_code == 0 and report["ok"] is True
    assert states(report) == {shot: "done" if shot == failed[0].shot else "cached"
                              for shot in ("a", "b", "c")}
    assert submissions(emu) == 4
    assert {e["state"] for e in report["episodes"]} == {"stitched", "up to date"}


def test_a_lost_submit_answer_is_reconciled_not_resubmitted(three: Path, emulator: Emulator,
                                                            tmp_path: Path) -> None:
    emu = emulator()
    emu.script("submit:lost")
    code, report, _ = render(three, "--yes", "-o", tmp_path / "out")
    assert code == 0, report
    assert set(states(report).values()) == {"done"}
    assert emu.stats()["faults"].get("submit:lost") == 1
    assert emu.stats()["requests"]["list"] >= 1, "no reconcile happened"
    paid_once_each(emu, three, 3)
    notes = " ".join(a.note or "" for a in read_status(three))
    assert "reconcile" in notes


# --- 11. SIGKILL mid-run -----------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("kill_point", ["first submit", "all submitted"])
def test_sigkill_then_rerun_pays_each_shot_once(tmp_path: Path, make_media: MakeMedia,
                                                emulator: Emulator, kill_point: str) -> None:
    series = write_series(tmp_path / "wire", make_media, FOUR_SHOTS, head=HEAD)
    emu = emulator(latency=2.0 if kill_point == "first submit" else 3.0)
    out = tmp_path / "out"
    child = subprocess.Popen(command(series, "--yes", "--quiet", "-o", str(out)),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if kill_point == "first submit":
            wait_until("a submission", lambda: submissions(emu) >= 1, child)
        else:
            wait_until("four submissions", lambda: submissions(emu) >= 4, child)
            assert tasks(emu, "SUCCEEDED") < 4, "too slow: every task finished before the kill"
    finally:
        kill(child)
    before = submissions(emu)
    assert before >= 1

    done = subprocess.run(command(series, "--yes", "--quiet", "-o", str(out)), env=child_env(),
                          capture_output=True, timeout=LOADED, check=False)
    no_key(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stdout == b""  # --quiet
    for episode in ("ep01", "ep02"):
        assert (out / f"{episode}.mp4").is_file()
    paid_once_each(emu, series, 4)
    rows = read_status(series)
    assert {a.shot for a in rows if a.state == "done"} == {"a", "b", "c", "d"}
    assert all(a.state in ("done", "lost") for a in rows), [(a.shot, a.state) for a in rows]
    secrets_stay_secret(series)


def interruptible(series: Path, *args: str) -> list[str]:
    """``command`` with SIGINT at its default disposition, set explicitly: a suite started in the
    background from a script inherits SIGINT as ignored, and Ctrl-C would then do nothing."""
    run = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
           "sys.argv[0] = 'storyboard'; runpy.run_module('storyboard', run_name='__main__')")
    return [sys.executable, "-c", run, *command(series, *args)[3:]]


@pytest.mark.skipif(os.name != "posix", reason="SIGINT and SIGTERM are POSIX")
@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_says_interrupted_and_a_rerun_resumes(
        three: Path, emulator: Emulator, tmp_path: Path, sent: signal.Signals,
        code: int) -> None:
    emu = emulator(latency=2.0)
    out = tmp_path / "out"
    child = subprocess.Popen(interruptible(three, "--yes", "-o", str(out)), env=child_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("a journaled task id", lambda: any(a.task_id for a in read_status(three)),
                   child)
        child.send_signal(sent)
        _, err = child.communicate(timeout=LOADED)
    finally:
        if child.poll() is None:
            kill(child)
    no_key(err)
    assert b"Traceback" not in err
    done = subprocess.run(command(three, "--yes", "--quiet", "-o", str(out)), env=child_env(),
                          capture_output=True, timeout=LOADED, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    paid_once_each(emu, three, 3)
    # "interrupted" and 128 + the signal (130 for Ctrl-C, 143 for SIGTERM), not 1 ("a run
    # failed"), and nothing left unfinished in the journal that the rerun did not settle.
    assert child.returncode == code, (child.returncode, err.decode(errors="replace")[-300:])
    assert b"interrupted: run the same command again to resume" in err
    assert all(a.state in ("done", "lost") for a in read_status(three))


# --- 12. status and cancel ---------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_status_shows_task_ids_and_cancel_cancels_pending_tasks(
        three: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator(latency=120.0, pending_share=0.9)
    child = subprocess.Popen(command(three, "--yes", "--quiet", "-o", str(tmp_path / "out")),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("three journaled task ids", lambda: len(
            [a for a in read_status(three, unfinished_only=True) if a.task_id]) == 3, child)
        # A second render of the same series while one runs is refused before it submits.
        second = invoke("render", three, "--provider", "dashscope", "--yes", "--quiet")
        assert second.exit_code == 1
        assert "another storyboard render is running" in second.stderr
        assert submissions(emu) == 3
    finally:
        kill(child)
    assert tasks(emu, "PENDING") == 3

    shown = invoke("status", three, "--json")
    assert shown.exit_code == 0
    rows = json.loads(shown.stdout)
    assert sorted(r["shot"] for r in rows) == ["a", "b", "c"]
    assert all(r["task_id"] and r["provider"] == "dashscope" for r in rows)
    assert {r["state"] for r in rows} <= {"submitted", "running"}
    table = invoke("status", three)
    assert table.exit_code == 0 and rows[0]["task_id"][:8] in table.stdout

    canceled = invoke("cancel", three)
    assert canceled.exit_code == 0
    assert canceled.stdout.count(": canceled") == 3, canceled.stdout
    assert tasks(emu, "CANCELED") == 3 and tasks(emu, "PENDING") == 0
    assert emu.stats()["requests"]["cancel"] == 3
    assert invoke("status", three, "--pending", "--json").stdout.strip() == "[]"
    latest = json.loads(invoke("status", three, "--json").stdout)
    assert sorted(r["state"] for r in latest) == ["canceled"] * 3
    assert invoke("cancel", three).stdout.strip() == "nothing to cancel"
    secrets_stay_secret(three, locked=False)


# --- 13. the key stays secret ------------------------------------------------------------------


def test_the_key_is_never_printed_or_stored_even_when_refused(three: Path,
                                                              emulator: Emulator,
                                                              tmp_path: Path) -> None:
    emu = emulator(api_key="sk-some-other-key")
    code, report, stderr = render(three, "--yes", "-o", tmp_path / "out")
    assert code == 1 and report["ok"] is False
    assert {s["state"] for s in report["shots"]} <= {"failed", "blocked", "skipped"}
    messages = " ".join(s["message"] for s in report["shots"]) + stderr
    assert "InvalidApiKey" in messages and "401" in messages
    assert submissions(emu) == 0
    secrets_stay_secret(three, locked=False)
    for text in (invoke("plan", three, "--json").stdout, invoke("status", three, "--all").stdout,
                 invoke("compile", three).stdout):
        no_key(text)


def test_a_missing_key_stops_the_run_before_anything_starts(three: Path, emulator: Emulator,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    emu = emulator()
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    code, report, stderr = render(three, "--yes", "-o", tmp_path / "out")
    assert code == 1 and report["exit_code"] == 1  # --json: the failure is JSON too
    assert "DASHSCOPE_API_KEY is not set" in report["error"]
    assert stderr.rstrip().splitlines()[-1].startswith("error: ")
    assert "DASHSCOPE_API_KEY is not set" in stderr and stderr.count("is not set") == 1
    assert emu.stats()["requests"]["policy"] == 0 and submissions(emu) == 0
    assert not (tmp_path / "out").exists()


def test_quiet_still_says_which_shot_failed(three: Path, emulator: Emulator,
                                           tmp_path: Path) -> None:
    emulator().script("task:failed")
    result = invoke("render", three, "--provider", "dashscope", "--yes", "--quiet",
                    "-o", tmp_path / "out")
    assert result.exit_code == 1
    failed = [a for a in read_status(three) if a.state == "failed"]
    assert len(failed) == 1
    shot, episode = failed[0].shot, failed[0].episode
    lines = result.stderr.strip().splitlines()  # no progress, no summary: only what failed
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"wire/{episode}/{shot}: failed InternalError")
    assert lines[1] == f"episode {episode}: skipped - shot(s) {shot} not rendered"
    assert result.stdout == ""
