"""The job engine as a dependency, on a real PostgreSQL: a team database whose engine tables an
earlier Procrastinate made is refused until ``storyboard queue upgrade`` has applied the engine's
own migration files; after it the schema is, object for object, the one the installed engine
makes, and a queued render is rendered on it, paid once.

An earlier release's database is made the way that release made it: Procrastinate's first schema
(``00.00.00_01_initial.sql``) and every migration file up to that release's. Made up to ``FLOOR``
(the schema of 3.4 to 3.10, the lowest storyboard allows), it is object for object what 3.10's
``schema.sql`` makes, the test checks; made up to 3.0's, the upgrade has seven files to apply."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storyboard.emulator import EmulatorServer
from storyboard.errors import StoryboardError
from storyboard.run.team import engine_pg
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue
from tests.fixtures.dashscope_cli import Emulator, submissions
from tests.fixtures.patience import LOADED
from tests.run.test_workers import queued, storyboard
from tests.run.test_workers_budget import SERIES, series
from tests.run.test_workers_leases import EngineWorker

THREE_0 = "03.00.00_50_post_cancel_notification.sql"  # Procrastinate 3.0's last migration file

# What makes two engine schemas the same: every table's columns, every function (its arguments,
# result and body), every enum's values in order, every index and every trigger.
CATALOGUE = {
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default "
               "FROM information_schema.columns WHERE table_schema = 'public' "
               "AND table_name LIKE 'procrastinate%' ORDER BY 1, 2",
    "functions": "SELECT p.proname, pg_get_function_identity_arguments(p.oid), "
                 "pg_get_function_result(p.oid), md5(p.prosrc) FROM pg_proc p JOIN pg_namespace "
                 "n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                 "AND p.proname LIKE 'procrastinate%' ORDER BY 1, 2",
    "enums": "SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) "
             "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY 1 ORDER BY 1",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
               "AND tablename LIKE 'procrastinate%' ORDER BY 1",
    "triggers": "SELECT tgname, tgrelid::regclass::text, tgfoid::regproc::text, tgtype "
                "FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
}


def fresh(cluster_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"


def made_at(url: str, last: str) -> None:
    """The engine's tables as the release whose last migration file is ``last`` made them."""
    with psycopg.connect(url, autocommit=True) as db:
        for path in engine_pg.migrations():
            if path.name > last:
                break
            db.execute(path.read_text(encoding="utf-8"))  # type: ignore[call-overload]


def catalogue(url: str) -> dict[str, list[Any]]:
    with psycopg.connect(url) as db:
        return {name: db.execute(sql).fetchall()  # type: ignore[call-overload]
                for name, sql in CATALOGUE.items()}


def made_now(cluster_url: str) -> dict[str, list[Any]]:
    """The engine's schema as a queue opened on an empty database makes it now."""
    url = fresh(cluster_url)
    session = PgLedger(LedgerSettings(url, "test"))
    try:
        PgQueue(session)
    finally:
        session.close()
    return catalogue(url)


