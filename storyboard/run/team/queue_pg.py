"""Queued renders on the team's PostgreSQL, in Procrastinate's job tables: what ``queue render``
leaves for workers, and what the workers report of it.

The engine (Procrastinate) keeps the jobs: one job per queued shot (take) in
``procrastinate_jobs``, its state (``todo``, ``doing``, ``succeeded``, ``failed``, ``cancelled``,
``aborted``), its attempts, its priority and its lock, and the workers' heartbeats in
``procrastinate_workers``; a worker takes a job with ``FOR UPDATE SKIP LOCKED``. What is
storyboard's is kept beside it, in ``storyboard_queue_shots`` (one row per job): the render it
belongs to, its series, provider, tags, shot hash, the budget agreed at queueing, the retries it
may take, and what the workers reported: what it was billed (``cost``), what the run's budget
counted of it (``counted``), the last word on it (``message``), and who took it last.

- Queue names carry the provider and the tags (``storyboard:comfyui+gpu-a``): a worker listens
  only to those of the providers it serves and the tag sets it has.
- Priorities make renders fair: shot k of every render has priority -k, so two renders'
  shots interleave and a small render queued behind a large one starts at the next free slot.
- A shot that starts from another queued shot's last frame shares a lock with it (the engine
  never starts a job while an earlier one of its lock is waiting or running).

The queue decides only *who works on what*; whether a task is paid for stays the journal's and
the ledger's business (``ledger_pg``), so a shot handed out again costs a wait, never a second
payment.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from storyboard.errors import MissingExtra, StoryboardError
from storyboard.run.team import engine_pg
from storyboard.run.team.pg import SCHEMA_LOCK

if TYPE_CHECKING:
    from storyboard.run.team.pg import Session

QueueState = Literal["queued", "claimed", "done", "failed", "cancelled"]
STATES: tuple[QueueState, ...] = ("queued", "claimed", "done", "failed", "cancelled")
ENGINE_STATES: dict[str, QueueState] = {
    "todo": "queued", "doing": "claimed", "succeeded": "done", "failed": "failed",
    "cancelled": "cancelled", "aborted": "cancelled", "aborting": "claimed"}
TASK = "storyboard.shot"  # the one task the workers run
PREFIX = "storyboard:"
RETRIES = 2  # a shot's retries unless the render says otherwise: 3 attempts in all

SCHEMA = """
CREATE TABLE IF NOT EXISTS storyboard_queue_shots (
    job_id      BIGINT PRIMARY KEY REFERENCES procrastinate_jobs(id) ON DELETE CASCADE,
    render_id   TEXT NOT NULL,
    series      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    shot        TEXT NOT NULL,
    shot_hash   TEXT NOT NULL,
    tags        TEXT[] NOT NULL DEFAULT '{}',
    budget      DOUBLE PRECISION NOT NULL,
    retries     INTEGER NOT NULL,
    after       TEXT NOT NULL DEFAULT '',
    queued_by   TEXT NOT NULL,
    queued_at   DOUBLE PRECISION NOT NULL,
    holder      TEXT,
    given_back  INTEGER NOT NULL DEFAULT 0,
    cost        DOUBLE PRECISION NOT NULL DEFAULT 0,
    counted     DOUBLE PRECISION NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT '',
    UNIQUE (render_id, shot)
);
CREATE INDEX IF NOT EXISTS storyboard_queue_shots_render ON storyboard_queue_shots (render_id);
"""
FIELDS = ("s.job_id, s.render_id, s.series, s.provider, s.shot, s.shot_hash, s.tags, s.budget, "
          "j.status::text, s.holder, j.attempts, s.given_back, s.retries, s.cost, s.counted, "
          "s.message, s.queued_by, s.queued_at, s.after, j.priority, "
          "extract(epoch from clock_timestamp() - w.last_heartbeat)")
JOINED = ("storyboard_queue_shots s JOIN procrastinate_jobs j ON j.id = s.job_id "
          "LEFT JOIN procrastinate_workers w ON w.id = j.worker_id AND j.status = 'doing'")


@dataclass(frozen=True)
class QueuedShot:
    """One shot (take) of a queued render, as the engine and storyboard's table hold it."""

    id: int  # the engine's job id
    render_id: str
    series: str  # the series folder, relative to the folder it was queued from (or absolute)
    provider: str  # the provider's name (``comfyui``), as ``--provider`` takes it
    shot: str  # ``episode/shot`` (``#k`` for a take): what ``render SERIES EP/SHOT`` names
    shot_hash: str
    tags: tuple[str, ...]
    budget: float  # what the person who queued agreed to pay for the whole render
    state: QueueState
    holder: str | None  # the worker that took it last
    attempts: int  # the engine's count: every try, given back or not
    given_back: int  # tries that were no fault of the shot (a refusal, a stopped worker)
    retries: int  # the retries it may take after its first failure
    cost: float
    counted: float
    message: str
    queued_by: str
    queued_at: float
    after: str  # the queued shot whose last frame it starts from: taken once that one ended
    priority: int
    silent: float | None  # seconds since its worker's last heartbeat (claimed shots only)

    @property
    def tries(self) -> int:
        """The tries that failed or are under way (not those given back)."""
        return self.attempts - self.given_back + (1 if self.state == "claimed" else 0)


