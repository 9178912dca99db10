"""One account, many machines: three clones of a series render at once through the real command
line over one PostgreSQL ledger, against one DashScope emulator that allows 2 tasks in flight per
key (a 3rd concurrent submit is answered 429). The ledger's account leases keep the machines
together under the limit; the emulator's counters say what was paid and how many ran at once."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.errors import ProblemsFound
from storyboard.run.team.account_pg import busy, pick
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.trip.pace.gates import AccountSlots
from tests.fixtures import web
from tests.fixtures.team import EXAMPLE, KEY, clone, start


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.5, plain_results=True, retry_after=0.1,
                            max_in_flight=2).start()
    try:
        yield server
    finally:
        server.stop()


def finish(child: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = child.communicate(timeout=240)
    assert child.returncode == 0, err[-3000:]
    assert "Traceback" not in err and KEY not in out + err
    report: dict[str, Any] = json.loads(out)
    return report


def test_three_machines_never_pass_the_accounts_two_tasks_in_flight(
        tmp_path: Path, emulator: EmulatorServer, pg_url: str) -> None:
    clones = [clone(tmp_path, name) for name in ("alice", "bob", "carol")]
    store = tmp_path / "store"
    children = [start(series, emulator, store, pg_url) for series in clones]
    reports = [finish(child) for child in children]
    assert all(report["ok"] for report in reports)
    stats = emulator.stats()
    assert stats["in_flight"]["throttled"] == 0, stats["in_flight"]  # not one 429
    assert stats["in_flight"]["max"] == 2, stats["in_flight"]  # the limit, used, never passed
    lock = json.loads((clones[0] / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    hashes = {entry["hash"] for entry in lock.values()}
    assert len(hashes) >= 4
    paid = stats["submissions"]
    assert paid["duplicates"] == 0 and paid["total"] == len(hashes), paid


def test_the_free_leases_go_to_the_machine_holding_fewest_then_in_arrival_order() -> None:
    rows = [(1, "a", "held", "s1"), (2, "a", "held", "s2"), (3, "a", "waiting", "s3"),
            (4, "b", "waiting", "s4"), (5, "c", "waiting", "s5"), (6, "b", "waiting", "s6")]
    assert pick(rows, 4) == {4, 5}  # a holds 2 already: b and c first
    assert pick(rows, 5) == {4, 5, 6}  # b's second before a's third
    assert pick(rows, 6) == {3, 4, 5, 6}  # even shares: the oldest ticket first
    assert pick(rows, 2) == set()
    assert busy(rows) == set()


def test_one_lease_per_shot_and_the_others_waiting_for_it_are_busy() -> None:
    rows = [(1, "a", "held", "s1"), (2, "b", "waiting", "s1"), (3, "c", "waiting", "s2"),
            (4, "b", "waiting", "s2"), (5, "c", "waiting", "")]
    assert pick(rows, 4) == {3, 5}  # s1 renders at a; one lease for s2; "" is no shot
    assert busy(rows) == {2}


def test_a_dead_machines_leases_come_back(pg_url: str) -> None:
    import asyncio

    async def go() -> None:
        dead, alive = (PgLedger(LedgerSettings(pg_url, "test")) for _ in range(2))
        gone = AccountSlots(dead.board(), "acct wan", 1)
        await gone.acquire()  # holds the only lease, then its process dies
        dead.close()
        living = AccountSlots(alive.board(), "acct wan", 1)
        ticket = await asyncio.wait_for(living.acquire(), 10)
        waiting = asyncio.create_task(living.acquire())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # one lease: the second waits for the first
        living.release(ticket)
        await asyncio.wait_for(waiting, 10)
        await living.drain()
        alive.close()

    asyncio.run(go())


def test_the_emulator_answers_429_past_the_tasks_in_flight_of_a_key() -> None:

    from tests.fixtures.emulator import HEADERS, SUBMIT, make_body
    other = {**HEADERS, "Authorization": "Bearer sk-other-key"}
    with EmulatorServer(latency=600, max_in_flight=1, retry_after=0.5) as emu, \
            web.client(base_url=emu.base_url, timeout=10) as http:
        first = http.post(SUBMIT, json=make_body("one"), headers=HEADERS)
        refused = http.post(SUBMIT, json=make_body("two"), headers=HEADERS)
        elsewhere = http.post(SUBMIT, json=make_body("three"), headers=other)  # its own limit
        assert first.status_code == 200 and elsewhere.status_code == 200
        assert refused.status_code == 429 and refused.headers["retry-after"] == "0.5"
        assert refused.json()["code"] == "Throttling.RateQuota"
        task_id = first.json()["output"]["task_id"]
        assert http.post(f"/tasks/{task_id}/cancel", headers=HEADERS).status_code == 200
        again = http.post(SUBMIT, json=make_body("two"), headers=HEADERS)  # a slot came back
        assert again.status_code == 200, again.text
        counts = emu.stats()["in_flight"]
    assert counts["max"] == 1 and counts["throttled"] == 1
    assert sorted(counts["peak"].values()) == [1, 1]
    assert "sk-test" not in str(counts) and "sk-other-key" not in str(counts)


def test_account_limits_are_read_from_the_provider_block_and_reach_the_runner() -> None:
    from storyboard.providers.account_limits import AccountLimits
    from storyboard.providers.dashscope.provider import DashScopeProvider
    from storyboard.providers.dashscope.settings import DashScopeSettings
    from storyboard.run.setup import run_options
    settings = DashScopeSettings.from_mapping(
        {"name": "dashscope", "account_limits": {"in_flight": 3, "submit_rate": 1.5,
                                                 "models": {"wan3.0-video": {"in_flight": 1}}}})
    assert settings.account_limits == AccountLimits(3, 1.5, 20.0, (("wan3.0-video", 1),))
    assert DashScopeSettings().account_limits == AccountLimits(None, None, 20.0)
    import storyboard
    manifest = storyboard.compile(EXAMPLE)
    options = run_options(manifest, None, DashScopeProvider(settings))
    assert (options.account_in_flight, options.account_submit_rate,
            options.account_query_rate) == (3, 1.5, 20.0)
    assert options.account_in_flight_models == (("wan3.0-video", 1),)


def test_a_gateway_block_takes_account_limits_too() -> None:
    from storyboard.dialects import DIALECTS
    from storyboard.providers.account_limits import AccountLimits
    from storyboard.providers.gateway.settings import GatewaySettings
    dialect = DIALECTS["freepik"]
    block = {"name": "freepik", "account_limits": {"in_flight": 2}}
    assert GatewaySettings.from_mapping(dialect, block, {}).account_limits == AccountLimits(2)
    with pytest.raises(ProblemsFound):
        GatewaySettings.from_mapping(dialect, {"account_limits": {"in_flight": -2}}, {})


@pytest.mark.parametrize("limits", [
    {"in_flight": 0}, {"in_flight": 2.5}, {"in_flight": True}, {"submit_rate": float("nan")},
    {"submit_rate": float("inf")}, {"query_rate": -1}, {"query_rate": "fast"}, {"burst": 3},
    "4", {"models": {"wan3.0-video": 2}}, {"models": {"wan3.0-video": {"in_flight": 0}}},
    {"models": ["wan3.0-video"]}])
def test_account_limits_fail_closed(limits: object) -> None:
    from storyboard.providers.dashscope.settings import DashScopeSettings
    with pytest.raises(ProblemsFound) as found:
        DashScopeSettings.from_mapping({"name": "dashscope", "account_limits": limits})
    assert "provider.account_limits" in found.value.format()


def test_two_machines_share_the_accounts_submit_rate(pg_url: str) -> None:
    import asyncio
    import time

    from storyboard.run.trip.pace.gates import SharedBucket, TokenBucket

    async def go() -> float:
        ledgers = [PgLedger(LedgerSettings(pg_url, "test")) for _ in range(2)]
        buckets = [SharedBucket(TokenBucket(1000.0, 1000, time.monotonic, asyncio.sleep),
                                ledger.board(), "acct", "submit", 10.0) for ledger in ledgers]
        started = time.monotonic()
        await asyncio.gather(*(bucket.take() for bucket in buckets for _ in range(15)))
        elapsed = time.monotonic() - started
        for ledger in ledgers:
            ledger.close()
        return elapsed

    # 30 submits at 10/s with a burst of 10: the 20 past the burst take 2 s, whoever sends them
    # (each machine alone, at its own 1000/s, would take none).
    assert 1.8 <= asyncio.run(go()) < 6


def test_a_waiter_hears_a_ledger_failure_instead_of_hanging(pg_url: str) -> None:
    import asyncio

    from storyboard.errors import JournalError

    async def go() -> None:
        ledger = PgLedger(LedgerSettings(pg_url, "test"))
        slots = AccountSlots(ledger.board(), "acct wan", 1)
        await slots.acquire()
        waiting = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0.2)
        ledger.close()  # the database goes away under a waiting submit
        with pytest.raises(JournalError, match="team ledger"):
            await asyncio.wait_for(waiting, 10)
        await slots.drain()

    asyncio.run(go())


@pytest.mark.parametrize("options", [
    {"account_submit_rate": float("nan")}, {"account_query_rate": float("inf")},
    {"account_query_rate": 0.0}, {"account_in_flight": 0},
    {"account_in_flight_models": (("wan2.7-r2v", -1),)}])
def test_the_python_api_refuses_account_limits_no_comparison_holds_for(
        options: dict[str, Any]) -> None:
    from storyboard.errors import StoryboardError
    from storyboard.run.trip.model import RunOptions
    from storyboard.run.trip.pace.pacing import check_account_limits
    with pytest.raises(StoryboardError, match="account_"):
        check_account_limits(RunOptions(**options))
    check_account_limits(RunOptions())  # the defaults hold
