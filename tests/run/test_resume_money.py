"""What a new user sees about money (issue 23): plan, budget and summary after a crash, status of
the series as it is now, and a matrix plan whose columns add up.

A dashscope render through the emulator is killed after two submits; ``plan`` then shows those two
shots in flight at no cost, and a resume with a budget just above the two new shots finishes all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import storyboard
from storyboard.providers.base import task_key
from storyboard.run import read_status
from storyboard.run.setup import make_provider
from storyboard.run.team.ledger_pg import PgLedger, ledger_settings
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import (
    FOUR_SHOTS,
    HEAD,
    THREE_SHOTS,
    Emulator,
    MakeMedia,
    child_env,
    command,
    invoke,
    kill,
    paid_once_each,
    render,
    states,
    submissions,
    wait_until,
)

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
              pytest.mark.usefixtures("env")]  # the key in the environment


def killed_after_two_submits(series: Path, out: Path) -> None:
    child = subprocess.Popen(command(series, "--yes", "--quiet", "--set", "concurrency=2",
                                     "-o", str(out)),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("two journaled task ids", lambda: len(
            [a for a in read_status(series) if a.task_id]) >= 2, child)
    finally:
        kill(child)


def test_plan_after_a_crash_shows_paid_tasks_in_flight_and_the_budget_counts_only_new(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    series = write_series(tmp_path / "wire", make_media, FOUR_SHOTS, head=HEAD)
    emu = emulator(latency=4.0)
    out = tmp_path / "out"
    killed_after_two_submits(series, out)
    assert submissions(emu) == 2

    planned = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    flying = [s for s in planned["shots"] if s["status"] == "in flight"]
    new = [s for s in planned["shots"] if s["status"] == "new"]
    assert len(flying) == 2 and len(new) == 2, planned["shots"]
    assert all(s["cost"] == 0 and s["task_id"] for s in flying)
    assert planned["total_cost"] == pytest.approx(sum(s["cost"] for s in new))
    assert planned["counts"]["in flight"] == 2
    table = invoke("plan", series, "--provider", "dashscope").stdout
    assert f"in flight: task {flying[0]['task_id']}, paid, will be resumed" in table

    budget = planned["total_cost"] + 0.01
    done = invoke("render", series, "--provider", "dashscope", "--budget", f"{budget:.4f}",
                  "-o", out)
    assert done.exit_code == 0, done.stderr
    paid_once_each(emu, series, 4)
    money = f"{planned['total_cost']:.2f} USD on 2 new task(s); resumed 2 task(s)"
    assert money in done.stderr, done.stderr


def test_status_shows_the_series_as_it_is_now_and_older_attempts_under_all(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    series = write_series(tmp_path / "wire", make_media, THREE_SHOTS, head=HEAD)
    emulator()
    out = tmp_path / "out"
    assert render(series, "--yes", "-o", out)[0] == 0
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace('"@sam plays @guitar"}',
                                             '"@sam plays @guitar", seed: 7}'))
    code, report, _ = render(series, "--budget", "0", "-o", out)
    assert code == 1 and states(report)["b"] == "skipped"

    rows = json.loads(invoke("status", series, "--json").stdout)
    assert sorted(r["shot"] for r in rows) == ["a", "c"]
    assert all(r["current"] for r in rows)
    table = invoke("status", series).stdout
    assert not any(line.startswith("│ ep01/b ") for line in table.splitlines()), table
    assert "ep01/b: changed since its last attempt, not rendered yet" in table
    every = json.loads(invoke("status", series, "--all", "--json").stdout)
    assert [(r["shot"], r["current"]) for r in every if r["shot"] == "b"] == [("b", False)]
    shown = invoke("status", series, "--all").stdout
    assert "done (older version)" in shown


def test_the_ad_plans_adds_column_sums_to_the_total(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    ad = tmp_path / "ad"
    shutil.copytree(Path(__file__).parents[2] / "examples" / "ad", ad)
    planned = json.loads(invoke("plan", ad, "--provider", "dashscope", "--json").stdout)
    rows = planned["variations"]
    assert sum(v["adds_cost"] for v in rows) == pytest.approx(planned["total_cost"])
    assert planned["total_cost"] > sum(v["own_cost"] for v in rows)  # shared shots counted once
    assert any(v["adds_cost"] != v["alone_cost"] for v in rows)
    assert rows[0]["adds_cost"] == pytest.approx(rows[0]["alone_cost"])  # the first adds it all
    table = invoke("plan", ad, "--provider", "dashscope").stdout
    total = f"{planned['total_cost']:.2f} USD"
    assert any(line.startswith("│ total ") and total in line for line in table.splitlines())


def team_ledger(url: str) -> PgLedger:
    settings = ledger_settings(None, {"STORYBOARD_LEDGER": url})
    assert settings is not None
    return PgLedger(settings)


def test_plan_shows_a_teammates_claim_and_cancel_settles_the_team_ledger(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("STORYBOARD_LEDGER", pg_url)
    series = write_series(tmp_path / "wire", make_media, THREE_SHOTS, head=HEAD)
    emu = emulator(latency=120.0, pending_share=0.9)
    before = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    first = before["shots"][0]
    provider = task_key(make_provider(storyboard.compile(series), "dashscope"))  # whose tasks
    teammate = team_ledger(pg_url)  # another machine, rendering shot a right now
    try:
        claim = teammate.intend(provider, first["hash"], "elsewhere", series="/elsewhere/wire",
                                shot="ep01/a")
        teammate.record_task(claim.id, "task-of-a-teammate")
        planned = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
        shown = planned["shots"][0]
        assert (shown["status"], shown["cost"]) == ("claimed", 0), shown
        assert planned["total_cost"] == pytest.approx(before["total_cost"] - first["cost"])
        table = invoke("plan", series, "--provider", "dashscope").stdout
        assert "claimed by another machine" in table
        teammate.settle(claim.id, "lost")
    finally:
        teammate.close()

    child = subprocess.Popen(command(series, "--yes", "--quiet", "-o", str(tmp_path / "out")),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("three journaled task ids", lambda: len(
            [a for a in read_status(series, unfinished_only=True) if a.task_id]) == 3, child)
    finally:
        kill(child)
    canceled = invoke("cancel", series, "--provider", "dashscope")
    assert canceled.stdout.count(": canceled") == 3, canceled.stdout
    assert submissions(emu) == 3
    ledger = team_ledger(pg_url)
    try:
        entries = [e for s in before["shots"] for e in ledger.entries(provider, s["hash"])]
    finally:
        ledger.close()
    assert not any(e.open for e in entries), entries  # no machine resumes a canceled task
    assert sorted(e.state for e in entries) == ["failed"] * 3 + ["lost"]  # + the teammate's