@dataclass(frozen=True)
class NewShot:
    """A shot to queue: its ``render SERIES EP/SHOT`` name, hash and tags."""

    shot: str
    shot_hash: str
    tags: tuple[str, ...] = ()
    after: str = ""  # ``episode/shot`` of a queued shot it starts from (its last frame)


def queue_name(provider: str, tags: Sequence[str]) -> str:
    """The engine's queue for a provider's shots with ``tags`` (the workers that serve them)."""
    name = PREFIX + provider + (("+" + ",".join(sorted(set(tags)))) if tags else "")
    if len(name) > 128:
        raise StoryboardError(f"the tags {', '.join(tags)} make a queue name longer than the "
                              "engine's 128 characters: use fewer or shorter tags")
    return name


def _row(row: Sequence[Any]) -> QueuedShot:
    values = list(row)
    values[6] = tuple(values[6] or ())
    values[8] = ENGINE_STATES.get(values[8], "queued")
    values[20] = None if values[20] is None else float(values[20])
    return QueuedShot(*values)


def require_engine() -> None:
    """The job engine installed, else the words every command says for a missing extra."""
    try:
        import procrastinate  # noqa: F401
    except ImportError as exc:
        raise MissingExtra("the team queue (queue render, storyboard worker)", "ledger-pg",
                           exc.name) from exc


