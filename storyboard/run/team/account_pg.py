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
  waiting tickets. No timer of ours decides that a machine is gone.
- A slot is the provider's task, not the process: a dead machine's *held* lease stays while the
  ledger has an open claim on its shot (its task may still run at the provider), up to
  ``KEPT_AFTER_DEATH``. The machine that takes that claim over and resumes the task adopts the
  lease (``enqueue(held=True)`` for the same shot) and gives it back when the task has ended; a
  claim settled by anyone frees it at the next ``grant``.
- A live machine's ticket removed while its session was away (the database restarted) is put
  back, under its own number, by its next ``grant``.
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
# How long a dead machine's held lease is kept at most while its shot's claim stays open: the
# longest a task runs (minutes; 17 min seen on DashScope) and the runner waits (``max_wait``).
KEPT_AFTER_DEATH = 1800.0


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
        self.mine: dict[int, tuple[str, str]] = {}  # ticket -> (account, what): ours, live
        self.held: set[int] = set()  # which of them hold a lease
        ledger.transact(self._setup)

    def _setup(self, db: psycopg.Connection[tuple[Any, ...]]) -> None:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))  # one creator at a time
        db.execute(SCHEMA)
        db.execute("SELECT pg_advisory_lock(%s)", (self.holder_key,))  # held while we live

    def enqueue(self, account: str, *, held: bool = False, what: str = "") -> int:
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> int:
            if held and what:  # a resumed task: the lease a dead machine kept for it, if any
                db.execute("SELECT pg_advisory_xact_lock(%s)",
                           (advisory_key("account:" + account),))
                adopted = self._adopt(db, account, what)
                if adopted is not None:
                    return adopted
            row = db.execute(
                "INSERT INTO storyboard_account_slots (account, holder, holder_key, state, "
                f"queued_at, what) VALUES (%s, %s, %s, %s, {NOW}, %s) RETURNING ticket",
                (account, self.holder, self.holder_key, "held" if held else "waiting",
                 what)).fetchone()
            assert row is not None
            return int(row[0])
        ticket = self.ledger.transact(work)
        self.mine[ticket] = (account, what)
        if held:
            self.held.add(ticket)
        return ticket

    def _adopt(self, db: psycopg.Connection[tuple[Any, ...]], account: str, what: str
               ) -> int | None:
        """A held lease of a dead machine for the shot ``what``, made ours (its task is)."""
        rows = db.execute("SELECT ticket, holder_key FROM storyboard_account_slots WHERE "
                          "account = %s AND what = %s AND state = 'held' AND holder <> %s "
                          "ORDER BY ticket", (account, what, self.holder)).fetchall()
        for ticket, key in rows:
            if _free(db, int(key)):
                db.execute("UPDATE storyboard_account_slots SET holder = %s, holder_key = %s "
                           "WHERE ticket = %s", (self.holder, self.holder_key, ticket))
                return int(ticket)
        return None

    def grant(self, account: str, limit: int, tickets: Sequence[int]
              ) -> tuple[set[int], set[int]]:
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> tuple[set[int], set[int]]:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("account:" + account),))
            self._drop_dead(db, account)
            self._put_back(db, account)
            found = db.execute("SELECT ticket, holder, state, what FROM storyboard_account_slots "
                               "WHERE account = %s ORDER BY ticket", (account,)).fetchall()
            rows = [(int(t), str(h), str(s), str(w)) for t, h, s, w in found]
            mine = set(tickets) & pick(rows, limit)
            if mine:
                db.execute("UPDATE storyboard_account_slots SET state = 'held' "
                           "WHERE ticket = ANY(%s)", (sorted(mine),))
            return mine, set(tickets) & busy(rows)
        granted, waiting = self.ledger.transact(work)
        self.held |= granted
        return granted, waiting

    def _drop_dead(self, db: psycopg.Connection[tuple[Any, ...]], account: str) -> None:
        """Remove the rows of holders whose session lock is free (their process is gone): every
        waiting ticket, and each held lease whose task cannot be running any more (no open claim
        on its shot in the ledger, or held past ``KEPT_AFTER_DEATH``)."""
        others = db.execute("SELECT DISTINCT holder_key FROM storyboard_account_slots WHERE "
                            "account = %s AND holder <> %s", (account, self.holder)).fetchall()
        for (key,) in others:
            if _free(db, int(key)):
                db.execute(
                    "DELETE FROM storyboard_account_slots s WHERE holder_key = %s AND ("
                    "state = 'waiting' OR s.what = '' OR queued_at < " + NOW + " - %s OR NOT "
                    "EXISTS (SELECT 1 FROM storyboard_ledger l WHERE l.shot_hash = s.what AND "
                    "l.state = 'open'))", (key, KEPT_AFTER_DEATH))

    def _put_back(self, db: psycopg.Connection[tuple[Any, ...]], account: str) -> None:
        """This machine's tickets and leases that another removed while our session was away
        (the database restarted), back under their own numbers: their place in the queue."""
        ours = {t: what for t, (where, what) in list(self.mine.items()) if where == account}
        found = {int(t) for (t,) in db.execute(
            "SELECT ticket FROM storyboard_account_slots WHERE ticket = ANY(%s)",
            (sorted(ours),)).fetchall()}
        for ticket in sorted(set(ours) - found):
            state = "held" if ticket in self.held else "waiting"
            db.execute("INSERT INTO storyboard_account_slots (ticket, account, holder, "
                       f"holder_key, state, queued_at, what) VALUES (%s, %s, %s, %s, %s, "
                       f"{NOW}, %s) ON CONFLICT DO NOTHING",
                       (ticket, account, self.holder, self.holder_key, state, ours[ticket]))

    def lapsed(self, account: str) -> list[tuple[int, str]]:
        """Held leases of dead machines whose task id the ledger knows: (ticket, task id)."""
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[int, str]]:
            rows = db.execute(
                "SELECT s.ticket, s.holder_key, l.task_id FROM storyboard_account_slots s "
                "JOIN storyboard_ledger l ON l.shot_hash = s.what AND l.state = 'open' "
                "AND l.task_id IS NOT NULL WHERE s.account = %s AND s.state = 'held' "
                "AND s.holder <> %s ORDER BY s.ticket", (account, self.holder)).fetchall()
            return [(int(ticket), str(task)) for ticket, key, task in rows
                    if _free(db, int(key))]
        return self.ledger.transact(work)

    def drop(self, ticket: int) -> None:
        """A dead machine's lease whose task has ended: free (a living holder's is kept)."""
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> None:
            row = db.execute("SELECT holder_key FROM storyboard_account_slots WHERE ticket = %s "
                             "AND holder <> %s", (ticket, self.holder)).fetchone()
            if row is not None and _free(db, int(row[0])):
                db.execute("DELETE FROM storyboard_account_slots WHERE ticket = %s", (ticket,))
        self.ledger.transact(work)

    def release(self, ticket: int) -> None:
        self.mine.pop(ticket, None)
        self.held.discard(ticket)
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


def _free(db: psycopg.Connection[tuple[Any, ...]], holder_key: int) -> bool:
    """Whether a holder's session lock is free (its process is gone), for this transaction."""
    row = db.execute("SELECT pg_try_advisory_xact_lock(%s)", (holder_key,)).fetchone()
    return row is not None and bool(row[0])
