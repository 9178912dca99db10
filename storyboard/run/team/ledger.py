"""Paid tasks into a per-user ledger that outlives any series folder's ``.storyboard/``.

The journal (``journal``) lives in the series folder, and people delete that folder to clean up.
The ledger is a second, smaller record of the same money facts, kept in the user's state directory
(``$STORYBOARD_STATE_DIR``, else ``$XDG_STATE_HOME/storyboard``, else
``~/.local/state/storyboard``), so a task paid for in one run is found by the next even when the
journal is gone. The runner writes to it in the same order as the journal, before the step each
write guards:

1. ``intend`` before a submit is sent (the submit may reach the provider and its answer be lost);
2. ``record_task`` the moment a task id is known;
3. ``settle`` when the attempt ends (done, failed, canceled, lost).

An entry is keyed by provider (its ``cache_key``) and shot hash, and also carries a ``find_key``:
the digest of what the provider matches a lost submit by (model and prompt), so that every open
intent that a task-list lookup could confuse is visible at once, across series. ``Ledger`` is the
whole interface the runner uses; ``SqliteLedger`` is the per-user implementation, ``PgLedger``
(``ledger_pg``) the team one. No secret is ever stored: ids, hashes, names and times only.

The claim: at most one OPEN entry per provider and shot hash exists at a time, and the process that
wrote it (its holder) keeps it while it lives. ``intend`` refuses a second one with ``ShotClaimed``
naming the open entry; ``take_over`` makes a caller the holder of an open entry whose holder died
(it is then resumed by the usual rules: poll its task id, or reconcile a lost submit), and
``alive`` says whether a living process holds one. Liveness is the operating system's or the
database's own lock, never a timer of ours: an OS lock (``filelock``, as the render lock: flock on
POSIX, msvcrt on Windows) on a per-holder file here, a session
advisory lock in PostgreSQL; both vanish with the process that held them.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import filelock

from storyboard.errors import JournalError, StoryboardError
from storyboard.files import STATE_DIR_ENV as STATE_DIR_ENV
from storyboard.files import lock_held, user_state_dir
from storyboard.run.team.schema import COLUMNS, SQLITE, schema

LedgerState = Literal["open", "done", "failed", "lost"]
LEDGER_NAME = "ledger.sqlite"
# A provider lists and keeps tasks for 24 hours: an older intent can no longer be confused with a
# new task, and an older result can no longer be downloaded.
RECONCILE_HORIZON = 24 * 3600.0


@dataclass(frozen=True)
class LedgerEntry:
    """One attempt to render one shot, as the ledger knows it.

    ``id`` is opaque (each backend makes its own). ``series`` is the series folder and ``shot``
    the ``episode/shot`` key, for messages only. ``intent_at`` and ``updated_at`` are UNIX times.
    """

    id: str
    provider: str
    shot_hash: str
    find_key: str
    series: str
    shot: str
    task_id: str | None
    state: LedgerState
    intent_at: float
    updated_at: float

    @property
    def open(self) -> bool:
        return self.state == "open"


class ShotClaimed(StoryboardError):
    """``intend`` found an open entry for the same provider and shot: ``holder``."""

    def __init__(self, holder: LedgerEntry) -> None:
        super().__init__(f"{holder.shot} in {holder.series} is being rendered by another run")
        self.holder = holder


class Board(Protocol):
    """Account-wide leases and rates, shared by every machine of a team (the team ledger).

    ``account`` names a provider account and model (never a key: the task key's fingerprint).
    Every call is blocking (run in a thread); a lease of a process that dies comes back."""

    def enqueue(self, account: str, *, held: bool = False, what: str = "") -> int:
        """A ticket in the account's queue for ``what`` (a shot hash; ``held``: take it at once,
        for a task that already runs at the provider)."""
        ...

    def grant(self, account: str, limit: int, tickets: Sequence[int]
              ) -> tuple[set[int], set[int]]:
        """Which of ``tickets`` (this process's, waiting) hold a lease now, and which wait for a
        shot another lease renders now (busy). The free leases go to the waiters of the machine
        holding the fewest, then in arrival order; one lease per shot at a time."""
        ...

    def release(self, ticket: int) -> None:
        """Give a lease back (or leave the queue)."""
        ...

    def lapsed(self, account: str) -> list[tuple[int, str]]:
        """Leases of machines that died while their task ran: (ticket, task id), kept until
        the task is known to have ended (``drop``)."""
        ...

    def drop(self, ticket: int) -> None:
        """Free a dead machine's lease whose task has ended."""
        ...

    def take_token(self, account: str, kind: str, rate: float, burst: int) -> float:
        """Take one token of the account's shared ``kind`` bucket: 0, or the seconds to wait
        before asking again (nothing taken)."""
        ...


class Ledger(Protocol):
    """What the runner needs of a ledger. Every write is durable when it returns."""

    where: str  # where the ledger lives, for messages ("~/.local/state/storyboard/ledger.sqlite")

    def intend(self, provider: str, shot_hash: str, find_key: str, *, series: str, shot: str,
               intent_at: float | None = None) -> LedgerEntry:
        """Claim the shot: record that a submit of it is about to be sent and return the new
        open entry, held by this process; raises ``ShotClaimed`` while another entry is open."""
        ...

    def take_over(self, entry_id: str) -> bool:
        """Hold this open entry from now on if its holder died (True also when this process
        holds it already); False while another living process holds it, or once it is settled."""
        ...

    def alive(self, entry_id: str) -> bool:
        """Whether a living process (this one included) holds this open entry."""
        ...

    def record_task(self, entry_id: str, task_id: str) -> None:
        """Record the task id the provider gave the entry's submit."""
        ...

    def settle(self, entry_id: str, state: LedgerState) -> None:
        """Close an entry: ``done`` (the video is cached), ``failed`` or ``lost`` (no task)."""
        ...

    def entries(self, provider: str, shot_hash: str) -> list[LedgerEntry]:
        """Every entry for this provider and shot hash, open or settled, oldest first."""
        ...

    def board(self) -> Board | None:
        """The account-wide leases and rates this ledger shares between machines (a team's
        PostgreSQL ledger), or None (the per-user ledger: each machine paces itself)."""
        ...

    def open_for_key(self, provider: str, find_key: str) -> list[LedgerEntry]:
        """Open entries of this provider with this ``find_key`` (any shot, any series)."""
        ...

    def knows_task(self, provider: str, task_id: str) -> bool:
        """Whether some entry holds this task id."""
        ...

    def close(self) -> None: ...


def find_key(model: str, prompt: str) -> str:
    """The digest of what a provider matches a lost submit by: the model and the prompt."""
    return hashlib.sha256(f"{model}\n{prompt.strip()}".encode()).hexdigest()


def state_dir() -> Path:
    """The user's state directory for storyboard (see the module docstring)."""
    return user_state_dir()


def default_ledger() -> SqliteLedger:
    """The per-user ledger in ``state_dir()``."""
    return SqliteLedger(state_dir() / LEDGER_NAME)






OPEN_PATIENCE = 30.0  # seconds two processes opening a new ledger at once may wait for each other


def _open_sqlite(path: Path, prepare: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """A connection with its schema in place. Two runs that open a new ledger at the same moment
    race for the switch to WAL and the first CREATE, and SQLite answers the loser "database is
    locked" at once, without waiting: that one tries again, briefly, as a busy wait would."""
    deadline = time.monotonic() + OPEN_PATIENCE
    pause = 0.01
    while True:
        db = sqlite3.connect(path, timeout=OPEN_PATIENCE, isolation_level=None,
                             check_same_thread=False)
        try:
            prepare(db)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class SqliteLedger:
    """The per-user ledger in one SQLite file; safe for several processes at once.

    Each instance is one holder: it locks ``holders/<token>.lock`` next to the file for as long
    as it is open, and an entry it writes names that token."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self.holder = uuid.uuid4().hex
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._hold = _hold(path.parent / "holders" / f"{self.holder}.lock")
            self._db = _open_sqlite(path, self._prepare)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the task ledger {path}: {exc}; set "
                               f"{STATE_DIR_ENV} to a writable folder") from exc
        self._lock = threading.Lock()

    def _prepare(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(schema(SQLITE))
        self._migrate(db)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Ledgers written before claims existed lack the holder column (their entries have no
        living holder, so the next run takes them over)."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(entries)")}
        if "holder" not in columns:
            db.execute("ALTER TABLE entries ADD COLUMN holder TEXT")

    def close(self) -> None:
        self._db.close()
        with contextlib.suppress(OSError):
            Path(self._hold.lock_file).unlink()
        self._hold.release()

    def _run(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            with self._lock:
                rows: list[tuple[object, ...]] = self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot use the task ledger {self.path}: {exc}") from exc
        return rows

    def _claiming(self, sql: str, params: tuple[object, ...] | Callable[[], tuple[object, ...]]
                  ) -> list[tuple[object, ...]]:
        """``sql`` run only inside a write transaction (claims must not interleave); ``params``
        may be made inside it."""
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    values = params() if callable(params) else params
                    rows: list[tuple[object, ...]] = self._db.execute(sql, values).fetchall()
                finally:
                    self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot use the task ledger {self.path}: {exc}") from exc
        return rows

    def intend(self, provider: str, shot_hash: str, find_key: str, *, series: str, shot: str,
               intent_at: float | None = None) -> LedgerEntry:
        made: list[LedgerEntry] = []

        def row() -> tuple[object, ...]:
            # The time is taken under the write lock, so intents are ordered as they are written:
            # a twin written later is never dated earlier (``claims.earlier`` relies on it).
            now = time.time()
            made.append(LedgerEntry(uuid.uuid4().hex, provider, shot_hash, find_key, series,
                                    shot, None, "open",
                                    intent_at if intent_at is not None else now, now))
            return (*_row(made[-1]), self.holder, provider, shot_hash)

        inserted = self._claiming(
            "INSERT INTO entries SELECT ?,?,?,?,?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM "
            "entries WHERE provider = ? AND shot_hash = ? AND state = 'open') RETURNING id", row)
        entry = made[-1]
        if not inserted:
            held = [e for e in self.entries(provider, shot_hash) if e.open]
            if held:
                raise ShotClaimed(held[0])
            return self.intend(provider, shot_hash, find_key, series=series, shot=shot,
                               intent_at=intent_at)  # settled in between: claim again
        return entry

    def take_over(self, entry_id: str) -> bool:
        rows = self._run("SELECT state, holder FROM entries WHERE id = ?", (entry_id,))
        if not rows or rows[0][0] != "open":
            return False
        holder = rows[0][1]
        if holder == self.holder:
            return True
        if self._living(holder):
            return False
        return bool(self._claiming(
            "UPDATE entries SET holder = ? WHERE id = ? AND state = 'open' AND holder IS ? "
            "RETURNING id", (self.holder, entry_id, holder)))

    def alive(self, entry_id: str) -> bool:
        rows = self._run("SELECT state, holder FROM entries WHERE id = ?", (entry_id,))
        if not rows or rows[0][0] != "open":
            return False
        return rows[0][1] == self.holder or self._living(rows[0][1])

    def _living(self, holder: object) -> bool:
        if not isinstance(holder, str) or not holder:
            return False
        return _locked(self.path.parent / "holders" / f"{holder}.lock")

    def record_task(self, entry_id: str, task_id: str) -> None:
        self._run("UPDATE entries SET task_id = ?, updated_at = ? WHERE id = ?",
                  (task_id, time.time(), entry_id))

    def settle(self, entry_id: str, state: LedgerState) -> None:
        self._run("UPDATE entries SET state = ?, updated_at = ? WHERE id = ?",
                  (state, time.time(), entry_id))

    def entries(self, provider: str, shot_hash: str) -> list[LedgerEntry]:
        return self._select("provider = ? AND shot_hash = ?", (provider, shot_hash))

    def board(self) -> Board | None:
        return None  # one machine's ledger: nothing to share

    def open_for_key(self, provider: str, find_key: str) -> list[LedgerEntry]:
        return self._select("provider = ? AND find_key = ? AND state = 'open'",
                            (provider, find_key))

    def knows_task(self, provider: str, task_id: str) -> bool:
        return bool(self._select("provider = ? AND task_id = ?", (provider, task_id)))

    def _select(self, where: str, params: tuple[object, ...]) -> list[LedgerEntry]:
        rows = self._run(f"SELECT {COLUMNS} FROM entries WHERE {where} "
                         "ORDER BY intent_at, rowid", params)
        return [LedgerEntry(*row) for row in rows]  # type: ignore[arg-type]


def _hold(path: Path) -> filelock.FileLock:
    """Lock this holder's file for as long as the ledger is open (the lock is its pulse)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), timeout=0)  # its own name: nobody else takes it
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise OSError(f"{path} is held by another process") from exc
    return lock


def _locked(path: Path) -> bool:
    """Whether a living process holds the lock on ``path`` (a missing file: nobody)."""
    if not path.exists():
        return False
    if lock_held(path):
        return True
    with contextlib.suppress(OSError):
        path.unlink()  # its holder died: nobody will ask again
    return False


def _row(entry: LedgerEntry) -> tuple[object, ...]:
    return (entry.id, entry.provider, entry.shot_hash, entry.find_key, entry.series, entry.shot,
            entry.task_id, entry.state, entry.intent_at, entry.updated_at)


if TYPE_CHECKING:  # mypy checks that SqliteLedger satisfies the protocol
    _conforms: Ledger = SqliteLedger(Path())
