"""Workers started at once on a fresh team database each make sure of the queue's tables (the
engine's schema, applied once, and storyboard's own), one at a time: two concurrent ``CREATE
TABLE IF NOT EXISTS`` race in PostgreSQL's catalogue
(``UniqueViolation`` on ``pg_type_typname_nsp_index``), which killed the second of two workers
started together with a traceback (tests/run/test_workers.py saw it about one run in eight). The
queue now takes the schema's advisory lock, as the ledger's, the account's and the tasks' tables
do."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg

from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue

STARTS = 8  # workers starting at once
ROUNDS = 4  # fresh databases


def fresh(cluster_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"


def started_at_once(url: str) -> list[BaseException]:
    """``STARTS`` queues opened at once on the database at ``url``: what each raised."""
    ledgers = [PgLedger(LedgerSettings(url, "test")) for _ in range(STARTS)]
    gate, failures = threading.Barrier(STARTS), list[BaseException]()

    def start(ledger: PgLedger) -> None:
        gate.wait()
        try:
            PgQueue(ledger)
        except BaseException as error:  # the race's UniqueViolation, said by the test
            failures.append(error)
    threads = [threading.Thread(target=start, args=(ledger,)) for ledger in ledgers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for ledger in ledgers:
            ledger.close()
    return failures


def test_workers_started_at_once_each_find_the_queue_made_once(pg_cluster: Any) -> None:
    for _ in range(ROUNDS):
        url = fresh(pg_cluster.url)
        assert started_at_once(url) == []
        with psycopg.connect(url) as db:
            for table in ("procrastinate_jobs", "storyboard_queue_shots"):  # the engine's, ours
                assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
