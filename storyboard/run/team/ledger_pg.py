"""A team's paid tasks into one PostgreSQL ledger: the ``Ledger`` of ``ledger``, shared by machines.

``ledger: postgresql://host/db`` in the series (or ``STORYBOARD_LEDGER``, which wins) points every
clone of a series at one table, ``storyboard_ledger``. The claim is PostgreSQL's own locking:

- a unique partial index on ``(provider, shot_hash) WHERE state = 'open'``: only one open attempt
  per shot can exist, whichever machine writes it (a second ``intend`` fails inside the server,
  and becomes ``ShotClaimed``);
- a session-level advisory lock per open entry, taken BEFORE its row is inserted and held by the
  writer's connection until the entry is settled. A process that dies loses its connection, and
  the server drops its locks: ``take_over`` is ``pg_try_advisory_lock`` on the entry.

A connection the server dropped (a restart, a failover) is made again with backoff for up to
``STORYBOARD_LEDGER_PATIENCE`` seconds (default 60), and the machine's claims and leases are taken
again on it; past that, the call fails with a clear error and so does its shot (its task id stays
in the local journal: the next run resumes it without paying twice).

Credentials come only from the URL in the environment or libpq's usual places (``PGPASSWORD``,
``~/.pgpass``, ``PGSERVICE``); the schema refuses a password in the series file, and every message
shows the URL without its user part.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from storyboard.backoff import RetryPolicy
from storyboard.errors import (
    JournalError,
    LedgerAway,
    MissingExtra,
    StoryboardError,
    mask_userinfo,
)
from storyboard.run.team.ledger import Ledger, LedgerEntry, LedgerState, ShotClaimed
from storyboard.run.team.pg import SCHEMA_LOCK, advisory_key
from storyboard.run.team.schema import COLUMNS, POSTGRES, schema
from storyboard.run.team.store import redact

if TYPE_CHECKING:
    import psycopg

    from storyboard.run.team.account_pg import PgBoard

T = TypeVar("T")

log = logging.getLogger("storyboard.run")

LEDGER_ENV = "STORYBOARD_LEDGER"
PATIENCE_ENV = "STORYBOARD_LEDGER_PATIENCE"
PATIENCE = 60.0  # seconds a dropped connection is made again before a call fails
BACKOFF = RetryPolicy(base=0.1, cap=2.0, jitter=False)  # between reconnects: the one policy
# After a reconnect (the server restarted, every session's locks gone) the living machines may
# not have taken theirs again yet (each does at its next call: its next poll, 15 s apart at
# most): for this long a free lock says nothing about its holder, so no claim is taken over.
RESTART_GRACE = 30.0
SCHEMES = ("postgresql://", "postgres://")
# A dead machine's connection is noticed by TCP keepalives: its claims free up within a minute.
_KEEPALIVE: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                              "keepalives_count": 3, "connect_timeout": 10}


@dataclass(frozen=True)
class LedgerSettings:
    url: str
    origin: str  # "STORYBOARD_LEDGER" or "ledger" (the series file): for messages
    patience: float = PATIENCE  # seconds a dropped connection is made again (``PATIENCE_ENV``)

    @property
    def shown(self) -> str:
        return redact(self.url)


def ledger_settings(setting: Any, environ: Mapping[str, str] | None = None
                    ) -> LedgerSettings | None:
    """The team ledger to use: ``STORYBOARD_LEDGER`` wins over the series' ``ledger:``."""
    env = os.environ if environ is None else environ
    explicit = env.get(LEDGER_ENV, "").strip()
    url, origin = (explicit, LEDGER_ENV) if explicit else (setting, "ledger")
    if url is None or url == "":
        return None
    if not isinstance(url, str) or not url.startswith(SCHEMES):
        raise StoryboardError(f"{origin}: expected a postgresql://host/database URL, got "
                              f"{redact(str(url))!r}")
    return LedgerSettings(url, origin, patience(env))


def patience(env: Mapping[str, str]) -> float:
    """``STORYBOARD_LEDGER_PATIENCE``: seconds, a finite number >= 0 (else refused)."""
    text = env.get(PATIENCE_ENV, "").strip()
    if not text:
        return PATIENCE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise StoryboardError(f"{PATIENCE_ENV}: {text[:40]!r} is not a number of seconds >= 0")
    return value


def lock_key(entry_id: str) -> int:
    """The advisory lock key of an entry: 64 bits of its id's digest, signed as bigint."""
    return advisory_key(entry_id)


