"""The task ledger's table declared once (``run/team/schema.py``), rendered for SQLite and for
PostgreSQL: both stores hold the same columns, states and lookups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storyboard.run.team.ledger import SqliteLedger
from storyboard.run.team.schema import INDEXES, POSTGRES, SQLITE, STATES, TABLE, schema

DECLARED = [name for name, _, _ in TABLE]


def test_sqlite_holds_the_declared_columns_and_lookups(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")
    ledger.close()
    db = sqlite3.connect(tmp_path / "ledger.sqlite")
    columns = db.execute("PRAGMA table_info(entries)").fetchall()
    assert [(c[1], c[2], bool(c[3]), bool(c[5])) for c in columns] == [
        (name, SQLITE.types[kind], "NOT NULL" in rule, rule == "PRIMARY KEY")
        for name, kind, rule in TABLE]
    indexes = {row[1] for row in db.execute("PRAGMA index_list(entries)")}
    assert {f"entries_{name}" for name, _ in INDEXES} <= indexes
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("INSERT INTO entries VALUES ('x','p','h','k','s','e',NULL,'gone',0,0,NULL)")


def test_postgresql_holds_the_same_columns_and_one_open_claim_a_shot(pg_url: str) -> None:
    import psycopg
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(schema(POSTGRES))
        rows = db.execute("SELECT column_name, data_type, is_nullable FROM "
                          "information_schema.columns WHERE table_name = 'storyboard_ledger' "
                          "ORDER BY ordinal_position").fetchall()
        assert [r[0] for r in rows] == DECLARED
        assert {r[0]: r[1] for r in rows}["intent_at"] == POSTGRES.types["real"].lower()
        row = "'p','h','k','s','e',NULL,'open',0,0,NULL"
        db.execute(f"INSERT INTO storyboard_ledger VALUES ('a',{row})")
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.execute(f"INSERT INTO storyboard_ledger VALUES ('b',{row})")
    assert "CHECK (state IN ('open','done','failed','lost'))" in schema(POSTGRES)
    assert STATES == ("open", "done", "failed", "lost")
