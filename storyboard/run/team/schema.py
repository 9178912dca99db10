"""The task ledger's table, declared once, into each store's SQL (SQLite and PostgreSQL).

Both ledgers (``ledger.SqliteLedger`` per user, ``ledger_pg.PgLedger`` per team) keep the same
entries: the columns, their states and the lookups are declared here, and each store renders them
with its own table name, its own word for a float and, in PostgreSQL, the one open claim a shot
may have (a unique partial index: two machines never hold the same shot).
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("open", "done", "failed", "lost")
# (name, kind, constraint); a kind is rendered by the store's ``types``
TABLE = (("id", "text", "PRIMARY KEY"), ("provider", "text", "NOT NULL"),
         ("shot_hash", "text", "NOT NULL"), ("find_key", "text", "NOT NULL"),
         ("series", "text", "NOT NULL"), ("shot", "text", "NOT NULL"), ("task_id", "text", ""),
         ("state", "text", f"NOT NULL CHECK (state IN ({','.join(repr(s) for s in STATES)}))"),
         ("intent_at", "real", "NOT NULL"), ("updated_at", "real", "NOT NULL"),
         ("holder", "text", ""))
INDEXES = (("by_hash", ("provider", "shot_hash")), ("by_key", ("provider", "find_key", "state")),
           ("by_task", ("provider", "task_id")))
COLUMNS = ", ".join(name for name, _, _ in TABLE if name != "holder")  # what a row reads


@dataclass(frozen=True)
class Store:
    """How one store writes the declaration: its table, its types, whether claims are unique."""

    table: str
    types: dict[str, str]
    unique_claims: bool = False


SQLITE = Store("entries", {"text": "TEXT", "real": "REAL"})
POSTGRES = Store("storyboard_ledger", {"text": "TEXT", "real": "DOUBLE PRECISION"},
                 unique_claims=True)


def schema(store: Store) -> str:
    """The statements that create the ledger's table and indexes in ``store`` (if not there)."""
    columns = ",\n".join(f"    {name:<11} {store.types[kind]} {rule}".rstrip()
                         for name, kind, rule in TABLE)
    lines = [f"CREATE TABLE IF NOT EXISTS {store.table} (\n{columns}\n);"]
    if store.unique_claims:
        lines.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {store.table}_claim\n"
                     f"    ON {store.table} (provider, shot_hash) WHERE state = 'open';")
    lines += [f"CREATE INDEX IF NOT EXISTS {store.table}_{name} ON {store.table} "
              f"({', '.join(keys)});" for name, keys in INDEXES]
    return "\n".join(lines) + "\n"