class PgLedger:
    """The team ledger in PostgreSQL; one connection, held for the life of the run.

    One instance is one holder: give each concurrent ``render`` its own (two renders sharing an
    instance would count each other's claims as their own)."""

    def __init__(self, settings: LedgerSettings) -> None:
        try:
            import psycopg
        except ImportError as exc:  # the words every command says, and exit 2
            raise MissingExtra(f"the PostgreSQL ledger ({settings.origin})", "ledger-pg",
                               exc.name) from exc
        self.where = settings.shown
        self.holder = uuid.uuid4().hex
        self._settings = settings
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._board: PgBoard | None = None
        self._closed = False
        self._reconnected: float | None = None  # when the connection was last made again
        try:
            self._db: psycopg.Connection[tuple[Any, ...]] = self._connect()
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                self._db.execute(schema(POSTGRES))
        except psycopg.Error as exc:
            away = LedgerAway if _unreachable(exc) else JournalError
            raise away(f"cannot open the team ledger {self.where} ({settings.origin}): "
                       f"{self._scrub(exc)}") from exc

    def _scrub(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        password = _password(self._settings.url)
        text = text.replace(password, "***") if password else text
        return mask_userinfo(text, self._settings.url)

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg
        return psycopg.connect(self._settings.url, autocommit=True,
                               application_name="storyboard", **_KEEPALIVE)

    def close(self) -> None:
        self._closed = True  # never made again after this
        import psycopg
        # Let go of this session's claims before closing: the server drops them with the session
        # too, but only once its backend has ended, a moment after the close returns.
        with contextlib.suppress(psycopg.Error):
            self._db.execute("SELECT pg_advisory_unlock_all()")
        self._db.close()

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        def work(db: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            cursor = db.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        return self._call(work, in_transaction=False)

    def transact(self, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T:
        """Run ``work`` in one transaction on this ledger's connection (``account_pg``)."""
        return self._call(work, in_transaction=True)

    def _call(self, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T], *,
              in_transaction: bool) -> T:
        """``work`` on the connection; one the server dropped is made again (``_again``)."""
        import psycopg
        with self._lock:
            lost: float | None = None
            while True:
                try:
                    if not in_transaction:
                        return work(self._db)
                    with self._db.transaction():
                        return work(self._db)
                except psycopg.errors.UniqueViolation:
                    raise
                except psycopg.Error as exc:
                    if self._closed or not (self._db.closed or self._db.broken):
                        raise JournalError(f"cannot use the team ledger {self.where}: "
                                           f"{self._scrub(exc)}") from exc
                    lost = time.monotonic() if lost is None else lost
                    self._again(lost, exc)

    def _again(self, lost: float, cause: BaseException) -> None:
        """A new connection, waiting longer between tries (``BACKOFF``), with this machine's
        claims and leases taken again on it; a ``JournalError`` once ``patience`` seconds have
        passed since the connection was lost."""
        import psycopg
        tries, error = 0, cause
        while time.monotonic() - lost < self._settings.patience:
            tries += 1
            time.sleep(min(BACKOFF.delay(tries),
                           max(0.0, self._settings.patience - (time.monotonic() - lost))))
            try:
                db = self._connect()
                self._db.close()
                self._db = db
                self._hold_again()
                self._reconnected = time.monotonic()
            except psycopg.Error as exc:  # down again, or not up yet: wait, try again
                error = exc
                continue
            return
        raise JournalError(f"cannot use the team ledger {self.where}: its connection was lost "
                           f"and could not be made again within {self._settings.patience:g} s "
                           f"({PATIENCE_ENV}): {self._scrub(error)}") from error

    def _hold_again(self) -> None:
        """After a reconnect: this machine's claims and leases, held again by its new session.
        A claim another machine took over meanwhile is its now (it polls the same task)."""
        if self._board is not None:
            self._db.execute("SELECT pg_advisory_lock(%s)", (self._board.holder_key,))
        for entry_id in sorted(self._held):
            row = self._db.execute("SELECT pg_try_advisory_lock(%s)",
                                   (lock_key(entry_id),)).fetchone()
            if not (row and row[0]):
                self._held.discard(entry_id)
                log.warning("ledger claim %s was taken over while the ledger was away", entry_id)
        log.warning("reconnected to the team ledger %s", self.where)

    def board(self) -> PgBoard:
        """The account-wide leases and rates shared through this ledger (``pacing.Board``)."""
        if self._board is None:
            from storyboard.run.team.account_pg import PgBoard
            self._board = PgBoard(self)
        return self._board

    def intend(self, provider: str, shot_hash: str, find_key: str, *, series: str, shot: str,
               intent_at: float | None = None) -> LedgerEntry:
        import psycopg
        now = time.time()
        entry = LedgerEntry(uuid.uuid4().hex, provider, shot_hash, find_key, series, shot, None,
                            "open", intent_at if intent_at is not None else now, now)
        self._run("SELECT pg_advisory_lock(%s)", (lock_key(entry.id),))  # ours before it exists
        self._held.add(entry.id)  # held again after a reconnect, as every claim
        try:
            self._run(f"INSERT INTO storyboard_ledger ({COLUMNS}, holder) VALUES "
                      "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                      (entry.id, provider, shot_hash, find_key, series, shot, None, "open",
                       entry.intent_at, now, self.holder))
        except psycopg.errors.UniqueViolation:
            held = [e for e in self.entries(provider, shot_hash) if e.open]
            if any(e.id == entry.id for e in held):  # ours: the insert landed, then a reconnect
                return entry
            self._release(entry.id)
            if held:
                raise ShotClaimed(held[0]) from None
            return self.intend(provider, shot_hash, find_key, series=series, shot=shot,
                               intent_at=intent_at)  # settled in between: claim again
        except BaseException:
            self._release(entry.id)
            raise
        self._held.add(entry.id)
        return entry

    def take_over(self, entry_id: str) -> bool:
        if entry_id in self._held:
            return self._state(entry_id) == "open"
        if not self._dead(entry_id):
            return False
        taken = self._run("UPDATE storyboard_ledger SET holder = %s WHERE id = %s AND "
                          "state = 'open' RETURNING id", (self.holder, entry_id))
        if not taken:
            self._release(entry_id)
            return False
        self._held.add(entry_id)
        return True

    def alive(self, entry_id: str) -> bool:
        if self._state(entry_id) != "open":
            return False
        if entry_id in self._held:
            return True
        if self._dead(entry_id):
            self._release(entry_id)
            return False
        return True

    def _dead(self, entry_id: str) -> bool:
        """Whether an entry's holder is gone: its lock is free (then ours), and not just after
        our reconnect (``RESTART_GRACE``), when a living holder may not have taken it again."""
        if not self._try_lock(entry_id):
            return False
        since = self._reconnected
        if since is not None and time.monotonic() - since < RESTART_GRACE:
            self._release(entry_id)
            return False
        return True

    def _state(self, entry_id: str) -> str | None:
        rows = self._run("SELECT state FROM storyboard_ledger WHERE id = %s", (entry_id,))
        return str(rows[0][0]) if rows else None

    def _try_lock(self, entry_id: str) -> bool:
        rows = self._run("SELECT pg_try_advisory_lock(%s)", (lock_key(entry_id),))
        return bool(rows[0][0])

    def _release(self, entry_id: str) -> None:
        self._held.discard(entry_id)
        self._run("SELECT pg_advisory_unlock(%s)", (lock_key(entry_id),))

    def record_task(self, entry_id: str, task_id: str) -> None:
        self._run("UPDATE storyboard_ledger SET task_id = %s, updated_at = %s WHERE id = %s",
                  (task_id, time.time(), entry_id))

    def settle(self, entry_id: str, state: LedgerState) -> None:
        self._run("UPDATE storyboard_ledger SET state = %s, updated_at = %s WHERE id = %s",
                  (state, time.time(), entry_id))
        if entry_id in self._held:
            self._release(entry_id)

    def entries(self, provider: str, shot_hash: str) -> list[LedgerEntry]:
        return self._select("provider = %s AND shot_hash = %s", (provider, shot_hash))

    def open_for_key(self, provider: str, find_key: str) -> list[LedgerEntry]:
        return self._select("provider = %s AND find_key = %s AND state = 'open'",
                            (provider, find_key))

    def knows_task(self, provider: str, task_id: str) -> bool:
        return bool(self._run("SELECT 1 FROM storyboard_ledger WHERE provider = %s AND "
                              "task_id = %s LIMIT 1", (provider, task_id)))

    def _select(self, where: str, params: tuple[object, ...]) -> list[LedgerEntry]:
        rows = self._run(f"SELECT {COLUMNS} FROM storyboard_ledger WHERE {where} "
                         "ORDER BY intent_at, id", params)
        return [LedgerEntry(*row) for row in rows]


def _password(url: str) -> str:
    from urllib.parse import unquote, urlsplit
    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:
        return ""


if TYPE_CHECKING:  # mypy checks that PgLedger satisfies the protocol
    _conforms: Ledger = PgLedger(LedgerSettings("", ""))


def _unreachable(exc: BaseException) -> bool:
    """Whether a connection failed for want of a server answering (refused, starting, shutting
    down), not for what it was asked (a database that does not exist, a wrong password: the
    server answered, ``FATAL``; libpq gives no SQLSTATE for a connection's failure)."""
    import psycopg
    text = str(exc)
    return isinstance(exc, psycopg.OperationalError) and (
        "FATAL:" not in text or any(word in text for word in AWAY_WORDS))


# A server's own FATAL for a state that passes: starting, in crash recovery ("not yet accepting
# connections" since PostgreSQL 14, before it is consistent), a standby not taking sessions,
# stopping.
AWAY_WORDS = ("starting up", "not yet accepting connections", "not accepting connections",
              "shutting down", "in recovery mode")