class PgQueue:
    """The queue on a session of the team's database (a ``PgLedger``: one connection)."""

    def __init__(self, session: Session) -> None:
        require_engine()
        self.session = session

        def create(db: Any) -> None:  # two workers started at once: one creator at a time
            db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            engine_pg.make_sure(db)  # made, or at the installed engine's level, else refused
            db.execute(SCHEMA)
            from storyboard.run.team.queue_old_pg import carry_over
            carry_over(db, TASK, queue_name)
        session.transact(create)

    def enqueue(self, series: str, provider: str, shots: Sequence[NewShot], *, budget: float,
                queued_by: str, retries: int = RETRIES) -> str:
        """A new queued render of ``shots`` (one job each, shot k at priority -k); its id."""
        render_id = uuid.uuid4().hex[:12]
        now = time.time()
        roots = _roots(shots)

        def work(db: Any) -> None:
            for k, s in enumerate(shots):
                lock = f"{render_id}:{roots[s.shot]}" if roots[s.shot] else None
                args = {"render": render_id, "series": series, "provider": provider,
                        "shot": s.shot}
                job = engine_pg.defer(db, TASK, queue_name(provider, s.tags), -k, lock, args)
                db.execute(
                    "INSERT INTO storyboard_queue_shots (job_id, render_id, series, provider, "
                    "shot, shot_hash, tags, budget, retries, after, queued_by, queued_at) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (job, render_id, series, provider, s.shot, s.shot_hash, list(s.tags),
                     budget, retries, s.after, queued_by, now))
        self.session.transact(work)
        return render_id

    def shot(self, job_id: int) -> QueuedShot | None:
        """The queued shot of a job (None: not one of storyboard's)."""
        sql = f"SELECT {FIELDS} FROM {JOINED} WHERE s.job_id = %s"
        rows = self.session.transact(lambda db: db.execute(sql, (job_id,)).fetchall())
        return _row(rows[0]) if rows else None

    def shots(self, series: str | None = None, render_id: str | None = None) -> list[QueuedShot]:
        """Every queued shot (of ``series`` as it was recorded, of ``render_id``), in the order
        they were queued."""
        where, params = [], []
        if series is not None:
            where.append("s.series = %s")
            params.append(series)
        if render_id is not None:
            where.append("s.render_id = %s")
            params.append(render_id)
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {FIELDS} FROM {JOINED} {cond} ORDER BY s.queued_at, s.job_id"
        rows = self.session.transact(lambda db: db.execute(sql, tuple(params)).fetchall())
        return [_row(r) for r in rows]

    def taken(self, job_id: int, holder: str) -> None:
        """``holder`` took the job (``status`` names it)."""
        sql = "UPDATE storyboard_queue_shots SET holder = %s WHERE job_id = %s"
        self.session.transact(lambda db: db.execute(sql, (holder, job_id)))

    def report(self, job_id: int, *, cost: float = 0.0, counted: float = 0.0, message: str = "",
               given_back: bool = False) -> None:
        """What a try of the job cost (billed, and counted by its run's budget), its last word,
        and whether it was given back (no fault of the shot: not one of its retries)."""
        sql = ("UPDATE storyboard_queue_shots SET cost = cost + %s, counted = counted + %s, "
               "message = CASE WHEN %s = '' THEN message ELSE %s END, "
               "given_back = given_back + %s WHERE job_id = %s")
        params = (cost, counted, message, message, 1 if given_back else 0, job_id)
        self.session.transact(lambda db: db.execute(sql, params))

    def spent(self, render_id: str) -> float:
        """What the render's shots cost so far, as its budget counts it (the workers' reports:
        each shot at no less than what its run's budget counted of it, its list price)."""
        sql = ("SELECT COALESCE(SUM(GREATEST(cost, counted)), 0) FROM storyboard_queue_shots "
               "WHERE render_id = %s")
        rows = self.session.transact(lambda db: db.execute(sql, (render_id,)).fetchall())
        return float(rows[0][0])

    def cancel(self, render_id: str) -> tuple[int, int]:
        """The render's queued shots cancelled (they never start) and its running ones asked to
        stop taking more (each settles as it ends, never retried): how many of each."""
        sql = ("SELECT j.id, j.status::text FROM procrastinate_jobs j JOIN storyboard_queue_shots "
               "s ON s.job_id = j.id WHERE s.render_id = %s AND j.status IN ('todo', 'doing') "
               "ORDER BY j.id FOR UPDATE OF j")

        def work(db: Any) -> tuple[int, int]:
            queued = running = 0
            for job_id, status in db.execute(sql, (render_id,)).fetchall():
                engine_pg.cancel(db, job_id)
                queued, running = (queued + 1, running) if status == "todo" else \
                    (queued, running + 1)
            return queued, running
        return self.session.transact(work)

    def renders(self) -> set[str]:
        """Every queued render's id."""
        sql = "SELECT DISTINCT render_id FROM storyboard_queue_shots"
        return {r[0] for r in self.session.transact(lambda db: db.execute(sql).fetchall())}

    def now(self) -> float:
        """The database server's clock."""
        sql = "SELECT extract(epoch from clock_timestamp())"
        rows = self.session.transact(lambda db: db.execute(sql).fetchall())
        return float(rows[0][0])


def _roots(shots: Sequence[NewShot]) -> dict[str, str]:
    """Each shot's chain root ("" for a shot in no chain): shots starting from one another share
    the engine's lock, so one starts only once the one before it ended."""
    after = {s.shot: s.after for s in shots}
    chained = {s.after for s in shots if s.after} | {s.shot for s in shots if s.after}
    roots: dict[str, str] = {}
    for s in shots:
        name, seen = s.shot, set()
        while after.get(name) and name not in seen:
            seen.add(name)
            name = after[name]
        roots[s.shot] = name if s.shot in chained else ""
    return roots
