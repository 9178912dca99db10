"""The claim, table-driven over both ledgers: SQLite (one machine) and a real PostgreSQL cluster.

Each case opens two "processes" (two ledger instances, each its own holder) on one ledger; a
holder that closes (or is SIGKILLed, for real, in the last test) is dead, and its open entry can
then be taken over, never before.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storyboard.errors import JournalError, LedgerAway, StoryboardError
from storyboard.run.team.ledger import LEDGER_NAME, Ledger, ShotClaimed, SqliteLedger
from storyboard.run.team.ledger_pg import (
    LEDGER_ENV,
    LedgerSettings,
    PgLedger,
    _unreachable,
    ledger_settings,
)
from tests.fixtures.pg_server import PgServer

Opener = Callable[[], Ledger]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    opened: list[Ledger] = []
    if request.param == "sqlite":
        def make() -> Ledger:
            return SqliteLedger(tmp_path / LEDGER_NAME)
    else:
        url: str = request.getfixturevalue("pg_url")

        def make() -> Ledger:
            return PgLedger(LedgerSettings(url, LEDGER_ENV))

    def tracked() -> Ledger:
        ledger = make()
        opened.append(ledger)
        return ledger
    yield tracked
    for ledger in opened:
        ledger.close()


def intend(ledger: Ledger, shot_hash: str = "h", provider: str = "p") -> str:
    return ledger.intend(provider, shot_hash, "k", series="/s", shot="e/a").id


def test_one_open_entry_per_shot_across_holders(opener: Opener) -> None:
    one, two = opener(), opener()
    first = intend(one)
    with pytest.raises(ShotClaimed) as claimed:
        intend(two)
    assert claimed.value.holder.id == first
    with pytest.raises(ShotClaimed):
        intend(one)  # the holder itself gets no second open entry either
    intend(two, "other")  # another shot, another provider: free
    intend(two, "h", "q")
    one.settle(first, "done")
    second = intend(two)
    assert [e.state for e in two.entries("p", "h")] == ["done", "open"]
    assert two.entries("p", "h")[1].id == second


@pytest.mark.parametrize(("holder_dies", "settled", "taken"), [
    (False, None, False),  # a living holder keeps its claim
    (True, None, True),  # a dead holder's claim is taken over
    (True, "done", False),  # a settled entry has nothing to take over
    (False, "failed", False),
])
def test_take_over_only_from_the_dead(opener: Opener, holder_dies: bool, settled: str | None,
                                      taken: bool) -> None:
    one, two = opener(), opener()
    entry = intend(one)
    one.record_task(entry, "t-1")
    if settled:
        one.settle(entry, settled)  # type: ignore[arg-type]
    if holder_dies:
        one.close()
    assert two.alive(entry) is (not holder_dies and settled is None)
    assert two.take_over(entry) is taken
    if taken:
        assert two.alive(entry)
        third = opener()
        assert third.alive(entry) and not third.take_over(entry)  # now held by `two`
        (read,) = third.entries("p", "h")
        assert read.open and read.task_id == "t-1"
        with pytest.raises(ShotClaimed):
            intend(third)
        two.settle(entry, "done")
        assert not third.alive(entry)
        intend(third)


def test_the_holder_sees_its_own_claim_alive(opener: Opener) -> None:
    one = opener()
    entry = intend(one)
    assert one.alive(entry) and one.take_over(entry)
    one.settle(entry, "lost")
    assert not one.alive(entry) and not one.take_over(entry)


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from storyboard.run.team.ledger import SqliteLedger
    from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
    kind, where = sys.argv[1], sys.argv[2]
    ledger = (SqliteLedger(Path(where)) if kind == "sqlite"
              else PgLedger(LedgerSettings(where, "test")))
    print(ledger.intend("p", "h", "k", series="/s", shot="e/a").id, flush=True)
    time.sleep(60)
""")