def upgraded(where: Path, url: str) -> list[str]:
    """``storyboard queue upgrade --json``: the migration files it applied."""
    child = storyboard(where, "queue", "upgrade", "--ledger", url, "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0 and "Traceback" not in err, out + err
    answer = json.loads(out)
    assert answer["level"] == engine_pg.installed_level()
    applied: list[str] = answer["applied"]
    return applied


def rendered_on(tmp_path: Path, url: str, emu: EmulatorServer) -> None:
    """A render queued on the ledger at ``url`` and drained by a worker: both shots done, each
    submitted once."""
    clone = series(tmp_path, url, SERIES)
    child = storyboard(clone.parent, "queue", "render", clone.name, "--provider", "dashscope",
                       "--budget", "1", "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0, out + err
    worker = storyboard(clone.parent, "worker", "--ledger", url, "--drain", "--linger", "0.5")
    out, err = worker.communicate(timeout=LOADED * 2)
    assert worker.returncode == 0 and "Traceback" not in err, out + err
    assert {s.state for s in queued(url)} == {"done"} and submissions(emu) == 2


def after(level: str) -> list[str]:
    return [path.name for path in engine_pg.migrations() if path.name > level]


@pytest.mark.usefixtures("env")
def test_a_ledger_made_by_3_0_is_refused_then_upgraded_and_renders(
        tmp_path: Path, emulator: Emulator, pg_cluster: Any) -> None:
    emu: EmulatorServer = emulator()
    url = fresh(pg_cluster.url)
    made_at(url, THREE_0)
    with psycopg.connect(url) as db:
        engine_pg.record(db, THREE_0)  # as a storyboard on Procrastinate 3.0 would have
    session = PgLedger(LedgerSettings(url, "test"))
    try:
        with pytest.raises(StoryboardError, match="run `storyboard queue upgrade` once"):
            PgQueue(session)
    finally:
        session.close()
    worker = storyboard(tmp_path, "worker", "--ledger", url, "--drain")
    out, err = worker.communicate(timeout=LOADED)
    assert worker.returncode == 1 and "Traceback" not in err, out + err
    assert f"needs {engine_pg.installed_level()}" in err, err
    assert upgraded(tmp_path, url) == after(THREE_0) and len(after(THREE_0)) >= 7  # 3.1 to 3.4's files
    assert upgraded(tmp_path, url) == []  # done once
    assert catalogue(url) == made_now(pg_cluster.url)
    rendered_on(tmp_path, url, emu)


@pytest.mark.usefixtures("env")
def test_a_ledger_made_by_the_floor_works_after_the_upgrade_step(
        tmp_path: Path, emulator: Emulator, pg_cluster: Any) -> None:
    """Made at the floor's level before storyboard recorded the engine's level (as every team's
    database was): taken to be at ``FLOOR``, upgraded to the installed engine's, renders."""
    emu: EmulatorServer = emulator()
    url = fresh(pg_cluster.url)
    made_at(url, engine_pg.FLOOR)
    if not after(engine_pg.FLOOR):  # the lock's engine is the floor: its chain is its schema
        assert catalogue(url) == made_now(pg_cluster.url)
    assert upgraded(tmp_path, url) == after(engine_pg.FLOOR)
    with psycopg.connect(url) as db:
        row = db.execute("SELECT migration, engine FROM storyboard_engine").fetchone()
    assert row == (engine_pg.installed_level(), engine_pg.engine_version())
    assert catalogue(url) == made_now(pg_cluster.url)
    rendered_on(tmp_path, url, emu)


def test_the_upgrade_waits_for_every_worker_to_stop(tmp_path: Path, pg_url: str) -> None:
    session = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        PgQueue(session)
    finally:
        session.close()
    running = EngineWorker(pg_url)  # registered, beating
    try:
        child = storyboard(tmp_path, "queue", "upgrade", "--ledger", pg_url)
        out, err = child.communicate(timeout=LOADED)
    finally:
        running.close()
    assert child.returncode == 1 and "Traceback" not in err, out + err
    assert "1 `storyboard worker`(s) beat within the last 300 s: stop every worker" in err, err


def test_a_ledger_ahead_of_this_machines_engine_is_refused(pg_url: str) -> None:
    with psycopg.connect(pg_url) as db:
        db.execute(engine_pg.engine_schema())  # type: ignore[call-overload]
        engine_pg.record(db, "99.00.00_01_a_later_release.sql")
    session = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        with pytest.raises(StoryboardError, match="newer than this machine's Procrastinate"):
            PgQueue(session)
    finally:
        session.close()


def called(query: str) -> tuple[str, int]:
    """The function a ``SELECT f(a, b(), c)`` calls, and how many arguments it passes."""
    name, _, rest = query.removeprefix("SELECT").strip().partition("(")
    depth, count = 1, 1
    for char in rest:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            break
        count += char == "," and depth == 1
    return name, count


def test_the_sweeps_two_engine_calls_are_the_ones_the_engine_runs() -> None:
    """The sweep ends a silent worker's shot by calling two of the engine's SQL functions by name
    (its public calls take no connection, so they cannot join the sweep's transaction): they
    are still the functions, with as many arguments, that the installed engine's own
    ``JobManager.retry_job`` and ``finish_job`` run. An engine release that renames them fails
    here before the lock moves to it."""
    from procrastinate import sql

    from storyboard.run.workers.engine import FAIL, RETRY
    for ours, theirs in ((RETRY, "retry_job"), (FAIL, "finish_job")):
        assert called(ours) == called(sql.queries[theirs]), (ours, sql.queries[theirs])
    assert called(RETRY) == ("procrastinate_retry_job_v2", 5)
