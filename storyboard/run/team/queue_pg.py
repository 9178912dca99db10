"""Queued renders into rows of the team's PostgreSQL queue: what ``render --queue`` leaves for workers.

One table, ``storyboard_queue``, one row per queued shot (take), with its render's id, series
path, provider, tags and budget (the price agreed at queueing). A worker *claims* rows with
``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers never take one row, and neither waits for the
other), at most its free slots at a time, only rows of the providers it serves and whose tags it
has; a claim is a *lease*: ``lease_until`` on the database server's clock, pushed on by the
worker's heartbeat. A worker that dies stops beating; once its lease has passed, the row is
claimable again, and the next worker renders it through the runner, whose own ledger claims
(``ledger_pg``) resume the dead worker's task by its id instead of paying for it again.

The queue decides only *who works on what*; whether a task is paid for stays the journal's and
the ledger's business, so a lease that lapses too early costs a wait, never a second payment.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from storyboard.run.team.pg import SCHEMA_LOCK

if TYPE_CHECKING:
    from storyboard.run.team.pg import Session

QueueState = Literal["queued", "claimed", "done", "failed"]
NOW = "extract(epoch from clock_timestamp())"  # the database server's clock: one for every worker

SCHEMA = """
CREATE TABLE IF NOT EXISTS storyboard_queue (
    id          TEXT PRIMARY KEY,
    render_id   TEXT NOT NULL,
    series      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    shot        TEXT NOT NULL,
    shot_hash   TEXT NOT NULL,
    tags        TEXT[] NOT NULL DEFAULT '{}',
    budget      DOUBLE PRECISION NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued','claimed','done','failed')),
    holder      TEXT,
    lease_until DOUBLE PRECISION,
    tries       INTEGER NOT NULL DEFAULT 0,
    cost        DOUBLE PRECISION NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT '',
    queued_by   TEXT NOT NULL,
    queued_at   DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL,
    after       TEXT NOT NULL DEFAULT '',
    counted     DOUBLE PRECISION NOT NULL DEFAULT 0,
    UNIQUE (render_id, shot)
);
ALTER TABLE storyboard_queue ADD COLUMN IF NOT EXISTS counted DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS storyboard_queue_open ON storyboard_queue (state, queued_at);
"""
FIELDS = ("id, render_id, series, provider, shot, shot_hash, tags, budget, state, holder, "
          "lease_until, tries, cost, message, queued_by, queued_at, after")


@dataclass(frozen=True)
class QueuedShot:
    """One shot (take) of a queued render, as the queue holds it."""

    id: str
    render_id: str
    series: str  # the series folder, relative to the folder it was queued from (or absolute)
    provider: str  # the provider's name (``comfyui``), as ``--provider`` takes it
    shot: str  # ``episode/shot`` (``#k`` for a take): what ``render --shot`` names
    shot_hash: str
    tags: tuple[str, ...]
    budget: float  # what the person who queued agreed to pay for the whole render
    state: QueueState
    holder: str | None
    lease_until: float | None
    tries: int
    cost: float
    message: str
    queued_by: str
    queued_at: float
    after: str  # the queued shot whose last frame it starts from: taken once that one ended


@dataclass(frozen=True)
class NewShot:
    """A shot to queue: its ``render --shot`` name, hash and tags."""

    shot: str
    shot_hash: str
    tags: tuple[str, ...] = ()
    after: str = ""  # ``episode/shot`` of a queued shot it starts from (its last frame)


def _row(row: Sequence[Any]) -> QueuedShot:
    values = list(row)
    values[6] = tuple(values[6] or ())
    return QueuedShot(*values)


class PgQueue:
    """The queue on a session of the team's database (a ``PgLedger``: one connection)."""

    def __init__(self, session: Session) -> None:
        self.session = session

        def create(db: Any) -> None:  # two workers started at once: one creator at a time
            db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            db.execute(SCHEMA)
        session.transact(create)

    def enqueue(self, series: str, provider: str, shots: Sequence[NewShot], *, budget: float,
                queued_by: str) -> str:
        """A new queued render of ``shots``; its id."""
        render_id = uuid.uuid4().hex[:12]
        now = time.time()
        rows = [(uuid.uuid4().hex, render_id, series, provider, s.shot, s.shot_hash,
                 list(s.tags), budget, queued_by, now + i * 1e-6, now, s.after)
                for i, s in enumerate(shots)]

        def work(db: Any) -> None:
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO storyboard_queue (id, render_id, series, provider, shot, "
                    "shot_hash, tags, budget, state, queued_by, queued_at, updated_at, after) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,'queued',%s,%s,%s,%s)", rows)
        self.session.transact(work)
        return render_id

    def claim(self, holder: str, count: int, *, lease: float, providers: Sequence[str] = (),
              tags: Sequence[str] = (), refused: Sequence[str] = ()) -> list[QueuedShot]:
        """At most ``count`` queued shots (or shots whose lease lapsed) for ``holder``, oldest
        first: only those of ``providers`` (all when empty) whose tags are among ``tags``;
        never one of ``refused``, nor one whose first frame (``after``) has not ended yet. Rows
        other workers are claiming right now are skipped."""
        if count <= 0:
            return []
        sql = (f"UPDATE storyboard_queue SET state = 'claimed', holder = %s, "
               f"lease_until = {NOW} + %s, tries = tries + 1, updated_at = {NOW} "
               "WHERE id IN (SELECT id FROM storyboard_queue q WHERE "
               f"(state = 'queued' OR (state = 'claimed' AND lease_until < {NOW})) "
               "AND (after = '' OR EXISTS (SELECT 1 FROM storyboard_queue d WHERE "
               "d.render_id = q.render_id AND d.shot = q.after AND d.state IN ('done','failed'))) "
               "AND (cardinality(%s::text[]) = 0 OR provider = ANY(%s::text[])) "
               "AND tags <@ %s::text[] AND NOT (id = ANY(%s::text[])) "
               "ORDER BY queued_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
               f"RETURNING {FIELDS}")
        params = (holder, lease, list(providers), list(providers), list(tags), list(refused),
                  count)
        rows = self.session.transact(lambda db: db.execute(sql, params).fetchall())
        return sorted((_row(r) for r in rows), key=lambda s: (s.queued_at, s.id))

    def beat(self, holder: str, lease: float) -> int:
        """The heartbeat: every claim of ``holder`` leased for ``lease`` seconds more; how many
        it still holds (a claim another worker took after a lapse is not its own any more)."""
        sql = (f"UPDATE storyboard_queue SET lease_until = {NOW} + %s "
               "WHERE holder = %s AND state = 'claimed' RETURNING id")
        return len(self.session.transact(lambda db: db.execute(sql, (lease, holder)).fetchall()))

    def finish(self, shot_id: str, holder: str, state: QueueState, *, cost: float = 0.0,
               counted: float = 0.0, message: str = "") -> bool:
        """``shot_id`` ended ``done`` or ``failed`` (or went back to ``queued``), if ``holder``
        still holds it; whether it did. ``cost``: what it was billed; ``counted``: what the
        run's budget counted of it (never less than its list price)."""
        sql = (f"UPDATE storyboard_queue SET state = %s, cost = cost + %s, "
               f"counted = counted + %s, message = %s, lease_until = NULL, updated_at = {NOW}, "
               "holder = CASE WHEN %s = 'queued' THEN NULL ELSE holder END "
               "WHERE id = %s AND holder = %s AND state = 'claimed' RETURNING id")
        params = (state, cost, counted, message, state, shot_id, holder)
        return bool(self.session.transact(lambda db: db.execute(sql, params).fetchall()))

    def release(self, holder: str) -> int:
        """Every claim of ``holder`` back in the queue (a worker stopping); how many."""
        sql = (f"UPDATE storyboard_queue SET state = 'queued', holder = NULL, lease_until = NULL, "
               f"updated_at = {NOW} WHERE holder = %s AND state = 'claimed' RETURNING id")
        return len(self.session.transact(lambda db: db.execute(sql, (holder,)).fetchall()))

    def spent(self, render_id: str) -> float:
        """What the render's shots cost so far, as its budget counts it (the workers' reports:
        each shot at no less than what its run's budget counted of it, its list price)."""
        sql = ("SELECT COALESCE(SUM(GREATEST(cost, counted)), 0) FROM storyboard_queue "
               "WHERE render_id = %s")
        rows = self.session.transact(lambda db: db.execute(sql, (render_id,)).fetchall())
        return float(rows[0][0])

    def shots(self, series: str | None = None) -> list[QueuedShot]:
        """Every queued shot (of ``series``, as it was recorded), oldest first."""
        where, params = ("WHERE series = %s", (series,)) if series is not None else ("", ())
        sql = f"SELECT {FIELDS} FROM storyboard_queue {where} ORDER BY queued_at, id"
        return [_row(r) for r in self.session.transact(lambda db: db.execute(sql, params)
                                                        .fetchall())]

    def now(self) -> float:
        """The database server's clock (leases are on it)."""
        rows = self.session.transact(lambda db: db.execute(f"SELECT {NOW}").fetchall())
        return float(rows[0][0])