def test_a_sigkilled_holder_frees_its_claim(opener: Opener, tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    kind = request.node.callspec.params["opener"]
    where = (str(tmp_path / LEDGER_NAME) if kind == "sqlite"
             else request.getfixturevalue("pg_url"))
    child = subprocess.Popen([sys.executable, "-c", HOLD, kind, where], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None
    entry = child.stdout.readline().strip()
    other = opener()
    assert other.alive(entry) and not other.take_over(entry)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    for _ in range(100):  # the server notices the closed connection at once on loopback
        if other.take_over(entry):
            break
        import time
        time.sleep(0.05)
    assert other.alive(entry)
    assert [e.open for e in other.entries("p", "h")] == [True]


def test_settings_env_wins_and_only_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ledger_settings(None, {}) is None
    assert ledger_settings("postgresql://db/x", {}) == LedgerSettings("postgresql://db/x",
                                                                       "ledger")
    env = {LEDGER_ENV: "postgres://u:pw@db/y"}
    chosen = ledger_settings("postgresql://db/x", env)
    assert chosen is not None and chosen.origin == LEDGER_ENV and chosen.shown == "postgres://db/y"
    with pytest.raises(StoryboardError, match="postgresql://"):
        ledger_settings("mysql://u:secret@db/x", {})
    try:
        ledger_settings("mysql://u:secret@db/x", {})
    except StoryboardError as exc:
        assert "secret" not in str(exc)


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://team:hunter22@127.0.0.1:{port}/none?connect_timeout=2"
    with pytest.raises(JournalError) as failed:
        PgLedger(LedgerSettings(url, LEDGER_ENV))
    assert "hunter22" not in str(failed.value)
    assert f"127.0.0.1:{port}/none" in str(failed.value)


SERVER = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '


@pytest.mark.parametrize(("said", "away"), [
    (SERVER + "Connection refused", True),
    (SERVER + "server closed the connection unexpectedly", True),
    (SERVER + "FATAL:  the database system is starting up", True),
    # PostgreSQL 15 in crash recovery after an immediate stop: seen by a worker mid-restart, which
    # failed its shot for good before this was read as passing
    (SERVER + "FATAL:  the database system is not yet accepting connections", True),
    (SERVER + "FATAL:  the database system is not accepting connections", True),
    (SERVER + "FATAL:  the database system is shutting down", True),
    (SERVER + "FATAL:  the database system is in recovery mode", True),
    (SERVER + 'FATAL:  database "none" does not exist', False),
    (SERVER + 'FATAL:  password authentication failed for user "team"', False),
])
def test_a_server_starting_or_stopping_is_away_and_one_refusing_the_ask_is_not(
        said: str, away: bool) -> None:
    import psycopg
    assert _unreachable(psycopg.OperationalError(said)) is away


def test_a_ledger_on_a_server_not_taking_sessions_is_away_not_broken(
        own_pg_cluster: PgServer) -> None:
    """A standby that takes no session (``hot_standby = off``) answers with its own FATAL: the
    ledger is away (a worker gives its shot back), not broken (a shot failed for good)."""
    own_pg_cluster.halt()
    (own_pg_cluster.folder / "data" / "standby.signal").touch()
    own_pg_cluster.resume("-c hot_standby=off")
    with pytest.raises(LedgerAway, match="not accepting connections"):
        PgLedger(LedgerSettings(own_pg_cluster.url, LEDGER_ENV))


# --- the runner: two runs of the same shots at once, one ledger, no store ----------------------


def test_two_runs_at_once_pay_each_shot_once_without_a_store(
        opener: Opener, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """The second run finds every shot claimed, waits, then downloads the holder's own task
    (the same paid task) by its id; failures are not retried by the waiter."""
    import asyncio

    from storyboard.run import RunOptions, RunResult, Wiring, render
    from storyboard.targets import TaskStatus
    from tests.fixtures.run_fakes import FakeProvider, make_shot

    sample = make_media("video", tmp_path / "2s.mp4", seconds=2, width=64, height=48)
    provider = FakeProvider(tmp_path / "provider", {2: sample}, latency=0.4)
    provider.on("bad", outcome=TaskStatus.FAILED, code="InternalError", message="boom")
    shots = [make_shot(name) for name in ("a", "b", "c", "bad")]
    folders = [tmp_path / "one", tmp_path / "two"]

    async def both() -> list[RunResult]:
        runs = [render(shots, provider, RunOptions(submit_rate=1000.0, poll_schedule=(0.05,),
                                                   max_wait=30.0),
                       Wiring(series_dir=folder, ledger=opener()))
                for folder in folders]
        return list(await asyncio.gather(*runs))

    results = asyncio.run(both())
    assert provider.created() == {"a": 1, "b": 1, "c": 1, "bad": 1}
    for result in results:
        by_shot = {r.shot: r for r in result.shots}
        assert {k: r.state for k, r in by_shot.items()} == {
            "a": "done", "b": "done", "c": "done", "bad": "failed"}
    codes = sorted(r.code for result in results for r in result.shots if r.shot == "bad")
    assert codes == ["FailedElsewhere", "InternalError"]
    tasks = [{r.shot: r.task_id for r in result.shots} for result in results]
    assert tasks[0] == tasks[1]  # the waiter's videos are the holder's tasks


def test_a_claim_won_just_after_another_run_finished_is_given_back(
        opener: Opener, tmp_path: Path) -> None:
    """The race: the holder settles ``done`` between this run's last look and its claim. The
    claim succeeds (no open entry), and the journal gives it back, naming the finished one."""
    from storyboard.run import Journal
    from tests.fixtures.run_fakes import make_shot

    shot = make_shot("a")
    other, mine = opener(), opener()
    done = other.intend("fake", shot.hash, "k", series="/elsewhere", shot="ep01/a")
    other.record_task(done.id, "t-elsewhere")
    other.settle(done.id, "done")
    with Journal.open(tmp_path / "series", mine) as journal:
        with pytest.raises(ShotClaimed) as claimed:
            journal.begin(shot, "fake", "fake", estimate=0.2)
        assert claimed.value.holder.id == done.id
        assert journal.attempts() == []
        assert [e.state for e in mine.entries("fake", shot.hash)] == ["done", "lost"]
        # once this journal knows that task (it downloaded it), a new claim is its own business
        restored = journal.restore(shot, "fake", "fake", estimate=0.2)
        assert [a.task_id for a in restored] == ["t-elsewhere"]
        journal.set_state(restored[0].id, "done")
        assert journal.begin(shot, "fake", "fake", estimate=0.2).state == "intent"


def test_the_holder_lock_is_filelocks_as_the_render_lock_is(tmp_path: Path) -> None:
    """The SQLite ledger's holder file is locked through ``filelock`` (flock on POSIX, msvcrt on
    Windows), never left unlocked where ``fcntl`` is missing: held while the ledger is open, free
    and gone once it is closed."""
    import filelock
    ledger = SqliteLedger(tmp_path / LEDGER_NAME)
    held = tmp_path / "holders" / f"{ledger.holder}.lock"
    with pytest.raises(filelock.Timeout):
        filelock.FileLock(str(held), timeout=0).acquire()
    ledger.close()
    assert not held.exists()
    import storyboard.run.team.ledger as module
    assert not hasattr(module, "fcntl")  # one lock for every platform: filelock's
