"""A provider account's limits into shared leases and rates in the team ledger (PostgreSQL).

A provider limits tasks in flight and requests per second per account, not per machine. With a
team ledger every machine takes a lease here before a submit and gives it back when the task
ends, so N machines together never pass the account's limits:

- ``storyboard_account_slots``: one row per lease or waiting ticket (``BIGSERIAL``: arrival
  order), per account (the task key's fingerprint and the model; never a key). ``grant`` runs under
  a transaction-level advisory lock on the account: it counts the held leases and gives the free
  ones to the waiters of the machine holding the fewest, oldest ticket first, so no machine
  starves and the shares stay even.
- A lease's liveness is its holder's session advisory lock, as a claim's is (``ledger_pg``): a
  machine that dies drops its connection, its lock with it, and the next ``grant`` removes its
  rows. No timer of ours decides that a machine is gone.
- ``storyboard_account_rates``: a token bucket per account and kind (``submit``, ``query``) on
  the server's clock (machines' clocks may differ).

Money: a lease is taken BEFORE the submit's intent is journaled and released only once the task
has ended (or the submit was never sent), so a lease never decides whether a paid task exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from storyboard.run.team.pg import SCHEMA_LOCK, Session, advisory_key

if TYPE_CHECKING:
    import psycopg


SCHEMA = """
CREATE TABLE IF NOT EXISTS storyboard_account_slots (
    ticket      BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL,
    holder      TEXT NOT NULL,
    holder_key  BIGINT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('waiting','held')),
    queued_at   DOUBLE PRECISION NOT NULL,
    what        TEXT NOT NULL DEFAULT ''
);
ALTER TABLE storyboard_account_slots ADD COLUMN IF NOT EXISTS what TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS storyboard_account_slots_by_account
    ON storyboard_account_slots (account, ticket);
CREATE TABLE IF NOT EXISTS storyboard_account_rates (
    account     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    tokens      DOUBLE PRECISION NOT NULL,
    stamp       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account, kind)
);
"""
NOW = "extract(epoch from clock_timestamp())"


Row = tuple[int, str, str, str]  # ticket, holder, state, what (a shot hash, or "")


def busy(rows: Sequence[Row]) -> set[int]:
    """Waiting tickets for a shot that another lease renders now: they wait for nothing."""
    rendering = {what for _, _, state, what in rows if state == "held" and what}
    return {ticket for ticket, _, state, what in rows if state == "waiting" and what in rendering}


def pick(rows: Sequence[Row], limit: int) -> set[int]:
    """The waiting tickets that get the free leases, rows in arrival order: each free lease goes
    to the machine holding the fewest, its oldest ticket first; one lease per shot at a time."""
    held = Counter(holder for _, holder, state, _ in rows if state == "held")
    taken = {what for _, _, state, what in rows if state == "held" and what}
    queue = [(ticket, holder, what) for ticket, holder, state, what in rows
             if state == "waiting" and what not in taken]
    chosen: set[int] = set()
    for _ in range(max(0, limit - sum(held.values()))):
        if not queue:
            break
        ticket, holder, what = min(queue, key=lambda row: (held[row[1]], row[0]))
        queue = [row for row in queue if row[0] != ticket and (not what or row[2] != what)]
        held[holder] += 1
        chosen.add(ticket)
    return chosen


class PgBoard:
    """The ``pacing.Board`` of a ``PgLedger``: its connection, its holder id."""

    def __init__(self, ledger: Session) -> None:
        self.ledger = ledger
        self.holder = ledger.holder
        self.holder_key = advisory_key("holder:" + ledger.holder)
        ledger.transact(self._setup)

    def _setup(self, db: psycopg.Connection[tuple[Any, ...]]) -> None:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))  # one creator at a time
        db.execute(SCHEMA)
        db.execute("SELECT pg_advisory_lock(%s)", (self.holder_key,))  # held while we live

    def enqueue(self, account: str, *, held: bool = False, what: str = "") -> int:
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> int:
            row = db.execute(
                "INSERT INTO storyboard_account_slots (account, holder, holder_key, state, "
                f"queued_at, what) VALUES (%s, %s, %s, %s, {NOW}, %s) RETURNING ticket",
                (account, self.holder, self.holder_key, "held" if held else "waiting",
                 what)).fetchone()
            assert row is not None
            return int(row[0])
        return self.ledger.transact(work)

    def grant(self, account: str, limit: int, tickets: Sequence[int]
              ) -> tuple[set[int], set[int]]:
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> tuple[set[int], set[int]]:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("account:" + account),))
            self._drop_dead(db, account)
            found = db.execute("SELECT ticket, holder, state, what FROM storyboard_account_slots "
                               "WHERE account = %s ORDER BY ticket", (account,)).fetchall()
            rows = [(int(t), str(h), str(s), str(w)) for t, h, s, w in found]
            mine = set(tickets) & pick(rows, limit)
            if mine:
                db.execute("UPDATE storyboard_account_slots SET state = 'held' "
                           "WHERE ticket = ANY(%s)", (sorted(mine),))
            return mine, set(tickets) & busy(rows)
        return self.ledger.transact(work)

    def _drop_dead(self, db: psycopg.Connection[tuple[Any, ...]], account: str) -> None:
        """Remove the rows of holders whose session lock is free: their process is gone."""
        others = db.execute("SELECT DISTINCT holder_key FROM storyboard_account_slots WHERE "
                            "account = %s AND holder <> %s", (account, self.holder)).fetchall()
        for (key,) in others:
            free = db.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,)).fetchone()
            if free is not None and free[0]:
                db.execute("DELETE FROM storyboard_account_slots WHERE holder_key = %s", (key,))

    def release(self, ticket: int) -> None:
        self.ledger.transact(lambda db: db.execute(
            "DELETE FROM storyboard_account_slots WHERE ticket = %s AND holder = %s",
            (ticket, self.holder)))

    def take_token(self, account: str, kind: str, rate: float, burst: int) -> float:
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> float:
            db.execute("INSERT INTO storyboard_account_rates (account, kind, tokens, stamp) "
                       f"VALUES (%s, %s, %s, {NOW}) ON CONFLICT DO NOTHING",
                       (account, kind, float(burst)))
            row = db.execute(f"SELECT tokens, stamp, {NOW} FROM storyboard_account_rates "
                             "WHERE account = %s AND kind = %s FOR UPDATE",
                             (account, kind)).fetchone()
            assert row is not None
            tokens = min(float(burst), float(row[0]) + max(0.0, float(row[2]) - float(row[1]))
                         * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            db.execute("UPDATE storyboard_account_rates SET tokens = %s, stamp = %s "
                       "WHERE account = %s AND kind = %s",
                       (tokens - 1 if wait == 0 else tokens, float(row[2]), account, kind))
            return wait
        return self.ledger.transact(work)
