"""The job engine's schema on the team's database (Procrastinate's tables and functions) into one
made once, its level recorded, and brought up to the installed engine's by the engine's own
migration files (``storyboard queue upgrade``).

Procrastinate ships its schema (``schema.sql``, applied to an empty database) and, in order, the
migration files that take a database made by an earlier release to this one's
(``sql/migrations/03.04.00_50_post_....sql``: the release that needs it, then its order); it keeps
no record of which ones a database has. Storyboard keeps that record beside it
(``storyboard_engine``): the last migration file the schema has, its *level*. A database is made
at the installed engine's level (its newest migration file). A database whose engine tables
were made before the record was kept is at ``FLOOR``: storyboard needed Procrastinate 3.10 then,
and every release from 3.4 to 3.10 has that schema.

A queue opened on a database at a level other than the installed engine's is refused, saying
what to do: behind, run ``storyboard queue upgrade`` once every worker has stopped; ahead, install
the newer storyboard (and engine) on this machine too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from storyboard.errors import StoryboardError
from storyboard.run.team.pg import SCHEMA_LOCK, Session

if TYPE_CHECKING:
    from procrastinate.manager import JobManager

T = TypeVar("T")

FLOOR = "03.04.00_50_post_add_retry_failed_job_procedure.sql"  # Procrastinate 3.4 to 3.10
RECORD = """
CREATE TABLE IF NOT EXISTS storyboard_engine (
    one         BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    migration   TEXT NOT NULL,
    engine      TEXT NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);
"""
UPGRADE = "storyboard queue upgrade"
BEATING = 300.0  # seconds: a worker that beat this recently is taken to be running


def _manager() -> JobManager:
    """The engine's public job calls, on the caller's connection (each call's ``connection=``):
    they run in the transaction storyboard's own rows are written in."""
    from procrastinate import SyncPsycopgConnector
    from procrastinate.manager import JobManager
    return JobManager(SyncPsycopgConnector())


def _engine(call: Callable[[], T]) -> T:
    """``call``, the database's own error raised as it came (the session's to handle: a lost
    connection made again, a refusal said) rather than wrapped in the engine's."""
    import psycopg
    from procrastinate.exceptions import ConnectorException
    try:
        return call()
    except ConnectorException as error:
        cause = error.__cause__ or error.__context__
        if isinstance(cause, psycopg.Error):
            raise cause from error
        raise


def defer(db: Any, task: str, queue: str, priority: int, lock: str | None,
          args: dict[str, Any]) -> int:
    """One job of ``task`` deferred in ``db``'s transaction (``JobManager.batch_defer_jobs``):
    its id."""
    from procrastinate.jobs import Job
    job = Job(id=None, queue=queue, lock=lock, queueing_lock=None, task_name=task,
              priority=priority, task_kwargs=args)
    [made] = _engine(lambda: _manager().batch_defer_jobs([job], connection=db))
    assert made.id is not None
    return made.id


def cancel(db: Any, job_id: int) -> bool:
    """A job cancelled (queued) or asked to stop (running) in ``db``'s transaction
    (``JobManager.cancel_job_by_id``, abort): whether it was either."""
    return _engine(lambda: _manager().cancel_job_by_id(job_id, abort=True, connection=db))


def engine_version() -> str:
    """The installed engine's release (``3.10.0``)."""
    return metadata.version("procrastinate")


def engine_schema() -> str:
    """The engine's own tables and functions, as its release ships them."""
    from procrastinate.schema import SchemaManager
    return str(SchemaManager.get_schema())


def migrations() -> list[Path]:
    """The installed engine's migration files, in the order they apply."""
    from procrastinate.schema import SchemaManager
    return sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql"))


def installed_level() -> str:
    """The level of a schema the installed engine made: its newest migration file's name."""
    return migrations()[-1].name


@dataclass(frozen=True)
class Level:
    """Where a database's engine schema stands: its level and the installed engine's."""

    have: str | None  # None: no engine tables yet
    want: str
    recorded: bool  # False: the engine's tables predate storyboard's record of them

    @property
    def behind(self) -> list[Path]:
        """The migration files that take it to the installed engine's level."""
        return [m for m in migrations() if self.have is not None and m.name > self.have]


def level_of(db: Any) -> Level:
    """The database's level (``db``: a psycopg connection in a transaction)."""
    want = installed_level()
    if db.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
        return Level(None, want, recorded=False)
    db.execute(RECORD)
    row = db.execute("SELECT migration FROM storyboard_engine").fetchone()
    return Level(FLOOR if row is None else str(row[0]), want, recorded=row is not None)


def record(db: Any, migration: str) -> None:
    """``migration`` is the last migration file the database's engine schema has."""
    db.execute(RECORD)
    db.execute("INSERT INTO storyboard_engine (migration, engine, updated_at) VALUES (%s, %s, %s) "
               "ON CONFLICT (one) DO UPDATE SET migration = EXCLUDED.migration, "
               "engine = EXCLUDED.engine, updated_at = EXCLUDED.updated_at",
               (migration, engine_version(), time.time()))


def make_sure(db: Any) -> None:
    """The engine's schema made (on an empty database) and at the installed engine's level, else
    refused saying what to do. Inside the caller's transaction, under the schema's lock."""
    level = level_of(db)
    if level.have is None:
        db.execute(engine_schema())
        record(db, level.want)
        return
    if not level.recorded:
        record(db, level.have)
    if level.have < level.want:
        raise StoryboardError(
            f"the team ledger's job engine tables are at Procrastinate's migration {level.have}; "
            f"this machine's Procrastinate {engine_version()} needs {level.want}: stop every "
            f"`storyboard worker`, then run `{UPGRADE}` once (docs/team.md, upgrading the engine)")
    if level.have > level.want:
        raise StoryboardError(
            f"the team ledger's job engine tables are at Procrastinate's migration {level.have}, "
            f"newer than this machine's Procrastinate {engine_version()} knows ({level.want}): "
            "install the storyboard release the team upgraded to here too")


def live_workers(db: Any) -> int:
    """How many of the engine's workers beat within ``BEATING`` seconds (0 before 3.1's table)."""
    if db.execute("SELECT to_regclass('procrastinate_workers')").fetchone()[0] is None:
        return 0
    row = db.execute("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > "
                     "now() - make_interval(secs => %s)", (BEATING,)).fetchone()
    return int(row[0])


def upgrade(session: Session) -> list[str]:
    """The database's engine schema taken to the installed engine's level, one migration file a
    transaction (its level recorded with it, so an upgrade cut short resumes where it stopped):
    the names of the files applied. Refused while a worker is running."""
    running = session.transact(live_workers)
    if running:
        raise StoryboardError(
            f"{running} `storyboard worker`(s) beat within the last {BEATING:g} s: stop every "
            f"worker (Ctrl-C or SIGTERM gives its shots back), then run `{UPGRADE}` again")
    applied: list[str] = []
    while (name := session.transact(_next_step)) is not None:
        applied.append(name)
    return applied


def _next_step(db: Any) -> str | None:
    """The next migration file applied and recorded (its name), or None: none is due."""
    db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    level = level_of(db)
    if level.have is not None and not level.recorded:
        record(db, level.have)
    if not level.behind:
        return None
    path = level.behind[0]
    db.execute(path.read_text(encoding="utf-8"))
    record(db, path.name)
    return path.name
